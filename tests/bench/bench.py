#!/usr/bin/env python3
"""photodrop's benchmark suite; started by tests/bench/run (see BENCHMARKS.md).

Every figure is measured beside its baseline in the same run, the two
alternated (A, B, A, B, ...), and the medians compared as a ratio. Everything
runs on loopback under /var/lib/photodrop-bench (root-owned, as a chroot
demands). Every process started here is stopped by its PID, every mount is
unmounted and every account removed, however the run ends.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("PHOTODROP_BENCH_BUILD", REPO / "build-bench"))
FS_BIN = BUILD / "fusefs" / "photodrop-fs"
INGEST_BIN = BUILD / "ingest" / "photodrop-ingest"
CTL_BIN = BUILD / "tools" / "photodropctl"

BASE = Path("/var/lib/photodrop-bench")  # root-owned parents: a chroot's rule
STATE = BASE / "run"                     # catalog, data, keys, sshd, logs: made afresh per run
MOUNTS = BASE / "mnt"                    # one mount per tenant
PLAIN = BASE / "plain"                   # the plain chroot of the baseline SFTP user
SOURCES = BASE / "src"                   # upload sources, kept between runs
IMAGES = BASE / "images"                 # the 24-megapixel test photos, kept between runs
CATALOG = STATE / "catalog.db"
DATA = STATE / "data"
KEYS = STATE / "keys"
WAKE = DATA / "ingest.sock"

PD_USER = "pdbench"       # photodrop SFTP user (group photodrop, chroot: the mount)
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


def ctl(*args, input=None, check=True):
    return run([CTL_BIN, "--catalog", CATALOG, "--data", DATA, "--mounts", MOUNTS, "--keys-dir", KEYS, *args],
               input=input, check=check)


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
        t0 = time.monotonic()
        if fsync:
            os.fsync(fd)
        os.close(fd)
        closes.append(time.monotonic() - t0)
    return median(closes)


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
    def __init__(self, stack, slug):
        self.slug = slug
        self.path = MOUNTS / slug
        self.path.mkdir(mode=0o755, exist_ok=True)
        os.chmod(self.path, 0o755)
        self.proc = start(stack, f"fs-{slug}", [FS_BIN, "-f", "--catalog", CATALOG, "--data", DATA,
                                                "--tenant", slug, "--wake-socket", WAKE, self.path])
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


class Catalog:
    """Read-only queries on the catalog, as an operator's script would make them."""

    def __init__(self):
        self.db = sqlite3.connect(f"file:{CATALOG}?mode=ro", uri=True, timeout=10, isolation_level=None)

    def q(self, sql, *args):
        return self.db.execute(sql, args).fetchall()

    def job_id(self, tenant, name):
        return self.q("SELECT j.id FROM jobs j JOIN tenants t ON t.id = j.tenant_id WHERE t.slug = ? AND j.name = ?",
                      tenant, name)[0][0]

    def states(self, job):
        return dict(self.q("SELECT state, count(*) FROM uploads WHERE job_id = ? GROUP BY state", job))


class Run:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.reps = args.reps or 3
        self.stack = Stack()
        self.results = {}  # bench name -> list of rows
        self.seq = 0
        self.fs = None
        self.sshd_port = None
        self.catalog = None

    # ------------------------------------------------------------------ set-up
    def name(self, prefix):
        self.seq += 1
        return f"{prefix}{self.seq:04d}"

    def setup(self):
        for d in (BASE, MOUNTS, PLAIN, SOURCES, IMAGES):
            d.mkdir(mode=0o755, exist_ok=True)
            os.chown(d, 0, 0)
            os.chmod(d, 0o755)
        for m in (MOUNTS / "bench", MOUNTS / "scale"):  # left by a killed run
            if os.path.ismount(m):
                run(["fusermount3", "-u", "-z", m], check=False)
        self.apply_sysctl()
        shutil.rmtree(STATE, ignore_errors=True)
        STATE.mkdir(mode=0o755)
        DATA.mkdir()
        KEYS.mkdir(mode=0o755)
        ctl("init")
        ctl("tenant", "add", "bench", "--name", "Benchmark studio")
        self.fs = Mount(self.stack, "bench")
        self.catalog = Catalog()
        self.stack.push("catalog reader", lambda: self.catalog.db.close())

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

    def new_job(self, prefix, tenant="bench"):
        name = self.name(prefix)
        ctl("job", "add", "--tenant", tenant, name, "--layout", "flat")
        return name, self.catalog.job_id(tenant, name)

    def retire_job(self, name, job_id):
        """Drops a finished job's bytes (a client's delete keeps them) and takes it out of the mount."""
        for (path,) in self.catalog.q("SELECT data_path FROM uploads WHERE job_id = ? AND data_path <> ''", job_id):
            (DATA / path).unlink(missing_ok=True)
        for (path,) in self.catalog.q("SELECT original_path FROM photos WHERE job_id = ?", job_id):
            (DATA / path).unlink(missing_ok=True) if not os.path.isabs(path) else Path(path).unlink(missing_ok=True)
        ctl("job", "set-status", "--tenant", "bench", name, "archived")

    def setup_sftp(self):
        key = STATE / "client_key"
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bench", "-f", key])
        self.key = key
        password = os.urandom(12).hex()
        for user in (PD_USER, PLAIN_USER):  # left by a killed run
            if run(["id", user], check=False).returncode == 0:
                if user == PD_USER:
                    ctl("user", "remove", user, check=False)
                if run(["id", user], check=False).returncode == 0:
                    run(["userdel", user], check=False)
        ctl("user", "add", "--tenant", "bench", PD_USER, "--password-stdin", "--key", f"{key}.pub",
            input=password + "\n")
        self.stack.push(f"user {PD_USER}", lambda: ctl("user", "remove", PD_USER))
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
        block = ctl("sshd-config").stdout
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
        small = [SOURCES / f"small{i:03d}.jpg" for i in range(small_count)]
        for p in small:
            make(p, small_bytes)
        return big, small

    def upload_once(self, target, files_per_session, fsync=False):
        """Runs one sftp per session at once; seconds from the first start to the last exit.
        fsync: `put -f`, the client asks the server to fsync each file before closing it."""
        if target == "photodrop":
            user = PD_USER
            job, job_id = self.new_job("up")
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
            raise RuntimeError(f"sftp into {target} failed: {errors[0]}")
        if target == "photodrop":
            states = self.catalog.states(job_id)
            want = sum(len(f) for f in files_per_session)
            if states.get("queued", 0) != want:
                raise RuntimeError(f"photodrop upload: expected {want} queued, catalog says {states}")
            self.retire_job(job, job_id)
        else:
            for p in (PLAIN / "up").iterdir():
                p.unlink()
        return elapsed

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
                    reset_peak_rss(self.fs.proc.pid)
                pd, plain, plain_fsync = [], [], []
                fs_cpu = 0.0
                for _ in range(self.reps):
                    before = cpu_seconds(self.fs.proc.pid)
                    pd.append(self.upload_once("photodrop", per))
                    fs_cpu += cpu_seconds(self.fs.proc.pid) - before
                    plain.append(self.upload_once("plain", per))
                    plain_fsync.append(self.upload_once("plain", per, fsync=True))
                hwm = vm_field(self.fs.proc.pid, "VmHWM") if sessions == 4 else None
                a, b = total / MIB / median(pd), total / MIB / median(plain)
                row = dict(bench=label, unit="MiB/s", photodrop=a, baseline=b, ratio=a / b, target=">= 0.95",
                           met=a / b >= 0.95, samples_photodrop=pd, samples_baseline=plain,
                           photos_per_s=files / median(pd))
                rows.append(row)
                self.show(row)
                # photodrop fsyncs every upload before close returns; so does `put -f` into the plain chroot.
                c = total / MIB / median(plain_fsync)
                row = dict(bench=label + ", baseline with put -f (same durability)", unit="MiB/s", photodrop=a,
                           baseline=c, ratio=a / c, target="(info)", met=None, samples_photodrop=pd,
                           samples_baseline=plain_fsync)
                rows.append(row)
                self.show(row)
                row = dict(bench=label + ", photodrop-fs CPU per GiB uploaded", unit="s",
                           photodrop=fs_cpu / (total * self.reps / (1024 * MIB)), baseline=None, ratio=None,
                           target="(info)", met=None)
                rows.append(row)
                self.show(row)
                if hwm is not None:
                    r = dict(bench=f"1{kind} photodrop-fs peak RSS, {sessions} sessions", unit="MiB",
                             photodrop=hwm / 1024, baseline=None, ratio=None, target="<= 64 MiB",
                             met=hwm / 1024 <= 64)
                    rows.append(r)
                    self.show(r)
        self.results["upload"] = rows

    # -------------------------------------------------------- 2: raw writes
    def bench_raw(self):
        size = (256 if self.quick else 1024) * MIB
        rows = []
        plain_dir = DATA / "ddtest"
        plain_dir.mkdir(exist_ok=True)
        for bs in (MIB, 32 * 1024):
            pd, plain = [], []
            for _ in range(self.reps):
                job, job_id = self.new_job("raw")
                for target, samples in (("photodrop", pd), ("plain", plain)):
                    out = (self.fs.path / job / "raw.jpg") if target == "photodrop" else (plain_dir / "raw.jpg")
                    os.sync()
                    t0 = time.monotonic()
                    run(["dd", "if=/dev/zero", f"of={out}", f"bs={bs}", f"count={size // bs}", "conv=fsync",
                         "status=none"])
                    samples.append(time.monotonic() - t0)
                    if target == "plain":
                        out.unlink()
                self.retire_job(job, job_id)
            a, b = size / MIB / median(pd), size / MIB / median(plain)
            row = dict(bench=f"2 dd {size // MIB} MiB, bs={bs // 1024} KiB, conv=fsync", unit="MiB/s",
                       photodrop=a, baseline=b, ratio=a / b, target=">= 0.9", met=a / b >= 0.9,
                       samples_photodrop=pd, samples_baseline=plain)
            rows.append(row)
            self.show(row)
        # How long close waits for the disk after an upload written at an SFTP server's pace.
        pd, plain = [], []
        for _ in range(self.reps):
            job, job_id = self.new_job("close")
            pd.append(paced_close(self.fs.path / job, fsync=False))
            plain.append(paced_close(plain_dir, fsync=True))
            self.retire_job(job, job_id)
            for f in plain_dir.iterdir():
                f.unlink()
        a, b = median(pd), median(plain)
        row = dict(bench="2 close of an 8 MiB file written at 200 MiB/s in 32 KiB writes, median (baseline: fsync + close)",
                   unit="ms", photodrop=a * 1000, baseline=b * 1000, ratio=a / b, target="(info)", met=None,
                   samples_photodrop=pd, samples_baseline=plain)
        rows.append(row)
        self.show(row)
        self.results["raw"] = rows

    # ---------------------------------------------------------- 3: ingest
    def start_ingest(self, settings=None):
        return start(self.stack, "ingest", [INGEST_BIN, "--catalog", CATALOG, "--data", DATA,
                                             "--listen", f"127.0.0.1:{free_port()}", "--socket", WAKE], settings)

    def stop_ingest(self, proc):
        stop_pid(proc)
        # Its entry in the stack is now a no-op (stop_pid checks poll()).

    def ingest_once(self, photos):
        job, job_id = self.new_job("ing")
        for p in photos:  # queued while the service is down
            shutil.copyfile(p, self.fs.path / job / p.name)
        states = self.catalog.states(job_id)
        if states.get("queued", 0) != len(photos):
            raise RuntimeError(f"ingest: expected {len(photos)} queued, catalog says {states}")
        os.sync()
        t0 = time.monotonic()
        proc = self.start_ingest()
        deadline = t0 + 60 + 10 * len(photos)
        while True:
            states = self.catalog.states(job_id)
            if not any(states.get(s, 0) for s in ("receiving", "queued", "processing")):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"ingest did not finish: {states}; see {STATE}/ingest.log")
            time.sleep(0.05)
        elapsed = time.monotonic() - t0
        hwm = vm_field(proc.pid, "VmHWM")
        self.stop_ingest(proc)
        if states.get("ingested", 0) != len(photos):
            raise RuntimeError(f"ingest: not every photo was ingested: {states}")
        self.retire_job(job, job_id)
        return elapsed, hwm

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

    def bench_ingest(self):
        n = self.args.photos or (40 if self.quick else 200)
        n_vt = n
        n_im = 6 if self.quick else 20
        run([sys.executable, REPO / "tests/bench/make_images.py", IMAGES, max(n, 50)], quiet=False)
        photos = sorted(IMAGES.glob("photo*.jpg"))[:n]
        sizes = [p.stat().st_size / 1e6 for p in photos]
        out = Path(tempfile.mkdtemp(dir=STATE, prefix="thumbs-"))
        pd, vt, im, hwms = [], [], [], []
        for _ in range(self.reps):
            e, h = self.ingest_once(photos)
            pd.append(n / e)
            hwms.append(h)
            vt.append(n_vt / self.vipsthumbnail_once(photos[:n_vt], out))
            im.append(n_im / self.convert_once(photos[:n_im], out))
            for f in out.iterdir():
                f.unlink()
        a = median(pd)
        rows = [
            dict(bench=f"3 ingest {n} photos 6000x4000 ({min(sizes):.1f}-{max(sizes):.1f} MB) vs vipsthumbnail 400+1600, "
                       f"sequential, {n_vt} photos", unit="photos/s", photodrop=a, baseline=median(vt),
                 ratio=a / median(vt), target=">= 2", met=a / median(vt) >= 2, samples_photodrop=pd,
                 samples_baseline=vt),
            dict(bench=f"3 ingest {n} photos vs ImageMagick convert 400+1600 (one decode), {n_im} photos, scaled",
                 unit="photos/s", photodrop=a, baseline=median(im), ratio=a / median(im), target=">= 8",
                 met=a / median(im) >= 8, samples_baseline=im),
            dict(bench="3 photodrop-ingest peak RSS", unit="MiB", photodrop=max(hwms) / 1024, baseline=None,
                 ratio=None, target="<= 600 MiB", met=max(hwms) / 1024 <= 600),
        ]
        up = [r for r in self.results.get("upload", []) if r["bench"].startswith("1b") and "photos_per_s" in r]
        if up:
            fastest = max(up, key=lambda r: r["photos_per_s"])
            rows.append(dict(bench=f"3 ingest vs upload rate of {fastest['bench']}", unit="photos/s", photodrop=a,
                             baseline=fastest["photos_per_s"], ratio=a / fastest["photos_per_s"], target=">= 1",
                             met=a >= fastest["photos_per_s"]))
        for r in rows:
            self.show(r)
        self.results["ingest"] = rows

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
        bounded, unbounded = [], []
        for _ in range(self.reps):
            for settings, out in (({}, bounded), ({"PHOTODROP_DECODE_MEMORY": "1T"}, unbounded)):
                job, job_id = self.new_job("mem")
                for p in big + small:
                    shutil.copyfile(p, self.fs.path / job / p.name)
                proc = self.start_ingest(settings)
                deadline = time.monotonic() + 600
                while True:
                    states = self.catalog.states(job_id)
                    if not any(states.get(s, 0) for s in ("receiving", "queued", "processing")):
                        break
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"memory: ingest did not finish: {states}; see {STATE}/ingest.log")
                    time.sleep(0.1)
                out.append(vm_field(proc.pid, "VmHWM") / 1024)
                self.stop_ingest(proc)
                if states.get("ingested", 0) != len(big) + len(small):
                    raise RuntimeError(f"memory: not every photo was ingested: {states}")
                self.retire_job(job, job_id)
        row = dict(bench=f"3b photodrop-ingest peak RSS, {n} progressive 100 MP JPEGs (4:4:4) + {len(small)} photos, "
                         "2 workers, vs no decode budget", unit="MiB", photodrop=max(bounded), baseline=max(unbounded),
                   ratio=max(bounded) / max(unbounded), target="<= 1024 MiB", met=max(bounded) <= 1024,
                   samples_photodrop=bounded, samples_baseline=unbounded)
        self.show(row)
        self.results["memory"] = [row]

    # ---------------------------------------------------------- 4: latency
    def bench_latency(self):
        samples_n = self.args.samples or (20 if self.quick else 50)
        run([sys.executable, REPO / "tests/bench/make_images.py", IMAGES, max(samples_n, 50)], quiet=False)
        photos = sorted(IMAGES.glob("photo*.jpg"))[:samples_n]
        job, job_id = self.new_job("lat")
        proc = self.start_ingest()
        time.sleep(2)  # idle: the service is up and waiting
        lat = []
        for p in photos:
            body = p.read_bytes()
            with open(self.fs.path / job / p.name, "wb") as f:
                f.write(body)
            t0 = time.monotonic()  # close has returned: the upload is durable and queued
            deadline = t0 + 30
            while True:
                row = self.catalog.q("SELECT state FROM uploads WHERE job_id = ? AND filename = ? "
                                     "ORDER BY id DESC LIMIT 1", job_id, p.name)
                if row and row[0][0] not in ("receiving", "queued", "processing"):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"latency: {p.name} not ingested in 30 s")
                time.sleep(0.005)
            lat.append(time.monotonic() - t0)
            if row[0][0] != "ingested":
                raise RuntimeError(f"latency: {p.name} ended {row[0][0]}")
            time.sleep(0.3)
        self.stop_ingest(proc)
        self.retire_job(job, job_id)
        rows = [dict(bench=f"4 close -> ingested, {samples_n} single uploads, median", unit="s",
                     photodrop=median(lat), baseline=None, ratio=None, target="<= 1 s", met=median(lat) <= 1,
                     samples_photodrop=lat),
                dict(bench="4 close -> ingested, p99", unit="s", photodrop=percentile(lat, 99), baseline=None,
                     ratio=None, target="<= 3 s", met=percentile(lat, 99) <= 3)]
        for r in rows:
            self.show(r)
        self.results["latency"] = rows

    # ---------------------------------------------------------- 5: scale
    def bench_scale(self):
        n_jobs, n_uploads = 2000, 10000
        runs = 10 if self.quick else 20
        ctl("tenant", "add", "scale", "--name", "Scale studio")
        db = sqlite3.connect(CATALOG, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA busy_timeout = 30000")
            db.execute("BEGIN IMMEDIATE")
            tenant = db.execute("SELECT id FROM tenants WHERE slug = 'scale'").fetchone()[0]
            db.executemany("INSERT INTO jobs (tenant_id, name, title, status, layout) VALUES (?, ?, ?, 'planned', 'flat')",
                           [(tenant, f"job{i:05d}", f"Job {i}") for i in range(1, n_jobs)])
            db.execute("INSERT INTO jobs (tenant_id, name, title, status, layout) VALUES (?, 'big', 'Big job', "
                       "'planned', 'flat')", (tenant,))
            big = db.execute("SELECT id FROM jobs WHERE tenant_id = ? AND name = 'big'", (tenant,)).fetchone()[0]
            now = time.time_ns()
            db.executemany(
                "INSERT INTO uploads (job_id, section, filename, size, mtime_ns, uid, state, data_path, created_ns, "
                "updated_ns) VALUES (?, 'individuals', ?, 9000000, ?, 0, 'ingested', ?, ?, ?)",
                [(big, f"IMG_{i:05d}.jpg", now, f"scale/originals/{i:05d}", now, now) for i in range(n_uploads)])
            db.execute("COMMIT")
        finally:
            db.close()
        mount = Mount(self.stack, "scale")
        plain_root = STATE / "plain-scale"
        (plain_root / "big").mkdir(parents=True)
        for i in range(1, n_jobs):
            (plain_root / f"job{i:05d}").mkdir()
        for i in range(n_uploads):
            with open(plain_root / "big" / f"IMG_{i:05d}.jpg", "wb") as f:
                f.truncate(9000000)
        rows = []
        for what, pd_dir, plain_dir, count in (("tenant with 2,000 jobs", mount.path, plain_root, n_jobs),
                                               ("job with 10,000 uploads", mount.path / "big", plain_root / "big",
                                                n_uploads)):
            for cmd in (["ls"], ["ls", "-l"]):
                listed = run([*cmd, pd_dir]).stdout.count("\n") - (1 if "-l" in cmd else 0)
                if listed != count:
                    raise RuntimeError(f"scale: {' '.join(cmd)} {pd_dir} listed {listed}, not {count}")
                pd, plain = [], []
                for _ in range(runs):
                    for d, samples in ((pd_dir, pd), (plain_dir, plain)):
                        t0 = time.monotonic()
                        subprocess.run([*cmd, str(d)], stdout=subprocess.DEVNULL, check=True)
                        samples.append(time.monotonic() - t0)
                a, b = median(pd) * 1000, median(plain) * 1000
                row = dict(bench=f"5 `{' '.join(cmd)}` of a {what}", unit="ms", photodrop=a, baseline=b,
                           ratio=a / b, target="<= 50 ms" if cmd == ["ls"] else "(info)",
                           met=a <= 50 if cmd == ["ls"] else None, samples_photodrop=pd, samples_baseline=plain)
                rows.append(row)
                self.show(row)
        self.results["scale"] = rows

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
                    host=platform.node(), kernel=platform.release(), cpus=os.cpu_count(),
                    cpu=next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")),
                             "?"),
                    mem_gib=round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
                    commit=run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], check=False).stdout.strip(),
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


BENCHES = {"upload": "bench_upload", "raw": "bench_raw", "ingest": "bench_ingest", "memory": "bench_memory",
           "latency": "bench_latency", "scale": "bench_scale"}


def main():
    p = argparse.ArgumentParser(description="photodrop's benchmarks (see BENCHMARKS.md)")
    p.add_argument("--quick", action="store_true", help="smaller sizes (the default first pass)")
    p.add_argument("--full", action="store_true", help="the sizes of issue 5 (about 30-40 minutes)")
    p.add_argument("--only", action="append", choices=list(BENCHES), help="run only this benchmark (repeatable)")
    p.add_argument("--reps", type=int, help="alternated runs per figure (default 3)")
    p.add_argument("--photos", type=int, help="photos for the ingest benchmark")
    p.add_argument("--samples", type=int, help="uploads for the latency benchmark")
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
            log(f"bench: {name} took {time.monotonic() - t0:.0f} s")
    finally:
        r.stack.close()
        if args.only is None or r.results:
            r.report(started)


if __name__ == "__main__":
    main()
