"""Fixtures of the fault suite: the deployment (made per test, torn down
whatever happens), the session's photos and, with PHOTODROP_TEST_CATALOG=postgresql,
the session's PostgreSQL server (one fresh database per deployment)."""
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import postgres  # noqa: E402
from harness import Deployment, why_cannot_deploy  # noqa: E402
from photos import Photos  # noqa: E402


SUITE_BUDGET = 480  # seconds after which no new deployment is made (see pytest.ini)
_started = time.monotonic()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.failed_call = report.failed


def pytest_report_header(config):
    try:
        return "catalog: %s" % postgres.engine()
    except ValueError as e:
        return str(e)


@pytest.fixture(scope="session")
def photos(tmp_path_factory):
    return Photos(tmp_path_factory.mktemp("photos"))


@pytest.fixture(scope="session")
def new_catalog():
    """A function giving each deployment its catalog: None (a SQLite file in the
    deployment's directory) or, with PHOTODROP_TEST_CATALOG=postgresql, the URL of a
    new database on a private PostgreSQL server started once for the run and stopped
    at its end. A server that cannot be started fails every test (pytest keeps the
    error of a session fixture): the PostgreSQL run never passes on SQLite."""
    server, why = None, None
    try:
        if postgres.engine() == "postgresql":
            server = postgres.PostgresServer()
    except ValueError as e:
        why = str(e)
    except Exception as e:
        why = "PHOTODROP_TEST_CATALOG=postgresql, but the PostgreSQL server could not be started: %s" % e
    if why:
        pytest.fail(why, pytrace=False)
    if server is None:
        yield lambda: None
        return
    try:
        yield server.create_database
    finally:
        server.stop()


@pytest.fixture
def deploy(request):
    """deploy(users=1, settings=None, data_mib=None, ingest=True, ingest_lease=None) -> Deployment.

    The deployment has `users` SFTP users (deployment.users), a running sshd
    (deployment.sshd_port) and, unless `ingest` is false, photodrop-ingest.
    Everything is stopped and removed after the test; the programs' logs are
    printed when it failed.
    """
    reason = why_cannot_deploy()
    if reason:
        pytest.fail(reason, pytrace=False)
    if time.monotonic() - _started > SUITE_BUDGET:
        pytest.fail("the suite has run for %d s: no time left for this test" % SUITE_BUDGET, pytrace=False)
    catalog = request.getfixturevalue("new_catalog")
    made = []

    def make(users=1, settings=None, data_mib=None, ingest=True, ingest_lease=None):
        deployment = Deployment(settings=settings, data_mib=data_mib, ingest_lease=ingest_lease,
                                catalog=catalog())
        made.append(deployment)
        for _ in range(users):
            deployment.add_user()
        deployment.start_sshd()
        if ingest:
            deployment.start_ingest()
        return deployment

    yield make
    for deployment in made:
        if getattr(request.node, "failed_call", False):
            print("\n" + deployment.logs())
        deployment.close()
