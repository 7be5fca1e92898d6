"""Many keys, one incident, at AWS's latency: a gitleaks report of 1,000 findings holding 50 distinct long-term keys
of one account, contained in ONE run (`responder run contain-bedrock-keys --from gitleaks FILE`, a group per key)
through `bench/latency_proxy.py` holding every request 50 ms; then the same with `--notify` to a local webhook that
takes 2 s to answer, to show that telling people adds nothing to the time to containment.

Starts `responder sandbox serve --accounts 1 --keys-per-account 50` (users app-0000 ... app-0049 in one member
account, one key each) and works in the member account with that account's own credentials (its member role's
session, as an operator in that account would have), so the run is the one-account run that also tells people the
moment containment holds. Time to containment: from the process's start to the last containment change the proxy
answered (UpdateServiceSpecificCredential, PutUserPolicy); a run counts only if it exits 0 with one such change
answered per key and kind (50 deactivations, 50 denies).

    python bench/alert_containment.py [--repeat N] [--output PATH]

Targets (issue 23): contained in one run in under 10 s at 50 ms a request; notifications add nothing to the time
to containment (the median with --notify within 10% of the median without). stdlib + boto3 only.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from containment import HERE, Sandbox, bench_env, machine, responder_command, verdict
from latency_proxy import LatencyProxy

KEYS, FINDINGS, DELAY_S, WEBHOOK_S = 50, 1000, 0.05, 2.0
CHANGES = ("UpdateServiceSpecificCredential", "PutUserPolicy")


def key_of(user: str, account: str, n: int) -> str:
    secret = base64.b64encode(n.to_bytes(2, "big") * 22).decode()  # 60 characters, as AWS's
    return "ABSK" + base64.b64encode(f"{user}-at-{account}:{secret}".encode()).decode()


def write_report(workdir: Path, account: str) -> Path:
    keys = [key_of(f"app-{n:04d}", account, n) for n in range(KEYS)]
    report = [
        {"RuleID": "aws-amazon-bedrock-api-key-long-lived", "Secret": keys[i % KEYS], "Match": keys[i % KEYS],
         "File": f"service-{i % KEYS}.env", "StartLine": 1, "StartColumn": 8, "Commit": f"{i:07x}",
         "Date": "2026-11-30T09:00:00Z"}
        for i in range(FINDINGS)
    ]  # fmt: skip
    path = workdir / "gitleaks.json"
    path.write_text(json.dumps(report))
    return path


class SlowWebhook:
    """A loopback webhook that takes WEBHOOK_S to answer each POST (a slow chat service)."""

    def __init__(self) -> None:
        self.received = 0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(WEBHOOK_S)
                hook.received += 1
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def member_env(env: dict[str, str], account: str) -> dict[str, str]:
    """The environment with the member account's credentials: a session of its member role (untimed)."""
    import boto3

    sts = boto3.client(
        "sts",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name="us-east-1",
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    role = f"arn:aws:iam::{account}:role/ResponderMemberRole"  # the sandbox's organization makes it in each member
    made = sts.assume_role(RoleArn=role, RoleSessionName="bench")["Credentials"]
    return env | {
        "AWS_ACCESS_KEY_ID": made["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": made["SecretAccessKey"],
        "AWS_SESSION_TOKEN": made["SessionToken"],
    }


def one_run(env: dict[str, str], proxy: LatencyProxy, args: list[str]) -> dict[str, float]:
    start = time.time()  # the proxy stamps its answers with time.time() too
    proc = subprocess.run(
        [*responder_command(), *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    end = time.time()
    if proc.returncode != 0:
        raise SystemExit(f"responder exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
    changes = [a for a in proxy.answered_between(start, end) if a.operation in CHANGES and a.status == 200]
    if (
        sum(a.operation == CHANGES[0] for a in changes) != KEYS
        or sum(a.operation == CHANGES[1] for a in changes) != KEYS
    ):
        raise SystemExit(f"only {len(changes)} containment changes answered, expected {2 * KEYS}")
    return {"contained_s": max(a.sent_at for a in changes) - start, "wall_s": end - start}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--output", type=Path, default=HERE / "results" / "alert_containment.json")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"machine": machine(), "keys": KEYS, "findings": FINDINGS, "delay_s": DELAY_S}
    runs: dict[str, list[dict[str, float]]] = {"plain": [], "notify": []}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        hook = SlowWebhook()
        for n in range(args.repeat):
            for mode in ("plain", "notify"):  # a fresh sandbox each run: every key Active at the start
                home = workdir / f"{mode}-{n}"
                home.mkdir()
                box = Sandbox(home, ("--accounts", "1", "--keys-per-account", str(KEYS)))
                try:
                    ready = box.start()
                    accounts = Path(ready["organization"]["accounts_file"])
                    account = accounts.read_text().split()[0].split(",")[0]
                    report = write_report(home, account)
                    env = member_env(bench_env(ready["endpoint"], home), account)
                    with LatencyProxy(env["AWS_ENDPOINT_URL"], DELAY_S) as proxy:
                        slow = env | {"AWS_ENDPOINT_URL": proxy.url}
                        cmd = ["run", "contain-bedrock-keys", "--from", "gitleaks", str(report), "--yes", "-o", "json"]
                        cmd += ["--runs-dir", str(home / "runs")]
                        if mode == "notify":
                            cmd += ["--notify", hook.url]
                        runs[mode].append(one_run(slow, proxy, cmd))
                finally:
                    box.stop()
                print(f"{mode} {n + 1}: {runs[mode][-1]}", file=sys.stderr)
        hook.server.shutdown()
        results["webhook_received"] = hook.received  # two a run with --notify: at containment and at the end
    for mode, measured in runs.items():
        results[mode] = {
            "contained_s_median": round(statistics.median(r["contained_s"] for r in measured), 3),
            "wall_s_median": round(statistics.median(r["wall_s"] for r in measured), 3),
            "runs": measured,
        }
    plain, told = results["plain"]["contained_s_median"], results["notify"]["contained_s_median"]
    results["verdicts"] = {
        "contained_under_10s": verdict(plain < 10),
        "notify_adds_nothing": verdict(told <= plain * 1.1),
    }
    print(json.dumps({k: v for k, v in results.items() if k != "machine"}, indent=2))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
