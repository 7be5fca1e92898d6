"""`responder sweep` on one account of 1,000 users holding keys of every family: wall time and requests.

Starts `responder sandbox serve` (its seeded incident included) on 127.0.0.1, adds 1,000 users over the IAM API,
250 per key family (Bedrock, Claude Platform on AWS, CloudWatch, CloudWatch Logs), each with one long-term key;
20 of them are named as a console names its key users (10 `BedrockAPIKey-*`, 10 `AeaApiKey-*`), half of those
with an access key. Then runs `responder sweep -o json` as an operator would, as a whole process, and counts what
the sandbox's request log received during it, by operation.

The issue's target: one listing per family and page, not per user. The sweep's requests are therefore expected to
be: one ListServiceSpecificCredentials per family and page (4 here: the sandbox pages at 1,000), one
GetAccountAuthorizationDetails per page of users, and two reads (ListAccessKeys, GetLoginProfile) per user named
as a console names its key users, whatever the number of other users.

    python bench/sweep_families.py [--runs N] [--hold SECONDS]

--hold keeps the sandbox up after measuring and prints the environment to time the same command with another
tool. Writes bench/results/sweep_families.json. stdlib + boto3 only (via bench/containment.py).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import boto3
from containment import HERE, Sandbox, bench_env, machine, responder_command, workspace

FAMILY_SERVICES = (
    "bedrock.amazonaws.com",
    "aws-external-anthropic.amazonaws.com",
    "cloudwatch.amazonaws.com",
    "logs.amazonaws.com",
)
USERS = 1000
CONSOLE = {
    "bedrock.amazonaws.com": "BedrockAPIKey-b{:03d}",
    "aws-external-anthropic.amazonaws.com": "AeaApiKey-c{:03d}",
}
CONSOLE_PER_FAMILY = 10


def seed(endpoint: str) -> None:
    iam = boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - the emulator accepts any credentials
    )
    per_family = USERS // len(FAMILY_SERVICES)
    for service in FAMILY_SERVICES:
        for i in range(per_family):
            console = CONSOLE.get(service) if i < CONSOLE_PER_FAMILY else None
            user = console.format(i) if console else f"{service.split('.')[0]}-user-{i:03d}"
            iam.create_user(UserName=user)
            iam.create_service_specific_credential(UserName=user, ServiceName=service)
            if console and i % 2 == 0:
                iam.create_access_key(UserName=user)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--hold", type=float, default=0.0)
    parser.add_argument("--output", type=Path, default=HERE / "results" / "sweep_families.json")
    args = parser.parse_args()
    with workspace() as workdir:
        box = Sandbox(workdir)
        ready = box.start()
        try:
            endpoint = ready["endpoint"]
            began = time.perf_counter()
            seed(endpoint)
            print(f"seeded {USERS} users in {time.perf_counter() - began:.1f} s", file=sys.stderr)
            env = bench_env(endpoint, workdir)
            command = [*responder_command(), "sweep", "-o", "json"]
            walls, counts, rows = [], Counter[str](), 0
            for run in range(args.runs + 1):  # the first warms the interpreter's caches: not counted
                offset = box.log_size()
                started = time.perf_counter()
                done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=True)
                wall = time.perf_counter() - started
                if run == 0:
                    rows = len(json.loads(done.stdout))
                    counts = Counter(box.requests_since(offset))
                    continue
                walls.append(wall)
            result = {
                "machine": machine(),
                "users": USERS,
                "rows": rows,
                "requests": dict(sorted(counts.items())),
                "requests_total": sum(counts.values()),
                "wall_s": {"runs": walls, "median": statistics.median(walls), "min": min(walls), "max": max(walls)},
            }
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
            print(json.dumps(result, indent=2))
            if args.hold:
                print("env " + " ".join(f"{k}={v}" for k, v in env.items() if k.startswith(("AWS_", "XDG_"))))
                print(" ".join(command), flush=True)
                time.sleep(args.hold)
        finally:
            box.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
