"""Issue 9: two sessions write the same name at the same moment, with
different bytes. Whatever the server allows, each acknowledged close is one
client's file whole, the path reads back as one acknowledged file whole, and
the catalog files the bytes it stores; never a mixture of the two."""
import threading

from checker import check, file_sha256
from harness import FLAT_JOB
from recording_client import Session

TRIALS = 30


def race(sessions, path, contents):
    """Both sessions upload `path` at once, each its own bytes; their Records."""
    records = [None, None]
    start = threading.Barrier(2)

    def one(i):
        start.wait()
        records[i] = sessions[i].upload(path, contents[i])

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert None not in records, "%s: an upload did not finish within 60 s" % path
    return records


def test_two_sessions_write_one_name(deploy, photos):
    deployment = deploy()
    user = deployment.users[0]
    sessions = [Session(deployment.sshd_port, user), Session(deployment.sshd_port, user)]
    records, mixtures, outcomes = [], [], {}

    for trial in range(TRIALS):
        path = "/%s/same-%02d.jpg" % (FLAT_JOB, trial)
        for s in sessions:
            if not s.alive():
                s.connect()
        pair = race(sessions, path, [photos.photo("medium"), photos.photo("medium")])
        records += pair
        acknowledged = {r.sha256 for r in pair if r.acknowledged}
        key = "both acknowledged" if len(acknowledged) == 2 else "one acknowledged" if acknowledged else "none"
        outcomes[key] = outcomes.get(key, 0) + 1
        if acknowledged:
            try:
                seen = file_sha256(deployment.path(path))
            except OSError as e:
                seen = "unreadable: %s" % e
            if seen not in acknowledged:
                mixtures.append("%s reads back as neither acknowledged file (%s); the clients saw: %s" % (
                    path, seen[:20], [r.error or "OK" for r in pair]))

    print("same name, %d trials: %s" % (TRIALS, outcomes))
    figures = check(deployment, records, run="two sessions, one name")
    assert not mixtures, "\n".join(mixtures)
    assert figures.clean(), "\n".join(figures.problems)
