"""Issue 9: a stored original cannot be changed. A handle opened on an upload
before the ingest filed it (kept across the filing, or used while the ingest
is between its claim and its filing) may not write, overwrite with an archive
or truncate what the store holds: those operations fail or change nothing, and
the original keeps the SHA-256 the catalog has."""
import hashlib
import signal
import time

import paramiko

from checker import file_sha256
from harness import FLAT_JOB, wait_until
from photos import zip_archive
from recording_client import ServerError, Session

ZIP_HEAD = zip_archive(b"\xff\xd8" + b"\0" * 8192)[:4096]
RACE_ATTEMPTS = 3


def answer(operation):
    """"OK", or the error the server answered."""
    try:
        operation()
    except (IOError, ServerError, paramiko.SSHException) as e:
        return "refused: %s" % e
    return "OK"


def try_to_change(session, kept, size):
    """Writes, overwrites the head with a ZIP, truncates and closes through `kept`; what each answered."""
    if isinstance(kept, ServerError):  # the second open was refused: nothing to try
        return {"open 'r+'": "refused: %s" % kept}
    return {
        "write in the middle": answer(lambda: session.write(kept, b"\x00" * 8192, size // 2)),
        "ZIP head at offset 0": answer(lambda: session.write(kept, ZIP_HEAD, 0)),
        "truncate": answer(lambda: kept.truncate(size // 3)),
        "close": session.close_file(kept),
    }


def wait_for_state(deployment, upload_id, states, timeout):
    return wait_until(lambda: deployment.upload_state(upload_id) in states and deployment.upload_state(upload_id),
                      timeout, "upload %d to become %s" % (upload_id, "/".join(states)), interval=0.05)


def problems_with_original(deployment, upload_id, path, data):
    """What is wrong with the upload, its photo and its stored original, compared with `data`."""
    expected = hashlib.sha256(data).hexdigest()
    upload = deployment.upload(upload_id)
    problems = []
    if upload["state"] != "ingested":
        problems.append("the upload is %s %s" % (upload["state"], upload["reason"]))
    if upload["content_hash"] != expected:
        problems.append("the catalog's content hash is %s, not the uploaded file's" % upload["content_hash"][:12])
    photo = upload["photo"]
    if not photo or photo["deleted"]:
        problems.append("no photo: %s" % photo)
    else:
        original = deployment.stored(photo["original_path"])
        if not original.is_file():
            problems.append("the original %s is gone" % photo["original_path"])
        elif file_sha256(original) != photo["content_hash"]:
            problems.append("the stored original no longer has the catalog's SHA-256 (now %d bytes)" %
                            original.stat().st_size)
    try:
        if file_sha256(deployment.path(path)) != expected:
            problems.append("the file at %s reads back changed" % path)
    except OSError as e:
        problems.append("the file at %s cannot be read: %s" % (path, e))
    return problems


def upload_with_kept_handle(deployment, session, path, data):
    """Uploads `path` while the ingest is stopped and opens a second handle ('r+') on it;
    the upload's id and that handle (or the open's refusal). The ingest stays stopped."""
    deployment.ingest.signal(signal.SIGSTOP)
    record = session.upload(path, data)
    assert record.acknowledged, record
    name = path.rsplit("/", 1)[1]
    upload_id = max(u["id"] for u in deployment.uploads_at(name))
    try:
        return upload_id, session.open(path, "r+")
    except ServerError as refused:
        return upload_id, refused


def test_a_handle_kept_across_the_filing_cannot_change_the_original(deploy, photos):
    deployment = deploy()
    session = Session(deployment.sshd_port, deployment.users[0])
    data = photos.photo("medium")
    path = "/%s/kept.jpg" % FLAT_JOB

    upload_id, kept = upload_with_kept_handle(deployment, session, path, data)
    deployment.ingest.signal(signal.SIGCONT)
    wait_for_state(deployment, upload_id, {"ingested", "rejected", "failed"}, timeout=30)
    answers = try_to_change(session, kept, len(data))
    print("through the kept handle: %s" % answers)

    problems = problems_with_original(deployment, upload_id, path, data)
    assert not problems, "after %s: %s" % (answers, "; ".join(problems))


def stop_between_claim_and_filing(deployment, upload_id, timeout=15):
    """Continues the ingest and stops it again once it has claimed the upload (the slow
    decode of a large photo is the window). Whether it was caught there."""
    deployment.ingest.signal(signal.SIGCONT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = deployment.upload_state(upload_id)
        if state == "processing":
            time.sleep(0.15)  # past the hash and its one transaction, into the decode
            deployment.ingest.signal(signal.SIGSTOP)
            time.sleep(0.05)
            return deployment.upload_state(upload_id) == "processing"
        if state not in ("queued", "receiving"):
            return False
        time.sleep(0.005)
    return False


def test_a_handle_used_while_the_ingest_files_the_upload_cannot_change_the_original(deploy, photos):
    deployment = deploy()
    session = Session(deployment.sshd_port, deployment.users[0])
    for attempt in range(RACE_ATTEMPTS):
        data = photos.photo("huge")
        path = "/%s/race-%d.jpg" % (FLAT_JOB, attempt)
        upload_id, kept = upload_with_kept_handle(deployment, session, path, data)
        if stop_between_claim_and_filing(deployment, upload_id):
            break
        print("attempt %d: the ingest was not caught between claim and filing (%s)" % (
            attempt, deployment.upload_state(upload_id)))
        if not isinstance(kept, ServerError):
            session.close_file(kept)
    else:
        raise AssertionError("the ingest was never stopped between its claim and its filing in %d attempts" %
                             RACE_ATTEMPTS)

    answers = try_to_change(session, kept, len(data))
    print("through the kept handle: %s" % answers)
    deployment.ingest.signal(signal.SIGCONT)
    wait_for_state(deployment, upload_id, {"ingested", "rejected", "failed"}, timeout=45)

    problems = problems_with_original(deployment, upload_id, path, data)
    assert not problems, "after %s: %s" % (answers, "; ".join(problems))
