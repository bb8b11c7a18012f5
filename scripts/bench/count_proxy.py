#!/usr/bin/env python3
"""A counting HTTP/1.1 forwarder for scripts/bench/run-http: forwards every request to the
cdsync server unchanged (Host header included, so the server's links point back here) and
counts them. GET /__count answers the number of requests forwarded so far. With
COUNT_PROXY_LOG=1 each forwarded request's method and path go to stderr.

    count_proxy.py UPSTREAM_PORT   prints "listening on PORT", then serves on 127.0.0.1
"""
import http.client
import http.server
import os
import sys
import threading

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade", "te", "trailer"}
upstream_port = int(sys.argv[1])
lock = threading.Lock()
count = 0
local = threading.local()


def connection():
    if getattr(local, "conn", None) is None:
        local.conn = http.client.HTTPConnection("127.0.0.1", upstream_port)
    return local.conn


class Forwarder(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def forward(self):
        global count
        if self.path == "/__count":
            self.answer(200, [("Content-Type", "text/plain")], str(count).encode())
            return
        with lock:
            count += 1
        if os.environ.get("COUNT_PROXY_LOG") == "1":
            print(self.command, self.path, file=sys.stderr, flush=True)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        for attempt in (1, 2):  # a kept-alive upstream connection may have been closed
            conn = connection()
            try:
                conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for name, value in self.headers.items():
                    if name.lower() not in HOP_BY_HOP:
                        conn.putheader(name, value)
                conn.endheaders(body)
                response = conn.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                conn.close()
                local.conn = None
                if attempt == 2:
                    raise
        headers = [(n, v) for n, v in response.getheaders() if n.lower() not in HOP_BY_HOP and n.lower() != "content-length"]
        self.answer(response.status, headers, data)

    def answer(self, status, headers, data):
        self.send_response_only(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = forward


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Forwarder)
print(f"listening on {server.server_address[1]}", flush=True)
server.serve_forever()
