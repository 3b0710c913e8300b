"""Issue 10: the hostile-name corpus (hostile_names.txt) over SFTP and through
the mount. Every name is made as an album (mkdir, and an album renamed to it),
as a section folder, or as a photo (an upload, and a .filepart renamed to it),
by an SFTP client and by the photographer's uid on the mount itself. Then:

- accepted names are listed in NFC, and photodropctl's --json lists them
  (shown as text::shown shows them) and parses;
- an NFD name lands on the album or file of its NFC twin;
- refused names got an error, made nothing, and their refusal is recorded
  with its reason (a rejected upload, or photodrop-fs's log line);
- names Linux refuses (over 255 bytes, '.', '..') got an error and made nothing;
- no operator output (photodropctl tables and --json, photodrop-fs's and
  photodrop-ingest's logs) holds a raw control, bidi or invisible character.
"""
import base64
import hashlib
import json
import os
import pwd
import subprocess
import time

import hostile_names
from harness import ALBUMS_JOB, FLAT_JOB, TENANT, child_environment, wait_until
from hostile_names import shown
from recording_client import FAILURES, Session

# The jobs each channel works in: albums made by mkdir (and the albums that
# hold the section cases), albums made by rename, photos uploaded, photos renamed.
CHANNEL_JOBS = {
    "sftp": {"mkdir": ALBUMS_JOB, "rename_album": "job00003", "put": FLAT_JOB, "rename_photo": "job00004"},
    "mount": {"mkdir": "job00005", "rename_album": "job00006", "put": "job00007", "rename_photo": "job00008"},
}
LAYOUTS = {"mkdir": "albums", "rename_album": "albums", "put": "flat", "rename_photo": "flat"}


def _p(*parts):
    """An absolute path as the client sends it: '/' + the parts joined by '/', in bytes."""
    return b"/" + b"/".join(p if isinstance(p, bytes) else p.encode() for p in parts)


# --- the two channels: the same operations, over SFTP and on the mount ------------------------

class SftpChannel:
    name = "sftp"

    def __init__(self, deployment, user):
        self.session = Session(deployment.sshd_port, user)

    def run(self, ops):
        return [self._one(op) for op in ops]

    def _one(self, op):
        sftp = self.session.sftp
        kind = op[0]
        try:
            if kind == "mkdir":
                sftp.mkdir(op[1])
            elif kind == "put":
                record = self.session.upload(op[1], op[2])
                return (True, "") if record.acknowledged else (False, record.error)
            elif kind == "rename":
                sftp.posix_rename(op[1], op[2])  # what WinSCP and rclone use: replaces the target
            elif kind == "listdir":
                return True, [n if isinstance(n, bytes) else n.encode("utf-8") for n in sftp.listdir(op[1])]
            return True, ""
        except FAILURES as e:
            if not self.session.alive():
                raise
            return False, "%s: %s" % (type(e).__name__, e)

    def close(self):
        self.session.close()


# Runs as the photographer's uid: reads operations (JSON) on stdin, prints one result each.
_MOUNT_CLIENT = r"""
import base64, errno, json, os, sys
out = []
for op in json.load(sys.stdin):
    kind, path = op[0], base64.b64decode(op[1])
    try:
        if kind == "mkdir":
            os.mkdir(path)
        elif kind == "put":
            data = base64.b64decode(op[2])
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
            finally:
                os.close(fd)
        elif kind == "rename":
            os.rename(path, base64.b64decode(op[2]))
        elif kind == "listdir":
            out.append([True, [base64.b64encode(n).decode() for n in os.listdir(path)]])
            continue
        out.append([True, ""])
    except OSError as e:
        out.append([False, "%s: %s" % (errno.errorcode.get(e.errno, e.errno), e.strerror)])
json.dump(out, sys.stdout)
"""


class MountChannel:
    name = "mount"

    def __init__(self, deployment, user):
        self.mount = bytes(deployment.mount)
        account = pwd.getpwnam(user)
        self.uid, self.gid = account.pw_uid, account.pw_gid

    def run(self, ops):
        encoded = [[op[0]] + [base64.b64encode(self.mount + a if i == 0 or op[0] == "rename" else a).decode()
                              for i, a in enumerate(op[1:])] for op in ops]
        done = subprocess.run(["/usr/bin/python3", "-c", _MOUNT_CLIENT], input=json.dumps(encoded).encode(),
                              capture_output=True, user=self.uid, group=self.gid, extra_groups=[], timeout=120,
                              cwd="/")
        assert done.returncode == 0, "the mount client failed: %s" % done.stderr.decode(errors="replace")
        results = json.loads(done.stdout)
        for op, result in zip(ops, results):
            if op[0] == "listdir" and result[0]:
                result[1] = [base64.b64decode(n) for n in result[1]]
        return [tuple(r) for r in results]

    def close(self):
        pass


# --- the plan: what each case does, and what must come of it ----------------------------------

class Plan:
    """The operations of one pass over a channel, and what each is to check."""

    def __init__(self, jobs, photos):
        self.jobs = jobs
        self.photos = photos
        self.ops = []
        self.checks = []  # (case index, case, what, its operations, the index of the last)

    def add(self, index, case, what, *ops):
        """`ops` run in order; the last one's result is the case's."""
        self.ops.extend(ops)
        self.checks.append((index, case, what, ops, len(self.ops) - 1))

    def case(self, index, case):
        j = self.jobs
        if case.place == "album":
            self.add(index, case, "mkdir", ("mkdir", _p(j["mkdir"], case.sent)))
            helper = b"ra-%d" % index
            self.add(index, case, "rename", ("mkdir", _p(j["rename_album"], helper)),
                     ("rename", _p(j["rename_album"], helper), _p(j["rename_album"], case.sent)))
        elif case.place == "section":
            self.add(index, case, "mkdir", ("mkdir", _p(j["mkdir"], b"s-%d" % index)),
                     ("mkdir", _p(j["mkdir"], b"s-%d" % index, case.sent)))
        else:
            case_data = self.photos.photo("tiny")
            self.add(index, case, "put", ("put", _p(j["put"], case.sent), case_data))
            helper = b"r-%d.jpg.filepart" % index
            self.add(index, case, "rename", ("put", _p(j["rename_photo"], helper), self.photos.photo("tiny")),
                     ("rename", _p(j["rename_photo"], helper), _p(j["rename_photo"], case.sent)))


def job_of(jobs, case, what):
    key = {("album", "mkdir"): "mkdir", ("album", "rename"): "rename_album", ("section", "mkdir"): "mkdir",
           ("photo", "put"): "put", ("photo", "rename"): "rename_photo"}[(case.place, what)]
    return jobs[key]


class Expectations:
    """Per channel: the exact listing of every folder, the final bytes of every photo."""

    def __init__(self):
        self.listing = {}  # folder path (bytes, from the mount's root) -> set of names
        self.content = {}  # (job, stored name) -> bytes
        self.sections = {}  # (job, album) -> set of section names

    def folder(self, path):
        return self.listing.setdefault(path, set())


def expect(expectations, jobs, index, case, what, ops):
    """What the folders must hold after `case` did `what` by `ops`."""
    job = job_of(jobs, case, what)
    accepted = case.verdict == "accept" or (case.verdict == "same" and case.place == "photo")
    if case.place == "section":
        album = b"s-%d" % index
        expectations.folder(_p(job)).add(album)
        expectations.folder(_p(job, album)).update({case.stored} if accepted else set())
        expectations.sections[(job, album)] = {case.stored} if accepted else set()
        return
    if accepted:
        expectations.folder(_p(job)).add(case.stored)
        if case.place == "photo":
            expectations.content[(job, case.stored)] = ops[-1][2] if what == "put" else ops[-2][2]
    elif what == "rename" and case.verdict != "same":
        # The helper stays where it was.
        expectations.folder(_p(job)).add(b"ra-%d" % index if case.place == "album" else b"r-%d.jpg.filepart" % index)
    elif what == "rename":
        expectations.folder(_p(job)).add(b"ra-%d" % index)


# --- photodropctl, raw ------------------------------------------------------------------------

def ctl_raw(deployment, *args):
    """photodropctl's standard output and error, as bytes; fails on a non-zero exit."""
    done = subprocess.run(deployment.ctl_argv(*args), capture_output=True, env=child_environment(deployment.settings),
                          timeout=60)
    assert done.returncode == 0, "photodropctl %s: exit %d: %r" % (args, done.returncode, done.stderr)
    return done.stdout, done.stderr


def ctl_json(deployment, *args):
    out, _ = ctl_raw(deployment, "--json", *args)
    return json.loads(out.decode("utf-8"))


def wait_for_ingest(deployment, timeout=60):
    wait_until(lambda: deployment.uploads_in_state("queued") == 0 and deployment.uploads_in_state("processing") == 0,
               timeout, "the ingest service done with the queue", interval=0.1)


# --- the test -----------------------------------------------------------------------------------

def test_corpus_is_consistent():
    """The corpus says what it means: no two accepted names collide, each NFD twin
    follows its NFC line, names that Linux refuses are the only ones over 255 bytes."""
    accepted = {}
    problems = []
    for case in hostile_names.load():
        if case.verdict == "kernel":
            if len(case.sent) <= hostile_names.NAME_MAX and case.sent not in (b".", b".."):
                problems.append("%s: Linux would pass it to photodrop" % case)
            continue
        if len(case.sent) > hostile_names.NAME_MAX:
            problems.append("%s: longer than %d bytes, so Linux refuses it" % (case, hostile_names.NAME_MAX))
        if case.verdict == "accept" and case.place != "section":
            if (case.place, case.stored) in accepted:
                problems.append("%s: the same stored name as %s" % (case, accepted[(case.place, case.stored)]))
            accepted[(case.place, case.stored)] = case
        if case.verdict == "same":
            twin = accepted.get((case.place, case.stored))
            if twin is None or twin.sent == case.sent:
                problems.append("%s: no accepted line before it with another form of the name" % case)
    assert not problems, "\n".join(problems)


def test_hostile_names_over_sftp_and_the_mount(deploy, photos):
    started = time.monotonic()
    deployment = deploy()
    user = deployment.users[0]
    for jobs in CHANNEL_JOBS.values():
        for key, job in jobs.items():
            if job not in (ALBUMS_JOB, FLAT_JOB):
                deployment.ctl("job", "add", "--tenant", TENANT, job, "--layout", LAYOUTS[key])
    wait_until(lambda: all(deployment.path(j).is_dir() for jobs in CHANNEL_JOBS.values() for j in jobs.values()),
               5, "the new jobs in the mount")

    cases = hostile_names.load()
    passes = [[(i, c) for i, c in enumerate(cases) if c.verdict != "same"],
              [(i, c) for i, c in enumerate(cases) if c.verdict == "same"]]
    channels = [SftpChannel(deployment, user), MountChannel(deployment, user)]
    problems = []
    expectations = {ch.name: Expectations() for ch in channels}
    try:
        for pass_cases in passes:
            for channel in channels:
                jobs = CHANNEL_JOBS[channel.name]
                plan = Plan(jobs, photos)
                for index, case in pass_cases:
                    plan.case(index, case)
                results = channel.run(plan.ops)
                for index, case, what, ops, last in plan.checks:
                    ok, error = results[last]
                    should = case.verdict == "accept" or (case.verdict == "same" and case.place == "photo")
                    if ok != should:
                        problems.append("%s, %s over %s: %s" % (
                            case, what, channel.name,
                            "expected an error, it succeeded" if ok else "expected success, got %s" % error))
                    expect(expectations[channel.name], jobs, index, case, what, ops)
            wait_for_ingest(deployment)
        operations = time.monotonic() - started

        for channel in channels:
            jobs = CHANNEL_JOBS[channel.name]
            check_listings(channel, expectations[channel.name], problems)
            check_catalog(deployment, channel.name, jobs, cases, expectations[channel.name], problems)
        check_log_refusals(deployment, cases, problems)
        check_operator_output(deployment, problems)
    finally:
        for channel in channels:
            channel.close()
    print("hostile names: %d cases (%d lines), %d operations over each of SFTP and the mount in %.1f s, "
          "checked in %.1f s" % (len(cases), len({c.line for c in cases}), 2 * sum(len(p) for p in passes),
                                operations, time.monotonic() - started - operations))
    assert not problems, "%d problems:\n%s" % (len(problems), "\n".join(problems[:80]))


def check_listings(channel, expectations, problems):
    """Each folder lists exactly the names expected: accepted ones in NFC, nothing refused."""
    folders = sorted(expectations.listing)
    results = channel.run([("listdir", folder) for folder in folders])
    for folder, (ok, names) in zip(folders, results):
        if not ok:
            problems.append("over %s, cannot list %r: %s" % (channel.name, folder, names))
            continue
        expected = expectations.listing[folder]
        got = set(names)
        for name in sorted(got - expected):
            problems.append("over %s, %r lists %r, which it should not" % (channel.name, folder, name))
        for name in sorted(expected - got):
            problems.append("over %s, %r does not list %r" % (channel.name, folder, name))
        if len(names) != len(got):
            problems.append("over %s, %r lists a name twice: %r" % (channel.name, folder, sorted(names)))


def check_catalog(deployment, channel, jobs, cases, expectations, problems):
    """photodropctl --json: albums, uploads (with the refused ones and their reasons), photos."""
    for key in ("mkdir", "rename_album"):
        job = jobs[key]
        albums = ctl_json(deployment, "albums", "--tenant", TENANT, "--job", job)
        names = [a["name"] for a in albums]
        expected = sorted(shown(n) for n in expectations.listing.get(_p(job), set()))
        if sorted(names) != expected:
            problems.append("over %s, albums --json of %s: %s" % (
                channel, job, diff(names, expected)))
        for album in albums:
            wanted = expectations.sections.get((job, album["name"].encode()))
            if wanted is None:
                continue
            has = {name for name, made in ((b"group", album["group"]), (b"individuals", album["individuals"])) if made}
            if has != wanted:
                problems.append("over %s, album %s has sections %s, expected %s" % (channel, album["name"], has, wanted))

    for key, what in (("put", "put"), ("rename_photo", "rename")):
        job = jobs[key]
        uploads = ctl_json(deployment, "uploads", "--tenant", TENANT, "--job", job)
        photos = [p for p in ctl_json(deployment, "photos", "--tenant", TENANT, "--job", job) if not p["deleted"]]
        live = {}
        for u in uploads:
            if u["state"] not in ("deleted", "rejected", "discarded"):
                if u["path"] in live:
                    problems.append("over %s, two live uploads at %s in %s" % (channel, u["path"], job))
                live[u["path"]] = u
        expected_live = {shown(name): data for (j, name), data in expectations.content.items() if j == job}
        if what == "rename":  # the .filepart helpers of refused renames are still receiving
            expected_live.update({shown(n): None for n in expectations.listing[_p(job)] if n.endswith(b".filepart")})
        if sorted(live) != sorted(expected_live):
            problems.append("over %s, live uploads of %s: %s" % (channel, job, diff(list(live), list(expected_live))))
        by_path = {p["path"]: p for p in photos}
        for (j, name), data in expectations.content.items():
            path = shown(name)
            upload = live.get(path)
            if j != job or upload is None:
                continue
            digest = hashlib.sha256(data).hexdigest()
            if upload["state"] != "ingested" or upload["content_hash"] != digest:
                problems.append("over %s, %s/%s: %s with %s, expected ingested with %s" % (
                    channel, job, path, upload["state"], upload["content_hash"][:12], digest[:12]))
            photo = by_path.get(path)
            if photo is None or photo["content_hash"] != digest:
                problems.append("over %s, photos --json of %s has no photo %s of these bytes" % (channel, job, path))
            with open(os.path.join(bytes(deployment.path(job)), name), "rb") as f:
                if f.read() != data:
                    problems.append("over %s, %s/%s does not read back as the bytes last written" % (
                        channel, job, path))
        if set(by_path) != {p for p, d in expected_live.items() if d is not None}:
            problems.append("over %s, photos of %s: %s" % (channel, job, diff(
                list(by_path), [p for p, d in expected_live.items() if d is not None])))
        if what == "put":
            rejected = [u for u in uploads if u["state"] == "rejected"]
            for index, case in enumerate(cases):
                if case.place != "photo" or case.verdict != "refuse":
                    continue
                name = shown_from_catalog(deployment, case.sent)
                mine = [u for u in rejected if u["filename"] == name]
                if not mine:
                    problems.append("over %s, %s: no rejected upload named %s in %s" % (
                        channel, case, name, job))
                elif not all(u["reason"] and case.reason in u["reason"] for u in mine):
                    problems.append("over %s, %s: the rejected upload's reason %r does not say %r" % (
                        channel, case, mine[0]["reason"], case.reason))


def shown_from_catalog(deployment, sent):
    """How photodropctl shows the name of a refused upload: as text::shown shows what was
    sent. On PostgreSQL, whose text holds only UTF-8, a name that is not UTF-8 is recorded
    as shown (catalog/sql_catalog.cpp, insert_upload; tests/fusefs/mount_test.cpp), so
    photodropctl shows that text: its backslashes doubled."""
    if deployment.on_postgres and not hostile_names.valid_utf8(sent):
        return shown(shown(sent).encode("utf-8"))
    return shown(sent)


def diff(got, expected):
    got, expected = set(got), set(expected)
    return "unexpected %s; missing %s" % (sorted(got - expected)[:10], sorted(expected - got)[:10])


def check_log_refusals(deployment, cases, problems):
    """Each refusal that is not an upload (a folder, a rename) is in photodrop-fs's log with its reason."""
    log = deployment.fs.log()
    for channel, jobs in CHANNEL_JOBS.items():
        for index, case in enumerate(cases):
            if case.verdict != "refuse":
                continue
            for what in {"album": ("mkdir", "rename"), "photo": ("put", "rename"), "section": ("mkdir",)}[case.place]:
                job = job_of(jobs, case, what)
                relative = b"s-%d/" % index + case.sent if case.place == "section" else case.sent
                marker = "job=%s user=%s file=%s refused: " % (job, deployment.users[0], shown(relative))
                lines = [line for line in log.splitlines() if marker in line]
                if not lines:
                    problems.append("%s, %s over %s: no line in photodrop-fs's log has %r" % (
                        case, what, channel, marker))
                elif not any(case.reason in line.split(marker, 1)[1] for line in lines):
                    problems.append("%s, %s over %s: the logged reason does not say %r: %s" % (
                        case, what, channel, case.reason, lines[0]))


def check_operator_output(deployment, problems):
    """No raw control, bidi or invisible character, and only UTF-8, in what an operator reads."""
    outputs = {}
    for jobs in CHANNEL_JOBS.values():
        for job in jobs.values():
            for args in (("uploads",), ("photos",), ("albums",)):
                for json_flag in ((), ("--json",)):
                    out, err = ctl_raw(deployment, *json_flag, *args, "--tenant", TENANT, "--job", job)
                    outputs["photodropctl %s %s --job %s" % (" ".join(json_flag), args[0], job)] = out + err
                    if json_flag:
                        try:
                            json.loads(out.decode("utf-8"))
                        except ValueError as e:
                            problems.append("photodropctl --json %s --job %s does not parse: %s" % (args[0], job, e))
            out, err = ctl_raw(deployment, "uploads", "--tenant", TENANT, "--job", job, "--state", "rejected")
            outputs["photodropctl uploads --state rejected --job %s" % job] = out + err
    rejected = [str(i) for (i,) in deployment._query("SELECT id FROM uploads WHERE state = 'rejected' ORDER BY id")]
    assert rejected, "no rejected upload to show"
    out, err = ctl_raw(deployment, "uploads", "show", *rejected)
    outputs["photodropctl uploads show (every rejected upload)"] = out + err
    if out.count(b"\nupload ") + out.startswith(b"upload ") != len(rejected):
        problems.append("photodropctl uploads show of %d rejected uploads does not show each" % len(rejected))
    out, err = ctl_raw(deployment, "--json", "uploads", "show", *rejected)
    outputs["photodropctl --json uploads show (every rejected upload)"] = out + err
    try:
        shown_ids = [str(u["id"]) for u in json.loads(out.decode("utf-8"))]
        if shown_ids != rejected:
            problems.append("photodropctl --json uploads show: ids %s, expected %s" % (shown_ids[:10], rejected[:10]))
    except ValueError as e:
        problems.append("photodropctl --json uploads show does not parse: %s" % e)
    for args in (("queue",), ("--json", "queue")):
        out, err = ctl_raw(deployment, *args)
        outputs["photodropctl " + " ".join(args)] = out + err
    outputs["photodrop-fs's log"] = open(deployment.fs.log_path, "rb").read()
    outputs["photodrop-ingest's log"] = open(deployment.ingest.log_path, "rb").read()
    for what, output in outputs.items():
        found = hostile_names.raw_controls(output)
        if found:
            problems.append("%s: %d raw characters, e.g. %s" % (what, len(found), found[0]))
