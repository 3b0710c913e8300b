#!/usr/bin/python3
"""A scripted FTP client (Python's ftplib) for exact command sequences.

usage: ftp_client.py PORT USER PASSWORD tls|plain SCENARIO [ARGS...]
Prints one JSON object: what the client saw. The server's refusals are
results ({"error": "550 ..."}), not crashes; every reply of a step is kept.
"""
import ftplib
import hashlib
import io
import json
import socket
import ssl
import struct
import sys
import time

TIMEOUT = 20


class Client(ftplib.FTP_TLS):
    """FTP_TLS whose data connections resume the control connection's TLS
    session, as FileZilla's do (proftpd would take them either way)."""

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.sock.session)
        return conn, size


def connect(port, user, password, mode):
    ftp = login(port, user, password, mode)
    ftp.port, ftp.user, ftp.password, ftp.mode = port, user, password, mode
    return ftp


def login(port, user, password, mode):
    if mode == "plain":
        ftp = ftplib.FTP()
        ftp.connect("127.0.0.1", port, timeout=TIMEOUT)
        ftp.login(user, password)
        return ftp
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    ftp = Client(context=context)
    ftp.connect("127.0.0.1", port, timeout=TIMEOUT)
    ftp.auth()
    ftp.login(user, password)
    ftp.prot_p()
    return ftp


def mlsd(ftp, path):
    return {name: facts for name, facts in ftp.mlsd(path, ["type", "size", "modify"])}


def stor(ftp, path, data, rest=None):
    return ftp.storbinary("STOR " + path, io.BytesIO(data), rest=rest)


def retr(ftp, path):
    out = io.BytesIO()
    ftp.retrbinary("RETR " + path, out.write)
    return out.getvalue()


def run(ftp, scenario, args):
    if scenario == "pwd":
        return {"pwd": ftp.pwd()}
    if scenario == "nlst":
        return {"names": sorted(name.rsplit("/", 1)[-1] for name in ftp.nlst(*args))}
    if scenario == "mlsd":
        return {"facts": mlsd(ftp, args[0])}
    if scenario == "mkd":
        return {"reply": ftp.sendcmd("MKD " + args[0])}
    if scenario == "rmd":
        return {"reply": ftp.sendcmd("RMD " + args[0])}
    if scenario == "mv":
        return {"reply": ftp.rename(*args)}
    if scenario == "put":
        path, datafile = args
        return {"reply": stor(ftp, path, open(datafile, "rb").read())}
    if scenario == "get":
        data = retr(ftp, args[0])
        return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    if scenario == "filezilla":
        # What FileZilla sends for one upload into a folder: CWD, TYPE I, PASV, MLSD
        # of the folder, STOR, then MFMT with the local file's mtime.
        folder, name, datafile, mtime = args
        replies = [ftp.cwd(folder), ftp.voidcmd("TYPE I")]
        before = mlsd(ftp, "")
        replies.append(stor(ftp, name, open(datafile, "rb").read()))
        replies.append(ftp.sendcmd("MFMT %s %s" % (mtime, name)))
        return {"replies": replies, "before": sorted(before), "after": mlsd(ftp, "")}
    if scenario == "rest":
        # A transfer that ended after CUT bytes, resumed with REST CUT + STOR.
        path, datafile, cut = args
        data, cut = open(datafile, "rb").read(), int(cut)
        first = stor(ftp, path, data[:cut])
        size_after_cut = ftp.size(path)
        second = stor(ftp, path, data[cut:], rest=cut)
        return {"replies": [first, second], "size_after_cut": size_after_cut, "size": ftp.size(path)}
    if scenario == "appe":
        path, datafile, cut = args
        data, cut = open(datafile, "rb").read(), int(cut)
        first = stor(ftp, path, data[:cut])
        second = ftp.storbinary("APPE " + path, io.BytesIO(data[cut:]))
        return {"replies": [first, second], "size": ftp.size(path)}
    if scenario == "resume":
        # REST at the size the server has, then STOR of the rest: what a client's resume does.
        path, datafile = args
        ftp.voidcmd("TYPE I")  # SIZE is refused in ASCII mode
        data, have = open(datafile, "rb").read(), ftp.size(path)
        return {"had": have, "reply": stor(ftp, path, data[have:], rest=have), "size": ftp.size(path)}
    if scenario == "race":
        # Two sessions STOR the same name at once: the first has sent half its
        # bytes when the second starts; each is told what it is told.
        path, first_file, second_file = args
        second = connect(ftp.port, ftp.user, ftp.password, ftp.mode)
        first_data, second_data = open(first_file, "rb").read(), open(second_file, "rb").read()
        half = len(first_data) // 2
        ftp.voidcmd("TYPE I")
        second.voidcmd("TYPE I")
        conn = ftp.transfercmd("STOR " + path)
        conn.sendall(first_data[:half])
        try:
            other = second.transfercmd("STOR " + path)
            other.sendall(second_data)
            other.close()
            told_second = second.voidresp()
        except ftplib.Error as e:
            told_second = str(e)
        conn.sendall(first_data[half:])
        conn.close()
        try:
            told_first = ftp.voidresp()
        except ftplib.Error as e:
            told_first = str(e)
        second.quit()
        return {"first": told_first, "second": told_second}
    if scenario == "rename":
        # Upload under a temporary name, then RNFR/RNTO to the real one.
        temp, final, datafile = args
        put = stor(ftp, temp, open(datafile, "rb").read())
        return {"replies": [put, ftp.sendcmd("RNFR " + temp), ftp.sendcmd("RNTO " + final)]}
    if scenario == "dele":
        return {"reply": ftp.delete(args[0])}
    if scenario == "escape":
        # Every way out of the chroot that a client can ask for.
        seen = {}
        for attempt in ["/..", "/../..", "../../etc", "/etc", "/proc"]:
            try:
                seen[attempt] = ftp.cwd(attempt) + " " + ftp.pwd()
            except ftplib.Error as e:
                seen[attempt] = str(e)
            ftp.cwd("/")
        try:
            seen["RETR /etc/passwd"] = str(len(retr(ftp, "/etc/passwd")))
        except ftplib.Error as e:
            seen["RETR /etc/passwd"] = str(e)
        return {"seen": seen, "root": sorted(name.rsplit("/", 1)[-1] for name in ftp.nlst("/"))}
    if scenario == "camera":
        # A camera's upload as their manuals describe it: passive mode, MKD of
        # each level of its folder (a folder that is there already answers
        # 550, and the camera goes on), CWD into it, TYPE I, STOR under the
        # final name; then the listing of its folder.
        folder, name, datafile = args
        replies, path = [], ""
        for part in folder.split("/"):
            path = path + "/" + part if path else part
            try:
                replies.append(ftp.sendcmd("MKD " + path))
            except ftplib.error_perm as e:
                replies.append(str(e))
        replies += [ftp.cwd(folder), ftp.voidcmd("TYPE I"), stor(ftp, name, open(datafile, "rb").read())]
        return {"replies": replies, "names": sorted(ftp.nlst())}
    if scenario == "camera_cut":
        # The camera's connection drops mid-file: after CUT bytes of the STOR
        # both connections are reset (RST), as when it leaves the network.
        folder, name, datafile, cut = args
        ftp.cwd(folder)
        ftp.voidcmd("TYPE I")
        conn = ftp.transfercmd("STOR " + name)
        conn.sendall(open(datafile, "rb").read()[:int(cut)])
        time.sleep(0.5)  # the server has read what was sent: a reset drops what it has not
        for s in (conn, ftp.sock):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        return {"cut": int(cut)}
    raise SystemExit("unknown scenario " + scenario)


def main():
    port, user, password, mode, scenario, *args = sys.argv[1:]
    try:
        ftp = connect(int(port), user, password, mode)
    except (ftplib.Error, EOFError, OSError) as e:
        return {"error": "login: %s" % (str(e) or type(e).__name__)}
    try:
        if scenario == "login":
            # A refusal may come right after PASS, at the first command.
            return {"ok": True, "pwd": ftp.pwd()}
        return run(ftp, scenario, args)
    except (ftplib.Error, EOFError, OSError) as e:
        return {"error": str(e) or type(e).__name__}
    finally:
        try:
            ftp.quit()
        except (ftplib.Error, EOFError, OSError):
            ftp.close()


if __name__ == "__main__":
    print(json.dumps(main()))
