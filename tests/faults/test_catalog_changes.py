"""Issue 9: a running mount sees the catalog's job changes within a second,
every time, in both directions, in its own listing and through SFTP."""
import os
import time

from harness import ALBUMS_JOB, FLAT_JOB, TENANT
from recording_client import Session

ROUNDS = 6
WITHIN = 1.0  # the specification's promise
POLL = 1.5  # how long the test looks before it calls a change missed


def shown(deployment, session, job):
    """Whether `job` is in the mount's root listing and in the SFTP listing of /."""
    return job in os.listdir(deployment.mount), job in session.sftp.listdir("/")


def wait_for_listing(deployment, session, job, present, change):
    """Polls both listings until each shows (or no longer shows) `job`; how long each took."""
    started = time.monotonic()
    took = [None, None]
    while time.monotonic() - started < POLL and None in took:
        for i, listed in enumerate(shown(deployment, session, job)):
            if took[i] is None and listed == present:
                took[i] = time.monotonic() - started
        time.sleep(0.02)
    for where, seconds in zip(("the mount's listing", "the SFTP listing"), took):
        assert seconds is not None and seconds <= WITHIN, "%s: %s %s %s within %.1f s (looked for %.1f s)" % (
            change, where, "did not show" if present else "still showed", job, WITHIN, POLL)


def test_job_changes_reach_a_running_mount(deploy, photos):
    deployment = deploy()
    session = Session(deployment.sshd_port, deployment.users[0])
    assert shown(deployment, session, ALBUMS_JOB) == (True, True)
    assert shown(deployment, session, FLAT_JOB) == (True, True)

    for round in range(ROUNDS):
        new_job = "job%05d" % (100 + round)
        deployment.ctl("job", "add", "--tenant", TENANT, new_job, "--layout", "flat")
        wait_for_listing(deployment, session, new_job, True, "round %d: job add %s" % (round, new_job))

        for job in (new_job, FLAT_JOB):
            deployment.ctl("job", "set-status", "--tenant", TENANT, job, "selling")
            wait_for_listing(deployment, session, job, False, "round %d: %s set to selling" % (round, job))
            deployment.ctl("job", "set-status", "--tenant", TENANT, job, "planned")
            wait_for_listing(deployment, session, job, True, "round %d: %s set back to planned" % (round, job))
        # Uploads between the changes, and caches that expire on a clock, must
        # not hide the next change either.
        upload = session.upload("/%s/round-%d.jpg" % (FLAT_JOB, round), photos.photo())
        assert upload.acknowledged, upload
        time.sleep(0.25 * round)
