#!/usr/bin/python3
"""Soak: what the data directory holds after minutes of realistic uploads,
against what the catalog says is live.

Run as root from the top of the checkout (the binaries of build/, or
PHOTODROP_FS_BIN / PHOTODROP_INGEST_BIN / PHOTODROP_CTL_BIN):

    /usr/bin/python3 tests/faults/soak.py [--minutes 10] [--clients 4] [--keep]

A standalone script, not a pytest test. It deploys photodrop as the fault tests
do (harness.py), with retention short enough to act within the run
(receiving_expiry 30s, keep_deleted and keep_rejected 1m, photodrop-ingest
purging every minute), and for --minutes runs --clients SFTP clients, each on
its own connection, doing a mix of what photographers' clients do: new photos
(in the flat job and in an album of the albums job), exact duplicates of
earlier photos (in the same job, and the same bytes in the other job),
overwrites of ingested photos, deletes of queued and of ingested photos,
refused files (a ZIP named .jpg, a .txt), junk (.DS_Store), abandoned uploads
(half written, then the connection dropped without a CLOSE; a WinSCP
.filepart never renamed) and WinSCP's .filepart + rename.

At the end it waits for the queue to drain, checks every acknowledged upload
(checker.py: lost, corrupted, duplicated), waits for the retention times to
pass, runs `photodropctl purge --json` and `photodropctl usage --json`, and
classifies every file under DATA/<tenant>/ (staging, originals, thumbnails,
previews) against the catalog (read-only): live, kept for retention,
duplicate (a second copy of bytes the store holds), orphan (named by nothing),
overdue (past retention yet still there), unfinished (.tmp). It prints one
summary line and a table, and exits 1 when duplicates, orphans, overdue or
.tmp files hold any byte, or the checker finds a problem. --keep leaves the
deployment's directory (catalog, data, logs) for a look.
"""
import argparse
import collections
import json
import os
import random
import sqlite3
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import ALBUMS_JOB, FLAT_JOB, TENANT, Deployment, why_cannot_deploy  # noqa: E402
from checker import check, file_sha256  # noqa: E402
from photos import Photos, zip_archive  # noqa: E402
from recording_client import CHUNK, FAILURES, Record, ServerError, Session, describe  # noqa: E402

RECEIVING_EXPIRY = 30  # seconds
KEEP_DELETED = 60
KEEP_REJECTED = 60
PURGE_EVERY = 1  # minutes, photodrop-ingest's --purge-every
SETTINGS = {
    "receiving_expiry": "%ds" % RECEIVING_EXPIRY,
    "keep_deleted": "%ds" % KEEP_DELETED,
    "keep_rejected": "%ds" % KEEP_REJECTED,
}
ALBUM = "soak"
BACKLOG = 40  # queued uploads above which a client waits a little (at most BACKLOG_WAIT s) before its next new file
BACKLOG_WAIT = 5.0

# action: weight. Each client picks one at random per step.
MIX = {
    "new": 30,
    "new_album": 6,
    "duplicate": 8,
    "cross_job": 3,
    "overwrite": 7,
    "delete_queued": 5,
    "delete_ingested": 5,
    "zip_as_jpg": 3,
    "txt": 3,
    "junk": 4,
    "abandoned": 4,
    "filepart": 8,
    "filepart_abandoned": 2,
}
KINDS = ("small", "small", "medium", "medium", "large")  # about 130 KiB, 450 KiB, 1 MiB

LIVE_STATES = {"receiving", "queued", "processing", "failed"}  # bytes in staging that are live


class SoakDeployment(Deployment):
    """harness's Deployment, with photodrop-ingest purging every PURGE_EVERY minutes."""

    def start_ingest(self):
        # harness.Deployment.start_ingest makes its argv itself: add the flag on its way to Child.
        child = harness.Child
        harness.Child = lambda argv, log, env: child(argv + ["--purge-every", str(PURGE_EVERY)], log, env)
        try:
            super().start_ingest()
        finally:
            harness.Child = child


class Shared:
    """What the clients share: the checker's records (the newest per path), the
    photos any client may copy, and the figures."""

    def __init__(self):
        self.lock = threading.Lock()
        self.checked = {}  # sftp path -> the Record the file must hold at the end
        self.sources = []  # (job, bytes) of acknowledged photos, for duplicates
        self.made = collections.Counter()  # action -> how many were done
        self.outcome = collections.Counter()  # (action, outcome) -> count
        self.unexpected = []  # what no action should have led to
        self.crashed = []

    def note(self, action, outcome, detail=""):
        with self.lock:
            self.made[action] += 1
            self.outcome[(action, outcome)] += 1
            if outcome.startswith("unexpected") and len(self.unexpected) < 50:
                self.unexpected.append("%s: %s %s" % (action, outcome, detail))

    def expect(self, record):
        with self.lock:
            self.checked[record.path] = record

    def forget(self, path):
        with self.lock:
            self.checked.pop(path, None)

    def add_source(self, job, data):
        with self.lock:
            self.sources.append((job, data))
            if len(self.sources) > 400:
                del self.sources[: len(self.sources) - 400]

    def source(self, rng):
        with self.lock:
            return rng.choice(self.sources) if self.sources else None


class Client:
    """One SFTP client: its connection, its files, and one action per step."""

    def __init__(self, index, deployment, user, photos, shared, deadline, max_steps):
        self.index = index
        self.d = deployment
        self.user = user
        self.photos = photos
        self.shared = shared
        self.deadline = deadline
        self.max_steps = max_steps
        self.rng = random.Random(1000 + index)
        self.session = None
        self.serial = 0
        self.mine = []  # sftp paths this client uploaded and that the checker expects

    # --- plumbing ------------------------------------------------------------------------

    def connected(self):
        for attempt in range(10):
            if self.session is not None and self.session.alive():
                return self.session
            try:
                self.session = Session(self.d.sshd_port, self.user)
            except (OSError, EOFError) + FAILURES as e:
                self.session = None
                if attempt == 9:
                    raise ServerError("cannot connect: %s" % describe(e)) from e
                time.sleep(0.5)
        return self.session

    def name(self, ext=".jpg"):
        self.serial += 1
        return "c%d-%05d%s" % (self.index, self.serial, ext)

    def flat(self, name):
        return "/%s/%s" % (FLAT_JOB, name)

    def album(self, name):
        # In the album's individuals folder: photodropctl's photo listing names a photo
        # "album/individuals/NAME" wherever it was put, its upload listing "album/NAME" when it was put
        # in the album itself, and checker.py matches the two.
        return "/%s/%s/individuals/%s" % (ALBUMS_JOB, ALBUM, name)

    def photo(self):
        return self.photos.photo(self.rng.choice(KINDS))

    def upload(self, path, data, mode="w"):
        return self.connected().upload(path, data, mode)

    def state_of(self, sftp_path):
        """The state of the newest visible upload at this file name (names are unique to a client)."""
        name = sftp_path.rsplit("/", 1)[1]
        rows = self.d._query("SELECT state FROM uploads WHERE filename = ? AND state NOT IN "
                             "('deleted','discarded') ORDER BY id DESC LIMIT 1", name)
        return rows[0][0] if rows else None

    def wait_for_backlog(self):
        until = time.monotonic() + BACKLOG_WAIT
        while time.monotonic() < until and self.d.uploads_in_state("queued") > BACKLOG:
            time.sleep(0.25)

    def new_photo(self, action, path, data):
        """An upload that must be acknowledged and end up ingested (or a duplicate)."""
        record = self.upload(path, data)
        if record.acknowledged:
            self.shared.expect(record)
            self.shared.add_source(path.split("/")[1], data)
            self.mine.append(path)
            self.shared.note(action, "acknowledged")
        else:
            self.shared.note(action, "unexpected: not acknowledged", "%s %s" % (path, record.error))
        return record

    def ingested_one(self):
        """One of this client's files that is ingested now, taken off its list; None if none is."""
        candidates = list(self.mine)
        self.rng.shuffle(candidates)
        for path in candidates[:8]:
            if self.state_of(path) == "ingested":
                self.mine.remove(path)
                return path
        return None

    # --- the actions ---------------------------------------------------------------------

    def do_new(self):
        self.wait_for_backlog()
        self.new_photo("new", self.flat(self.name()), self.photo())

    def do_new_album(self):
        self.wait_for_backlog()
        self.new_photo("new_album", self.album(self.name()), self.photo())

    def do_duplicate(self):
        """The same bytes as an earlier photo of the job, under another name: a duplicate."""
        source = self.shared.source(self.rng)
        if source is None:
            return self.do_new()
        job, data = source
        path = self.flat(self.name()) if job == FLAT_JOB else self.album(self.name())
        self.new_photo("duplicate", path, data)

    def do_cross_job(self):
        """The same bytes as an earlier photo, into the other job: a photo of its own, one original in the store."""
        source = self.shared.source(self.rng)
        if source is None:
            return self.do_new()
        job, data = source
        path = self.album(self.name()) if job == FLAT_JOB else self.flat(self.name())
        self.new_photo("cross_job", path, data)

    def do_overwrite(self):
        path = self.ingested_one()
        if path is None:
            return self.do_new()
        data = self.photo()
        record = self.upload(path, data)
        self.mine.append(path)
        if record.acknowledged:
            self.shared.expect(record)  # the newest bytes are the right answer
            self.shared.note("overwrite", "acknowledged")
        else:
            # The path's old photo may be gone or not: the checker cannot judge it.
            self.shared.forget(path)
            self.mine.remove(path)
            self.shared.note("overwrite", "unexpected: not acknowledged", "%s %s" % (path, record.error))

    def do_delete_queued(self):
        path = self.flat(self.name())
        record = self.upload(path, self.photo())
        if not record.acknowledged:
            return self.shared.note("delete_queued", "unexpected: not acknowledged", record.error)
        state = self.state_of(path)
        try:
            self.connected().sftp.remove(path)
        except FAILURES as e:
            return self.shared.note("delete_queued", "unexpected: remove failed", "%s %s" % (path, describe(e)))
        self.shared.note("delete_queued", "deleted while %s" % state)

    def do_delete_ingested(self):
        path = self.ingested_one()
        if path is None:
            return self.do_delete_queued()
        self.shared.forget(path)
        try:
            self.connected().sftp.remove(path)
        except FAILURES as e:
            return self.shared.note("delete_ingested", "unexpected: remove failed", "%s %s" % (path, describe(e)))
        self.shared.note("delete_ingested", "deleted")

    def do_zip_as_jpg(self):
        record = self.upload(self.flat(self.name()), zip_archive(self.photo()))
        self.shared.note("zip_as_jpg", "unexpected: acknowledged" if record.acknowledged else "refused",
                         record.path)

    def do_txt(self):
        record = self.upload(self.flat(self.name(".txt")), b"notes for the lab\n" * 20)
        self.shared.note("txt", "unexpected: acknowledged" if record.acknowledged else "refused", record.path)

    def do_junk(self):
        where = self.flat(".DS_Store") if self.rng.random() < 0.5 else self.album(".DS_Store")
        record = self.upload(where, os.urandom(6148))
        self.shared.note("junk", "accepted" if record.acknowledged else "unexpected: refused: %s" % record.error,
                         where)

    def do_abandoned(self):
        """Open, write half, drop the connection without a CLOSE."""
        session = self.connected()
        data = self.photo()
        path = self.flat(self.name())
        try:
            f = session.open(path, "w")
            session.write(f, data[: (len(data) // 2) // CHUNK * CHUNK or CHUNK])
        except ServerError as e:
            return self.shared.note("abandoned", "unexpected: refused", "%s %s" % (path, e))
        f._closed = True  # paramiko must not send a CLOSE when it lets go of the handle
        session.close()
        self.session = None
        self.shared.note("abandoned", "dropped")

    def do_filepart(self):
        """WinSCP: upload to NAME.filepart, then rename it to NAME."""
        self.wait_for_backlog()
        path = self.flat(self.name())
        data = self.photo()
        record = self.upload(path + ".filepart", data)
        if not record.acknowledged:
            return self.shared.note("filepart", "unexpected: not acknowledged", "%s %s" % (path, record.error))
        try:
            self.connected().sftp.rename(path + ".filepart", path)
        except FAILURES as e:
            return self.shared.note("filepart", "unexpected: rename failed", "%s %s" % (path, describe(e)))
        final = Record(path, record.sha256, record.size, acknowledged=True, close_status="OK, then renamed",
                       attempts=1, user=self.user)
        self.shared.expect(final)
        self.shared.add_source(FLAT_JOB, data)
        self.mine.append(path)
        self.shared.note("filepart", "acknowledged")

    def do_filepart_abandoned(self):
        """WinSCP interrupted between the upload and the rename: the .filepart stays receiving."""
        record = self.upload(self.flat(self.name(".jpg.filepart")), self.photo())
        self.shared.note("filepart_abandoned", "left" if record.acknowledged else "unexpected: not acknowledged",
                         record.error)

    # --- the loop ------------------------------------------------------------------------

    def run(self):
        actions, weights = zip(*MIX.items())
        for folder in (ALBUM, ALBUM + "/individuals"):
            try:
                self.connected().sftp.mkdir("/%s/%s" % (ALBUMS_JOB, folder))
            except FAILURES:
                pass  # another client made it
        try:
            for _ in range(self.max_steps):
                if time.monotonic() > self.deadline:
                    break
                action = self.rng.choices(actions, weights)[0]
                try:
                    getattr(self, "do_" + action)()
                except ServerError as e:  # a lost connection: count it, reconnect on the next step
                    self.shared.note(action, "unexpected: %s" % e)
                    if self.session is not None:
                        self.session.close()
                    self.session = None
                time.sleep(self.rng.uniform(0.05, 0.3))
        except Exception as e:  # noqa: BLE001 - a bug of this script: reported at the end
            self.shared.crashed.append("client %d: %s" % (self.index, describe(e)))
        finally:
            if self.session is not None:
                self.session.close()


# --- the end: drain, retention, purge, measure --------------------------------------------

def wait_for_queue(d, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending = d._query("SELECT count(*) FROM uploads WHERE state IN ('queued','processing')")[0][0]
        if pending == 0:
            return 0
        if not d.ingest.running():
            raise AssertionError("photodrop-ingest exited:\n" + d.ingest.log_tail())
        time.sleep(1)
    return pending


def last_retention_change(d):
    """When the last upload or photo that retention still keeps changed (seconds since the epoch), and
    the last time an upload was written (for receiving_expiry)."""
    kept = d._query("SELECT max(updated_ns) FROM uploads WHERE state IN ('deleted','rejected','discarded') "
                    "AND data_path <> ''")[0][0] or 0
    photos = d._query("SELECT max(deleted_ns) FROM photos WHERE deleted = 1 AND purged_ns IS NULL")[0][0] or 0
    receiving = d._query("SELECT max(updated_ns) FROM uploads WHERE state = 'receiving'")[0][0] or 0
    return max(kept, photos) / 1e9, receiving / 1e9


def sleep_until(t, why):
    left = t - time.time()
    if left > 0:
        print("waiting %.0f s: %s" % (left, why), flush=True)
        time.sleep(left)


def purge(d):
    out = d.ctl("--json", "purge", check=False)
    return json.loads(out)


def classify(d):
    """Every file under DATA/<tenant>/: a list of (area, class, detail, relative path, bytes)."""
    db = sqlite3.connect("file:%s?mode=ro" % d.catalog, uri=True, timeout=10)
    db.row_factory = sqlite3.Row
    uploads = db.execute("SELECT id, state, reason, data_path, duplicate, updated_ns, content_hash, photo_id "
                         "FROM uploads").fetchall()
    photos = db.execute("SELECT id, upload_id, original_path, thumbnail_path, preview_path, deleted, deleted_ns, "
                        "purged_ns, content_hash FROM photos").fetchall()
    db.close()
    now = time.time_ns()
    cut_deleted = now - KEEP_DELETED * 10**9
    cut_rejected = now - KEEP_REJECTED * 10**9

    by_data_path = collections.defaultdict(list)
    by_content = collections.defaultdict(list)
    for u in uploads:
        if u["data_path"]:
            by_data_path[u["data_path"]].append(u)
        if u["content_hash"]:
            by_content[u["content_hash"]].append(u)
    by_store_path = collections.defaultdict(list)  # a photo's original, thumbnail or preview -> the photos
    for p in photos:
        for column in ("original_path", "thumbnail_path", "preview_path"):
            by_store_path[p[column]].append(p)
    # Who keeps a content hash in the store (retention.hpp): a photo not deleted (live) or deleted since
    # keep_deleted (kept); an upload in any state but deleted/discarded (live), or deleted since (kept).
    hash_live, hash_kept = set(), set()
    for p in photos:
        if not p["deleted"]:
            hash_live.add(p["content_hash"])
        elif p["deleted_ns"] is None or p["deleted_ns"] >= cut_deleted:
            hash_kept.add(p["content_hash"])
    for u in uploads:
        if not u["content_hash"]:
            continue
        if u["state"] not in ("deleted", "discarded"):
            hash_live.add(u["content_hash"])
        elif u["updated_ns"] >= cut_deleted:
            hash_kept.add(u["content_hash"])

    rows = []
    tenant = d.tenant_data
    store_hashes = collections.defaultdict(list)  # content hash -> originals holding it
    for area in ("originals",):
        for f in sorted((tenant / area).rglob("*")):
            if f.is_file() and not f.name.endswith(".tmp"):
                store_hashes[f.name.split(".")[0]].append(f)

    for f in sorted(tenant.rglob("*")):
        if not f.is_file():
            continue
        relative = str(f.relative_to(d.data))
        area = f.relative_to(tenant).parts[0]
        size = f.stat().st_size
        if area == "staging":
            named = by_data_path.get(relative, [])
            if not named:
                rows.append((area, "orphan", "named by no upload", relative, size))
                continue
            u = max(named, key=lambda r: r["id"])
            state = u["state"]
            detail = state if len(named) == 1 else "%s (named by %d uploads)" % (state, len(named))
            if state in LIVE_STATES:
                rows.append((area, "live", detail, relative, size))
            elif state == "ingested":
                # A duplicate's staged copy, or an ingested photo's bytes not moved into the store.
                what = "ingested duplicate" if u["duplicate"] else "ingested, still in staging"
                rows.append((area, "duplicate", what, relative, size))
            elif state in ("rejected", "discarded"):
                kept = u["updated_ns"] >= cut_rejected
                rows.append((area, "kept" if kept else "overdue", detail, relative, size))
            elif state == "deleted":
                kept = u["updated_ns"] >= cut_deleted
                rows.append((area, "kept" if kept else "overdue", detail, relative, size))
            else:
                rows.append((area, "orphan", "upload state %s" % state, relative, size))
            continue
        if area not in ("originals", "thumbnails", "previews"):
            rows.append((area, "orphan", "not an area of the data directory", relative, size))
            continue
        if f.name.endswith(".tmp"):
            rows.append((area, "tmp", "unfinished rendition", relative, size))
            continue
        content = f.name.split(".")[0]
        if area == "originals" and len(store_hashes[content]) > 1:
            rows.append((area, "duplicate", "%d originals of one content" % len(store_hashes[content]),
                         relative, size))
            continue
        named = by_store_path.get(relative, [])
        readers = by_data_path.get(relative, []) if area == "originals" else []
        if not named and not readers:
            # Whose bytes these were: the uploads with this content, by state and reason.
            whose = sorted({"%s (%s)" % (u["state"], u["reason"].split(":")[0]) for u in by_content.get(content, [])})
            rows.append((area, "orphan", "named by nothing; content of: %s" % (", ".join(whose) or "no upload"),
                         relative, size))
        elif content in hash_live:
            rows.append((area, "live", "photo", relative, size))
        elif content in hash_kept:
            rows.append((area, "kept", "deleted photo", relative, size))
        else:
            rows.append((area, "overdue", "deleted photo past keep_deleted", relative, size))

    # Staged bytes that the store holds already, kept for retention all the same: a copy, not a leak.
    copies = 0
    for area, cls, detail, relative, size in rows:
        if area == "staging" and cls == "kept" and size and file_sha256(d.data / relative) in store_hashes:
            copies += size
    return rows, copies


def mib(n):
    return "%.1f MiB" % (n / 1048576) if n >= 1048576 else "%d B" % n


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10, help="how long the clients upload (default 10)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent SFTP clients (default 4)")
    parser.add_argument("--keep", action="store_true", help="leave the deployment's directory for a look")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    reason = why_cannot_deploy()
    if os.environ.get("PHOTODROP_TEST_CATALOG", "sqlite") != "sqlite":
        reason = "the soak runs on a SQLite catalog only (it reads the file itself): unset PHOTODROP_TEST_CATALOG"
    if reason:
        print("soak: " + reason, file=sys.stderr)
        return 2
    if args.keep:
        os.environ["PHOTODROP_FAULTS_KEEP"] = "1"
    random.seed(args.seed)

    started = time.monotonic()
    work = tempfile.TemporaryDirectory(prefix="soak-photos-")
    photos = Photos(work.name)
    for kind in set(KINDS):  # made now, before the threads share them
        for variant in range(3):
            photos._base(kind, variant)

    d = SoakDeployment(settings=SETTINGS)
    failed = True
    try:
        users = [d.add_user("pds") for _ in range(min(args.clients, 3))]
        d.start_sshd()
        d.start_ingest()
        print("soak: %s, %d clients for %.1f min; data in %s" % (TENANT, args.clients, args.minutes, d.data),
              flush=True)

        shared = Shared()
        deadline = time.monotonic() + args.minutes * 60
        max_steps = int(args.minutes * 60 * 20)  # far more than a client can do: the deadline ends the loop
        clients = [Client(i, d, users[i % len(users)], photos, shared, deadline, max_steps)
                   for i in range(args.clients)]
        threads = [threading.Thread(target=c.run, daemon=True) for c in clients]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads) and time.monotonic() < deadline + 90:
            time.sleep(min(30, max(1, deadline - time.monotonic())))
            q = d._query("SELECT state, count(*) FROM uploads GROUP BY state")
            print("  %4.0f s: %d steps; uploads %s" % (time.monotonic() - started, sum(shared.made.values()),
                                                      dict(q)), flush=True)
        stuck = sum(t.is_alive() for t in threads)
        stopped = time.time()

        pending = wait_for_queue(d, 240)
        print("queue drained in %.0f s%s" % (time.time() - stopped, "" if not pending else
                                               " -- NOT: %d still queued or processing" % pending), flush=True)

        records = list(shared.checked.values())
        figures = [check(d, [r for r in records if r.path.startswith("/%s/" % job)], job=job, run=job, timeout=60)
                   for job in (FLAT_JOB, ALBUMS_JOB)]

        # Retention: a .filepart left receiving expires receiving_expiry after its last byte; what is deleted or
        # rejected goes keep_deleted / keep_rejected after its last change.
        _, last_write = last_retention_change(d)
        sleep_until(max(stopped, last_write) + RECEIVING_EXPIRY + 2, "receiving_expiry")
        first = purge(d)
        kept_until, _ = last_retention_change(d)
        sleep_until(kept_until + max(KEEP_DELETED, KEEP_REJECTED) + 2, "keep_deleted / keep_rejected")
        final = purge(d)
        usage = d.ctl_json("usage")
        rows, copies = classify(d)

        # --- the report ----------------------------------------------------------------
        total = lambda cls: sum(r[4] for r in rows if r[1] == cls)  # noqa: E731
        count = lambda cls: sum(1 for r in rows if r[1] == cls)  # noqa: E731
        tenant_usage = next((t for t in usage["tenants"] if t["tenant"] == TENANT), None)
        on_disk = sum(r[4] for r in rows)
        acknowledged = sum(f.acknowledged for f in figures)
        lost, corrupted, duplicated = (sum(getattr(f, k) for f in figures) for k in ("lost", "corrupted", "duplicated"))
        unaccounted = total("orphan") + total("overdue") + total("tmp")

        print("\nuploads made, by kind and outcome:")
        for action in MIX:
            outcomes = ", ".join("%s %d" % (o, n) for (a, o), n in sorted(shared.outcome.items()) if a == action)
            print("  %-19s %5d  %s" % (action, shared.made[action], outcomes))
        for line in sorted(set(shared.unexpected))[:20]:
            print("  ! " + line)
        for line in shared.crashed:
            print("  ! crashed " + line)

        print("\npurges: after receiving_expiry %s, %d expired; final %s, %d expired%s" % (
            mib(first["total"]["bytes"]), len(first["expired"]), mib(final["total"]["bytes"]), len(final["expired"]),
            "; problems: %s" % (first["problems"] + final["problems"]) if first["problems"] + final["problems"]
            else ""))
        purges = [line for line in d.ingest.log().splitlines() if "purge:" in line]
        print("photodrop-ingest purged %d times during the run; %d of them reported a problem" % (
            len(purges), sum("problem" in line for line in purges)))
        print("\non disk under %s/, against the catalog:" % TENANT)
        print("  %-10s %-9s %-60s %6s %12s" % ("AREA", "CLASS", "WHAT", "FILES", "BYTES"))
        table = collections.Counter()
        files = collections.Counter()
        for area, cls, detail, _, size in rows:
            table[(area, cls, detail)] += size
            files[(area, cls, detail)] += 1
        for key in sorted(table):
            print("  %-10s %-9s %-60s %6d %12d" % (*key, files[key], table[key]))
        leftovers = [r for r in rows if r[1] in ("orphan", "overdue", "tmp", "duplicate")]
        for area, cls, detail, relative, size in leftovers[:30]:
            print("  ! %s %s: %s (%s, %d bytes)" % (cls, relative, detail, area, size))
        if len(leftovers) > 30:
            print("  ! ... and %d more" % (len(leftovers) - 30))
        if tenant_usage:
            print("\nphotodropctl usage: total %d files %d bytes, live %d bytes, purgeable %d bytes" % (
                tenant_usage["total"]["files"], tenant_usage["total"]["bytes"], tenant_usage["live"]["bytes"],
                tenant_usage["purgeable"]["bytes"]))
            for line in tenant_usage["lines"]:
                print("  %-10s %-10s %6d files %12d bytes (purgeable %d)" % (
                    line["area"], line["kind"], line["files"], line["bytes"], line["purgeable_bytes"]))
        catalog_live = tenant_usage["live"]["bytes"] if tenant_usage else -1
        if copies:
            print("\n(%d bytes kept for retention in staging are copies of originals in the store)" % copies)

        summary = ("soak %.1f min, %d clients: %d steps, acknowledged=%d lost=%d corrupted=%d duplicated=%d; "
                   "on disk %s: live %s, kept %s, duplicates %s, orphans %s, overdue %s, .tmp %s "
                   "(%d files); catalog live %s vs on disk %s" % (
                       args.minutes, args.clients, sum(shared.made.values()), acknowledged, lost, corrupted,
                       duplicated, mib(on_disk), mib(total("live")), mib(total("kept")), mib(total("duplicate")),
                       mib(total("orphan")), mib(total("overdue")), mib(total("tmp")), count("tmp"),
                       mib(catalog_live), mib(total("live") + total("kept"))))
        print("\n" + summary, flush=True)
        failed = bool(total("duplicate") or unaccounted or lost or corrupted or duplicated or stuck or pending
                      or shared.crashed)
        if os.environ.get("PHOTODROP_FAULTS_REPORT"):
            with open(os.environ["PHOTODROP_FAULTS_REPORT"], "a") as out:
                out.write(summary + "\n")
        if failed:
            print("soak: FAILED (%s)" % ", ".join(what for what, bad in (
                ("duplicate bytes", total("duplicate")), ("unaccounted bytes", unaccounted),
                ("lost/corrupted/duplicated uploads", lost or corrupted or duplicated),
                ("%d clients did not stop" % stuck, stuck), ("queue not drained", pending),
                ("a client crashed", shared.crashed)) if bad))
            print(d.logs())
    finally:
        d.close()
        work.cleanup()
        print("soak: %.0f s in all" % (time.monotonic() - started))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
