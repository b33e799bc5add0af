#!/usr/bin/env python3
"""A web server that is not Emoncms, for ctest cli/setup-diagnosis.

usage: fake_web.py MODE PORT_FILE [UPSTREAM]

  html     every request: 200, an HTML page (a router's or a default page)
  404      every request: 404 with an HTML error page
  prefix   404 at the root; requests under /emoncms/ go to UPSTREAM (an
           `emoncrypt serve` base URL) with the prefix cut, as an Emoncms
           installed under http://host/emoncms answers

Listens on 127.0.0.1, an ephemeral port, written to PORT_FILE when ready.
"""
import http.server
import sys
import urllib.error
import urllib.request

MODE = sys.argv[1]
PORT_FILE = sys.argv[2]
UPSTREAM = sys.argv[3] if len(sys.argv) > 3 else None

PAGE = (b"<!DOCTYPE html>\n<html><head><title>Router login</title></head>"
        b"<body><form>password</form></body></html>\n")
NOT_FOUND = (b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>"
             b"<body><h1>Not Found</h1></body></html>\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, ctype, body):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if MODE == "html":
            return self.answer(200, "text/html; charset=utf-8", PAGE)
        if MODE == "prefix" and self.path.startswith("/emoncms/"):
            req = urllib.request.Request(UPSTREAM + self.path[len("/emoncms"):],
                                         data=body if self.command == "POST" else None,
                                         method=self.command)
            for h in ("Content-Type", "Authorization"):
                if self.headers.get(h) is not None:
                    req.add_header(h, self.headers.get(h))
            try:
                with urllib.request.urlopen(req, timeout=5) as r:
                    return self.answer(r.status, r.headers.get("Content-Type", "text/plain"), r.read())
            except urllib.error.HTTPError as e:
                return self.answer(e.code, e.headers.get("Content-Type", "text/plain"), e.read())
        return self.answer(404, "text/html", NOT_FOUND)

    do_GET = do_POST = do_PUT = handle_any


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.replace(PORT_FILE + ".tmp", PORT_FILE)
srv.serve_forever()
