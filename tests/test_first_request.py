"""Nothing slow before the first request: a run of `responder run leaked-long-term-key` imports no module that
containment does not need before its first AWS request, nor before its first change.

The engine's folders are layers (tests/test_layers.py): neither the journal nor the running layer may import the
report. What the layers cannot say is listed here, in one place: that the commands above reach the report, the
investigation and the owner lookup only after containment, and that nothing loads the exporters, the fan-out or
the sandbox on the way. The run is a real process against the in-process emulator; a hook on botocore's endpoint
records `sys.modules` at the first request and at the first change, then ends the process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from responder.sandbox.seed import Seeded, seed_incident
from tests.factories import ACCOUNT, moto_http_server

# Modules (and packages: a name covers what is under it) that containment does not need. They may load after the
# first change, while AWS answers, or at the end (the report), never before. The engine's folders are layers
# (tests/test_layers.py): nothing in its journal or running layer may import the report, so what is left here is
# what the layers cannot say: that the commands above reach the report, the investigation and the owner lookup
# only after containment, and that the CLI leaves the exporters, the fan-out and the sandbox alone. The
# investigation's action module (and its records' model) is not here: checking the playbook, and finding which
# steps change nothing, loads every action the playbook names.
NOT_BEFORE_CONTAINMENT = (
    "responder.engine.report",
    "responder.engine.commands.investigation",
    "responder.engine.commands.identify",
    "responder.engine.commands.notify",  # a run tells people after it ends, and only when asked to
    "responder.engine.commands.notify_apprise",
    "responder.engine.commands.notify_jira",
    "responder.engine.commands.notify_http",
    "responder.engine.commands.notify_contained",
    "responder.engine.commands.alerts",  # alert files are read only by `run --from`
    "responder.alerts",
    "apprise",
    "responder.export",
    "responder.fanout",
    "responder.sandbox",
    "moto",
)

# Runs the CLI in this interpreter with botocore's endpoint watched: what was imported at the first request and
# at the first change, written as JSON to argv[1]; the process ends at the first change.
WATCH = """
import json, os, sys, threading
import botocore.endpoint

out, seen, lock = sys.argv[1], {}, threading.Lock()
send = botocore.endpoint.Endpoint.make_request

def watched(self, operation_model, request_dict):
    name = operation_model.name
    with lock:
        seen.setdefault("request", [name, sorted(sys.modules)])
        if not name.startswith(("Get", "List")):
            seen["change"] = [name, sorted(sys.modules)]
            with open(out, "w") as f:
                json.dump(seen, f)
            os._exit(0)
    return send(self, operation_model, request_dict)

botocore.endpoint.Endpoint.make_request = watched
sys.argv = ["responder", *sys.argv[2:]]
from responder.cli.main import main
main()
"""


@pytest.fixture
def server() -> Iterator[str]:
    with moto_http_server() as endpoint:
        yield endpoint


def off_the_path(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == p or m.startswith(p + ".") for p in NOT_BEFORE_CONTAINMENT)]


def test_nothing_but_containment_is_imported_before_the_first_request_and_the_first_change(
    server: str, tmp_path: Path
) -> None:
    incident: Seeded = seed_incident(ACCOUNT)
    key_file = tmp_path / "leaked.txt"
    key_file.write_text(incident.key)
    key_file.chmod(0o600)
    seen = tmp_path / "seen.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RESPONDER_"))}
    env |= {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    command = ["run", "leaked-long-term-key", "--key-file", str(key_file), "--yes", "--endpoint-url", server]
    done = subprocess.run(
        [sys.executable, "-c", WATCH, str(seen), *command, "--runs-dir", str(tmp_path / "runs")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0 and seen.exists(), done.stderr
    found = json.loads(seen.read_text())
    request, modules_at_request = found["request"]
    change, modules_at_change = found["change"]
    assert change in ("UpdateServiceSpecificCredential", "PutUserPolicy")
    assert off_the_path(modules_at_request) == [], f"imported before the first request ({request})"
    assert off_the_path(modules_at_change) == [], f"imported before the first change ({change})"
