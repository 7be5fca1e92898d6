"""`responder sandbox serve`: the emulator as a loopback HTTP server speaking the real AWS wire protocol."""

from __future__ import annotations

import functools
import io
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from responder.sandbox import stepfunctions
from responder.sandbox.emulator import install
from responder.sandbox.family_incidents import seed_family_incidents
from responder.sandbox.seed import SANDBOX_REGION, seed_incident, seed_short_term_incident

DEFAULT_ACCOUNT = "123456789012"  # moto's default account
_SERVICE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class RequestRecorder:
    """WSGI middleware writing one JSON line per AWS request (service, operation): what tests assert on."""

    def __init__(self, app: WsgiApp, path: Path) -> None:
        self._app = app
        self._file = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)  # the emulator reads the body again
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        operation = target.rpartition(".")[2] if target else _form_action(body, environ.get("QUERY_STRING", ""))
        match = _SERVICE.search(environ.get("HTTP_AUTHORIZATION", ""))
        service = match.group(1) if match else None
        if operation is None and service is not None:  # REST-JSON (Bedrock): named by its method and path
            operation = _rest_operation(service, environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""))
        record = {"service": service, "operation": operation}
        with self._lock:
            self._file.write(json.dumps(record) + "\n")
            self._file.flush()
        return self._app(environ, start_response)


@functools.cache
def _rest_routes(service: str) -> tuple[tuple[str, re.Pattern[str], str], ...]:
    """(HTTP method, path pattern, operation) of a REST service's operations, from botocore's model."""
    import botocore.session

    try:
        model = botocore.session.get_session().get_service_model(service)
    except Exception:  # a signing name that is not a service's model name: no route
        return ()
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = re.escape(http["requestUri"].split("?", 1)[0])
        routes.append((http["method"], re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", uri) + "$"), name))
    return tuple(routes)


def _rest_operation(service: str, method: str, path: str) -> str | None:
    return next((name for verb, pattern, name in _rest_routes(service) if verb == method and pattern.match(path)), None)


def _form_action(body: bytes, query: str) -> str | None:
    for source in (body.decode("utf-8", "replace"), query):
        actions = parse_qs(source).get("Action")
        if actions:
            return actions[0]
    return None


def make_server(host: str, port: int, request_log: Path | None) -> Any:
    install()
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server as werkzeug_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request would drown the ready line
    app: WsgiApp = DomainDispatcherApplication(create_backend_app)
    if request_log is not None:
        app = RequestRecorder(app, request_log)
    server = werkzeug_server(host, port, app, threaded=True)
    bound_host, bound_port = server.server_address[:2]
    stepfunctions.serve_from(f"http://{bound_host!s}:{bound_port}")  # state machines call back into this server
    return server


def serve(server: Any) -> None:
    """Serve until Ctrl-C (or SIGTERM's KeyboardInterrupt), then close the socket."""
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def ready_line(server: Any, seeded: dict[str, Any] | None) -> dict[str, Any]:
    host, port = server.server_address[:2]
    line: dict[str, Any] = {
        "endpoint": f"http://{host}:{port}",
        "account_id": DEFAULT_ACCOUNT,
        "region": SANDBOX_REGION,
        "credentials": "any: the emulator accepts every access key (e.g. AWS_ACCESS_KEY_ID=testing)",
    }
    if seeded is not None:
        line["seeded"] = seeded
    return line


def write_key_file(path: Path, key: str) -> None:
    """A leaked key for the rehearsal's operator, readable by its owner only (mode 0600, even over a file)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(key + "\n")


def seed_server(keys_dir: Path) -> dict[str, Any]:
    """Seed every incident; write each leaked key to <keys_dir>/<playbook>.key, readable by the owner only."""
    keys_dir.mkdir(parents=True, exist_ok=True)
    long_term, short_term = seed_incident(DEFAULT_ACCOUNT), seed_short_term_incident(DEFAULT_ACCOUNT)
    seeded: dict[str, Any] = {}
    for playbook, incident in (("leaked-long-term-key", long_term), ("leaked-short-term-key", short_term)):
        path = keys_dir / f"{playbook}.key"
        write_key_file(path, incident.key)
        seeded[playbook] = {**incident.public(), "key_file": str(path)}
    # Every other key family's incident, and a user's second key: <keys_dir>/<family>-<kind>.key.
    for other in seed_family_incidents(DEFAULT_ACCOUNT):
        path = keys_dir / f"{other.family}-{other.kind}.key"
        write_key_file(path, other.key)
        seeded[f"{other.family}-{other.kind}"] = {**other.public, "key_file": str(path)}
    return seeded


def seed_members(keys_dir: Path, accounts: int, keys_per_account: int) -> dict[str, Any]:
    """Member accounts of an organization run from the sandbox's account; their ids in <keys_dir>/accounts.txt."""
    from responder.sandbox.organization import DEFAULT_ROLE, seed_organization

    members = seed_organization(DEFAULT_ACCOUNT, accounts, keys_per_account)
    keys_dir.mkdir(parents=True, exist_ok=True)
    listing = keys_dir / "accounts.txt"
    listing.write_text("".join(f"{m.account_id}\n" for m in members), encoding="utf-8")
    return {
        "management_account": DEFAULT_ACCOUNT,
        "role_name": DEFAULT_ROLE,
        "accounts": [m.account_id for m in members],
        "accounts_file": str(listing),
        "keys_per_account": keys_per_account,
    }
