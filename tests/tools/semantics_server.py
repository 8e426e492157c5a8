#!/usr/bin/env python3
"""A target for the HttpUser-semantics suite (it_http): cookies, redirects, basic auth, TLS.

Loopback only. Counts every request by path at GET /__counts (JSON), as the demo target does.
  GET /login?user=U        302 to /home, Set-Cookie: session=U
  GET /home?user=U         200 if the request carries session=U, 403 for another user's cookie,
                           401 without one
  GET /redirect/N          302 to /redirect/N-1, ... /redirect/0 is 200
  GET /loop                302 to itself (a redirect loop)
  GET /basic               200 with Authorization: Basic base64(alice:s3cret), else 401
  GET /whoami              200, the client certificate's CN (https with --client-ca)
With --cert/--key it serves https; with --client-ca it requires a client certificate.
"""
import argparse
import base64
import http.server
import json
import ssl
import sys
import threading
from urllib.parse import parse_qs, urlparse

COUNTS = {}
LOCK = threading.Lock()
GOOD_AUTH = "Basic " + base64.b64encode(b"alice:s3cret").decode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def cookie(self, name):
        for part in (self.headers.get("Cookie") or "").split(";"):
            k, _, v = part.strip().partition("=")
            if k == name:
                return v
        return None

    def do_GET(self):
        u = urlparse(self.path)
        q = parse_qs(u.query)
        if u.path == "/__counts":
            with LOCK:
                body = json.dumps(COUNTS).encode()
            return self.reply(200, body, [("Content-Type", "application/json")])
        key = u.path if not u.path.startswith("/redirect/") else "/redirect"
        with LOCK:
            COUNTS[key] = COUNTS.get(key, 0) + 1
            COUNTS["total"] = COUNTS.get("total", 0) + 1
        if u.path == "/login":
            user = q.get("user", ["?"])[0]
            return self.reply(302, b"", [("Location", "/home?user=" + user),
                                         ("Set-Cookie", "session=%s; Path=/" % user)])
        if u.path == "/home":
            got = self.cookie("session")
            want = q.get("user", [None])[0]
            if got is None:
                with LOCK:
                    COUNTS["home_no_cookie"] = COUNTS.get("home_no_cookie", 0) + 1
                return self.reply(401, b"no session")
            if got != want:
                with LOCK:
                    COUNTS["home_wrong_user"] = COUNTS.get("home_wrong_user", 0) + 1
                return self.reply(403, b"another user's session")
            return self.reply(200, ("hello " + got).encode())
        if u.path.startswith("/redirect/"):
            n = int(u.path.rsplit("/", 1)[1])
            if n <= 0:
                return self.reply(200, b"arrived")
            return self.reply(302, b"", [("Location", "/redirect/%d" % (n - 1))])
        if u.path == "/loop":
            return self.reply(302, b"", [("Location", "/loop")])
        if u.path == "/basic":
            if self.headers.get("Authorization") == GOOD_AUTH:
                return self.reply(200, b"welcome alice")
            return self.reply(401, b"", [("WWW-Authenticate", 'Basic realm="it"')])
        if u.path == "/whoami":
            cert = self.connection.getpeercert() if hasattr(self.connection, "getpeercert") else None
            cn = "anonymous"
            for rdn in (cert or {}).get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        cn = v
            return self.reply(200, cn.encode())
        return self.reply(404, b"not found")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--client-ca")
    a = ap.parse_args()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    if a.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        if a.client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(a.client_ca)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(a.port_file + ".tmp", a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
