"""A loopback HTTP proxy that holds every request for a fixed delay before forwarding it: AWS's round trip, on a
laptop. Used by bench/scale.py to show what concurrency buys when each call costs 50 ms."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit


class LatencyProxy:
    def __init__(self, upstream: str, delay_s: float) -> None:
        parts = urlsplit(upstream)
        host, port, delay = parts.hostname or "127.0.0.1", parts.port or 80, delay_s

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in two writes: without this, Nagle's algorithm and the client's delayed
                # ACK add ~40 ms to every answer, on top of the delay this proxy is meant to add.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(delay)
                upstream_conn = http.client.HTTPConnection(host, port, timeout=60)
                try:
                    upstream_conn.request(self.command, self.path, body, dict(self.headers.items()))
                    answer = upstream_conn.getresponse()
                    payload = answer.read()
                finally:
                    upstream_conn.close()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

            def log_message(self, *_: object) -> None:  # quiet: the bench prints its own table
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LatencyProxy:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()
