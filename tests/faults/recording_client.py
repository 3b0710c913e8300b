"""An SFTP client that records what the server acknowledged.

paramiko's SFTPFile.close() swallows the status of CLOSE, and with pipelined
writes it never looks at the WRITE statuses either. A client that trusts the
server (FileZilla, WinSCP, OpenSSH sftp) treats a file as stored exactly when
every WRITE and the CLOSE answered SSH_FX_OK. This client sends the requests
itself, reads each status, and keeps one Record per file: its path, the
SHA-256 and length of its bytes, and whether the server acknowledged it.
"""
import dataclasses
import hashlib
import socket
import threading
import time

import paramiko
from paramiko.sftp import CMD_CLOSE, CMD_STATUS

from harness import PASSWORD

CHUNK = 32768
CONNECT_TIMEOUT = 15
REQUEST_TIMEOUT = 30  # a request the server does not answer within this fails the transfer


@dataclasses.dataclass
class Record:
    """One file a client tried to upload, and what the server said."""
    path: str
    sha256: str
    size: int
    acknowledged: bool = False
    error: str = ""  # the first error status or lost connection, when not acknowledged
    close_status: str = ""  # "OK", the CLOSE's error, or "" when CLOSE was never answered
    attempts: int = 0
    user: str = ""
    failures: list = dataclasses.field(default_factory=list)  # the error of each attempt that failed


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class ServerError(Exception):
    """An error status from the server, or a connection that went away mid-request."""


# What paramiko raises: IOError/EOFError for an error status (and for some
# lost connections), SSHException or socket errors when the connection is gone.
FAILURES = (IOError, EOFError, paramiko.SSHException)


def failure(sftp, error):
    """The ServerError for what paramiko raised; "connection lost: ..." when the channel is gone."""
    channel = sftp.get_channel() if sftp is not None else None
    gone = channel is None or channel.closed or not channel.get_transport().is_active()
    if gone or isinstance(error, (paramiko.SSHException, socket.timeout)):
        return ServerError("connection lost: %s" % describe(error))
    return ServerError(describe(error))


def describe(error):
    text = str(error) or type(error).__name__
    return "%s: %s" % (type(error).__name__, text)


def _read_status(sftp, request):
    """Waits for the answer to `request`; raises ServerError on an error status."""
    try:
        kind, _ = sftp._read_response(request)  # raises IOError/EOFError on an error status
    except FAILURES as e:
        raise failure(sftp, e) from e
    if kind != CMD_STATUS:
        raise ServerError("expected a status, got packet type %d" % kind)


class Session:
    """One SSH connection and its SFTP channel."""

    def __init__(self, port, user, password=PASSWORD):
        self.port = port
        self.user = user
        self.password = password
        self.transport = None
        self.sftp = None
        self.connect()

    def connect(self):
        self.close()
        sock = socket.create_connection(("127.0.0.1", self.port), CONNECT_TIMEOUT)
        transport = paramiko.Transport(sock)
        try:
            transport.connect(username=self.user, password=self.password)
            self.sftp = paramiko.SFTPClient.from_transport(transport)
        except BaseException:
            transport.close()
            raise
        self.sftp.get_channel().settimeout(REQUEST_TIMEOUT)
        self.transport = transport

    def alive(self):
        return self.transport is not None and self.transport.is_active()

    def close(self):
        if self.transport is not None:
            self.transport.close()
        self.transport = None
        self.sftp = None

    # --- the steps of an upload, each with its statuses checked ---------------------------

    def open(self, path, mode):
        """sftp.open; raises ServerError when the server refuses."""
        try:
            f = self.sftp.open(path, mode)
        except FAILURES as e:
            raise failure(self.sftp, e) from e
        f.set_pipelined(True)
        return f

    def write(self, f, data, offset=0, progress=None):
        """Pipelined WRITEs of `data` at `offset`, then every WRITE's status. `progress(n)` after each send."""
        f.seek(offset)
        try:
            for start in range(0, len(data), CHUNK):
                f.write(data[start:start + CHUNK])
                if progress:
                    progress(start + CHUNK)
            f.flush()
        except FAILURES as e:  # paramiko reads some statuses itself when many are pending
            raise failure(self.sftp, e) from e
        self.wait_for_writes(f)

    def wait_for_writes(self, f):
        """Reads the status of every WRITE still pending on `f`; raises on the first error."""
        error = None
        while f._reqs:
            request = f._reqs.popleft()
            try:
                _read_status(self.sftp, request)
            except ServerError as e:
                error = error or e
                if "connection lost" in str(e):
                    break
        if error:
            raise error

    def close_file(self, f):
        """Sends CLOSE and returns its status: "OK" or the error. Never sends a second CLOSE."""
        f._closed = True  # paramiko's own close (and __del__) must not send CLOSE again
        try:
            request = self.sftp._async_request(type(None), CMD_CLOSE, f.handle)
        except FAILURES as e:
            return str(failure(self.sftp, e))
        try:
            _read_status(self.sftp, request)
        except ServerError as e:
            return str(e)
        return "OK"

    def upload(self, path, data, mode="w", offset=0, progress=None, record=None):
        """Writes `data` (the file's bytes from `offset`) and closes; fills and returns the Record.

        With `offset`, `record` describes the whole file (its hash and length) of which
        `data` is the rest.
        """
        if record is None:
            record = Record(path, sha256(data), len(data), user=self.user)
        record.attempts += 1
        record.acknowledged, record.error, record.close_status = False, "", ""
        try:
            f = self.open(path, mode)
        except ServerError as e:
            record.error = "open: %s" % e
            record.failures.append(record.error)
            return record
        try:
            self.write(f, data, offset, progress)
        except ServerError as e:
            record.error = "write: %s" % e
        record.close_status = self.close_file(f)
        if record.close_status != "OK" and not record.error:
            record.error = "close: %s" % record.close_status
        record.acknowledged = not record.error
        if record.error:
            record.failures.append(record.error)
        return record


VERIFIED = "refused as received already, and read back whole"


class ResumingUploader:
    """Uploads files the way a patient client does. On any failure it reconnects
    and stats the file: a file shorter than the client's is continued from the
    size the server reports (open 'r+', write from that offset). A file of the
    full size whose CLOSE was lost is read back and, if it holds the client's
    bytes, its last chunk is written again for a CLOSE that answers; when the
    server refuses that because it has the file already, it is done. Anything
    else, or a resume the server refuses, is overwritten from the start. A
    bounded number of times."""

    def __init__(self, port, user, attempts=8, deadline=60.0):
        self.port = port
        self.user = user
        self.attempts = attempts
        self.deadline = deadline
        self.session = None

    def _session(self, until):
        while self.session is None or not self.session.alive():
            try:
                self.session = Session(self.port, self.user)
            except (OSError, EOFError, paramiko.SSHException) as e:
                self.session = None
                if time.monotonic() > until:
                    raise ServerError("cannot reconnect: %s" % describe(e)) from e
                time.sleep(0.3)
        return self.session

    def upload(self, path, data):
        record = Record(path, sha256(data), len(data), user=self.user)
        until = time.monotonic() + self.deadline
        overwrite = True  # the first attempt makes the file
        for attempt in range(self.attempts):
            if time.monotonic() > until:
                break
            try:
                session = self._session(until)
            except ServerError as e:
                record.error = str(e)
                break
            mode, offset, whole = ("w", 0, False) if overwrite else self._next_step(session, path, data, record)
            session.upload(path, data[offset:], mode, offset=offset, record=record)
            # A refusal is "Permission denied"; any other failure (a dead mount) is tried again.
            refused = mode == "r+" and record.error.startswith("open:") and "Permission denied" in record.error
            if refused and whole:  # the server has the file already, and says so
                record.acknowledged, record.error, record.close_status = True, "", VERIFIED
            overwrite = refused
            if record.acknowledged:
                break
            # Whatever failed (a dead mount, a killed session, an error status):
            # try again on a fresh connection.
            session.close()
            time.sleep(min(0.2 * (attempt + 1), 1.0))
        return record

    def _next_step(self, session, path, data, record):
        """How to go on after a failure: (mode, offset, whether the server holds the whole file)."""
        stored = self._stored_size(session, path)
        if stored is None or not 0 < stored <= len(data):
            return "w", 0, False
        if stored < len(data):
            return "r+", stored, False
        if not self._holds(session, path, record.sha256):
            return "w", 0, False
        # All there, but its CLOSE was lost: writing the last chunk again gets
        # a CLOSE that queues it, if the server has not already.
        return "r+", max(0, len(data) - CHUNK), True

    @staticmethod
    def _stored_size(session, path):
        """The size the server reports; None when there is no such file (or no answer)."""
        try:
            return session.sftp.stat(path).st_size
        except FAILURES:
            return None

    @staticmethod
    def _holds(session, path, expected):
        try:
            with session.sftp.open(path, "r") as f:
                return sha256(f.read()) == expected
        except FAILURES:
            return False

    def close(self):
        if self.session is not None:
            self.session.close()


def run_clients(port, users, files_per_client, timeout, on_progress=None):
    """One ResumingUploader thread per (user, files) pair; every Record when all are done.

    `files_per_client` is a list (one entry per client) of [(path, bytes), ...];
    `users[i % len(users)]` logs in client i.
    """
    records = [[] for _ in files_per_client]
    crashed = []

    def client(i):
        uploader = ResumingUploader(port, users[i % len(users)])
        try:
            for path, data in files_per_client[i]:
                records[i].append(uploader.upload(path, data))
                if on_progress:
                    on_progress()
        except Exception as e:  # noqa: BLE001 - a bug of this client: reported below
            crashed.append("client %d: %s" % (i, describe(e)))
            raise
        finally:
            uploader.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(len(files_per_client))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    stuck = sum(t.is_alive() for t in threads)
    assert stuck == 0, "%d clients did not finish within %d s" % (stuck, timeout)
    assert not crashed, "clients crashed: %s" % crashed
    return [r for per_client in records for r in per_client]
