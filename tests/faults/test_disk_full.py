"""Issue 9: a nearly full disk. The tenant's data directory is a small ext4 of
its own, filled to within a few hundred KB; sessions upload photos at once,
over several rounds with a little more room each time. Every acknowledged
close is whole; a close whose bytes could not be written fails, its upload is
never queued or ingested, and stat does not show it at its full size."""
import os
import threading

from checker import check
from harness import FLAT_JOB
from recording_client import Session

IMAGE_MIB = 96
ROUNDS = 4
KINDS = ["small", "medium", "large", "small", "medium", "large"]  # 130 KiB to 1 MiB, one file per session
FIRST_ROOM = 300 << 10
MORE_ROOM_PER_ROUND = 600 << 10


def free_bytes(directory):
    st = os.statvfs(directory)
    return st.f_bavail * st.f_frsize


def leave_free(filler, room):
    """Grows or shrinks the filler file so that about `room` bytes stay free on its file system."""
    size = filler.stat().st_size if filler.exists() else 0
    target = max(0, size + free_bytes(filler.parent) - room)
    with open(filler, "ab") as f:
        if target <= size:
            f.truncate(target)
        else:
            for _ in range(8):  # the extent tree takes blocks too: ask for a little less each time
                try:
                    os.posix_fallocate(f.fileno(), size, target - size)
                    break
                except OSError:
                    target -= 64 << 10
        os.fsync(f.fileno())


def upload_at_once(sessions, files):
    """Each session uploads one (path, bytes) at the same moment; the Records, and the sizes
    stat reported right after each unacknowledged close."""
    records = [None] * len(files)
    sizes_after = {}
    start = threading.Barrier(len(files))

    def one(i):
        session, (path, data) = sessions[i], files[i]
        start.wait()
        records[i] = session.upload(path, data)
        if not records[i].acknowledged:
            try:
                sizes_after[path] = session.sftp.stat(path).st_size
            except IOError:
                sizes_after[path] = None

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(len(files))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(r is not None for r in records), "an upload did not finish within 60 s"
    return records, sizes_after


def test_uploads_onto_a_nearly_full_disk(deploy, photos):
    # The ingest starts after the rounds: it needs room for thumbnails, and
    # its retries of a full disk would back off for longer than the test runs.
    deployment = deploy(users=2, data_mib=IMAGE_MIB, ingest=False)
    sessions = [Session(deployment.sshd_port, deployment.users[i % 2]) for i in range(len(KINDS))]
    filler = deployment.tenant_data / "filler"
    records, problems = [], []

    for round in range(ROUNDS):
        room = FIRST_ROOM + round * MORE_ROOM_PER_ROUND
        leave_free(filler, room)
        files = [("/%s/r%d-%d.jpg" % (FLAT_JOB, round, i), photos.photo(kind)) for i, kind in enumerate(KINDS)]
        done, sizes_after = upload_at_once(sessions, files)
        records += done
        for r in done:
            if r.acknowledged:
                continue
            if sizes_after[r.path] == r.size:
                problems.append("%s: SFTP stat shows all %d bytes after the failed upload (%s)" % (
                    r.path, r.size, r.error))
            mounted = deployment.path(r.path)
            if mounted.exists() and mounted.stat().st_size == r.size:
                problems.append("%s: the mount shows all %d bytes after the failed upload" % (r.path, r.size))
        print("round %d: %d KiB free, %d of %d acknowledged; refused: %s" % (
            round, room >> 10, sum(r.acknowledged for r in done), len(done),
            sorted({r.error for r in done if not r.acknowledged})))

    failed = [r for r in records if not r.acknowledged]
    queued = unacknowledged_uploads_queued(deployment, failed)
    problems += ["%s was queued before the ingest ran: %s" % item for item in queued]

    filler.unlink()
    deployment.start_ingest()
    figures = check(deployment, records, run="nearly full disk")
    problems += figures.problems
    queued = unacknowledged_uploads_queued(deployment, failed)
    problems += ["%s was queued or ingested: %s" % item for item in queued]

    assert failed, "no upload failed: the disk was never full enough to test anything"
    assert figures.acknowledged, "no upload was acknowledged"
    assert not problems, "\n".join(problems)


def unacknowledged_uploads_queued(deployment, failed):
    """(path, states) of the unacknowledged uploads whose catalog rows went on to the queue."""
    uploads = deployment.uploads()
    found = []
    for r in failed:
        name = r.path.rsplit("/", 1)[1]
        states = [u["state"] for u in uploads if u["path"] == name]
        if any(s in ("queued", "processing", "ingested") for s in states):
            found.append((r.path, ", ".join(states)))
    return found
