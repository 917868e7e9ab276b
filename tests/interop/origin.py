"""A scriptable HTTP origin for edge tests: it counts the requests and body bytes it serves per
path, and answers as each test tells it (status, headers, body, delays, ranges, validators,
failures mid-body). It runs in a thread of the test process on 127.0.0.1, port 0."""

import ssl
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Route:
    def __init__(self, body=b"", status=200, headers=None, delay=0.0, ranges=True,
                 validators=True, cut_after=None, chunk_delay=0.0, chunked=False, interim=(),
                 extra_lines=()):
        self.body = body
        self.status = status
        self.headers = dict(headers or {})
        self.delay = delay
        self.ranges = ranges
        self.validators = validators
        self.cut_after = cut_after
        self.chunk_delay = chunk_delay
        self.chunked = chunked
        self.interim = list(interim)  # [(status, {header: value})] sent before the response
        self.extra_lines = list(extra_lines)  # [(name, value)]: repeated or odd header lines
        self.etag = '"v%d-%d"' % (len(body), hash(body) & 0xFFFFFF)
        self.last_modified = formatdate(time.time() - 3600, usegmt=True)


class Origin:
    """`tls`: a trustme CA; the origin then speaks HTTPS with a certificate it issued."""

    def __init__(self, tls=None):
        self.routes = {}
        self.requests = []  # (method, path, headers dict)
        self.bytes_sent = {}
        self.lock = threading.Lock()
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _handle(self):
                path = self.path
                length = int(self.headers.get("Content-Length") or 0)
                body_in = self.rfile.read(length) if length else b""
                with origin.lock:
                    origin.requests.append((self.command, path, {k.lower(): v for k, v in self.headers.items()}, body_in))
                route = origin.routes.get(path.split("?")[0])
                if route is None:
                    self._send(404, {"Content-Type": "text/plain"}, b"no such route\n")
                    return
                if callable(route):
                    route = route(self.command, path, self.headers)
                if route.delay:
                    time.sleep(route.delay)
                for code, fields in route.interim:
                    self.send_response_only(code)
                    for k, v in fields.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.flush()
                headers = {}
                if route.validators:
                    headers["ETag"] = route.etag
                    headers["Last-Modified"] = route.last_modified
                headers.update(route.headers)
                status, body = route.status, route.body
                if route.validators and status == 200:
                    inm = self.headers.get("If-None-Match")
                    if inm and route.etag in [t.strip() for t in inm.split(",")]:
                        self._send(304, headers, b"", head_only=True)
                        return
                rng = self.headers.get("Range")
                if route.ranges and rng and status == 200 and rng.startswith("bytes="):
                    a, _, b = rng[6:].partition("-")
                    size = len(body)
                    if a == "":
                        start, end = max(0, size - int(b)), size - 1
                    else:
                        start, end = int(a), (int(b) if b else size - 1)
                    end = min(end, size - 1)
                    if start >= size:
                        headers["Content-Range"] = f"bytes */{size}"
                        self._send(416, headers, b"")
                        return
                    headers["Content-Range"] = f"bytes {start}-{end}/{size}"
                    status, body = 206, body[start:end + 1]
                self._send(status, headers, body, route=route, path=path.split("?")[0])

            def _send(self, status, headers, body, head_only=False, route=None, path=None):
                self.send_response(status)
                chunked = route is not None and route.chunked
                for k, v in headers.items():
                    self.send_header(k, v)
                for k, v in (route.extra_lines if route is not None else ()):
                    self.send_header(k, v)
                if not head_only and status not in (204, 304):
                    if chunked:
                        self.send_header("Transfer-Encoding", "chunked")
                    else:
                        self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command == "HEAD" or head_only or status in (204, 304):
                    return
                cut = route.cut_after if route else None
                step = 65536
                sent = 0
                for i in range(0, len(body), step):
                    piece = body[i:i + step]
                    if cut is not None and sent + len(piece) > cut:
                        piece = piece[: cut - sent]
                        origin.count_sent(path, len(piece))
                        self.wfile.write(piece if not chunked else b"%x\r\n%s\r\n" % (len(piece), piece))
                        sent += len(piece)
                        self.wfile.flush()
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return
                    # Counted before it is written: whatever the edge has received is counted.
                    origin.count_sent(path, len(piece))
                    if chunked:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    else:
                        self.wfile.write(piece)
                    sent += len(piece)
                    if route and route.chunk_delay:
                        self.wfile.flush()
                        time.sleep(route.chunk_delay)
                if chunked:
                    self.wfile.write(b"0\r\n\r\n")

            do_GET = _handle
            do_HEAD = _handle
            do_PUT = _handle
            do_POST = _handle
            do_DELETE = _handle

            def __getattr__(self, name):
                # Extension methods (M-SEARCH, PROPFIND, ...) are handled like the others.
                if name.startswith("do_"):
                    return self._handle
                raise AttributeError(name)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            tls.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def count_sent(self, path, n):
        if path:
            with self.lock:
                self.bytes_sent[path] = self.bytes_sent.get(path, 0) + n

    def count(self, path, method=None):
        with self.lock:
            return sum(1 for m, p, _, _ in self.requests if p.split("?")[0] == path and (method is None or m == method))

    def last(self, path):
        with self.lock:
            for m, p, h, b in reversed(self.requests):
                if p.split("?")[0] == path:
                    return m, p, h, b
        return None

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
