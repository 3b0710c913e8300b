#!/usr/bin/env python3
"""Reads a client set-up file as its client would read it, and prints what it
holds as JSON: read_client_config.py FORMAT FILE.

filezilla: XML, as FileZilla's Site Manager import parses it; winscp: INI with
PuTTY's %XX escapes undone and the password revealed as WinSCP does; cyberduck:
an XML property list; rclone: INI, the password revealed by `rclone reveal`.
Any file that does not parse fails with a traceback (exit 1).
"""
import base64
import configparser
import json
import plistlib
import subprocess
import sys
import urllib.parse
import xml.etree.ElementTree as ET


def filezilla(path):
    root = ET.parse(path).getroot()
    out = {"root": root.tag, "servers": []}
    for server in root.findall("Servers/Server"):
        fields = {"children": [child.tag for child in server]}
        for child in server:
            fields[child.tag] = child.text or ""
            if child.tag == "Pass":
                fields["Pass encoding"] = child.get("encoding")
                fields["password"] = base64.b64decode(child.text).decode()
        fields["text"] = (server[-1].tail or "").strip() if len(server) else ""
        out["servers"].append(fields)
    return out


def winscp_reveal(stored, key):
    # WinSCP's Security.cpp: each byte is ~(hex ^ 0xA3); flag 0xFF, dummy, length, shift.
    data = [(~(int(stored[i:i + 2], 16) ^ 0xA3)) & 0xFF for i in range(0, len(stored), 2)]
    assert data[0] == 0xFF, "no WinSCP password flag"
    length, shift = data[2], data[3]
    plain = bytes(data[4 + shift:4 + shift + length]).decode()
    assert plain.startswith(key), "the password's key is not user + host"
    return plain[len(key):]


def ini(path, comments):
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",), comment_prefixes=comments,
                                       strict=True)
    parser.optionxform = str
    with open(path, encoding="ascii") as f:
        parser.read_file(f)
    return parser


def winscp(path):
    parser = ini(path, (";",))
    out = {"sections": [urllib.parse.unquote(s) for s in parser.sections()]}
    for section in parser.sections():
        values = {k: urllib.parse.unquote(v) for k, v in parser[section].items()}
        if "Password" in values:
            values["password"] = winscp_reveal(values["Password"], values["UserName"] + values["HostName"])
        out[urllib.parse.unquote(section)] = values
    return out


def cyberduck(path):
    with open(path, "rb") as f:
        return plistlib.load(f)


def rclone(path):
    parser = ini(path, ("#",))
    out = {"sections": parser.sections()}
    for section in parser.sections():
        values = dict(parser[section].items())
        if "pass" in values:
            revealed = subprocess.run(["rclone", "reveal", values["pass"]], capture_output=True, text=True,
                                      check=True, timeout=30)
            values["password"] = revealed.stdout.rstrip("\n")
        out[section] = values
    with open(path) as f:
        out["comments"] = [line[1:].strip() for line in f if line.startswith("#")]
    return out


if __name__ == "__main__":
    readers = {"filezilla": filezilla, "winscp": winscp, "cyberduck": cyberduck, "rclone": rclone}
    print(json.dumps(readers[sys.argv[1]](sys.argv[2])))
