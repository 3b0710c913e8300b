"""Issue 9: archives named like photos are refused by their content. The
client is told (the CLOSE fails), the file is gone at once, the catalog says
why, and the refused bytes are not kept in staging."""
import errno

import paramiko
import pytest

from harness import FLAT_JOB
from photos import self_extracting_archive, zip_archive
from recording_client import Session

HEAD = 65536  # the JPEG head written (and acknowledged) before the ZIP overwrites it


def upload_head_then_zip(session, path, photo, archive):
    """A JPEG head written and flushed, then a ZIP written at offset 0 of the same handle."""
    f = session.open(path, "w")
    statuses = []
    for data in (photo[:HEAD], archive):
        try:
            session.write(f, data, 0)
            statuses.append("OK")
        except Exception as e:  # noqa: BLE001 - recorded, judged below
            statuses.append(str(e))
    return statuses, session.close_file(f)


def upload_whole(session, path, data):
    record = session.upload(path, data)
    return [record.error or "OK"], record.close_status


CASES = {
    # name: (the bytes that end up in the file, how the client writes them)
    "zip-over-a-jpeg-head": lambda photo, archive: (archive, "head-then-zip"),
    "zip-appended-to-a-jpeg": lambda photo, archive: (photo + archive, "whole"),
    "self-extracting-archive": lambda photo, archive: (self_extracting_archive(photo), "whole"),
}


def stat_size(session, path):
    """The size SFTP stat reports, or None when there is no such file."""
    try:
        return session.sftp.stat(path).st_size
    except IOError as e:
        assert e.errno == errno.ENOENT, "stat %s: %s" % (path, e)
        return None


def staging_files_holding(deployment, data):
    if not deployment.staging.is_dir():
        return []
    return [str(p) for p in deployment.staging.rglob("*") if p.is_file() and data in p.read_bytes()]


@pytest.mark.parametrize("case", list(CASES))
def test_archive_content_is_refused(deploy, photos, case):
    deployment = deploy()
    session = Session(deployment.sshd_port, deployment.users[0])
    photo = photos.photo("medium")
    archive = zip_archive(photos.photo("small"))
    content, how = CASES[case](photo, archive)
    name = "x.jpg"
    path = "/%s/%s" % (FLAT_JOB, name)

    if how == "head-then-zip":
        writes, close = upload_head_then_zip(session, path, photo, archive)
    else:
        writes, close = upload_whole(session, path, content)

    assert close != "OK", "%s: the CLOSE was acknowledged (writes: %s); the client thinks the archive is stored" % (
        case, writes)
    assert stat_size(session, path) is None, "%s: stat right after the refused close finds it, size %d" % (
        case, stat_size(session, path))
    assert name not in session.sftp.listdir("/" + FLAT_JOB), "%s: still listed after the refused close" % case

    uploads = deployment.uploads_at(name)
    assert uploads, "%s: no upload in the catalog" % case
    assert all(u["state"] == "rejected" for u in uploads), "%s: %s" % (
        case, [(u["state"], u["reason"]) for u in uploads])
    assert any("archive" in u["reason"].lower() for u in uploads), "%s: the reason does not name an archive: %s" % (
        case, [u["reason"] for u in uploads])
    assert not staging_files_holding(deployment, archive), "%s: the refused bytes are kept in %s" % (
        case, staging_files_holding(deployment, archive))


def test_put_of_a_refused_file_raises(deploy, photos, tmp_path):
    """paramiko's put() confirms with a stat: it must not find the refused file at its full size."""
    deployment = deploy()
    session = Session(deployment.sshd_port, deployment.users[0])
    local = tmp_path / "x.jpg"
    local.write_bytes(zip_archive(photos.photo("medium")))
    path = "/%s/x.jpg" % FLAT_JOB

    with pytest.raises((IOError, paramiko.SSHException), match=""):
        session.sftp.put(str(local), path)
        pytest.fail("put() of a ZIP named x.jpg returned as if stored; stat finds size %s" % stat_size(session, path))

    assert stat_size(session, path) is None, "stat after the refused put finds it"
    assert "x.jpg" not in session.sftp.listdir("/" + FLAT_JOB), "listed after the refused put"
