"""The catalog engine of the fault suite, as tests/support/catalog_location.hpp
chooses it for the C++ tests: a SQLite file in each deployment's directory, or,
when PHOTODROP_TEST_CATALOG=postgresql, a fresh database on one private
PostgreSQL server started for the pytest run (tests/support/postgres.cpp).

The server is a new cluster in a temporary directory, run as the `postgres`
system user, listening only on a Unix socket in that directory (no TCP port),
without durability (fsync off: its data outlives no crash). It is stopped by
its PID (SIGINT, a fast shutdown) and its directory removed at the end.
"""
import atexit
import contextlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

SOCKET_PORT = 5432  # names the socket file; nothing listens on TCP
_AS_POSTGRES = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"]


def engine():
    """"sqlite" or "postgresql", from PHOTODROP_TEST_CATALOG (default sqlite)."""
    value = os.environ.get("PHOTODROP_TEST_CATALOG") or "sqlite"
    if value not in ("sqlite", "postgresql"):
        raise ValueError("PHOTODROP_TEST_CATALOG must be sqlite or postgresql, not %r" % value)
    return value


def is_postgres(location):
    return str(location).startswith(("postgresql://", "postgres://"))


def bin_dir():
    """The directory of PostgreSQL's server programs, newest version installed."""
    found = []
    root = Path("/usr/lib/postgresql")
    if root.is_dir():
        for entry in root.iterdir():
            if entry.name.isdigit() and (entry / "bin" / "postgres").exists():
                found.append(entry)
    if not found:
        raise RuntimeError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres): "
                           "tools/dev/install-deps installs it")
    return max(found, key=lambda entry: int(entry.name)) / "bin"


def _psql():
    try:
        candidate = bin_dir() / "psql"
        if os.access(candidate, os.X_OK):
            return str(candidate)
    except RuntimeError:
        pass
    return "psql"


def _run(argv, log=None, timeout=60):
    """Runs `argv` to the end: (exit status, what it printed)."""
    done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    output = done.stdout + done.stderr
    if log is not None:
        with open(log, "a") as f:
            f.write(output)
    return done.returncode, output


class PostgresServer:
    """initdb, start, wait until it answers. Raises RuntimeError with the server's
    log when a step fails; stop() (also run at exit) ends it and removes its directory."""

    def __init__(self):
        self.process = None
        self.made = 0
        self.dir = Path(tempfile.mkdtemp(prefix="photodrop-faults-pg-"))
        atexit.register(self.stop)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    @property
    def socket_dir(self):
        return self.dir / "socket"

    @property
    def log_path(self):
        return self.dir / "postgres.log"

    def _start(self):
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            raise RuntimeError("PostgreSQL tests need the `postgres` system user: "
                               "install Debian's postgresql package") from None
        if shutil.which("setpriv") is None:
            raise RuntimeError("PostgreSQL tests need setpriv (util-linux) to run the server as `postgres`")
        binaries = bin_dir()
        data = self.dir / "data"
        self.socket_dir.mkdir()
        data.mkdir(mode=0o700)
        for path in (self.dir, self.socket_dir, data):
            os.chown(path, pw.pw_uid, pw.pw_gid)
        self.log_path.touch()
        os.chown(self.log_path, pw.pw_uid, pw.pw_gid)
        status, output = _run(_AS_POSTGRES + [str(binaries / "initdb"), "-D", str(data), "-A", "trust",
                                              "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
                              log=self.log_path, timeout=120)
        if status != 0:
            raise RuntimeError("initdb failed (exit %d): %s" % (status, output.strip()))
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(
                _AS_POSTGRES + [str(binaries / "postgres"), "-D", str(data), "-k", str(self.socket_dir),
                                "-p", str(SOCKET_PORT), "-c", "listen_addresses=", "-c", "fsync=off",
                                "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                                "-c", "max_connections=200"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        deadline = time.monotonic() + 30
        while _run([str(binaries / "pg_isready"), "-q", "-h", str(self.socket_dir),
                    "-p", str(SOCKET_PORT)])[0] != 0:
            if self.process.poll() is not None:
                raise RuntimeError("the PostgreSQL server exited (status %d):\n%s" % (
                    self.process.returncode, self.log()))
            if time.monotonic() > deadline:
                raise RuntimeError("the PostgreSQL server did not answer within 30 s:\n" + self.log())
            time.sleep(0.1)

    def url(self, database="postgres"):
        """A libpq connection URI for `database` on this server."""
        return "postgresql://postgres@/%s?host=%s&port=%d" % (database, self.socket_dir, SOCKET_PORT)

    def create_database(self):
        """A new, empty database (for `photodropctl init`); its URI."""
        self.made += 1
        name = "catalog%d" % self.made
        psql(self.url(), "CREATE DATABASE " + name)
        return self.url(name)

    def log(self):
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")
        return ""

    def stop(self):
        """Fast shutdown by PID (SIGINT), SIGKILL if it does not end within 30 s; removes the directory."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGINT)  # setpriv execs: this is the postmaster
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None


def psql(url, script, variables=None, timeout=30):
    """Runs `script` (SQL fed on standard input, so :'name' interpolates `variables`)
    through psql on `url`; what it printed (unaligned, tuples only). Fails on an error."""
    argv = [_psql(), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", url]
    for name, value in (variables or {}).items():
        argv += ["-v", "%s=%s" % (name, value)]
    done = subprocess.run(argv, input=script, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise AssertionError("psql on %s failed (exit %d) for %r: %s" % (url, done.returncode, script.strip(),
                                                                        done.stderr.strip()))
    return done.stdout


def query(url, sql, params=()):
    """A query written for sqlite3 (`?` placeholders, str or int parameters) run on
    PostgreSQL: a list of row tuples with the values' types (int, str, None).

    Each `?` becomes a psql variable, quoted as a literal for a str. The placeholders
    are found by a plain split: `sql` must have no `?` of its own (in a literal)."""
    pieces = sql.split("?")
    if len(pieces) - 1 != len(params):
        raise ValueError("%d placeholders for %d parameters in %r" % (len(pieces) - 1, len(params), sql))
    text, variables = pieces[0], {}
    for i, (value, rest) in enumerate(zip(params, pieces[1:])):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise TypeError("parameter %r: only str and int are supported" % (value,))
        name = "p%d" % i
        variables[name] = value
        text += (":%s" if isinstance(value, int) else ":'%s'") % name + rest
    # One JSON object per row: the values keep their types; the pairs keep the column order.
    output = psql(url, "SELECT row_to_json(q) FROM (%s) q;\n" % text.strip().rstrip(";"), variables)
    return [tuple(value for _, value in json.loads(line, object_pairs_hook=list))
            for line in output.splitlines() if line]
