#!/usr/bin/env python3
"""A webhook receiver for test_webhooks, independent of photodrop's code.

Listens on 127.0.0.1 (a free port, written to --port-file once listening) and
appends one JSON line per request to --log: path, headers (lower-case names),
body, time received, the status it answered, and whether the Standard Webhooks
signature is right (recomputed here with Python's hmac; null when the path has
no secret).

--config is a JSON file, read again at each request, by path:
  {"/a": {"secret": "whsec_...",  # check signatures with it
          "fail": 2,              # answer 500 to the first 2 requests of each webhook-id
          "fail_ids": ["evt_7"],  # ... only of these webhook-ids (default: all)
          "hang": 1,              # first N requests of each webhook-id: wait hang_seconds first
          "hang_seconds": 5}}
It exits after --lifetime seconds whatever happens, so that it never outlives its test.
"""
import argparse
import base64
import hashlib
import hmac
import http.server
import json
import os
import ssl
import threading
import time

parser = argparse.ArgumentParser()
parser.add_argument("--port-file", required=True)
parser.add_argument("--log", required=True)
parser.add_argument("--config", required=True)
parser.add_argument("--lifetime", type=float, default=120)
parser.add_argument("--tls-cert")
parser.add_argument("--tls-key")
args = parser.parse_args()

lock = threading.Lock()
seen = {}  # (path, webhook-id) -> requests so far


def signature_ok(secret, headers, body):
    key = base64.b64decode(secret[len("whsec_"):])
    content = "{}.{}.".format(headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")).encode() + body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    for candidate in headers.get("webhook-signature", "").split(" "):
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return True
    return False


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def do_POST(self):
        received = time.time()
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            with open(args.config) as f:
                config = json.load(f).get(self.path, {})
        except (OSError, ValueError):
            config = {}
        msg_id = headers.get("webhook-id", "")
        with lock:
            count = seen[(self.path, msg_id)] = seen.get((self.path, msg_id), 0) + 1
        fail_ids = config.get("fail_ids")
        failing = count <= config.get("fail", 0) and (fail_ids is None or msg_id in fail_ids)
        hanging = count <= config.get("hang", 0)
        status = 500 if failing else 200
        record = {
            "path": self.path,
            "headers": headers,
            "body": body.decode("utf-8", "replace"),
            "received": received,
            "status": status,
            "hung": hanging,
            "signature_ok": signature_ok(config["secret"], headers, body) if "secret" in config else None,
        }
        with lock:
            with open(args.log, "a") as f:
                f.write(json.dumps(record) + "\n")
        if hanging:
            time.sleep(config.get("hang_seconds", 5))
        answer = b"{}" if status == 200 else b"try again"
        try:
            self.send_response(status)
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
        except OSError:
            pass  # the client gave up waiting: what a hang is for


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
if args.tls_cert:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.tls_cert, args.tls_key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
with open(args.port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(args.port_file + ".tmp", args.port_file)
time.sleep(args.lifetime)
