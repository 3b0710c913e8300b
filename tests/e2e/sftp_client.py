#!/usr/bin/python3
"""A scripted SFTP client (paramiko) for exact operation sequences.

usage: sftp_client.py PORT USER PASSWORD SCENARIO [ARGS...]
Prints one JSON object: what the client saw. Errors of the server are results
({"error": ...}), not crashes.
"""
import hashlib
import json
import socket
import sys

import paramiko

CHUNK = 32768


def connect(port, user, password):
    transport = paramiko.Transport(("127.0.0.1", port))
    transport.connect(username=user, password=password)
    return transport


def upload(sftp, path, data, mode="w"):
    with sftp.open(path, mode) as f:
        f.set_pipelined(True)
        for i in range(0, len(data), CHUNK):
            f.write(data[i:i + CHUNK])


def upload_then_rename(sftp, temp, final, data, posix):
    upload(sftp, temp, data)
    before = sftp.listdir(final.rsplit("/", 1)[0])
    if posix:
        sftp.posix_rename(temp, final)
    else:
        sftp.rename(temp, final)
    return before


def main():
    port, user, password, scenario, *args = sys.argv[1:]
    port = int(port)
    try:
        transport = connect(port, user, password)
    except paramiko.AuthenticationException:
        return {"error": "authentication failed"}
    except (paramiko.SSHException, socket.error) as e:
        return {"error": "connection failed: %s" % e}
    try:
        if scenario == "auth":
            return {"ok": True}
        if scenario == "exec":
            chan = transport.open_session()
            chan.exec_command(args[0])
            out = chan.makefile("rb").read().decode(errors="replace")
            return {"output": out, "status": chan.recv_exit_status()}
        if scenario == "shell":
            chan = transport.open_session()
            try:
                chan.get_pty()
                pty = True
            except paramiko.SSHException:
                pty = False
            try:
                chan.invoke_shell()
                chan.send(b"id\nexit\n")
            except (paramiko.SSHException, socket.error) as e:
                return {"pty": pty, "output": "", "error": "no shell: %s" % e}
            chan.settimeout(5)
            out = b""
            try:
                while True:
                    part = chan.recv(4096)
                    if not part:
                        break
                    out += part
            except socket.timeout:
                pass
            return {"pty": pty, "output": out.decode(errors="replace")}
        if scenario == "forward":
            try:
                chan = transport.open_channel("direct-tcpip", ("127.0.0.1", int(args[0])), ("127.0.0.1", 0))
                chan.close()
                return {"forwarded": True}
            except paramiko.ChannelException as e:
                return {"forwarded": False, "error": str(e)}

        sftp = paramiko.SFTPClient.from_transport(transport)
        try:
            return run_sftp(sftp, scenario, args)
        except IOError as e:
            return {"error": str(e)}
    finally:
        transport.close()


def run_sftp(sftp, scenario, args):
    if scenario == "listdir":
        return {"names": sorted(sftp.listdir(args[0]))}
    if scenario == "read":
        with sftp.open(args[0], "r") as f:
            return {"sha256": hashlib.sha256(f.read()).hexdigest()}
    if scenario == "put":
        upload(sftp, args[0], open(args[1], "rb").read())
        return {"ok": True}
    if scenario == "mkdir":
        sftp.mkdir(args[0])
        return {"ok": True}
    if scenario == "winscp":
        # OPEN X.filepart (WRITE|CREAT|TRUNC), WRITEs, CLOSE, REMOVE X if it exists,
        # SSH_FXP_RENAME, SETSTAT mtime on X.
        folder, name, datafile, mtime = args[0], args[1], args[2], int(args[3])
        final = folder + "/" + name
        upload(sftp, final + ".filepart", open(datafile, "rb").read())
        try:
            sftp.remove(final)
        except IOError:
            pass
        sftp.rename(final + ".filepart", final)
        sftp.utime(final, (mtime, mtime))
        st = sftp.stat(final)
        return {"mtime": st.st_mtime, "size": st.st_size, "names": sorted(sftp.listdir(folder))}
    if scenario in ("rclone", "cyberduck"):
        folder, name, datafile = args[0], args[1], args[2]
        final = folder + "/" + name
        temp = final + (".a1b2c3d4.partial" if scenario == "rclone" else "-8a7c2f")
        before = upload_then_rename(sftp, temp, final, open(datafile, "rb").read(), scenario == "rclone")
        return {"before_rename": before, "names": sorted(sftp.listdir(folder)), "size": sftp.stat(final).st_size}
    if scenario == "resume":
        # The first part, then OPEN without TRUNC and WRITE at the offset.
        path, datafile, split = args[0], args[1], int(args[2])
        data = open(datafile, "rb").read()
        upload(sftp, path, data[:split])
        with sftp.open(path, "r+") as f:
            f.seek(split)
            f.set_pipelined(True)
            for i in range(split, len(data), CHUNK):
                f.write(data[i:i + CHUNK])
        with sftp.open(path, "r") as f:
            return {"sha256": hashlib.sha256(f.read()).hexdigest()}
    return {"error": "unknown scenario " + scenario}


if __name__ == "__main__":
    try:
        result = main()
    except Exception as e:  # the server's answer was unexpected: report it, do not crash
        result = {"error": "%s: %s" % (type(e).__name__, e)}
    print(json.dumps(result))
