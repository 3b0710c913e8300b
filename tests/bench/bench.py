#!/usr/bin/env python3
"""photodrop's benchmark suite; started by tests/bench/run (see BENCHMARKS.md).

Every figure is measured beside its baseline in the same run, the two
alternated (A, B, A, B, ...), and the medians compared as a ratio. Everything
runs on loopback under /var/lib/photodrop-bench (root-owned, as a chroot
demands). Every process started here is stopped by its PID, every mount is
unmounted and every account removed, however the run ends.

Each benchmark runs on the SQLite catalog, on a PostgreSQL catalog (a private
server started for the run, on a Unix socket only), or both (the default),
each engine with its own catalog, data directory, tenant, mount and SFTP user;
the figures are labelled by engine, and where both run they are alternated.
"""
import argparse
import datetime
import json
import os
import platform
import pwd
import re
import resource
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("PHOTODROP_BENCH_BUILD", REPO / "build-bench"))
FS_BIN = BUILD / "fusefs" / "photodrop-fs"
INGEST_BIN = BUILD / "ingest" / "photodrop-ingest"
CTL_BIN = BUILD / "tools" / "photodropctl"
API_BIN = BUILD / "api" / "photodrop-api"

# Root-owned parents: a chroot's rule. PHOTODROP_BENCH_BASE: another place, for a second run beside one there
# (a run wipes its own run/ and unmounts its own mnt/ at the start and the end).
BASE = Path(os.environ.get("PHOTODROP_BENCH_BASE", "/var/lib/photodrop-bench"))
STATE = BASE / "run"                     # catalog, data, keys, sshd, logs: made afresh per run
MOUNTS = BASE / "mnt"                    # one mount per tenant
PLAIN = BASE / "plain"                   # the plain chroot of the baseline SFTP user
SOURCES = BASE / "src"                   # upload sources, kept between runs
IMAGES = BASE / "images"                 # the 24-megapixel test photos, kept between runs
KEYS = STATE / "keys"
PG_DIR = STATE / "postgres"              # the private PostgreSQL server: data, socket, log

PD_USER = "pdbench"       # photodrop SFTP user (group photodrop, chroot: the mount); + "pg" on PostgreSQL
PLAIN_USER = "pdbplain"   # baseline SFTP user (group pdbplain, chroot: PLAIN)
CIPHER = "aes128-gcm@openssh.com"
MIB = 1 << 20


def log(msg):
    print(msg, flush=True)


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def percentile(xs, p):
    s = sorted(xs)
    if not s:
        return float("nan")
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(argv, input=None, check=True, quiet=True):
    r = subprocess.run([str(a) for a in argv], input=input, text=True, capture_output=quiet)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} failed ({r.returncode}): {r.stderr or ''}{r.stdout or ''}")
    return r




def wait_port(proc, port, what, timeout=15):
    """Waits until `proc` accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start")
            time.sleep(0.05)


def vm_field(pid, field):
    """A /proc/PID/status field in KiB (VmHWM: peak resident set)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    """User + system CPU time of a process so far, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ssim(a, b, scratch):
    """The mean SSIM (Wang et al. 2004; 7x7 windows, as scikit-image's default) of the luminance of two images of
    one size, read through libvips' command line."""
    import numpy  # python3-numpy

    def luma(path):
        v, raw = scratch / "luma.v", scratch / "luma.raw"
        run(["vips", "colourspace", path, v, "b-w"])
        run(["vips", "extract_band", v, scratch / "l1.v", "0"])
        run(["vips", "rawsave", scratch / "l1.v", raw])
        w, h = (int(run(["vipsheader", "-f", f, v]).stdout) for f in ("width", "height"))
        return numpy.fromfile(raw, dtype=numpy.uint8).reshape(h, w).astype(numpy.float64)

    def box(x, k=7):
        c = numpy.cumsum(numpy.cumsum(numpy.pad(x, ((1, 0), (1, 0))), 0), 1)
        return (c[k:, k:] - c[:-k, k:] - c[k:, :-k] + c[:-k, :-k]) / (k * k)

    x, y = luma(a), luma(b)
    if x.shape != y.shape:
        raise RuntimeError(f"ssim: {a} is {x.shape}, {b} is {y.shape}")
    c1, c2, cov = (0.01 * 255) ** 2, (0.03 * 255) ** 2, 49 / 48
    mx, my = box(x), box(y)
    vx, vy = cov * (box(x * x) - mx * mx), cov * (box(y * y) - my * my)
    vxy = cov * (box(x * y) - mx * my)
    return float((((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))).mean())


def paced_close(directory, fsync, files=20, rate=200 * MIB):
    """Writes `files` files of 8 MiB in 32 KiB writes at `rate` bytes/s, as an SFTP server does,
    and returns the median time their close took (fsync + close with fsync=True)."""
    chunk = os.urandom(32 * 1024)
    closes = []
    for i in range(files):
        fd = os.open(directory / f"paced{i}.jpg", os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
        start = time.monotonic()
        for k in range(8 * MIB // len(chunk)):
            os.write(fd, chunk)
            delay = start + (k + 1) * len(chunk) / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        closes.append(timed_close(fd, fsync))
    return median(closes)


def timed_close(fd, fsync):
    """How long fsync (with fsync=True) and close of `fd` took: where photodrop commits an upload."""
    t0 = time.monotonic()
    if fsync:
        os.fsync(fd)
    os.close(fd)
    return time.monotonic() - t0


def quick_close(directory, files=20, size=256 * 1024, fsync=False):
    """Writes `files` files of `size` bytes in one write each and returns the median time their close took
    (fsync + close with fsync=True): with little data left to flush, mostly the commit that close makes."""
    body = bytes.fromhex("ffd8ffe000104a46494600") + os.urandom(size - 11)
    closes = []
    for i in range(files):
        fd = os.open(directory / f"quick{i}.jpg", os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
        os.write(fd, body)
        closes.append(timed_close(fd, fsync))
    return median(closes)


def machine_ticks():
    """(busy, all) CPU ticks of the whole machine so far (/proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]  # idle + iowait
    return sum(v) - idle, sum(v)


def reset_peak_rss(pid):
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


class Stack:
    """Everything the run started, stopped in reverse order on the way out."""

    def __init__(self):
        self.undo = []

    def push(self, what, fn):
        self.undo.append((what, fn))

    def close(self):
        while self.undo:
            what, fn = self.undo.pop()
            try:
                fn()
            except Exception as e:  # keep cleaning up
                log(f"bench: cleanup of {what} failed: {e}")


def remove_scratch():
    """Everything the run made under STATE but its logs."""
    for p in STATE.iterdir():
        if p.suffix == ".log":
            continue
        shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()


def stop_pid(proc, timeout=15):
    if proc.poll() is not None:
        return proc.returncode
    os.kill(proc.pid, signal.SIGTERM)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        return proc.wait()


def start(stack, name, argv, settings=None):
    """Starts `argv` with its output in STATE/NAME.log and `settings` (PHOTODROP_KEY: value) in its environment."""
    logf = open(STATE / f"{name}.log", "ab")
    env = dict(os.environ, **(settings or {}))
    proc = subprocess.Popen([str(a) for a in argv], stdout=logf, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env=env)
    stack.push(f"{name} (pid {proc.pid})", lambda: (stop_pid(proc), logf.close()))
    return proc


class Mount:
    def __init__(self, stack, engine, slug):
        self.slug = slug
        self.path = MOUNTS / slug
        self.path.mkdir(mode=0o755, exist_ok=True)
        os.chmod(self.path, 0o755)
        self.proc = start(stack, f"fs-{slug}", [FS_BIN, "-f", "--catalog", engine.location, "--data", engine.data,
                                                "--tenant", slug, "--wake-socket", engine.wake, self.path])
        deadline = time.monotonic() + 15
        while not os.path.ismount(self.path):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"photodrop-fs did not mount {self.path}; see {STATE}/fs-{slug}.log")
            time.sleep(0.05)
        stack.push(f"mount {self.path}", self.unmount)

    def unmount(self):
        if os.path.ismount(self.path):
            run(["fusermount3", "-u", "-z", self.path], check=False)
        if self.proc.poll() is None:
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                stop_pid(self.proc)


def postgres_bin():
    """The newest installed PostgreSQL's programs (Debian: /usr/lib/postgresql/N/bin)."""
    found = sorted((p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "postgres").exists()),
                   key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    if not found:
        raise RuntimeError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres): "
                           "tools/dev/install-deps installs it")
    return found[-1]


AS_POSTGRES = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"]  # it refuses to run as root


class Postgres:
    """A private PostgreSQL server for the run: its own data directory and a Unix socket under STATE, no TCP,
    durable as a production server is (fsync, synchronous_commit and full_page_writes on: the defaults, said
    out loud). Stopped by its PID with SIGINT (a fast shutdown) however the run ends, and its directory removed."""

    PORT = 5432  # names the socket file; nothing listens on TCP

    def __init__(self, stack):
        self.bin = postgres_bin()
        data, self.socket = PG_DIR / "data", PG_DIR / "socket"
        pw = pwd.getpwnam("postgres")
        stack.push(f"{PG_DIR}", lambda: shutil.rmtree(PG_DIR, ignore_errors=True))
        for d in (PG_DIR, data, self.socket):
            d.mkdir(mode=0o700 if d == data else 0o755)
            os.chown(d, pw.pw_uid, pw.pw_gid)
        logf = open(PG_DIR / "postgres.log", "ab")
        run([*AS_POSTGRES, self.bin / "initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
             "--locale=C.UTF-8"])
        self.proc = subprocess.Popen(
            [str(a) for a in (*AS_POSTGRES, self.bin / "postgres", "-D", data, "-k", self.socket, "-p", self.PORT,
                              "-c", "listen_addresses=", "-c", "fsync=on", "-c", "synchronous_commit=on",
                              "-c", "full_page_writes=on", "-c", "max_connections=200")],
            stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        stack.push(f"postgres (pid {self.proc.pid})", lambda: (self.stop(), logf.close()))
        deadline = time.monotonic() + 30
        while run([self.bin / "pg_isready", "-q", "-h", self.socket, "-p", self.PORT], check=False).returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not start; see {PG_DIR}/postgres.log")
            time.sleep(0.1)
        run([self.bin / "createdb", "-h", self.socket, "-p", self.PORT, "-U", "postgres", "photodrop"])
        self.url = f"postgresql://postgres@/photodrop?host={self.socket}&port={self.PORT}"

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGINT)  # fast shutdown: ends the sessions, writes a checkpoint
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGQUIT)  # immediate shutdown
                self.proc.wait(30)

    def psql(self, sql):
        """Runs SQL (several statements: one transaction) with psql; its output."""
        return run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-d", self.url,
                    "-c", sql]).stdout

    @staticmethod
    def stop_leftover():
        """A server left by a killed run: stopped by the PID in its postmaster.pid."""
        pidfile = PG_DIR / "data" / "postmaster.pid"
        try:
            pid = int(pidfile.read_text().split()[0])
            if "postgres" in Path(f"/proc/{pid}/comm").read_text():
                os.kill(pid, signal.SIGINT)
                for _ in range(300):
                    if not Path(f"/proc/{pid}").exists():
                        break
                    time.sleep(0.1)
        except (OSError, ValueError, IndexError):
            pass


def sql_literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, (int, float)):
        return str(v)
    return "'" + str(v).replace("'", "''") + "'"


class Catalog:
    """Read-only queries on the catalog, as an operator's script would make them: Python's sqlite3 on a SQLite
    catalog; on PostgreSQL one psql session kept open (`?` placeholders filled in as literals)."""

    END = "--photodrop-bench-end--"

    def __init__(self, engine):
        self.engine = engine
        if engine.kind == "sqlite":
            self.db = sqlite3.connect(f"file:{engine.location}?mode=ro", uri=True, timeout=10, isolation_level=None)
            self.psql = None
        else:
            self.db = None
            self.psql = subprocess.Popen(["psql", "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=0",
                                          "-d", engine.location],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                         text=True, bufsize=1)
            self.q("SET default_transaction_read_only = on")

    def q(self, sql, *args):
        if self.db is not None:
            return self.db.execute(sql, args).fetchall()
        parts = sql.split("?")
        if len(parts) != len(args) + 1:
            raise ValueError(f"{len(args)} arguments for {sql}")
        text = parts[0] + "".join(sql_literal(a) + part for a, part in zip(args, parts[1:]))
        self.psql.stdin.write(f"{text};\n\\echo {self.END}\n")
        self.psql.stdin.flush()
        rows, error = [], []
        for line in self.psql.stdout:
            line = line.rstrip("\n")
            if line == self.END:
                break
            if error or line.startswith(("psql:", "ERROR:")):
                error.append(line)
            else:
                rows.append(tuple(int(v) if re.fullmatch(r"-?[0-9]+", v) else v for v in line.split("\t")))
        else:
            raise RuntimeError(f"psql ended: {rows} {error}")
        if error:
            raise RuntimeError(f"psql: {text}: {' '.join(error)}")
        return rows

    def close(self):
        if self.db is not None:
            self.db.close()
        else:
            self.psql.stdin.close()
            try:
                self.psql.wait(10)
            except subprocess.TimeoutExpired:
                stop_pid(self.psql)

    def job_id(self, tenant, name):
        return self.q("SELECT j.id FROM jobs j JOIN tenants t ON t.id = j.tenant_id WHERE t.slug = ? AND j.name = ?",
                      tenant, name)[0][0]

    def states(self, job):
        return dict(self.q("SELECT state, count(*) FROM uploads WHERE job_id = ? GROUP BY state", job))


class Engine:
    """One catalog engine's deployment: its catalog, data directory, tenant, mount, SFTP user and reader."""

    def __init__(self, kind, location):
        self.kind = kind
        self.label = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[kind]
        self.location = location
        suffix = "" if kind == "sqlite" else "pg"
        self.data = STATE / ("data" if kind == "sqlite" else "data-pg")
        self.wake = self.data / "ingest.sock"
        self.tenant = "bench" + suffix
        self.scale_tenant = "scale" + suffix
        self.user = PD_USER + suffix
        self.fs = None
        self.catalog = None

    def ctl(self, *args, input=None, check=True):
        return run([CTL_BIN, "--catalog", self.location, "--data", self.data, "--mounts", MOUNTS, "--keys-dir", KEYS,
                    *args], input=input, check=check)

    def tag(self, bench):
        """A figure's name with its engine: "1a [PostgreSQL] one 256 MiB file ..."."""
        num, rest = bench.split(" ", 1)
        return f"{num} [{self.label}] {rest}"


class Run:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.reps = args.reps or 3
        self.stack = Stack()
        self.results = {}  # bench name -> list of rows
        self.seq = 0
        self.engines = []  # SQLite first, then PostgreSQL, as chosen by --catalog
        self.postgres = None
        self.sshd_port = None
        self.password = None
        self.ftp_port = None
        self.loadavg_start = os.getloadavg()  # the machine is shared: how busy it was is part of a figure
        self.tokens = {}       # engine kind -> a bearer token of its tenant (photodrop-api)
        self.real_photos = {}  # engine kind -> (job, photo row): one photo filed by photodrop-ingest
        self.wrk_seconds = args.wrk_seconds

    def engine(self, kind):
        return next((e for e in self.engines if e.kind == kind), None)

    # ------------------------------------------------------------------ set-up
    def name(self, prefix):
        self.seq += 1
        return f"{prefix}{self.seq:04d}"

    def setup(self):
        for d in (BASE, MOUNTS, PLAIN, SOURCES, IMAGES):
            d.mkdir(mode=0o755, exist_ok=True)
            os.chown(d, 0, 0)
            os.chmod(d, 0o755)
        for slug in ("bench", "scale", "benchpg", "scalepg"):  # left by a killed run
            if os.path.ismount(MOUNTS / slug):
                run(["fusermount3", "-u", "-z", MOUNTS / slug], check=False)
        Postgres.stop_leftover()
        self.apply_sysctl()
        shutil.rmtree(STATE, ignore_errors=True)
        STATE.mkdir(mode=0o755)
        # Last on the way out: the run's catalog, data, keys and configuration go; its logs stay to be read.
        self.stack.push("the run's scratch data", remove_scratch)
        KEYS.mkdir(mode=0o755)
        kinds = ["sqlite", "postgresql"] if self.args.catalog == "both" else [self.args.catalog]
        for kind in kinds:
            if kind == "sqlite":
                e = Engine(kind, STATE / "catalog.db")
            else:
                self.postgres = Postgres(self.stack)
                e = Engine(kind, self.postgres.url)
            e.data.mkdir()
            e.ctl("init")
            e.ctl("tenant", "add", e.tenant, "--name", f"Benchmark studio ({e.label})")
            e.fs = Mount(self.stack, e, e.tenant)
            e.catalog = Catalog(e)
            self.stack.push(f"{e.label} catalog reader", e.catalog.close)
            self.engines.append(e)
            log(f"bench: {e.label} catalog {e.location}")

    def apply_sysctl(self):
        """The kernel settings the package installs (packaging/sysctl), as on a deployed machine; put back after."""
        for line in (REPO / "packaging" / "sysctl" / "60-photodrop.conf").read_text().splitlines():
            if "=" not in line or line.lstrip().startswith("#"):
                continue
            key, value = (part.strip() for part in line.split("=", 1))
            knob = Path("/proc/sys") / key.replace(".", "/")
            before = knob.read_text()
            if int(before) < int(value):  # only raised, as the package's postinst does
                knob.write_text(value)
                self.stack.push(f"{key} = {before.strip()}", lambda k=knob, b=before: k.write_text(b))
            log(f"bench: {key} = {knob.read_text().strip()}")

    def new_job(self, e, prefix, tenant=None):
        name = self.name(prefix)
        tenant = tenant or e.tenant
        e.ctl("job", "add", "--tenant", tenant, name, "--layout", "flat")
        return name, e.catalog.job_id(tenant, name)

    def retire_job(self, e, name, job_id):
        """Drops a finished job's bytes (a client's delete keeps them) and takes it out of the mount."""
        for (path,) in e.catalog.q("SELECT data_path FROM uploads WHERE job_id = ? AND data_path <> ''", job_id):
            (e.data / path).unlink(missing_ok=True)
        for (path,) in e.catalog.q("SELECT original_path FROM photos WHERE job_id = ?", job_id):
            (e.data / path).unlink(missing_ok=True) if not os.path.isabs(path) else Path(path).unlink(missing_ok=True)
        e.ctl("job", "set-status", "--tenant", e.tenant, name, "archived")

    def setup_sftp(self):
        if self.sshd_port:  # done for an earlier benchmark of this run
            return
        key = STATE / "client_key"
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bench", "-f", key])
        self.key = key
        password = self.password = os.urandom(12).hex()
        for user in (PD_USER, PD_USER + "pg", PLAIN_USER):  # left by a killed run
            if run(["id", user], check=False).returncode == 0:
                for e in self.engines:
                    if user == e.user:
                        e.ctl("user", "remove", user, check=False)
                if run(["id", user], check=False).returncode == 0:
                    run(["userdel", user], check=False)
        for e in self.engines:
            e.ctl("user", "add", "--tenant", e.tenant, e.user, "--password-stdin", "--key", f"{key}.pub",
                  input=password + "\n")
            self.stack.push(f"user {e.user}", lambda e=e: e.ctl("user", "remove", e.user))
        # The baseline: a plain root-owned chroot with one writable folder, same disk, same sshd.
        if run(["getent", "group", PLAIN_USER], check=False).returncode != 0:
            run(["groupadd", "--system", PLAIN_USER])
        run(["useradd", "--system", "--no-create-home", "--home-dir", PLAIN, "--shell", "/usr/sbin/nologin",
             "--gid", PLAIN_USER, "--no-user-group", PLAIN_USER])
        self.stack.push(f"user {PLAIN_USER}", lambda: run(["userdel", PLAIN_USER]))
        run(["chpasswd"], input=f"{PLAIN_USER}:{password}\n")
        shutil.rmtree(PLAIN / "up", ignore_errors=True)
        (PLAIN / "up").mkdir()
        shutil.chown(PLAIN / "up", PLAIN_USER, PLAIN_USER)
        shutil.copyfile(f"{key}.pub", KEYS / PLAIN_USER)
        os.chmod(KEYS / PLAIN_USER, 0o644)

        host_key = STATE / "ssh_host_ed25519_key"
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", host_key])
        Path("/run/sshd").mkdir(exist_ok=True)
        self.sshd_port = free_port()
        block = self.engines[0].ctl("sshd-config").stdout
        config = STATE / "sshd_config"
        config.write_text(
            f"ListenAddress 127.0.0.1\nPort {self.sshd_port}\nHostKey {host_key}\nPidFile none\nUsePAM yes\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
            "MaxStartups 100\nMaxSessions 100\nSubsystem sftp internal-sftp\n"
            f"{block}\n"
            f"Match Group {PLAIN_USER}\n\tChrootDirectory %h\n\tForceCommand internal-sftp\n"
            f"\tAuthorizedKeysFile {KEYS}/%u\n\tAllowTcpForwarding no\n\tX11Forwarding no\n\tPermitTTY no\n")
        run(["/usr/sbin/sshd", "-t", "-f", config])
        sshd = start(self.stack, "sshd", ["/usr/sbin/sshd", "-D", "-e", "-f", config])
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.sshd_port), 0.5).close()
                break
            except OSError:
                if sshd.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"sshd did not start; see {STATE}/sshd.log")
                time.sleep(0.05)

    def sftp(self, user, batch):
        return subprocess.Popen(
            ["sftp", "-b", "-", "-P", str(self.sshd_port), "-i", str(self.key), "-c", CIPHER,
             "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
             "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", f"{user}@127.0.0.1"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True), batch

    def setup_ftpd(self):
        """A private ProFTPD on `photodropctl ftpd-config` (loopback, a self-signed certificate); the photodrop
        users log in with their password, the baseline user into its plain chroot, through the same server."""
        self.setup_sftp()
        cert, key = STATE / "ftp-tls.crt", STATE / "ftp-tls.key"
        run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
             "-keyout", key, "-out", cert])
        self.ftp_port = free_port()
        first = 40000 + int.from_bytes(os.urandom(2), "little") % 600 * 32
        os.environ.update(PHOTODROP_FTP_PORT=str(self.ftp_port), PHOTODROP_FTP_PASSIVE_PORTS=f"{first}-{first + 31}",
                          PHOTODROP_FTP_TLS_CERTIFICATE=str(cert), PHOTODROP_FTP_TLS_KEY=str(key))
        run_dir = STATE / "ftpd"
        run_dir.mkdir()
        config = STATE / "proftpd.conf"
        config.write_text(self.engines[0].ctl("ftpd-config", "--address", "127.0.0.1", "--run-dir", run_dir,
                                              "--log", STATE / "ftpd-server.log").stdout)
        run(["usermod", "--append", "--groups", "photodrop-ftp", PLAIN_USER])
        run(["/usr/sbin/proftpd", "--configtest", "-c", config])
        ftpd = start(self.stack, "ftpd", ["/usr/sbin/proftpd", "--nodaemon", "-c", config])
        wait_port(ftpd, self.ftp_port, "proftpd")

    def ftps_once(self, e, files_per_session, sync=False):
        """One lftp per session at once, each putting its files over FTPS (TLS on control and data);
        seconds from the first start to the last exit. e: the engine's mount, or None for the plain chroot.
        sync: the plain directory's files are then synced, within the time (photodrop fsyncs each
        upload before the client hears 226; proftpd into a plain directory never does)."""
        if e is not None:
            user, (job, job_id) = e.user, self.new_job(e, "ftp")
            dest = f"/{job}"
        else:
            user, dest, job, job_id = PLAIN_USER, "/up", None, None
        procs = []
        os.sync()
        t0 = time.monotonic()
        for files in files_per_session:
            script = ("set ftp:ssl-force true; set ftp:ssl-protect-data true; set ssl:verify-certificate no; "
                      "set net:max-retries 1; set cmd:fail-exit true; "
                      f"open -u {user},{self.password} -p {self.ftp_port} 127.0.0.1; "
                      f"mput -O {dest} " + " ".join(str(f) for f in files))
            procs.append(subprocess.Popen(["lftp", "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                          text=True))
        errors = [p.stderr.read() for p in procs if p.wait() != 0]
        if sync:
            os.sync()
        elapsed = time.monotonic() - t0
        if errors:
            raise RuntimeError(f"lftp into {e.label if e else 'the plain chroot'} failed: {errors[0]}")
        self.end_round(e, job, job_id, sum(len(f) for f in files_per_session), "FTPS upload")
        return elapsed

    def bench_ftps(self):
        small_count = 60 if self.quick else 300
        _, small = self.sources(8 * MIB, small_count, 8 * MIB)
        self.setup_ftpd()
        rows = []
        for sessions in (1, 4):
            per = [small[i::sessions] for i in range(sessions)]
            total = sum(f.stat().st_size for fs in per for f in fs)
            label = f"13a FTPS, {small_count} files of 8 MiB, {sessions} session(s), through the same ProFTPD"
            pd = {e.kind: [] for e in self.engines}
            plain, plain_synced = [], []
            for _ in range(self.reps):  # alternated: each engine's mount, then the plain directory, then synced
                for e in self.engines:
                    pd[e.kind].append(self.ftps_once(e, per))
                plain.append(self.ftps_once(None, per))
                plain_synced.append(self.ftps_once(None, per, sync=True))
            b = total / MIB / median(plain)
            c = total / MIB / median(plain_synced)
            for e in self.engines:
                a = total / MIB / median(pd[e.kind])
                row = dict(bench=e.tag(label), engine=e.kind, unit="MiB/s", photodrop=a, baseline=b, ratio=a / b,
                           target=">= 0.95", met=a / b >= 0.95, samples_photodrop=pd[e.kind], samples_baseline=plain)
                rows.append(row)
                self.show(row)
                row = dict(bench=e.tag(label + ", baseline synced at the end (on disk, as photodrop's)"),
                           engine=e.kind, unit="MiB/s", photodrop=a, baseline=c, ratio=a / c, target="(info)",
                           met=None, samples_photodrop=pd[e.kind], samples_baseline=plain_synced)
                rows.append(row)
                self.show(row)
        self.results["ftps"] = rows

    # ---------------------------------------------- 15-3: photo-sized uploads
    def bench_photos(self):
        """Issue 15: photo-sized uploads, OpenSSH sftp and (with ProFTPD) FTPS, 300 files of 8 MiB and 100 of
        25 MiB (RAW-sized), with 1, 4 and 16 sessions, into photodrop against the plain-directory chroot on the
        same server and disk; alternated, 5 rounds unless --reps says. For information, beside each: the plain chroot with
        the durability photodrop gives (sftp `put -f`, an fsync of each file before its close; FTPS: the plain
        directory synced at the end, within the time)."""
        reps = self.args.reps or 5
        sets = ((60, 8), (20, 25)) if self.quick else ((300, 8), (100, 25))
        self.setup_sftp()
        self.setup_ftpd()
        protocols = {"SFTP": (self.upload_once, dict(fsync=True), "put -f"),
                     "FTPS": (self.ftps_once, dict(sync=True), "synced at the end")}
        rows = []
        for count, mib in sets:
            _, files = self.sources(8 * MIB, count, mib * MIB)
            total = count * mib * MIB
            for proto, (once, durable, durable_name) in protocols.items():
                for sessions in (1, 4, 16):
                    per = [files[i::sessions] for i in range(sessions)]
                    label = f"15-3 {proto}, {count} files of {mib} MiB, {sessions} session(s)"
                    pd = {e.kind: [] for e in self.engines}
                    plain, plain_durable = [], []
                    for _ in range(reps):
                        for e in self.engines:
                            pd[e.kind].append(once(e, per))
                        plain.append(once(None, per))
                        plain_durable.append(once(None, per, **durable))
                    b, c = total / MIB / median(plain), total / MIB / median(plain_durable)
                    for e in self.engines:
                        a = total / MIB / median(pd[e.kind])
                        for row in (
                            dict(bench=e.tag(label), engine=e.kind, unit="MiB/s", photodrop=a, baseline=b,
                                 ratio=a / b, target=">= 0.97", met=a / b >= 0.97, samples_photodrop=pd[e.kind],
                                 samples_baseline=plain),
                            dict(bench=e.tag(f"{label}, baseline {durable_name}"), engine=e.kind, unit="MiB/s",
                                 photodrop=a, baseline=c, ratio=a / c, target="(info)", met=None,
                                 samples_photodrop=pd[e.kind], samples_baseline=plain_durable)):
                            rows.append(row)
                            self.show(row)
        self.results["photos"] = rows

    # ---------------------------------------------------------- 1: SFTP upload
    def sources(self, big_bytes, small_count, small_bytes):
        """Incompressible upload sources that start like a JPEG (the mount checks the first bytes)."""
        SOURCES.mkdir(exist_ok=True)
        head = bytes.fromhex("ffd8ffe000104a46494600")

        def make(path, size):
            if path.exists() and path.stat().st_size == size:
                return
            with open(path, "wb") as f:
                f.write(head)
                left = size - len(head)
                while left:
                    n = min(left, 8 * MIB)
                    f.write(os.urandom(n))
                    left -= n
        big = SOURCES / f"big-{big_bytes // MIB}m.jpg"
        make(big, big_bytes)
        prefix = "small" if small_bytes == 8 * MIB else f"small{small_bytes // MIB}m-"
        small = [SOURCES / f"{prefix}{i:03d}.jpg" for i in range(small_count)]
        for p in small:
            make(p, small_bytes)
        return big, small

    def upload_once(self, e, files_per_session, fsync=False):
        """Runs one sftp per session at once; seconds from the first start to the last exit.
        e: the engine whose photodrop mount receives, or None for the plain chroot.
        fsync: `put -f`, the client asks the server to fsync each file before closing it."""
        if e is not None:
            user = e.user
            job, job_id = self.new_job(e, "up")
            dest = f"/{job}"
        else:
            user = PLAIN_USER
            dest = "/up"
            job = job_id = None
        procs = []
        os.sync()
        t0 = time.monotonic()
        for s, files in enumerate(files_per_session):
            put = "put -f" if fsync else "put"
            batch = "".join(f"{put} {f} {dest}/s{s}-{f.name}\n" for f in files)
            p, batch = self.sftp(user, batch)
            p.stdin.write(batch)
            p.stdin.close()
            procs.append(p)
        errors = []
        for p in procs:
            p.wait()
            if p.returncode != 0:
                errors.append(p.stderr.read())
        elapsed = time.monotonic() - t0
        if errors:
            raise RuntimeError(f"sftp into {e.label if e else 'the plain chroot'} failed: {errors[0]}")
        self.end_round(e, job, job_id, sum(len(f) for f in files_per_session), "upload")
        return elapsed

    def end_round(self, e, job, job_id, want, what):
        """After an upload round: each upload queued in photodrop's catalog, and its job retired;
        the plain directory emptied."""
        if e is not None:
            states = e.catalog.states(job_id)
            if states.get("queued", 0) != want:
                raise RuntimeError(f"photodrop {what} ({e.label}): expected {want} queued, catalog says {states}")
            self.retire_job(e, job, job_id)
        else:
            for p in (PLAIN / "up").iterdir():
                p.unlink()

    def bench_upload(self):
        quick = self.quick
        big_bytes = (256 if quick else 1024) * MIB
        small_count = 60 if quick else 300
        big, small = self.sources(big_bytes, small_count, 8 * MIB)
        self.setup_sftp()
        rows = []
        for kind in ("a", "b"):
            for sessions in (1, 4):
                if kind == "a":
                    per = [[big] for _ in range(sessions)]  # each session uploads its own copy
                    label = f"1{kind} one {big_bytes // MIB} MiB file per session, {sessions} session(s)"
                else:
                    per = [small[i::sessions] for i in range(sessions)]  # the files shared out
                    label = f"1{kind} {small_count} files of 8 MiB, {sessions} session(s)"
                total = sum(f.stat().st_size for fs in per for f in fs)
                files = sum(len(fs) for fs in per)
                if sessions == 4:
                    for e in self.engines:
                        reset_peak_rss(e.fs.proc.pid)
                pd = {e.kind: [] for e in self.engines}
                fs_cpu = {e.kind: 0.0 for e in self.engines}
                plain, plain_fsync = [], []
                for _ in range(self.reps):  # alternated: each engine's mount, the plain chroot, with put -f
                    for e in self.engines:
                        before = cpu_seconds(e.fs.proc.pid)
                        pd[e.kind].append(self.upload_once(e, per))
                        fs_cpu[e.kind] += cpu_seconds(e.fs.proc.pid) - before
                    plain.append(self.upload_once(None, per))
                    plain_fsync.append(self.upload_once(None, per, fsync=True))
                b = total / MIB / median(plain)
                c = total / MIB / median(plain_fsync)
                for e in self.engines:
                    a = total / MIB / median(pd[e.kind])
                    hwm = vm_field(e.fs.proc.pid, "VmHWM") if sessions == 4 else None
                    row = dict(bench=e.tag(label), engine=e.kind, unit="MiB/s", photodrop=a, baseline=b, ratio=a / b,
                               target=">= 0.95", met=a / b >= 0.95, samples_photodrop=pd[e.kind],
                               samples_baseline=plain, photos_per_s=files / median(pd[e.kind]))
                    rows.append(row)
                    self.show(row)
                    # photodrop fsyncs every upload before close returns; so does `put -f` into the plain chroot.
                    row = dict(bench=e.tag(label + ", baseline with put -f (same durability)"), engine=e.kind,
                               unit="MiB/s", photodrop=a, baseline=c, ratio=a / c, target="(info)", met=None,
                               samples_photodrop=pd[e.kind], samples_baseline=plain_fsync)
                    rows.append(row)
                    self.show(row)
                    row = dict(bench=e.tag(label + ", photodrop-fs CPU per GiB uploaded"), engine=e.kind, unit="s",
                               photodrop=fs_cpu[e.kind] / (total * self.reps / (1024 * MIB)), baseline=None,
                               ratio=None, target="(info)", met=None)
                    rows.append(row)
                    self.show(row)
                    if hwm is not None:
                        r = dict(bench=e.tag(f"1{kind} photodrop-fs peak RSS, {sessions} sessions"), engine=e.kind,
                                 unit="MiB", photodrop=hwm / 1024, baseline=None, ratio=None, target="<= 64 MiB",
                                 met=hwm / 1024 <= 64)
                        rows.append(r)
                        self.show(r)
                rows += self.engine_ratio(label, pd, "s", target=None, invert=True)
        self.results["upload"] = rows

    def engine_ratio(self, label, samples, unit, target, invert=False, scale=1.0):
        """A row comparing PostgreSQL with SQLite on the same figure, measured alternated in the same run.
        samples: engine kind -> samples (lower is better unless invert: durations of a rate's work)."""
        if len(self.engines) < 2:
            return []
        pg, lite = median(samples["postgresql"]) * scale, median(samples["sqlite"]) * scale
        ratio = pg / lite
        num, rest = label.split(" ", 1)
        row = dict(bench=f"{num} [PostgreSQL vs SQLite] {rest}" + (" (time, lower is better)" if invert else ""),
                   engine="both", unit=unit, photodrop=pg, baseline=lite, ratio=ratio,
                   target=f"<= {target}" if target else "(info)", met=ratio <= target if target else None,
                   samples_photodrop=samples["postgresql"], samples_baseline=samples["sqlite"])
        self.show(row)
        return [row]

    # -------------------------------------------------------- 2: raw writes
    def bench_raw(self):
        size = (256 if self.quick else 1024) * MIB
        rows = []
        plain_dir = self.engines[0].data / "ddtest"
        plain_dir.mkdir(exist_ok=True)
        for bs in (MIB, 32 * 1024):
            pd = {e.kind: [] for e in self.engines}
            plain = []
            for _ in range(self.reps):
                jobs = {e.kind: self.new_job(e, "raw") for e in self.engines}
                for target in [*self.engines, None]:
                    out = (target.fs.path / jobs[target.kind][0] / "raw.jpg") if target else (plain_dir / "raw.jpg")
                    os.sync()
                    t0 = time.monotonic()
                    run(["dd", "if=/dev/zero", f"of={out}", f"bs={bs}", f"count={size // bs}", "conv=fsync",
                         "status=none"])
                    (pd[target.kind] if target else plain).append(time.monotonic() - t0)
                    if target is None:
                        out.unlink()
                for e in self.engines:
                    self.retire_job(e, *jobs[e.kind])
            b = size / MIB / median(plain)
            for e in self.engines:
                a = size / MIB / median(pd[e.kind])
                row = dict(bench=e.tag(f"2 dd {size // MIB} MiB, bs={bs // 1024} KiB, conv=fsync"), engine=e.kind,
                           unit="MiB/s", photodrop=a, baseline=b, ratio=a / b, target=">= 0.9", met=a / b >= 0.9,
                           samples_photodrop=pd[e.kind], samples_baseline=plain)
                rows.append(row)
                self.show(row)
        # How long close waits after an upload written at an SFTP server's pace (the catalog's commit included):
        # each engine's mount and fsync + close in a plain directory, alternated.
        pd = {e.kind: [] for e in self.engines}
        small = {e.kind: [] for e in self.engines}
        plain, plain_small = [], []
        for _ in range(self.reps):
            for target in [*self.engines, None]:
                if target is None:
                    plain.append(paced_close(plain_dir, fsync=True))
                    plain_small.append(quick_close(plain_dir, fsync=True))
                    for f in plain_dir.iterdir():
                        f.unlink()
                    continue
                job, job_id = self.new_job(target, "close")
                pd[target.kind].append(paced_close(target.fs.path / job, fsync=False))
                small[target.kind].append(quick_close(target.fs.path / job, fsync=False))
                self.retire_job(target, job, job_id)
        label = "2 close of an 8 MiB file written at 200 MiB/s in 32 KiB writes, median"
        label_small = "2 close of a 256 KiB file written at once, median"
        for e in self.engines:
            for lab, samples, base in ((label, pd, plain), (label_small, small, plain_small)):
                a, b = median(samples[e.kind]), median(base)
                row = dict(bench=e.tag(lab + " (baseline: fsync + close)"), engine=e.kind, unit="ms",
                           photodrop=a * 1000, baseline=b * 1000, ratio=a / b, target="(info)", met=None,
                           samples_photodrop=samples[e.kind], samples_baseline=base)
                rows.append(row)
                self.show(row)
        rows += self.engine_ratio(label, pd, "ms", target=2, scale=1000)
        rows += self.engine_ratio(label_small, small, "ms", target=2, scale=1000)
        self.results["raw"] = rows

    # ---------------------------------------------------------- 3: ingest
    def start_ingest(self, e, settings=None, workers=None, wake=None, name="ingest", cpu=None):
        argv = [INGEST_BIN, "--catalog", e.location, "--data", e.data, "--listen", f"127.0.0.1:{free_port()}",
                "--socket", wake or e.wake]
        if workers:
            argv += ["--workers", workers]
        if cpu is not None:  # taskset execs the service: the PID is the service's
            argv = ["taskset", "--cpu-list", cpu, *argv]
        return start(self.stack, f"{name}-{e.kind}", argv, settings)

    def stop_ingest(self, proc):
        stop_pid(proc)
        # Its entry in the stack is now a no-op (stop_pid checks poll()).

    def wait_ingested(self, e, job_id, procs, deadline, what):
        while True:
            states = e.catalog.states(job_id)
            if not any(states.get(s, 0) for s in ("receiving", "queued", "processing")):
                return states
            if any(p.poll() is not None for p in procs) or time.monotonic() > deadline:
                raise RuntimeError(f"{what} ({e.label}): ingest did not finish: {states}; see {STATE}/ingest-*.log")
            time.sleep(0.05)

    def ingest_once(self, e, photos, processes=1, workers=None, cpus=None, settings=None, previews=None):
        """Seconds from the start of `processes` photodrop-ingest services (on one catalog and one data directory)
        to the last of `photos`, queued while they were down, ingested; their peak RSS and CPU seconds. With
        `previews` (a directory), each photo's preview is copied there under its file name."""
        job, job_id = self.new_job(e, "ing")
        for p in photos:  # queued while the service is down
            shutil.copyfile(p, e.fs.path / job / p.name)
        states = e.catalog.states(job_id)
        if states.get("queued", 0) != len(photos):
            raise RuntimeError(f"ingest ({e.label}): expected {len(photos)} queued, catalog says {states}")
        os.sync()
        t0 = time.monotonic()
        # Each process its own wake-up socket (DATA/ingest.sock is the one-host default); on PostgreSQL they
        # also LISTEN for what the mounts queue.
        procs = [self.start_ingest(e, settings, workers=workers, name=f"ingest{i + 1}" if processes > 1 else "ingest",
                                   wake=e.data / f"ingest{i + 1}.sock" if processes > 1 else None,
                                   cpu=cpus[i] if cpus else None)
                 for i in range(processes)]
        states = self.wait_ingested(e, job_id, procs, t0 + 60 + 10 * len(photos), "ingest")
        elapsed = time.monotonic() - t0
        hwm = max(vm_field(p.pid, "VmHWM") for p in procs)
        cpu = sum(cpu_seconds(p.pid) for p in procs)
        for p in procs:
            self.stop_ingest(p)
        if states.get("ingested", 0) != len(photos):
            raise RuntimeError(f"ingest ({e.label}): not every photo was ingested: {states}")
        self.codes_seen = dict(e.catalog.q("SELECT filename, card_code FROM photos WHERE job_id = ?", job_id))
        if previews:
            for name, path in e.catalog.q("SELECT filename, preview_path FROM photos WHERE job_id = ?", job_id):
                shutil.copyfile(e.data / path, Path(previews) / name)
        self.retire_job(e, job, job_id)
        return elapsed, hwm, cpu

    def vipsthumbnail_once(self, photos, out):
        t0 = time.monotonic()
        for p in photos:
            for size in (400, 1600):
                run(["vipsthumbnail", p, "-s", f"{size}x{size}", "-o", f"{out}/%s-{size}.jpg[Q=85,strip]"])
        return time.monotonic() - t0

    def convert_once(self, photos, out):
        t0 = time.monotonic()
        for p in photos:
            run(["/usr/bin/convert", p, "-auto-orient", "-strip", "(", "+clone", "-resize", "1600x1600",
                 "-quality", "85", "-write", f"{out}/{p.stem}-1600.jpg", "+delete", ")",
                 "-resize", "400x400", "-quality", "85", f"{out}/{p.stem}-400.jpg"])
        return time.monotonic() - t0

    def ingest_photos(self):
        n = self.args.photos or (40 if self.quick else 200)
        run([sys.executable, REPO / "tests/bench/make_images.py", IMAGES, max(n, 50)], quiet=False)
        return n, sorted(IMAGES.glob("photo*.jpg"))[:n]

    def bench_ingest(self):
        n, photos = self.ingest_photos()
        n_vt = n
        n_im = 6 if self.quick else 20
        sizes = [p.stat().st_size / 1e6 for p in photos]
        out = Path(tempfile.mkdtemp(dir=STATE, prefix="thumbs-"))
        pd = {e.kind: [] for e in self.engines}
        hwms = {e.kind: [] for e in self.engines}
        vt, im = [], []
        for _ in range(self.reps):
            for e in self.engines:
                t, h, _cpu = self.ingest_once(e, photos)
                pd[e.kind].append(n / t)
                hwms[e.kind].append(h)
            vt.append(n_vt / self.vipsthumbnail_once(photos[:n_vt], out))
            im.append(n_im / self.convert_once(photos[:n_im], out))
            for f in out.iterdir():
                f.unlink()
        rows = []
        for e in self.engines:
            a = median(pd[e.kind])
            rows += [
                dict(bench=e.tag(f"3 ingest {n} photos 6000x4000 ({min(sizes):.1f}-{max(sizes):.1f} MB) vs "
                                 f"vipsthumbnail 400+1600, sequential, {n_vt} photos"), engine=e.kind,
                     unit="photos/s", photodrop=a, baseline=median(vt), ratio=a / median(vt), target=">= 2",
                     met=a / median(vt) >= 2, samples_photodrop=pd[e.kind], samples_baseline=vt),
                dict(bench=e.tag(f"3 ingest {n} photos vs ImageMagick convert 400+1600 (one decode), {n_im} photos, "
                                 "scaled"), engine=e.kind,
                     unit="photos/s", photodrop=a, baseline=median(im), ratio=a / median(im), target=">= 8",
                     met=a / median(im) >= 8, samples_baseline=im),
                dict(bench=e.tag("3 photodrop-ingest peak RSS"), engine=e.kind, unit="MiB",
                     photodrop=max(hwms[e.kind]) / 1024, baseline=None, ratio=None, target="<= 600 MiB",
                     met=max(hwms[e.kind]) / 1024 <= 600),
            ]
            up = [r for r in self.results.get("upload", []) if r["bench"].startswith("1b")
                  and r.get("engine") == e.kind and "photos_per_s" in r]
            if up:
                fastest = max(up, key=lambda r: r["photos_per_s"])
                rows.append(dict(bench=e.tag(f"3 ingest vs upload rate of {fastest['bench']}"), engine=e.kind,
                                 unit="photos/s", photodrop=a, baseline=fastest["photos_per_s"],
                                 ratio=a / fastest["photos_per_s"], target=">= 1", met=a >= fastest["photos_per_s"]))
        for r in rows:
            self.show(r)
        rows += self.engine_ratio(f"3 ingest {n} photos, 2 workers", {k: [1 / v for v in s] for k, s in pd.items()},
                                  "s/photo", target=None, invert=True)
        self.results["ingest"] = rows

    # ------------------------------------------- 3c: two ingest processes
    def bench_ingest2(self):
        """Issue 11: two photodrop-ingest processes (--workers 1 each) on one PostgreSQL catalog and one data
        directory, as two ingest hosts would be, against one process with --workers 1; alternated."""
        e = self.engine("postgresql")
        if e is None:
            log("bench: ingest2 runs on PostgreSQL only (--catalog postgresql or both); skipped")
            return
        n, photos = self.ingest_photos()
        # Unpinned: both processes share the machine's cores. Pinned (taskset): each process to a core of its
        # own, against one process on one core: two single-core ingest hosts against one.
        modes = {"shared": ((1, None), (2, None)), "pinned": ((1, ["0"]), (2, ["0", "1"]))}
        if os.cpu_count() < 2:
            del modes["pinned"]
        m = {(mode, k): [] for mode in modes for k in ("rate1", "rate2", "cpu1", "cpu2", "busy1", "busy2")}
        for _ in range(self.reps):
            for mode, configs in modes.items():
                for processes, cpus in configs:
                    b0, a0 = machine_ticks()
                    t, _h, c = self.ingest_once(e, photos, processes=processes, workers=1, cpus=cpus)
                    b1, a1 = machine_ticks()
                    m[mode, f"rate{processes}"].append(n / t)
                    m[mode, f"cpu{processes}"].append(c / t)
                    m[mode, f"busy{processes}"].append((b1 - b0) / (a1 - a0) * os.cpu_count())
        rows = []
        for mode in modes:
            two, one = m[mode, "rate2"], m[mode, "rate1"]
            cpu_two, cpu_one = m[mode, "cpu2"], m[mode, "cpu1"]
            busy_two, busy_one = m[mode, "busy2"], m[mode, "busy1"]
            a, b = median(two), median(one)
            how = ("" if mode == "shared" else
                   ", each pinned to a core of its own (taskset) vs one process pinned to one core")
            eff2 = median(x / c for x, c in zip(two, cpu_two))
            eff1 = median(x / c for x, c in zip(one, cpu_one))
            rows += [
                dict(bench=f"3c [PostgreSQL] ingest {n} photos, two photodrop-ingest processes --workers 1 (one "
                           f"catalog, one data directory) vs one process --workers 1{how}", engine=e.kind,
                     unit="photos/s", photodrop=a, baseline=b, ratio=a / b, target=">= 1.8", met=a / b >= 1.8,
                     samples_photodrop=two, samples_baseline=one),
                dict(bench=f"3c [PostgreSQL] {mode}: CPU used by the ingest services, cores (two processes vs one)",
                     engine=e.kind, unit="cores", photodrop=median(cpu_two), baseline=median(cpu_one),
                     ratio=median(cpu_two) / median(cpu_one), target="(info)", met=None, samples_photodrop=cpu_two,
                     samples_baseline=cpu_one),
                dict(bench=f"3c [PostgreSQL] {mode}: photos per CPU-second of the ingest services (two processes vs "
                           "one): the cost of sharing the queue", engine=e.kind, unit="photos/CPU-s", photodrop=eff2,
                     baseline=eff1, ratio=eff2 / eff1, target="(info)", met=None),
                dict(bench=f"3c [PostgreSQL] {mode}: CPU busy on the whole machine ({os.cpu_count()} cores), cores "
                           "(two processes vs one)", engine=e.kind, unit="cores", photodrop=median(busy_two),
                     baseline=median(busy_one), ratio=median(busy_two) / median(busy_one), target="(info)", met=None,
                     samples_photodrop=busy_two, samples_baseline=busy_one),
            ]
        for r in rows:
            self.show(r)
        self.results["ingest2"] = rows

    # ------------------------------------------------ 3d: subjects' cards
    def card_photos(self):
        """Issue 14's recall set, kept between runs: 30 photos 6000x4000 of the ingest benchmark's kind, each with
        a QR card (qrencode) held in it: 5 sizes (the code's symbol, without its quiet zone, a quarter of the
        frame's height, 600, 300, 180 and 120 px), 3 angles (0, 15, 30 degrees), 2 blurs (gaussian sigma 0.8
        and 1.5). Returns (path, code)."""
        _, plain = self.ingest_photos()
        cards = IMAGES / "cards2"  # "cards": made with the quiet zone counted in the size
        cards.mkdir(exist_ok=True)
        out = []
        i = 0
        for size in (1000, 600, 300, 180, 120):
            for angle in (0, 15, 30):
                for blur in (0.8, 1.5):
                    i += 1
                    code = f"BENCH-{i:04d}"
                    path = cards / f"card{i:04d}.jpg"
                    out.append((path, code))
                    if path.exists():
                        continue
                    t = lambda n: cards / f"tmp-{n}"
                    run(["qrencode", "-s", "1", "-m", "4", "-o", t("q.png"), code])
                    run(["vips", "colourspace", t("q.png"), t("q.v"), "b-w"])
                    run(["vips", "extract_band", t("q.v"), t("qb.v"), "0"])
                    width = int(run(["vipsheader", "-f", "width", t("qb.v")]).stdout)  # the symbol and 8 modules
                    modules = width - 8
                    run(["vips", "resize", t("qb.v"), t("qr.v"), size / modules, "--kernel", "nearest"])
                    side = int(run(["vipsheader", "-f", "width", t("qr.v")]).stdout)
                    m = max(8, size // 8)  # the white card around the code's quiet zone
                    run(["vips", "embed", t("qr.v"), t("card.v"), m, m, side + 2 * m, side + 2 * m, "--extend", "white"])
                    run(["vips", "bandjoin", f"{t('card.v')} {t('card.v')} {t('card.v')}", t("rgb.v")])
                    run(["vips", "bandjoin_const", t("rgb.v"), t("rgba.v"), "255"])
                    run(["vips", "rotate", t("rgba.v"), t("rot.v"), angle])
                    run(["vips", "copy", t("rot.v"), t("srgb.v"), "--interpretation", "srgb"])
                    run(["vips", "composite2", plain[i % len(plain)], t("srgb.v"), t("c.v"), "over",
                         "--x", 500 + (i * 331) % 4000, "--y", 400 + (i * 197) % 2400])
                    run(["vips", "extract_band", t("c.v"), t("c3.v"), "0", "--n", "3"])
                    run(["vips", "gaussblur", t("c3.v"), t("b.v"), blur])
                    run(["vips", "cast", t("b.v"), t("o.v"), "uchar"])
                    run(["vips", "jpegsave", t("o.v"), t("o.jpg"), "--Q", 95])
                    t("o.jpg").rename(path)
                    for f in cards.glob("tmp-*"):
                        f.unlink()
        return out

    def bench_codes(self):
        """Issue 14: reading cards' codes. CPU per photo of photodrop-ingest with code reading (read_codes = yes)
        against without (no), on the ingest benchmark's 24 MP photos (no card in them), alternated; and the
        recall on 30 card photos (5 sizes, 3 angles, 2 blurs) with no code read from the photos without one."""
        n, photos = self.ingest_photos()
        cards = self.card_photos()
        e = self.engines[0]
        cpu = {"yes": [], "no": []}
        false_reads = 0
        for _ in range(self.reps):
            for setting in ("no", "yes"):
                _t, _h, c = self.ingest_once(e, photos, settings={"PHOTODROP_READ_CODES": setting})
                cpu[setting].append(c / n)
                if setting == "yes":
                    false_reads += sum(1 for code in self.codes_seen.values() if code)
        self.ingest_once(e, [p for p, _ in cards], settings={"PHOTODROP_READ_CODES": "yes"})
        read = sum(1 for p, code in cards if self.codes_seen.get(p.name) == code)
        missed = [p.name for p, code in cards if self.codes_seen.get(p.name) != code]
        a, b = median(cpu["yes"]), median(cpu["no"])
        rows = [
            dict(bench=e.tag(f"3d ingest {n} photos 6000x4000, CPU per photo with code reading vs without"),
                 engine=e.kind, unit="CPU-s/photo", photodrop=a, baseline=b, ratio=a / b, target="<= 1.10",
                 met=a / b <= 1.10, samples_photodrop=cpu["yes"], samples_baseline=cpu["no"]),
            dict(bench=e.tag(f"3d cards read of {len(cards)} (5 sizes down to 120 px, 3 angles, 2 blurs)"),
                 engine=e.kind, unit="%", photodrop=100 * read / len(cards), baseline=None, ratio=None,
                 target=">= 99%", met=read / len(cards) >= 0.99, missed=missed),
            dict(bench=e.tag(f"3d codes read from {n * self.reps} photos without a card"), engine=e.kind, unit="codes",
                 photodrop=false_reads, baseline=None, ratio=None, target="0", met=false_reads == 0),
        ]
        for r in rows:
            self.show(r)
        if missed:
            log(f"  3d cards not read: {' '.join(missed)}")
        self.results["codes"] = rows

    # ------------------------------------------- 15: ingest CPU and cores
    def bench_cpu(self):
        """Issue 15: CPU-seconds per 24 MP photo of photodrop-ingest (default settings: validation, EXIF, code
        reading, preview, thumbnail, hash, catalog) against `djpeg -scale 1/2` (the decode shrink-on-load does)
        and a full `djpeg` of the same files, one photo at a time; photos per second with 2 workers against 1;
        peak RSS and CPU per photo of each run; the previews' SSIM against libvips' own thumbnail of the whole
        decode (`vipsthumbnail -s 1600x1600`, what photodrop made before). All alternated."""
        n, photos = self.ingest_photos()
        e = self.engines[0]
        scratch = Path(tempfile.mkdtemp(dir=STATE, prefix="cpu-"))
        previews = scratch / "previews"
        previews.mkdir()

        def djpeg(args):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            for p in photos:
                run(["djpeg", *args, "-outfile", "/dev/null", p])
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            return (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / n

        m = {k: [] for k in ("cpu2", "cpu1", "rate2", "rate1", "rss2", "rss1", "half", "full")}
        for rep in range(self.reps):
            for workers in (2, 1):
                t, hwm, c = self.ingest_once(e, photos, workers=workers, previews=previews if rep == 0 else None)
                m[f"cpu{workers}"].append(c / n)
                m[f"rate{workers}"].append(n / t)
                m[f"rss{workers}"].append(hwm / 1024)
                log(f"  cpu: {workers} worker(s): {n / t:.2f} photos/s, {c / n:.3f} CPU-s/photo, "
                    f"peak RSS {hwm / 1024:.0f} MiB")
                m["half" if workers == 2 else "full"].append(djpeg(["-scale", "1/2"] if workers == 2 else []))
        ssims = []
        for p in photos[:min(n, 40)]:
            ref = scratch / "ref.jpg"
            run(["vipsthumbnail", p, "-s", "1600x1600", "-o", f"{ref}[Q=85,strip]"])
            ssims.append(ssim(ref, previews / p.name, scratch))
        shutil.rmtree(scratch)
        cpu2, half, full = median(m["cpu2"]), median(m["half"]), median(m["full"])
        rows = [
            dict(bench=e.tag(f"15-1 photodrop-ingest CPU per photo ({n} photos 6000x4000, 2 workers) vs djpeg -scale "
                             "1/2"), engine=e.kind, unit="CPU-s/photo", photodrop=cpu2, baseline=half,
                 ratio=cpu2 / half, target="<= 1.5", met=cpu2 / half <= 1.5, samples_photodrop=m["cpu2"],
                 samples_baseline=m["half"]),
            dict(bench=e.tag("15-1 photodrop-ingest CPU per photo vs a full djpeg"), engine=e.kind,
                 unit="CPU-s/photo", photodrop=cpu2, baseline=full, ratio=cpu2 / full, target="(info)", met=None,
                 samples_baseline=m["full"]),
            dict(bench=e.tag("15-1 preview SSIM against vipsthumbnail -s 1600x1600 of the same photo, least of "
                             f"{len(ssims)} (mean {statistics.mean(ssims):.4f})"), engine=e.kind, unit="SSIM",
                 photodrop=min(ssims), baseline=None, ratio=None, target=">= 0.98", met=min(ssims) >= 0.98),
            dict(bench=e.tag("15-2 photos/s with 2 workers vs 1"), engine=e.kind, unit="photos/s",
                 photodrop=median(m["rate2"]), baseline=median(m["rate1"]),
                 ratio=median(m["rate2"]) / median(m["rate1"]), target=">= 1.8",
                 met=median(m["rate2"]) / median(m["rate1"]) >= 1.8, samples_photodrop=m["rate2"],
                 samples_baseline=m["rate1"]),
            dict(bench=e.tag("15 photodrop-ingest peak RSS, 2 workers vs 1"), engine=e.kind, unit="MiB",
                 photodrop=max(m["rss2"]), baseline=max(m["rss1"]), ratio=max(m["rss2"]) / max(m["rss1"]),
                 target="(info)", met=None),
            dict(bench=e.tag("15 photodrop-ingest CPU per photo, 1 worker vs 2"), engine=e.kind, unit="CPU-s/photo",
                 photodrop=median(m["cpu1"]), baseline=cpu2, ratio=median(m["cpu1"]) / cpu2, target="(info)",
                 met=None, samples_photodrop=m["cpu1"]),
        ]
        for r in rows:
            self.show(r)
        self.results["cpu"] = rows

    # ---------------------------------------------------------- 3b: memory
    def bench_memory(self):
        """Peak RSS of photodrop-ingest, default workers, on what takes the most memory to decode:
        100-megapixel progressive JPEGs (4:4:4), a few small photos beside them; against the same
        service with no decode budget (decode_memory = 1T), alternated."""
        n = 4
        run([sys.executable, REPO / "tests/bench/make_images.py", IMAGES, 50], quiet=False)
        big = []
        for i in range(n):
            path = IMAGES / f"progressive100mp-{i}.jpg"
            if not path.exists():
                tmp = IMAGES / f"flat-{i}.v"
                run(["vips", "black", tmp, "10000", "10000", "--bands", "3"])
                run(["vips", "linear", tmp, IMAGES / f"lin-{i}.v", "1", str(10 + 40 * i), "--uchar"])
                run(["vips", "jpegsave", IMAGES / f"lin-{i}.v", path, "--interlace", "--subsample-mode", "off", "--Q", "90"])
                tmp.unlink()
                (IMAGES / f"lin-{i}.v").unlink()
            big.append(path)
        small = sorted(IMAGES.glob("photo*.jpg"))[:4]
        bounded = {e.kind: [] for e in self.engines}
        unbounded = {e.kind: [] for e in self.engines}
        for _ in range(self.reps):
            for e in self.engines:
                for settings, out in (({}, bounded[e.kind]), ({"PHOTODROP_DECODE_MEMORY": "1T"}, unbounded[e.kind])):
                    job, job_id = self.new_job(e, "mem")
                    for p in big + small:
                        shutil.copyfile(p, e.fs.path / job / p.name)
                    proc = self.start_ingest(e, settings)
                    states = self.wait_ingested(e, job_id, [proc], time.monotonic() + 600, "memory")
                    out.append(vm_field(proc.pid, "VmHWM") / 1024)
                    self.stop_ingest(proc)
                    if states.get("ingested", 0) != len(big) + len(small):
                        raise RuntimeError(f"memory ({e.label}): not every photo was ingested: {states}")
                    self.retire_job(e, job, job_id)
        rows = []
        for e in self.engines:
            row = dict(bench=e.tag(f"3b photodrop-ingest peak RSS, {n} progressive 100 MP JPEGs (4:4:4) + {len(small)} "
                                   "photos, 2 workers, vs no decode budget"), engine=e.kind, unit="MiB",
                       photodrop=max(bounded[e.kind]), baseline=max(unbounded[e.kind]),
                       ratio=max(bounded[e.kind]) / max(unbounded[e.kind]), target="<= 1024 MiB",
                       met=max(bounded[e.kind]) <= 1024, samples_photodrop=bounded[e.kind],
                       samples_baseline=unbounded[e.kind])
            self.show(row)
            rows.append(row)
        self.results["memory"] = rows

    # ---------------------------------------------------------- 4: latency
    def bench_latency(self):
        """Each engine's ingest service idle; one photo at a time into each engine's mount, alternated."""
        samples_n = self.args.samples or (20 if self.quick else 50)
        run([sys.executable, REPO / "tests/bench/make_images.py", IMAGES, max(samples_n, 50)], quiet=False)
        photos = sorted(IMAGES.glob("photo*.jpg"))[:samples_n]
        jobs = {e.kind: self.new_job(e, "lat") for e in self.engines}
        procs = {e.kind: self.start_ingest(e) for e in self.engines}
        time.sleep(2)  # idle: the services are up and waiting
        lat = {e.kind: [] for e in self.engines}
        for p in photos:
            body = p.read_bytes()
            for e in self.engines:
                job, job_id = jobs[e.kind]
                with open(e.fs.path / job / p.name, "wb") as f:
                    f.write(body)
                t0 = time.monotonic()  # close has returned: the upload is durable and queued
                deadline = t0 + 30
                while True:
                    row = e.catalog.q("SELECT state FROM uploads WHERE job_id = ? AND filename = ? "
                                      "ORDER BY id DESC LIMIT 1", job_id, p.name)
                    if row and row[0][0] not in ("receiving", "queued", "processing"):
                        break
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"latency ({e.label}): {p.name} not ingested in 30 s")
                    time.sleep(0.005)
                lat[e.kind].append(time.monotonic() - t0)
                if row[0][0] != "ingested":
                    raise RuntimeError(f"latency ({e.label}): {p.name} ended {row[0][0]}")
                time.sleep(0.3)
        rows = []
        for e in self.engines:
            self.stop_ingest(procs[e.kind])
            self.retire_job(e, *jobs[e.kind])
            x = lat[e.kind]
            rows += [dict(bench=e.tag(f"4 close -> ingested, {samples_n} single uploads, median"), engine=e.kind,
                          unit="s", photodrop=median(x), baseline=None, ratio=None, target="<= 0.3 s",
                          met=median(x) <= 0.3, samples_photodrop=x),
                     dict(bench=e.tag("4 close -> ingested, p99"), engine=e.kind, unit="s", photodrop=percentile(x, 99),
                          baseline=None, ratio=None, target="<= 1 s", met=percentile(x, 99) <= 1)]
        for r in rows:
            self.show(r)
        rows += self.engine_ratio(f"4 close -> ingested, {samples_n} single uploads, median", lat, "s", target=None)
        self.results["latency"] = rows

    # ---------------------------------------------------------- 5: scale
    def scale_rows(self, e, tenant, n_jobs, n_uploads):
        """1,999 jobs + `big` with n_uploads uploads, `ingested`, written straight into the catalog in one
        transaction (inserted `receiving` and moved along the lifecycle, as the schema demands)."""
        now = time.time_ns()
        if e.kind == "sqlite":
            db = sqlite3.connect(e.location, timeout=30, isolation_level=None)
            try:
                db.execute("PRAGMA busy_timeout = 30000")
                db.execute("BEGIN IMMEDIATE")
                tid = db.execute("SELECT id FROM tenants WHERE slug = ?", (tenant,)).fetchone()[0]
                db.executemany("INSERT INTO jobs (tenant_id, name, title, status, layout) "
                               "VALUES (?, ?, ?, 'planned', 'flat')",
                               [(tid, f"job{i:05d}", f"Job {i}") for i in range(1, n_jobs)])
                db.execute("INSERT INTO jobs (tenant_id, name, title, status, layout) VALUES (?, 'big', 'Big job', "
                           "'planned', 'flat')", (tid,))
                big = db.execute("SELECT id FROM jobs WHERE tenant_id = ? AND name = 'big'", (tid,)).fetchone()[0]
                db.executemany(
                    "INSERT INTO uploads (job_id, section, filename, size, mtime_ns, uid, state, data_path, created_ns, "
                    "updated_ns) VALUES (?, 'individuals', ?, 9000000, ?, 0, 'receiving', ?, ?, ?)",
                    [(big, f"IMG_{i:05d}.jpg", now, f"scale/originals/{i:05d}", now, now) for i in range(n_uploads)])
                for state in ("queued", "processing", "ingested"):
                    db.execute("UPDATE uploads SET state = ? WHERE job_id = ?", (state, big))
                db.execute("COMMIT")
            finally:
                db.close()
        else:
            t = sql_literal(tenant)
            self.postgres.psql(
                f"INSERT INTO jobs (tenant_id, name, title, status, layout) SELECT t.id, 'job' || lpad(i::text, 5, '0'), "
                f"'Job ' || i, 'planned', 'flat' FROM tenants t, generate_series(1, {n_jobs - 1}) i WHERE t.slug = {t};\n"
                f"INSERT INTO jobs (tenant_id, name, title, status, layout) SELECT id, 'big', 'Big job', 'planned', "
                f"'flat' FROM tenants WHERE slug = {t};\n"
                f"INSERT INTO uploads (job_id, section, filename, size, mtime_ns, uid, state, data_path, created_ns, "
                f"updated_ns) SELECT j.id, 'individuals', 'IMG_' || lpad(i::text, 5, '0') || '.jpg', 9000000, {now}, 0, "
                f"'receiving', 'scale/originals/' || lpad(i::text, 5, '0'), {now}, {now} FROM jobs j JOIN tenants t "
                f"ON t.id = j.tenant_id, generate_series(0, {n_uploads - 1}) i WHERE t.slug = {t} AND j.name = 'big';\n"
                + "".join(f"UPDATE uploads SET state = '{s}' WHERE job_id = (SELECT j.id FROM jobs j JOIN tenants t "
                          f"ON t.id = j.tenant_id WHERE t.slug = {t} AND j.name = 'big');\n"
                          for s in ("queued", "processing", "ingested"))
                + "ANALYZE;")

    def bench_scale(self):
        n_jobs, n_uploads = 2000, 10000
        runs = 10 if self.quick else 20
        mounts = {}
        for e in self.engines:
            e.ctl("tenant", "add", e.scale_tenant, "--name", f"Scale studio ({e.label})")
            self.scale_rows(e, e.scale_tenant, n_jobs, n_uploads)
            mounts[e.kind] = Mount(self.stack, e, e.scale_tenant)
        plain_root = STATE / "plain-scale"
        (plain_root / "big").mkdir(parents=True)
        for i in range(1, n_jobs):
            (plain_root / f"job{i:05d}").mkdir()
        for i in range(n_uploads):
            with open(plain_root / "big" / f"IMG_{i:05d}.jpg", "wb") as f:
                f.truncate(9000000)
        rows = []
        for what, sub, count in (("tenant with 2,000 jobs", "", n_jobs), ("job with 10,000 uploads", "big", n_uploads)):
            for cmd in (["ls"], ["ls", "-l"]):
                dirs = {e.kind: mounts[e.kind].path / sub for e in self.engines}
                for d in dirs.values():
                    listed = run([*cmd, d]).stdout.count("\n") - (1 if "-l" in cmd else 0)
                    if listed != count:
                        raise RuntimeError(f"scale: {' '.join(cmd)} {d} listed {listed}, not {count}")
                pd = {e.kind: [] for e in self.engines}
                plain = []
                for _ in range(runs):  # alternated: each engine's mount, then the plain tree
                    for d, samples in [*((dirs[k], pd[k]) for k in dirs), (plain_root / sub, plain)]:
                        t0 = time.monotonic()
                        subprocess.run([*cmd, str(d)], stdout=subprocess.DEVNULL, check=True)
                        samples.append(time.monotonic() - t0)
                b = median(plain) * 1000
                label = f"5 `{' '.join(cmd)}` of a {what}"
                for e in self.engines:
                    a = median(pd[e.kind]) * 1000
                    if cmd == ["ls"]:
                        target, met = "<= 50 ms", a <= 50
                    elif e.kind == "postgresql" and sub:  # issue 11: ls -l of a big job on PostgreSQL
                        target, met = "<= 150 ms", a <= 150
                    else:
                        target, met = "(info)", None
                    row = dict(bench=e.tag(label), engine=e.kind, unit="ms", photodrop=a, baseline=b, ratio=a / b,
                               target=target, met=met, samples_photodrop=pd[e.kind], samples_baseline=plain)
                    rows.append(row)
                    self.show(row)
                # issue 11: `ls` of a big job on PostgreSQL at most 1.5x SQLite's
                rows += self.engine_ratio(label, pd, "ms", target=1.5 if (cmd == ["ls"] and sub) else None,
                                          scale=1000)
        self.results["scale"] = rows

    # ---------------------------------------------------------- issue 12: the platform API
    def start_api(self, e, name="api"):
        """photodrop-api on a free loopback port, with its default threads and webhook deliverer; (proc, base URL)."""
        port = free_port()
        proc = start(self.stack, f"{name}-{e.kind}", [API_BIN, "--catalog", e.location, "--data", e.data,
                                                      "--listen", f"127.0.0.1:{port}"])
        wait_port(proc, port, f"photodrop-api; see {STATE}/{name}-{e.kind}.log")
        return proc, f"http://127.0.0.1:{port}"

    def api_token(self, e):
        if e.kind not in self.tokens:
            self.tokens[e.kind] = json.loads(e.ctl("--json", "token", "add", "--tenant", e.tenant,
                                                   "--label", "bench").stdout)["token"]
        return self.tokens[e.kind]

    def real_photo(self, e):
        """One photo uploaded through the mount and filed by photodrop-ingest: (job, photo row as a dict)."""
        if e.kind in self.real_photos:
            return self.real_photos[e.kind]
        run([sys.executable, REPO / "tests/bench/make_images.py", IMAGES, 50], quiet=False)
        photo = sorted(IMAGES.glob("photo*.jpg"))[0]
        job, job_id = self.new_job(e, "api")
        shutil.copyfile(photo, e.fs.path / job / photo.name)
        proc = self.start_ingest(e)
        try:
            states = self.wait_ingested(e, job_id, [proc], time.monotonic() + 120, "api photo")
        finally:
            self.stop_ingest(proc)
        if states.get("ingested", 0) != 1:
            raise RuntimeError(f"api ({e.label}): the photo was not ingested: {states}")
        cols = ("id", "original_path", "thumbnail_path", "preview_path", "width", "height", "content_hash")
        row = dict(zip(cols, e.catalog.q(f"SELECT {', '.join(cols)} FROM photos WHERE job_id = ?", job_id)[0]))
        self.real_photos[e.kind] = (job, row)
        return job, row

    def wrk(self, url, token=None, seconds=None):
        """wrk -t2 -c32 for `seconds` on `url`: requests/s. Every answer must be a 2xx, every socket sound."""
        seconds = seconds or self.wrk_seconds
        argv = ["wrk", "-t2", "-c32", f"-d{seconds}s", "--timeout", "5s"]
        if token:
            argv += ["-H", f"Authorization: Bearer {token}"]
        out = run([*argv, url], check=True).stdout
        m = re.search(r"Requests/sec:\s+([0-9.]+)", out)
        if not m or "Non-2xx" in out or "Socket errors" in out:
            raise RuntimeError(f"wrk {url}: {out}")
        return float(m.group(1))

    def start_nginx(self, root):
        """nginx (the Debian package) on a free loopback port, serving `root` read-only: its own configuration,
        pid file, logs and temporary paths in a temporary directory, in the foreground (daemon off), stopped by
        its PID; (proc, base URL). As Debian's default site: sendfile, an access log, ETags, two workers."""
        tmp = Path(tempfile.mkdtemp(prefix="nginx-", dir=STATE))
        self.stack.push(f"{tmp}", lambda: shutil.rmtree(tmp, ignore_errors=True))
        port = free_port()
        temps = "".join(f"  {k}_temp_path {tmp}/{k};\n" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (tmp / "nginx.conf").write_text(
            f"daemon off;\nmaster_process on;\nuser root;\nworker_processes auto;\npid {tmp}/nginx.pid;\n"
            f"error_log {tmp}/error.log warn;\nevents {{ worker_connections 1024; }}\n"
            f"http {{\n  types {{ image/jpeg jpg; }}\n  default_type application/octet-stream;\n"
            f"  access_log {tmp}/access.log;\n  sendfile on;\n  tcp_nopush on;\n  keepalive_requests 1000000;\n"
            f"{temps}  server {{\n    listen 127.0.0.1:{port};\n    root {root};\n  }}\n}}\n")
        proc = start(self.stack, "nginx", ["nginx", "-p", tmp, "-e", tmp / "error.log", "-c", tmp / "nginx.conf"])
        wait_port(proc, port, f"nginx; see {tmp}/error.log and {STATE}/nginx.log")
        return proc, f"http://127.0.0.1:{port}"

    def bench_api_files(self):
        """One photo's thumbnail, over and over: photodrop-api (bearer token) vs nginx serving the same file."""
        rows = []
        for e in self.engines:
            job, photo = self.real_photo(e)
            thumb = e.data / photo["thumbnail_path"]
            api, base = self.start_api(e)
            token = self.api_token(e)
            url = f"{base}/v1/photos/{photo['id']}/thumbnail"
            nginx, nbase = self.start_nginx(thumb.parent)
            nurl = f"{nbase}/{thumb.name}"
            for u, t in ((url, token), (nurl, None)):  # both answer the same bytes
                req = urllib.request.Request(u, headers={"Authorization": f"Bearer {t}"} if t else {})
                with urllib.request.urlopen(req, timeout=10) as r:
                    if r.read() != thumb.read_bytes():
                        raise RuntimeError(f"api-files ({e.label}): {u} did not answer the thumbnail's bytes")
            a, b = [], []
            for _ in range(self.reps):  # alternated
                a.append(self.wrk(url, token))
                b.append(self.wrk(nurl))
            stop_pid(nginx)
            stop_pid(api)
            row = dict(bench=e.tag(f"12a one photo's thumbnail ({thumb.stat().st_size // 1024} KiB), wrk -t2 -c32, "
                                   "photodrop-api vs nginx"), engine=e.kind, unit="req/s", photodrop=median(a),
                       baseline=median(b), ratio=median(a) / median(b), target=">= 0.5", met=median(a) / median(b) >= 0.5,
                       samples_photodrop=a, samples_baseline=b)
            self.show(row)
            rows.append(row)
        self.results["api-files"] = rows

    def page_rows(self, e, n, photo):
        """A job `page` with n photos, written straight into the catalog in one transaction: uploads inserted
        `receiving` and moved along the lifecycle to `ingested`, each with a photo row that names the files of the
        real photo (so that every photo's thumbnail, preview and original exist); a content hash of its own each."""
        job, job_id = self.new_job(e, "page")
        now = time.time_ns()
        sql = (
            f"INSERT INTO photos (upload_id, job_id, album_id, section, filename, original_path, width, height, "
            f"camera_make, camera_model, content_hash, thumbnail_path, preview_path, created_ns) "
            f"SELECT u.id, u.job_id, NULL, 'individuals', u.filename, {sql_literal(photo['original_path'])}, "
            f"{photo['width']}, {photo['height']}, 'Bench', 'Camera', 'bench' || u.id, "
            f"{sql_literal(photo['thumbnail_path'])}, {sql_literal(photo['preview_path'])}, {now} "
            f"FROM uploads u WHERE u.job_id = {job_id};\n"
            f"UPDATE uploads SET photo_id = (SELECT p.id FROM photos p WHERE p.upload_id = uploads.id) "
            f"WHERE job_id = {job_id};\n"
            + "".join(f"UPDATE uploads SET state = '{s}' WHERE job_id = {job_id};\n"
                      for s in ("queued", "processing", "ingested")))
        if e.kind == "sqlite":
            db = sqlite3.connect(e.location, timeout=30, isolation_level=None)
            try:
                db.execute("PRAGMA busy_timeout = 30000")
                db.execute("BEGIN IMMEDIATE")
                db.executemany(
                    "INSERT INTO uploads (job_id, section, filename, size, mtime_ns, uid, state, data_path, "
                    "created_ns, updated_ns) VALUES (?, 'individuals', ?, 9000000, ?, 0, 'receiving', '', ?, ?)",
                    [(job_id, f"IMG_{i:05d}.jpg", now, now, now) for i in range(n)])
                for stmt in sql.strip().split(";\n"):
                    db.execute(stmt)
                db.execute("COMMIT")
            finally:
                db.close()
        else:
            self.postgres.psql(
                f"INSERT INTO uploads (job_id, section, filename, size, mtime_ns, uid, state, data_path, created_ns, "
                f"updated_ns) SELECT {job_id}, 'individuals', 'IMG_' || lpad(i::text, 5, '0') || '.jpg', 9000000, "
                f"{now}, 0, 'receiving', '', {now}, {now} FROM generate_series(0, {n - 1}) i;\n" + sql + "ANALYZE;")
        ids = [r[0] for r in e.catalog.q("SELECT id FROM photos WHERE job_id = ? ORDER BY id", job_id)]
        if len(ids) != n:
            raise RuntimeError(f"api-page ({e.label}): {len(ids)} photos made, not {n}")
        return job, ids

    def bench_api_page(self):
        """A page of 100 of a job's 10,000 photos (the first and one near the end) vs the static OpenAPI document,
        alternated; photodrop-api's peak RSS under that load."""
        n = 10000
        rows = []
        for e in self.engines:
            _, photo = self.real_photo(e)
            job, ids = self.page_rows(e, n, photo)
            api, base = self.start_api(e)
            token = self.api_token(e)
            urls = {"first": f"{base}/v1/jobs/{job}/photos?limit=100",
                    "late": f"{base}/v1/jobs/{job}/photos?after={ids[-150]}&limit=100",
                    "openapi": f"{base}/v1/openapi.json"}
            for what in ("first", "late"):
                req = urllib.request.Request(urls[what], headers={"Authorization": f"Bearer {token}"})
                with urllib.request.urlopen(req, timeout=10) as r:
                    items = json.load(r)["items"]
                if len(items) != 100:
                    raise RuntimeError(f"api-page ({e.label}): {urls[what]} answered {len(items)} photos, not 100")
            reset_peak_rss(api.pid)
            samples = {k: [] for k in urls}
            for _ in range(self.reps):  # alternated
                for k, u in urls.items():
                    samples[k].append(self.wrk(u, token))
            hwm = vm_field(api.pid, "VmHWM") / 1024
            rss = vm_field(api.pid, "VmRSS") / 1024
            stop_pid(api)
            b = median(samples["openapi"])
            for k, label in (("first", "the first page"), ("late", f"a page near the end (after={ids[-150]})")):
                a = median(samples[k])
                row = dict(bench=e.tag(f"12b GET /v1/jobs/JOB/photos?limit=100 of {n:,} photos, {label}, wrk -t2 -c32, "
                                       "vs GET /v1/openapi.json"), engine=e.kind, unit="req/s", photodrop=a,
                           baseline=b, ratio=a / b, target=">= 1000 req/s", met=a >= 1000,
                           samples_photodrop=samples[k], samples_baseline=samples["openapi"])
                self.show(row)
                rows.append(row)
            row = dict(bench=e.tag("12b photodrop-api peak RSS (VmHWM) under that load"), engine=e.kind, unit="MiB",
                       photodrop=hwm, baseline=None, ratio=None, target="<= 64 MiB", met=hwm <= 64, rss_after=rss)
            self.show(row)
            rows.append(row)
        self.results["api-page"] = rows

    def bench_webhook_latency(self):
        """One photo at a time into the mount, with photodrop-ingest and photodrop-api running and a webhook to a
        receiver on loopback: close -> photo.ingested written (the baseline) and close -> the webhook received."""
        samples_n = self.args.samples or (20 if self.quick else 50)
        run([sys.executable, REPO / "tests/bench/make_images.py", IMAGES, max(samples_n, 50)], quiet=False)
        photos = sorted(IMAGES.glob("photo*.jpg"))[:samples_n]
        tmp = Path(tempfile.mkdtemp(prefix="receiver-", dir=STATE))
        self.stack.push(f"{tmp}", lambda: shutil.rmtree(tmp, ignore_errors=True))
        config, hooks_log, port_file = tmp / "config.json", tmp / "received.jsonl", tmp / "port"
        config.write_text("{}")
        hooks_log.touch()
        lifetime = 120 + samples_n * len(self.engines) * 5  # it exits by itself whatever happens
        receiver = start(self.stack, "receiver", [sys.executable, REPO / "tests/api/receiver.py", "--port-file",
                                                  port_file, "--log", hooks_log, "--config", config,
                                                  "--lifetime", lifetime])
        deadline = time.monotonic() + 10
        while not port_file.exists():
            if receiver.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the webhook receiver did not start; see {STATE}/receiver.log")
            time.sleep(0.02)
        port = int(port_file.read_text())
        secrets = {}
        for e in self.engines:
            hook = json.loads(e.ctl("--json", "webhook", "add", "--tenant", e.tenant, "--events", "photo.ingested",
                                    f"http://127.0.0.1:{port}/{e.kind}").stdout)
            secrets[f"/{e.kind}"] = {"secret": hook["secret"]}
        config.write_text(json.dumps(secrets))
        jobs = {e.kind: self.new_job(e, "hook") for e in self.engines}
        procs = {e.kind: (self.start_ingest(e), self.start_api(e)[0]) for e in self.engines}
        time.sleep(2)  # idle: the services are up and waiting
        ingested = {e.kind: [] for e in self.engines}
        hooked = {e.kind: [] for e in self.engines}
        read_at = 0
        received = {}  # (path, webhook-id) -> the first arrival (wall clock) and whether it was signed right
        for p in photos:
            body = p.read_bytes()
            for e in self.engines:
                job, job_id = jobs[e.kind]
                with open(e.fs.path / job / p.name, "wb") as f:
                    f.write(body)
                t0 = time.time()  # close has returned (the receiver stamps arrivals with the wall clock too)
                deadline = time.monotonic() + 30
                event = None
                while True:
                    if event is None:
                        row = e.catalog.q("SELECT e.id FROM events e JOIN uploads u ON u.id = e.upload_id WHERE "
                                          "e.type = 'photo.ingested' AND u.job_id = ? AND u.filename = ?", job_id, p.name)
                        if row:
                            event = f"evt_{row[0][0]}"
                            ingested[e.kind].append(time.time() - t0)
                    with open(hooks_log) as f:
                        f.seek(read_at)
                        chunk = f.read()
                    complete = chunk[:chunk.rfind("\n") + 1]
                    read_at += len(complete)
                    for line in complete.splitlines():
                        r = json.loads(line)
                        received.setdefault((r["path"], r["headers"].get("webhook-id")),
                                            (r["received"], r["signature_ok"]))
                    if event is not None and (f"/{e.kind}", event) in received:  # each catalog numbers its events
                        break
                    if time.monotonic() > deadline or receiver.poll() is not None:
                        raise RuntimeError(f"webhook-latency ({e.label}): {p.name}: "
                                           f"{'no webhook' if event else 'not ingested'} in 30 s")
                    time.sleep(0.005)
                at, signed = received[(f"/{e.kind}", event)]
                if not signed:
                    raise RuntimeError(f"webhook-latency ({e.label}): {event} arrived with a bad signature")
                hooked[e.kind].append(at - t0)
                time.sleep(0.3)
        rows = []
        for e in self.engines:
            ingest, api = procs[e.kind]
            stop_pid(api)
            self.stop_ingest(ingest)
            self.retire_job(e, *jobs[e.kind])
            x, b = hooked[e.kind], ingested[e.kind]
            rows += [dict(bench=e.tag(f"12c close -> webhook received, {samples_n} single uploads, median, "
                                      "vs close -> photo.ingested written"), engine=e.kind, unit="s",
                          photodrop=median(x), baseline=median(b), ratio=median(x) / median(b), target="<= 0.5 s",
                          met=median(x) <= 0.5, samples_photodrop=x, samples_baseline=b),
                     dict(bench=e.tag("12c close -> webhook received, p99, vs close -> photo.ingested written"),
                          engine=e.kind, unit="s", photodrop=percentile(x, 99), baseline=percentile(b, 99),
                          ratio=percentile(x, 99) / percentile(b, 99), target="<= 1.5 s",
                          met=percentile(x, 99) <= 1.5),
                     dict(bench=e.tag("12c what the webhook adds: photo.ingested written -> webhook received, median "
                                      "(p99 in the results file)"), engine=e.kind, unit="s",
                          photodrop=median([h - i for h, i in zip(x, b)]), baseline=None, ratio=None, target="(info)",
                          met=None, p99=percentile([h - i for h, i in zip(x, b)], 99))]
        stop_pid(receiver)
        for r in rows:
            self.show(r)
        self.results["webhook-latency"] = rows

    # ---------------------------------------------------------- report
    def show(self, r):
        fmt = lambda v: "-" if v is None else (f"{v:.3f}" if v < 10 else f"{v:.1f}")
        ratio = "" if r.get("ratio") is None else f"  ratio {r['ratio']:.2f}x"
        base = "" if r.get("baseline") is None else f"  baseline {fmt(r['baseline'])}"
        met = {True: "met", False: "MISSED", None: ""}[r.get("met")]
        log(f"  {r['bench']}: photodrop {fmt(r['photodrop'])} {r['unit']}{base}{ratio}  target {r['target']} {met}")

    def report(self, started):
        out = Path(self.args.output) if self.args.output else BUILD / "bench-results.json"
        meta = dict(date=started.isoformat(timespec="seconds"), quick=self.quick, reps=self.reps,
                    catalogs=[e.kind for e in self.engines], loadavg_start=self.loadavg_start,
                    loadavg_end=os.getloadavg(),
                    host=platform.node(), kernel=platform.release(), cpus=os.cpu_count(),
                    cpu=next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")),
                             "?"),
                    mem_gib=round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
                    commit=run(["git", "-C", REPO, "describe", "--always", "--dirty"], check=False).stdout.strip(),
                    command=" ".join(sys.argv[1:]))
        out.write_text(json.dumps(dict(meta=meta, results=self.results), indent=1))
        log(f"\nbench: results in {out}")
        log("| benchmark | photodrop | baseline | ratio | target | |")
        log("|---|---|---|---|---|---|")
        for rows in self.results.values():
            for r in rows:
                f = lambda v: "–" if v is None else f"{v:.3g}" if v < 100 else f"{v:.0f}"
                met = {True: "met", False: "**missed**", None: ""}[r.get("met")]
                log(f"| {r['bench']} | {f(r['photodrop'])} {r['unit']} | "
                    f"{f(r['baseline']) + ' ' + r['unit'] if r.get('baseline') is not None else '–'} | "
                    f"{'–' if r.get('ratio') is None else format(r['ratio'], '.2f') + '×'} | {r['target']} | {met} |")


BENCHES = {"upload": "bench_upload", "raw": "bench_raw", "ingest": "bench_ingest", "ingest2": "bench_ingest2",
           "memory": "bench_memory", "latency": "bench_latency", "scale": "bench_scale",
           "api-files": "bench_api_files", "api-page": "bench_api_page", "webhook-latency": "bench_webhook_latency",
           "ftps": "bench_ftps", "codes": "bench_codes", "cpu": "bench_cpu",
           "photos": "bench_photos"}


def main():
    p = argparse.ArgumentParser(description="photodrop's benchmarks (see BENCHMARKS.md)")
    p.add_argument("--quick", action="store_true", help="smaller sizes (the default first pass)")
    p.add_argument("--full", action="store_true", help="the sizes of issue 5 (about 30-40 minutes)")
    p.add_argument("--only", action="append", choices=list(BENCHES), help="run only this benchmark (repeatable)")
    p.add_argument("--catalog", choices=["sqlite", "postgresql", "both"], default="both",
                   help="the catalog engine(s) to measure on (default both, alternated; PostgreSQL: a private "
                        "server for the run)")
    p.add_argument("--reps", type=int, help="alternated runs per figure (default 3)")
    p.add_argument("--photos", type=int, help="photos for the ingest benchmark")
    p.add_argument("--samples", type=int, help="uploads for the latency benchmark")
    p.add_argument("--wrk-seconds", type=int, default=10, help="seconds of each wrk run (api-files, api-page)")
    p.add_argument("--output", help="where to write the JSON results")
    args = p.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench: run it as root (it mounts, starts sshd and makes accounts)")
    args.quick = not args.full
    started = datetime.datetime.now().astimezone()
    r = Run(args)
    try:
        r.setup()
        for name in args.only or list(BENCHES):
            log(f"bench: {name} ({'quick' if args.quick else 'full'})")
            t0 = time.monotonic()
            getattr(r, BENCHES[name])()
            log(f"bench: {name} took {time.monotonic() - t0:.0f} s (load average {os.getloadavg()[0]:.1f})")
    finally:
        r.stack.close()
        if args.only is None or r.results:
            r.report(started)


if __name__ == "__main__":
    main()
