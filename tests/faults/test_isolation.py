"""Issue 10, isolation: the cross-job original. A user who may see only job A
uploads a file whose bytes are those of a photo already in job B. SPEC.md
de-duplicates within a job only, so the upload becomes a photo of its own in
A; the store is content-addressed per tenant, so both photos name the same
original and renditions. Whatever the user then does to its copy (overwrite,
delete) and whatever the operator purges afterwards, job B's photo, its
catalog rows, its original and its renditions stay as they were."""
import hashlib
import os

from checker import file_sha256
from harness import ALBUMS_JOB, FLAT_JOB, TENANT, wait_until
from recording_client import FAILURES, Session


def wait_for_ingest(deployment):
    wait_until(lambda: deployment.uploads_in_state("queued") == 0 and deployment.uploads_in_state("processing") == 0,
               30, "the ingest service done with the queue", interval=0.05)


def snapshot(deployment, job):
    """What job `job` holds: its photos and uploads as photodropctl --json lists them,
    and the bytes (SHA-256) of every store file its photos name. (Job A's ingest
    writes the shared renditions again, the same bytes under a new inode.)"""
    photos = deployment.photos(job)
    files = {}
    for p in photos:
        for key in ("original_path", "thumbnail_path", "preview_path"):
            path = deployment.stored(p[key])
            files[p[key]] = (file_sha256(path), os.stat(path).st_size)
    return {"photos": photos, "uploads": deployment.uploads(job), "files": files}


def refused(action):
    try:
        action()
    except FAILURES as e:
        return str(e) or type(e).__name__
    return None


def test_same_content_in_a_job_the_user_cannot_see(deploy, photos):
    deployment = deploy(settings={"keep_deleted": "0"})  # the operator's purge takes every deleted photo
    owner = Session(deployment.sshd_port, deployment.users[0])
    restricted_user = deployment.add_user(jobs=[ALBUMS_JOB])
    restricted = Session(deployment.sshd_port, restricted_user)
    data = photos.photo("small")
    digest = hashlib.sha256(data).hexdigest()

    assert owner.upload("/%s/class.jpg" % FLAT_JOB, data).acknowledged
    wait_for_ingest(deployment)
    before = snapshot(deployment, FLAT_JOB)
    assert len(before["photos"]) == 1 and before["photos"][0]["content_hash"] == digest
    b_photo = before["photos"][0]

    def job_b_unchanged(when):
        after = snapshot(deployment, FLAT_JOB)
        for key in ("photos", "uploads", "files"):
            assert after[key] == before[key], "%s, job B's %s changed:\nbefore %s\nafter  %s" % (
                when, key, before[key], after[key])
        assert file_sha256(deployment.stored(b_photo["original_path"])) == digest
        with open(deployment.path("/%s/class.jpg" % FLAT_JOB), "rb") as f:
            assert f.read() == data, "%s: job B's file does not read back as its photo" % when

    # Job B is nowhere to be seen, read or written.
    sftp = restricted.sftp
    assert sftp.listdir("/") == [ALBUMS_JOB]
    for what, action in (("listdir", lambda: sftp.listdir("/" + FLAT_JOB)),
                         ("stat", lambda: sftp.stat("/%s/class.jpg" % FLAT_JOB)),
                         ("read", lambda: sftp.open("/%s/class.jpg" % FLAT_JOB, "r").read()),
                         ("remove", lambda: sftp.remove("/%s/class.jpg" % FLAT_JOB))):
        assert refused(action), "the restricted user could %s job B's photo" % what
    assert not restricted.upload("/%s/class.jpg" % FLAT_JOB, photos.photo("small")).acknowledged
    job_b_unchanged("after the restricted user tried job B")

    # The same bytes in job A: a photo of A's own, not a duplicate of B's.
    sftp.mkdir("/%s/Klasse 1a" % ALBUMS_JOB)
    a_path = "/%s/Klasse 1a/class.jpg" % ALBUMS_JOB
    assert restricted.upload(a_path, data).acknowledged
    wait_for_ingest(deployment)
    a_photos = deployment.photos(ALBUMS_JOB)
    assert len(a_photos) == 1, a_photos
    a_upload = deployment.uploads(ALBUMS_JOB)[0]
    assert a_upload["state"] == "ingested" and not a_upload["duplicate"], a_upload
    assert a_upload["photo_id"] == a_photos[0]["id"] != b_photo["id"]
    assert a_photos[0]["content_hash"] == digest
    job_b_unchanged("after the same bytes were ingested in job A")

    # Its copy overwritten with other bytes, and renamed out of A (refused).
    assert restricted.upload(a_path, photos.photo("small")).acknowledged
    wait_for_ingest(deployment)
    assert refused(lambda: sftp.posix_rename(a_path, "/%s/class.jpg" % FLAT_JOB))
    assert refused(lambda: sftp.rename(a_path, "/%s/other.jpg" % FLAT_JOB))
    job_b_unchanged("after job A's copy was overwritten")

    # The same bytes again, then deleted; the deleted photos purged.
    assert restricted.upload(a_path, data).acknowledged
    wait_for_ingest(deployment)
    sftp.remove(a_path)
    wait_until(lambda: all(p["deleted"] for p in deployment.photos(ALBUMS_JOB)), 5, "job A's photos deleted")
    job_b_unchanged("after job A's copy was deleted")
    purge = deployment.ctl_json("purge", "--tenant", TENANT)
    assert not purge["problems"], purge
    removed = {f["path"] for f in purge["files"]}
    assert not removed & set(before["files"]), "the purge removed job B's files: %s" % (removed & set(before["files"]))
    job_b_unchanged("after the operator purged job A's deleted photos")
    print("isolation: job A's photos %s, purge removed %d files; job B's photo %d intact" % (
        [(p["id"], p["deleted"]) for p in deployment.photos(ALBUMS_JOB)], len(removed), b_photo["id"]))
    owner.close()
    restricted.close()
