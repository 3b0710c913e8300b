"""Checks that every upload the server acknowledged is whole: through the
mount, in the store and in the catalog; and prints the run's figures.

For each path with an acknowledged upload (several clients may have written
the same name; any one of their files, whole, is a right answer):
- lost: the file cannot be read at its path; or it never became `ingested`
  (a duplicate of a photo with the same hash counts as ingested); or its
  original is missing from the store;
- corrupted: the bytes read through the mount, the catalog's content hash or
  the stored original differ from every acknowledged upload's bytes, or from
  each other;
- duplicated: more than one live upload, or more than one photo, at the path.
"""
import dataclasses
import hashlib
import os
import time

from harness import FLAT_JOB

LIVE_STATES = {"receiving", "queued", "processing", "ingested", "failed"}  # not deleted, rejected or discarded
UNSETTLED_STATES = {"queued", "processing"}


@dataclasses.dataclass
class Figures:
    acknowledged: int = 0
    lost: int = 0
    corrupted: int = 0
    duplicated: int = 0
    problems: list = dataclasses.field(default_factory=list)

    def line(self):
        return "acknowledged=%d lost=%d corrupted=%d duplicated=%d" % (
            self.acknowledged, self.lost, self.corrupted, self.duplicated)

    def clean(self):
        return self.lost == self.corrupted == self.duplicated == 0


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def path_in_job(sftp_path, job):
    prefix = "/%s/" % job
    assert sftp_path.startswith(prefix), "%s is not in job %s" % (sftp_path, job)
    return sftp_path[len(prefix):]


def wait_until_settled(deployment, paths, job=FLAT_JOB, timeout=60):
    """Waits until no upload at `paths` is queued or processing; the last listing."""
    deadline = time.monotonic() + timeout
    while True:
        if deployment.ingest is None or not deployment.ingest.running():
            raise AssertionError("photodrop-ingest is not running:\n%s" % (
                deployment.ingest.log_tail() if deployment.ingest else ""))
        uploads = deployment.uploads(job)
        pending = [u for u in uploads if u["path"] in paths and u["state"] in UNSETTLED_STATES]
        if not pending or time.monotonic() > deadline:
            return uploads
        time.sleep(0.2)


def check(deployment, records, job=FLAT_JOB, run="", timeout=60):
    """Checks every acknowledged Record; returns the Figures (printed, and appended to the report)."""
    acknowledged, how = {}, {}
    for r in records:
        if r.acknowledged:
            acknowledged.setdefault(path_in_job(r.path, job), set()).add(r.sha256)
            how.setdefault(path_in_job(r.path, job), []).append(
                "%d attempt(s), %s" % (r.attempts, "CLOSE OK" if r.close_status == "OK" else r.close_status))
    figures = Figures(acknowledged=sum(r.acknowledged for r in records))
    uploads = wait_until_settled(deployment, set(acknowledged), job, timeout)
    photos = deployment.photos(job)

    for path, expected in sorted(acknowledged.items()):
        lost, corrupted, duplicated = [], [], []
        seen = None
        try:
            seen = file_sha256(deployment.path("/%s/%s" % (job, path)))
            if seen not in expected:
                corrupted.append("the mount shows other bytes (sha256 %s)" % seen[:12])
        except OSError as e:
            lost.append("cannot read it through the mount: %s" % e)

        live = [u for u in uploads if u["path"] == path and u["state"] in LIVE_STATES]
        if len(live) > 1:
            duplicated.append("%d live uploads: %s" % (len(live), ", ".join(
                "#%d %s" % (u["id"], u["state"]) for u in live)))
        if not live:
            lost.append("no live upload in the catalog (%s)" % ", ".join(
                "#%d %s %s" % (u["id"], u["state"], u["reason"]) for u in uploads if u["path"] == path))
        for u in live:
            if u["state"] != "ingested":
                lost.append("upload #%d is %s %s" % (u["id"], u["state"], u["reason"]))
            elif u["content_hash"] not in expected:
                corrupted.append("upload #%d has content hash %s" % (u["id"], u["content_hash"][:12]))
            elif seen is not None and u["content_hash"] != seen:
                corrupted.append("upload #%d has content hash %s, the mount shows %s" % (
                    u["id"], u["content_hash"][:12], seen[:12]))

        here = [p for p in photos if p["path"] == path and not p["deleted"]]
        if len(here) > 1:
            duplicated.append("%d photos" % len(here))
        twins = [p for u in live if u["duplicate"] for p in photos if p["id"] == u["photo_id"]]
        for p in here + twins:
            original = deployment.stored(p["original_path"])
            if not original.is_file():
                lost.append("photo #%d's original %s is missing" % (p["id"], p["original_path"]))
            elif file_sha256(original) != p["content_hash"] or p["content_hash"] not in expected:
                corrupted.append("photo #%d's original does not hold the acknowledged bytes" % p["id"])
        if not here and not twins and live and live[0]["state"] == "ingested":
            lost.append("ingested without a photo")

        for kind, found in (("lost", lost), ("corrupted", corrupted), ("duplicated", duplicated)):
            if found:
                setattr(figures, kind, getattr(figures, kind) + 1)
                figures.problems.append("%s %s: %s (the client: %s)" % (kind, path, "; ".join(found),
                                                                       "; ".join(how[path])))

    report(figures, run)
    return figures


def report(figures, run):
    line = "%s%s" % (run + ": " if run else "", figures.line())
    print("\n" + line)
    for problem in figures.problems[:20]:
        print("  " + problem)
    out = os.environ.get("PHOTODROP_FAULTS_REPORT")
    if out:
        with open(out, "a") as f:
            f.write(line + "\n")
