"""The jobs step's own reads: `python bench/jobs_step.py [--regions N] [--latency-ms MS] [--skip-step]`.

Issue 20: the `jobs` step lists the window's running customization, batch inference and evaluation jobs and its
provisioned throughput (four listings per region), and asks CloudTrail who created what it found (one
`LookupEvents` by `EventName` per kind found and region, paced by responder's clients at CloudTrail's 2 requests a
second). This seeds, in an in-process emulated account (moto and responder's additions), N regions each holding
the leaked user's three running jobs and two provisioned throughputs (their `Create*` events in CloudTrail) and a
team job, then runs the step once (snapshot and plan, as a run does after containment) with every request held
`--latency-ms` (default 50, the figure bench/latency_proxy.py uses) before it is sent. It prints one JSON line:
the step's wall time, its requests per operation, and the requests per region. `--skip-step` does the same
seeding and exits before the step: timed as whole processes against each other, the two give the step's cost.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, default=1, choices=range(1, len(REGIONS) + 1))
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--skip-step", action="store_true")
    args = parser.parse_args()
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 - the emulator accepts any credentials
        AWS_DEFAULT_REGION="us-east-1",
    )
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)

    from moto import mock_aws

    from responder.actions.base import ActionContext
    from responder.actions.bedrock_jobs import ListWindowJobs, WindowJobsParams
    from responder.aws.clients import AwsOptions, Clients
    from responder.sandbox.emulator import install
    from responder.sandbox.seed import seed_incident
    from responder.sandbox.window_jobs import seed_window_jobs, user_identity

    account = "123456789012"
    regions = list(REGIONS[: args.regions])
    with mock_aws():
        install()
        seeded = seed_incident(account)
        since = datetime.now(timezone.utc) - timedelta(hours=2)
        for region in regions:
            seed_window_jobs(account, region, since, user_identity(account, seeded.user_name))
        if args.skip_step:
            return 0
        sent: Counter[str] = Counter()
        per_region: Counter[str] = Counter()

        def held(model: Any, **kwargs: Any) -> None:
            sent[model.name] += 1
            context = kwargs.get("context") or {}
            per_region[str(context.get("client_region") or "")] += 1
            time.sleep(args.latency_ms / 1000)

        clients = Clients(AwsOptions(region="us-east-1"))
        clients.on_request(held)
        ctx = ActionContext(clients, account, False)
        action = ListWindowJobs()
        params = WindowJobsParams(regions=regions, since=since, user_name=seeded.user_name)
        start = time.perf_counter()
        plan = action.plan(ctx, params, action.snapshot(ctx, params))
        took = time.perf_counter() - start
        mine = sum(1 for c in plan.outputs["creators"].values() if c["mine"])
        print(
            json.dumps(
                {
                    "regions": len(regions),
                    "latency_ms": args.latency_ms,
                    "step_s": round(took, 3),
                    "requests": dict(sorted(sent.items())),
                    "requests_per_region": sum(sent.values()) / len(regions),
                    "attributed_to_the_user": mine,
                }
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
