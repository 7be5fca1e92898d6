"""The sandbox with busy keys: `responder sandbox serve`'s emulator, seeded with incidents whose key was used a lot.

    python bench/busy_sandbox.py --keys-dir DIR --incidents K [--events 2000] [--request-log FILE]

Each incident is a new IAM user holding one long-term Bedrock API key, made two hours ago, and `--events`
CloudTrail management events of that user calling Bedrock with a bearer token since (eventSource
bedrock.amazonaws.com, additionalEventData.callWithBearerToken true), in us-east-1 of the sandbox's account:
what `LookupEvents` shows for a busy leaked key. Each key goes to <DIR>/<user>.key (mode 0600); nothing secret
is printed. Once seeded, prints one JSON line (endpoint, account, incidents: user, credential id, key file) and
serves on 127.0.0.1 until terminated.

Why a script of its own: `responder sandbox serve --seed` makes one incident with four events, and the emulator
takes no CloudTrail writes over the wire (moto has no PutAuditEvents; responder adds only LookupEvents). So this
starts the same server (`responder.sandbox.server.make_server`, responder's extensions and request log included)
and records the events in its own process, with `responder.sandbox.seed.bearer_calls`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from unittest import mock

from responder.sandbox.bedrock_usage import seed_usage
from responder.sandbox.seed import SANDBOX_REGION, bearer_calls
from responder.sandbox.server import DEFAULT_ACCOUNT, make_server, ready_line, serve, write_key_file
from responder.sandbox.service_credentials import create_credential

KEY_AGE = timedelta(hours=2)  # the key was made this long ago, and used since
EVENT_NAMES = ("InvokeModel", "Converse", "InvokeModel", "InvokeModelWithResponseStream", "ConverseStream")


def busy_incident(account_id: str, user: str, events: int, keys_dir: Path) -> dict[str, Any]:
    """A user whose key, made KEY_AGE ago, made `events` bearer-token Bedrock calls since; the last a minute ago."""
    from moto.iam.models import iam_backends

    iam_backends[account_id]["aws"].create_user(SANDBOX_REGION, user)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    made = now - KEY_AGE
    # The emulator stamps the credential with its own clock: make it as of then, as responder's seed does.
    with mock.patch("responder.sandbox.service_credentials._now", return_value=made):
        credential = create_credential(account_id, user, age_days=30)
    identity = {
        "type": "IAMUser",
        "principalId": f"AIDA{zlib.crc32(user.encode()):016d}",
        "arn": f"arn:aws:iam::{account_id}:user/{user}",
        "accountId": account_id,
        "userName": user,
    }
    first, last = made + timedelta(minutes=1), now - timedelta(minutes=1)
    step = (last - first) / max(events - 1, 1)
    bearer_calls(account_id, SANDBOX_REGION, identity, events, first, every=step, names=EVENT_NAMES)
    key_file = keys_dir / f"{user}.key"
    write_key_file(key_file, credential["ServiceCredentialSecret"])
    return {
        "user_name": user,
        "credential_id": credential["ServiceSpecificCredentialId"],
        "key_file": str(key_file),
        "events": events,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--keys-dir", type=Path, required=True, help="where to write <user>.key files (mode 0600)")
    parser.add_argument("--incidents", type=int, default=1, help="how many busy incidents (default 1)")
    parser.add_argument("--events", type=int, default=2000, help="CloudTrail events per incident (default 2000)")
    parser.add_argument("--request-log", type=Path, help="append one JSON line per AWS request received")
    parser.add_argument(
        "--usage",
        action="store_true",
        help="also a trail, Bedrock metrics over the keys' life and its baseline, and Cost Explorer's days",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.incidents <= 100 or not 0 <= args.events <= 100_000:
        parser.error("--incidents must be 1 to 100 and --events 0 to 100000")
    started = time.perf_counter()
    server = make_server("127.0.0.1", 0, args.request_log)
    args.keys_dir.mkdir(parents=True, exist_ok=True)
    incidents = [
        busy_incident(DEFAULT_ACCOUNT, f"BedrockAPIKey-busy-{i + 1}", args.events, args.keys_dir)
        for i in range(args.incidents)
    ]
    if args.usage:
        now = datetime.now(timezone.utc)
        seed_usage(DEFAULT_ACCOUNT, SANDBOX_REGION, (now - KEY_AGE, now))
    ready = {**ready_line(server, None), "incidents": incidents, "seed_s": round(time.perf_counter() - started, 2)}
    print(json.dumps(ready), flush=True)
    serve(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
