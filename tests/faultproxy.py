"""A loopback HTTP proxy in front of the emulator that injects faults at the wire, by AWS operation name.

The operation is `Action=` of a form body (query protocol: IAM, STS), the suffix of `X-Amz-Target` (JSON
protocol: CloudTrail), or the method and path of a REST-JSON request (Bedrock), matched against botocore's model.
Faults: `throttle` (400 Throttling), `deny` (403 AccessDenied), `unavailable` (503 ServiceUnavailable), none of
them forwarded; `reset-after`: forwarded, so the change happens upstream, then the client's connection is reset
without an answer, so the caller cannot tell whether the call happened; and `hold`: the request waits at the
proxy until `release()`, then is forwarded (or dropped), so a test can stop the caller while the request is in
flight.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import struct
import threading
import uuid
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from responder.sandbox.wire_operations import operation_of as wire_operation
from responder.sandbox.wire_operations import scope_of

FAULTS = ("throttle", "deny", "unavailable", "reset-after", "hold")
_DENIED = (
    "User: {arn} is not authorized to perform: {service}:{op} because no identity-based policy allows the "
    "{service}:{op} action"
)
_ERRORS = {  # fault -> (HTTP status, error type, code, message)
    "throttle": (400, "Sender", "Throttling", "Rate exceeded"),
    "deny": (403, "Sender", "AccessDenied", _DENIED),
    "unavailable": (503, "Receiver", "ServiceUnavailable", "Service Unavailable"),
}
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection", "upgrade"}


@dataclass
class _Armed:
    fault: str
    times: int
    skip: int
    match: dict[str, str]  # form parameters the request must carry (PolicyName=...): one step's request of several


def operation_of(method: str, path: str, headers: Message, body: bytes) -> str:
    """Every protocol's operation name (query, JSON, REST, CBOR), as the sandbox's request log reads it."""
    return wire_operation(method, path, dict(headers.items()), body) or ""


def form_of(body: bytes) -> dict[str, str]:
    """A query-protocol request's parameters (IAM, STS); empty for a JSON-protocol body."""
    return {name: values[0] for name, values in parse_qs(body.decode("utf-8", "replace")).items()}


class FaultProxy:
    """`with FaultProxy(upstream) as proxy:` serves on `proxy.url` until the block ends."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.seen: list[str] = []  # every request's operation, in order, faulted ones included
        self.forms: list[dict[str, str]] = []  # and its form parameters, index for index
        self.faulted: list[tuple[str, str]] = []  # (operation, fault) of every request a fault was applied to
        self._armed: dict[str, _Armed] = {}
        self._lock = threading.Lock()
        self.held: list[str] = []  # the operations of the requests held so far
        self.settled: list[str] = []  # and of those released since, forwarded or dropped
        self._released = threading.Event()
        self._forward_held = True
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def arm(
        self, operation: str, fault: str, times: int = 1, skip: int = 0, match: dict[str, str] | None = None
    ) -> None:
        """Apply `fault` to the next `times` requests for `operation` (those carrying every `match` parameter:
        two steps sending the same operation at once are told apart by what they send, never by arrival order),
        after letting `skip` of them through."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}: one of {', '.join(FAULTS)}")
        with self._lock:
            self._armed[operation] = _Armed(fault, times, skip, dict(match or {}))

    def disarm(self) -> None:
        with self._lock:
            self._armed.clear()

    def release(self, forward: bool) -> None:
        """Let held requests go: on upstream (the change happens, whoever sent it) or nowhere."""
        self._forward_held = forward
        self._released.set()

    def _fault_for(self, operation: str, form: dict[str, str]) -> str | None:
        with self._lock:
            self.seen.append(operation)
            self.forms.append(form)
            armed = self._armed.get(operation)
            if armed is None or armed.times <= 0 or any(form.get(k) != v for k, v in armed.match.items()):
                return None
            if armed.skip > 0:
                armed.skip -= 1
                return None
            armed.times -= 1
            self.faulted.append((operation, armed.fault))
            return armed.fault

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
            disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                operation = operation_of(self.command, self.path, self.headers, body)
                fault = proxy._fault_for(operation, form_of(body))
                if fault in _ERRORS:
                    self._answer_error(fault, operation)
                    return
                if fault == "hold":
                    proxy.held.append(operation)
                    proxy._released.wait(60)
                    self.close_connection = True
                    if proxy._forward_held:
                        answer = proxy._forward(self.command, self.path, self.headers, body)
                        with contextlib.suppress(OSError):  # the caller is likely gone: that was the point
                            self._answer(*answer)
                    proxy.settled.append(operation)
                    return
                status, headers, payload = proxy._forward(self.command, self.path, self.headers, body)
                if fault == "reset-after":  # the change happened upstream; the caller never hears of it
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    self.close_connection = True
                    return
                self._answer(status, headers, payload)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def _answer_error(self, fault: str, operation: str) -> None:
                status, kind, code, text = _ERRORS[fault]
                request_id = str(uuid.uuid4())
                signing = scope_of(self.headers.get("Authorization") or "")[1]
                service = "bedrock" if signing == "bedrock" else "iam"
                message = text.format(arn="arn:aws:iam::123456789012:user/operator", op=operation, service=service)
                if service == "bedrock":  # REST-JSON: the code in a header and the body
                    payload = f'{{"message": "{message}"}}'.encode()
                    rest = [("Content-Type", "application/json"), ("x-amzn-ErrorType", f"{code}Exception")]
                    self._answer(status, [*rest, ("x-amzn-RequestId", request_id)], payload)
                    return
                if self.headers.get("X-Amz-Target"):  # JSON protocol
                    payload = f'{{"__type": "{code}", "message": "{message}"}}'.encode()
                    content_type = "application/x-amz-json-1.1"
                else:
                    payload = (
                        f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message>"
                        f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
                    ).encode()
                    content_type = "text/xml"
                headers = [("Content-Type", content_type), ("x-amzn-RequestId", request_id)]
                self._answer(status, headers, payload)

            def _answer(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in _HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler

    def _forward(
        self, method: str, path: str, headers: Message, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            sent = {name: value for name, value in headers.items() if name.lower() not in _HOP_BY_HOP}
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
