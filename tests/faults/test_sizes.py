"""Issue 9: sizes an upload may not have. A SETSTAT that would make a 4-byte
upload 40 GiB is refused and creates nothing; an upload over the size limit
fails and is never queued."""
import os

import paramiko
from harness import FLAT_JOB
from recording_client import ServerError, Session

HUGE = 40 << 30
JPEG_HEAD = b"\xff\xd8\xff\xe0"


def sizes_under(directory):
    """Every file below `directory` and its apparent size."""
    return {str(p): p.stat().st_size for p in directory.rglob("*") if p.is_file()}


def refused(operation):
    """Runs `operation`; the error it raised, or None when the server accepted it."""
    try:
        operation()
    except (IOError, ServerError, paramiko.SSHException) as e:
        return e
    return None


def sparse_files(deployment):
    return {p: size for p, size in sizes_under(deployment.data).items() if size > (1 << 30)}


def test_a_setstat_to_40_gib_is_refused(deploy):
    deployment = deploy(ingest=False)  # the 4-byte upload stays as it is
    session = Session(deployment.sshd_port, deployment.users[0])
    path = "/%s/tiny.jpg" % FLAT_JOB
    problems = []

    f = session.open(path, "w")
    session.write(f, JPEG_HEAD)
    if not refused(lambda: f.truncate(HUGE)):  # FSETSTAT size on the open handle
        problems.append("FSETSTAT size 40 GiB on the open upload succeeded")
    if session.close_file(f) != "OK":
        problems.append("the CLOSE of the 4-byte upload failed")
    if not refused(lambda: session.sftp.truncate(path, HUGE)):  # SETSTAT size by path
        problems.append("SETSTAT size 40 GiB on the closed upload succeeded")

    sizes = {"SFTP stat": session.sftp.stat(path).st_size, "stat in the mount": os.stat(deployment.path(path)).st_size}
    problems += ["%s says %d bytes" % (where, size) for where, size in sizes.items() if size != 4]
    if sparse_files(deployment):
        problems.append("sparse files were made: %s" % sparse_files(deployment))
    assert not problems, "; ".join(problems)


def test_an_upload_over_the_size_limit_is_refused(deploy, photos):
    deployment = deploy(settings={"max_upload_size": "1M"})
    session = Session(deployment.sshd_port, deployment.users[0])
    data = photos.of_size(2 << 20)
    path = "/%s/big.jpg" % FLAT_JOB

    record = session.upload(path, data)

    problems = []
    if record.acknowledged:
        problems.append("a %d-byte upload over the 1 MiB limit was acknowledged" % len(data))
    uploads = deployment.uploads_at("big.jpg")
    queued = ["#%d %s" % (u["id"], u["state"]) for u in uploads if u["state"] in ("queued", "processing", "ingested")]
    if queued:
        problems.append("the upload over the limit was queued: %s" % ", ".join(queued))
    assert not problems, "; ".join(problems)


def test_a_write_past_the_size_limit_is_refused(deploy):
    """A WRITE at an offset past the limit: it or the CLOSE fails, nothing sparse is made, nothing queued."""
    deployment = deploy(settings={"max_upload_size": "1M"}, ingest=False)
    session = Session(deployment.sshd_port, deployment.users[0])
    path = "/%s/sparse.jpg" % FLAT_JOB

    f = session.open(path, "w")
    session.write(f, JPEG_HEAD)
    write = refused(lambda: session.write(f, JPEG_HEAD, offset=HUGE))
    close = session.close_file(f)

    problems = []
    if not write and close == "OK":
        problems.append("a WRITE at offset 40 GiB and the CLOSE after it succeeded")
    if close == "OK" and session.sftp.stat(path).st_size != 4:
        problems.append("the CLOSE was acknowledged with the file at %d bytes" % session.sftp.stat(path).st_size)
    queued = ["#%d %s %d bytes" % (u["id"], u["state"], u["size"]) for u in deployment.uploads_at("sparse.jpg")
              if u["state"] in ("queued", "processing", "ingested") and u["size"] > 4]
    if queued:
        problems.append("queued past the limit: %s" % ", ".join(queued))
    if sparse_files(deployment):
        problems.append("sparse files were made: %s" % sparse_files(deployment))
    assert not problems, "; ".join(problems)
