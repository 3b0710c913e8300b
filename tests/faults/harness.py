"""A whole photodrop on this machine for the fault-injection tests.

A Deployment is what tests/support/deployment.cpp builds for the C++ end-to-end
tests: a catalog and a data directory made by photodropctl under a root-owned
base (sshd's ChrootDirectory demands root-owned parents), one tenant mounted by
photodrop-fs, SFTP users, a private sshd on 127.0.0.1 and photodrop-ingest. The
catalog is a SQLite file in the base directory or, when the suite runs with
PHOTODROP_TEST_CATALOG=postgresql, a database of its own on the run's private
PostgreSQL server (postgres.py; conftest.py passes its URL). On
top of that it can break things: kill -9, stop and continue photodrop-fs and
photodrop-ingest, kill a user's sshd session processes, put the tenant's data
on a small file system of its own.

Every process is started and stopped by its own PID; close() unmounts, stops,
removes the users and the base directory whatever state the test left.
"""
import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import postgres

TESTS_BASE = Path("/var/lib/photodrop-tests")  # root-owned parents, as a chroot needs
TENANT = "faults"
ALBUMS_JOB = "job00001"
FLAT_JOB = "job00002"
PASSWORD = "Corr3ct-Horse"
SSHD = "/usr/sbin/sshd"

_REPO = Path(__file__).resolve().parents[2]
_BINARIES = {
    "fs": ("PHOTODROP_FS_BIN", _REPO / "build/fusefs/photodrop-fs"),
    "ingest": ("PHOTODROP_INGEST_BIN", _REPO / "build/ingest/photodrop-ingest"),
    "ctl": ("PHOTODROP_CTL_BIN", _REPO / "build/tools/photodropctl"),
}


def binary(name):
    """The path of photodrop-fs ("fs"), photodrop-ingest ("ingest") or photodropctl ("ctl")."""
    variable, default = _BINARIES[name]
    return os.environ.get(variable) or str(default)


def why_cannot_deploy():
    """None when this machine can run the suite; otherwise what is missing."""
    if os.geteuid() != 0:
        return "the fault tests need root (they mount, add system users and start sshd)"
    if not os.access("/dev/fuse", os.R_OK | os.W_OK):
        return "the fault tests need /dev/fuse"
    if not os.access(SSHD, os.X_OK):
        return "the fault tests need %s (openssh-server)" % SSHD
    for name, (variable, _) in _BINARIES.items():
        if not os.access(binary(name), os.X_OK):
            return "no executable %s (set %s)" % (binary(name), variable)
    return None


def wait_until(predicate, timeout, what, interval=0.02):
    """Polls `predicate` until it returns something true; returns that. Fails after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("%s: not within %.1f s" % (what, timeout))
        time.sleep(interval)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_environment(settings):
    """The environment of every child: without the host's photodrop settings, plus the test's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHOTODROP_")}
    env["PHOTODROP_CONFIG"] = "/dev/null"
    env.update({"PHOTODROP_" + k.upper(): str(v) for k, v in settings.items()})
    return env


def is_mounted(path):
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mount_point = line.split()[4].encode().decode("unicode_escape")
            if mount_point == str(path):
                return True
    return False


def parent_of(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2:].split()[1])  # after "pid (comm) state"


def descendants(pid):
    """Every process below `pid`, found by walking /proc/*/stat."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            ppid = parent_of(int(entry))
            if ppid is not None:
                children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def process_title(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


class Child:
    """A process the harness started; signalled and reaped by its own PID."""

    def __init__(self, argv, log, env):
        self.argv = argv
        self.log_path = log
        with open(log, "ab") as out:
            self.popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env)

    @property
    def pid(self):
        return self.popen.pid

    def running(self):
        return self.popen.poll() is None

    def signal(self, sig):
        if self.running():
            os.kill(self.pid, sig)

    def kill(self):
        """kill -9, and reap it."""
        self.signal(signal.SIGKILL)
        self.popen.wait()

    def stop(self, timeout=10):
        """SIGTERM (after SIGCONT, in case it was stopped); SIGKILL if it does not exit in time."""
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def log(self):
        return Path(self.log_path).read_text(errors="replace")

    def log_tail(self, lines=30):
        return "\n".join(self.log().splitlines()[-lines:])


class Deployment:
    """One tenant (`faults`, jobs job00001 `albums` and job00002 `flat`), mounted,
    with users, a private sshd and the ingest service.

    `settings` are PHOTODROP_<KEY> values for every program (e.g.
    {"max_upload_size": "1M"}); `data_mib` puts the tenant's data directory on an
    ext4 file system of that many MiB in a loop-mounted image. `catalog` is the
    location of a new, empty catalog (a postgresql:// URL); by default a SQLite
    file in the base directory.
    """

    def __init__(self, settings=None, data_mib=None, ingest_lease=None, catalog=None):
        self.settings = {"free_space_reserve": "0"}
        self.settings.update(settings or {})
        self.ingest_lease = ingest_lease
        self.users = []
        self.fs = None
        self.sshd = None
        self.ingest = None
        self.sshd_port = None
        self._loop_mounted = False
        TESTS_BASE.mkdir(mode=0o755, exist_ok=True)
        os.chmod(TESTS_BASE, 0o755)
        self.base = Path(tempfile.mkdtemp(prefix="faults-", dir=TESTS_BASE))
        os.chmod(self.base, 0o755)
        self.catalog = catalog or self.base / "catalog.db"  # what --catalog gets: a Path or a URL
        try:
            self._create(data_mib)
        except BaseException:
            self.close()
            raise

    # --- paths -------------------------------------------------------------------------

    @property
    def data(self):
        return self.base / "data"

    @property
    def tenant_data(self):
        return self.data / TENANT

    @property
    def staging(self):
        return self.tenant_data / "staging"

    @property
    def mounts(self):
        return self.base / "mounts"

    @property
    def mount(self):
        return self.mounts / TENANT

    def path(self, relative):
        """A path inside the mount; `relative` as the SFTP user sees it ("/job00002/x.jpg")."""
        return self.mount / relative.lstrip("/")

    # --- set-up ------------------------------------------------------------------------

    def _create(self, data_mib):
        self.ctl("init")
        self.ctl("tenant", "add", TENANT)
        self.ctl("job", "add", "--tenant", TENANT, ALBUMS_JOB, "--layout", "albums")
        self.ctl("job", "add", "--tenant", TENANT, FLAT_JOB, "--layout", "flat")
        for d in (self.mounts, self.mount):
            d.mkdir(mode=0o755, exist_ok=True)
            os.chmod(d, 0o755)
        self.tenant_data.mkdir(parents=True, exist_ok=True)
        if data_mib:
            self._put_data_on_image(data_mib)
        self.start_fs()

    def _put_data_on_image(self, mib):
        image = self.base / "data.img"
        with open(image, "wb") as f:
            f.truncate(mib << 20)
        run(["mkfs.ext4", "-q", "-F", "-m", "0", str(image)])
        run(["mount", "-o", "loop", str(image), str(self.tenant_data)])
        self._loop_mounted = True
        shutil.rmtree(self.tenant_data / "lost+found", ignore_errors=True)

    def ctl_argv(self, *args):
        return [binary("ctl"), "--catalog", str(self.catalog), "--data", str(self.data),
                "--mounts", str(self.mounts), "--keys-dir", str(self.base / "keys"), *args]

    def ctl(self, *args, input=None, check=True):
        """photodropctl on this deployment; its standard output. Fails on a non-zero exit if `check`."""
        done = subprocess.run(self.ctl_argv(*args), input=input, capture_output=True, text=True,
                              env=child_environment(self.settings), timeout=60)
        if check and done.returncode != 0:
            raise AssertionError("photodropctl %s: exit %d: %s" % (" ".join(args), done.returncode,
                                                                   done.stderr.strip()))
        return done.stdout

    def ctl_json(self, *args):
        return json.loads(self.ctl("--json", *args))

    # --- photodrop-fs ------------------------------------------------------------------

    def start_fs(self):
        assert self.fs is None or not self.fs.running(), "photodrop-fs is already running"
        # PHOTODROP_TEST_WRITES=checked (test_faults_checked): every write through photodrop-fs.
        checked = ["--no-passthrough"] if os.environ.get("PHOTODROP_TEST_WRITES") == "checked" else []
        self.fs = Child([binary("fs"), "-f", *checked, "--catalog", str(self.catalog), "--data", str(self.data),
                         "--tenant", TENANT, "--wake-socket", str(self.data / "ingest.sock"), str(self.mount)],
                        str(self.base / "fs.log"), child_environment(self.settings))
        deadline = time.monotonic() + 10
        while not is_mounted(self.mount):
            if not self.fs.running() or time.monotonic() > deadline:
                raise AssertionError("photodrop-fs did not mount:\n" + self.fs.log_tail())
            time.sleep(0.02)

    def kill_fs(self):
        """A crash: kill -9, then clear the dead mount."""
        self.fs.kill()
        run(["fusermount3", "-u", "-z", str(self.mount)], check=False)

    def restart_fs(self):
        """A crash and the operator's (or systemd's) remount."""
        self.kill_fs()
        self.start_fs()

    def stop_fs(self):
        if is_mounted(self.mount):
            run(["fusermount3", "-u", "-z", str(self.mount)], check=False)
        if self.fs is not None:
            self.fs.stop()

    # --- photodrop-ingest --------------------------------------------------------------

    def start_ingest(self):
        assert self.ingest is None or not self.ingest.running(), "photodrop-ingest is already running"
        argv = [binary("ingest"), "--catalog", str(self.catalog), "--data", str(self.data)]
        if self.ingest_lease:
            argv += ["--lease", str(self.ingest_lease)]
        port = free_port()
        argv += ["--listen", "127.0.0.1:%d" % port]
        self.ingest = Child(argv, str(self.base / "ingest.log"), child_environment(self.settings))

        def healthy():
            if not self.ingest.running():
                raise AssertionError("photodrop-ingest exited:\n" + self.ingest.log_tail())
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port, timeout=1):
                    return True
            except urllib.error.HTTPError:
                return True  # it answers; whether it is healthy is for the test to judge
            except OSError:
                return False

        wait_until(healthy, 10, "photodrop-ingest answering /healthz", interval=0.05)

    def kill_ingest(self):
        self.ingest.kill()

    def restart_ingest(self):
        self.kill_ingest()
        self.start_ingest()

    # --- users and sshd ----------------------------------------------------------------

    def add_user(self, prefix="pdf", jobs=None):
        """A system account + catalog user made by photodropctl; the name carries this process's id.
        `jobs`: the only jobs it may see (default: all of the tenant's)."""
        name = "%s%d%s" % (prefix, os.getpid() % 100000, chr(ord("a") + len(self.users)))
        self.ctl("user", "remove", name, check=False)  # left by a crashed run
        restriction = ["--jobs", ",".join(jobs)] if jobs else []
        self.ctl("user", "add", "--tenant", TENANT, name, *restriction, "--password-stdin", input=PASSWORD + "\n")
        self.users.append(name)
        return name

    def start_sshd(self):
        """sshd on 127.0.0.1 with photodropctl's Match block; call after the users are made."""
        host_key = self.base / "ssh_host_ed25519_key"
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)])
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation directory
        self.sshd_port = free_port()
        config = self.base / "sshd_config"
        config.write_text("\n".join([
            "ListenAddress 127.0.0.1",
            "Port %d" % self.sshd_port,
            "HostKey %s" % host_key,
            "PidFile none",
            "UsePAM yes",
            "PasswordAuthentication yes",
            "KbdInteractiveAuthentication no",
            "PubkeyAuthentication yes",
            "LogLevel VERBOSE",
            "MaxStartups 100",
            "MaxSessions 100",
            "Subsystem sftp internal-sftp",
            self.ctl("sshd-config"),
        ]) + "\n")
        run([SSHD, "-t", "-f", str(config)])
        self.sshd = Child([SSHD, "-D", "-e", "-f", str(config)], str(self.base / "sshd.log"),
                          child_environment({}))

        def accepts():
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.sshd_port), 1):
                return True
            if not self.sshd.running():
                raise AssertionError("sshd exited:\n" + self.sshd.log_tail())
            return False

        wait_until(accepts, 10, "sshd accepting connections")

    def kill_sessions(self, user):
        """kill -9 every sshd process of `user`'s sessions (children of our sshd); how many."""
        victims = [pid for pid in descendants(self.sshd.pid)
                   if process_title(pid).startswith("sshd: %s" % user)]
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return len(victims)

    # --- the catalog -------------------------------------------------------------------

    def uploads(self, job=FLAT_JOB):
        """photodropctl uploads --json: every upload of the job, each with its `path` in the job."""
        return self.ctl_json("uploads", "--tenant", TENANT, "--job", job)

    def photos(self, job=FLAT_JOB):
        return self.ctl_json("photos", "--tenant", TENANT, "--job", job)

    def upload(self, upload_id):
        """photodropctl uploads show ID --json: with data_path and the photo, if any."""
        return self.ctl_json("uploads", "show", str(upload_id))

    def uploads_at(self, path_in_job, job=FLAT_JOB):
        return [u for u in self.uploads(job) if u["path"] == path_in_job]

    @property
    def on_postgres(self):
        return postgres.is_postgres(self.catalog)

    def _query(self, sql, *params):
        """One read-only query straight on the catalog: fast enough to catch the ingest
        between its claim and its filing. sqlite3's `?` placeholders on both engines
        (through psql on PostgreSQL); a list of row tuples."""
        if self.on_postgres:
            return postgres.query(self.catalog, sql, params)
        db = sqlite3.connect("file:%s?mode=ro" % self.catalog, uri=True, timeout=5)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def upload_state(self, upload_id):
        rows = self._query("SELECT state FROM uploads WHERE id = ?", upload_id)
        return rows[0][0] if rows else None

    def uploads_in_state(self, state):
        return self._query("SELECT count(*) FROM uploads WHERE state = ?", state)[0][0]

    def stored(self, relative):
        """A file of the data directory, by the catalog's relative path (data_path, original_path)."""
        return self.data / relative

    def logs(self):
        """The tail of each program's log, for a failure message."""
        parts = []
        for name, child in (("photodrop-fs", self.fs), ("photodrop-ingest", self.ingest), ("sshd", self.sshd)):
            if child is not None:
                parts.append("--- %s (%s) ---\n%s" % (name, child.log_path, child.log_tail(40)))
        return "\n".join(parts)

    # --- tear-down ---------------------------------------------------------------------

    def close(self):
        """Stops everything by PID, removes the users, unmounts, removes the base directory."""
        if self.sshd is not None and self.sshd.running():
            for pid in descendants(self.sshd.pid):  # sessions left open by the test
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        for child in (self.sshd, self.ingest):
            if child is not None:
                child.stop()
        with contextlib.suppress(Exception):
            self.stop_fs()
        for user in self.users:
            with contextlib.suppress(Exception):
                self.ctl("user", "remove", user, check=False)
        self.users = []
        if self._loop_mounted:
            if run(["umount", str(self.tenant_data)], check=False) != 0:
                run(["umount", "-l", str(self.tenant_data)], check=False)
            self._loop_mounted = False
        if os.environ.get("PHOTODROP_FAULTS_KEEP"):
            if self.on_postgres:  # the server goes at the end of the run: keep a dump
                with contextlib.suppress(Exception):
                    run([str(postgres.bin_dir() / "pg_dump"), "-d", self.catalog,
                         "-f", str(self.base / "catalog.sql")])
            print("kept for a look: %s" % self.base)
        elif not is_mounted(self.mount):
            shutil.rmtree(self.base, ignore_errors=True)


def run(argv, check=True):
    """Runs a helper command to the end; its exit status. Fails on a non-zero one if `check`."""
    done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    if check and done.returncode != 0:
        raise AssertionError("%s: exit %d: %s" % (" ".join(argv), done.returncode, done.stderr.strip()))
    return done.returncode
