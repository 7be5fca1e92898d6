"""A loopback HTTP proxy that holds every request for a fixed delay before forwarding it: AWS's round trip, on a
laptop. Used by bench/scale.py to show what concurrency buys when each call costs 50 ms, and by bench/latency.py
to time containment against AWS's clock.

Optionally (`lookup_events_limit`), it also throttles CloudTrail `LookupEvents` as AWS does: at most N accepted
requests in any sliding window of `lookup_events_window_s` seconds per account and region (AWS: 2 a second),
answering any request beyond that with HTTP 400 `{"__type": "ThrottlingException", "message": "Rate exceeded"}`,
which botocore classifies as throttling and retries with backoff. The proxy cannot see accounts: it keys the
window by the SigV4 access key id and region (the sandbox maps each access key to one account, and a run signs
with one key per account).

Every answer is recorded (`answers`): when it went out, by `time.time()` (the clock a benchmark process reads
before it starts a subprocess), with the service, operation, region and HTTP status, so a benchmark can tell when
a given request (say, the one that set a key Inactive) was answered.
"""

from __future__ import annotations

import collections
import http.client
import json
import re
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

from responder.sandbox.wire_operations import operation_of

# SigV4: Authorization: AWS4-HMAC-SHA256 Credential=AKID/yyyymmdd/REGION/SERVICE/aws4_request, ...
_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
THROTTLE_BODY = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()


@dataclass(frozen=True)
class Answer:
    """One request the proxy answered. Times are `time.time()` seconds."""

    received_at: float
    sent_at: float  # when the last byte of the answer was written to the client's socket
    service: str | None
    operation: str | None
    region: str | None
    status: int
    throttled: bool  # answered by the proxy's rate limit, never forwarded


class SlidingWindow:
    """At most `limit` accepted events in any `window_s` seconds, per key; thread-safe."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit, self.window_s = limit, window_s
        self._accepted: dict[object, collections.deque[float]] = collections.defaultdict(collections.deque)
        self._lock = threading.Lock()

    def admit(self, key: object) -> bool:
        now = time.monotonic()
        with self._lock:
            accepted = self._accepted[key]
            while accepted and accepted[0] <= now - self.window_s:
                accepted.popleft()
            if len(accepted) >= self.limit:
                return False
            accepted.append(now)
            return True


class LatencyProxy:
    def __init__(
        self,
        upstream: str,
        delay_s: float,
        *,
        lookup_events_limit: int | None = None,
        lookup_events_window_s: float = 1.0,
    ) -> None:
        parts = urlsplit(upstream)
        host, port, delay = parts.hostname or "127.0.0.1", parts.port or 80, delay_s
        window = None if lookup_events_limit is None else SlidingWindow(lookup_events_limit, lookup_events_window_s)
        self.answers: list[Answer] = []
        answers, answers_lock = self.answers, threading.Condition()
        in_flight = [0]  # requests received and not yet recorded: see settle()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in two writes: without this, Nagle's algorithm and the client's delayed
                # ACK add ~40 ms to every answer, on top of the delay this proxy is meant to add.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received = time.time()
                scope = _SCOPE.search(self.headers.get("Authorization", ""))
                access_key, region, service = scope.groups() if scope else (None, None, None)
                headers = {k.lower(): v for k, v in self.headers.items()}
                operation = operation_of(self.command, self.path, headers, body)  # every protocol's
                # AWS counts a request against the rate when it arrives; the answer then takes the round trip.
                throttled = (
                    window is not None
                    and service == "cloudtrail"
                    and operation == "LookupEvents"
                    and not window.admit((access_key, region))
                )
                status = 502  # recorded as such if the upstream fails
                with answers_lock:
                    in_flight[0] += 1
                try:
                    time.sleep(delay)
                    status, reply_headers, payload = (
                        (400, [("Content-Type", "application/x-amz-json-1.1")], THROTTLE_BODY)
                        if throttled
                        else self._upstream(body)
                    )
                    self.send_response(status)
                    for name, value in reply_headers:
                        if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client is gone (a benchmark stopped it): nothing to answer
                finally:
                    sent = time.time()
                    with answers_lock:
                        answers.append(Answer(received, sent, service, operation, region, status, throttled))
                        in_flight[0] -= 1
                        answers_lock.notify_all()

            def _upstream(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
                upstream_conn = http.client.HTTPConnection(host, port, timeout=60)
                try:
                    upstream_conn.request(self.command, self.path, body, dict(self.headers.items()))
                    answer = upstream_conn.getresponse()
                    return answer.status, answer.getheaders(), answer.read()
                finally:
                    upstream_conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

            def log_message(self, *_: object) -> None:  # quiet: the bench prints its own table
                pass

        self._answers_lock, self._in_flight = answers_lock, in_flight
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def settle(self, timeout_s: float = 2.0) -> bool:
        """Wait (at most timeout_s) until every request received has been answered and recorded."""
        with self._answers_lock:
            return self._answers_lock.wait_for(lambda: self._in_flight[0] == 0, timeout_s)

    def answered_between(self, start: float, end: float) -> list[Answer]:
        """Answers to requests received from `start` to `end` (time.time() seconds), in the order they went out."""
        self.settle()
        with self._answers_lock:
            chosen = [a for a in self.answers if start <= a.received_at <= end]
        return sorted(chosen, key=lambda a: a.sent_at)

    def __enter__(self) -> LatencyProxy:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()
