#!/usr/bin/env python3
"""net_server.py ADDR PORT FILE UPLOAD READY - the host side of
tests/boot/net.sh, run inside the test's network namespace: an HTTP server on
ADDR:PORT that answers GET /blob with FILE and stores the body of POST /up
in UPLOAD, answering with that body's length and SHA-256 (so the guest can
print what the host received).  Touches READY once it listens.  Serves
until killed."""
import hashlib, http.server, sys

addr, port, blob, upload, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/blob":
            self.send_error(404)
            return
        with open(blob, "rb") as f:
            data = f.read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = b""
        while len(body) < n:
            chunk = self.rfile.read(n - len(body))
            if not chunk:
                break
            body += chunk
        with open(upload, "wb") as f:
            f.write(body)
        reply = ("%d %s\n" % (len(body), hashlib.sha256(body).hexdigest())).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, fmt, *args):
        sys.stderr.write("net_server: " + (fmt % args) + "\n")


srv = http.server.HTTPServer((addr, port), Handler)
open(ready, "w").close()
srv.serve_forever()
