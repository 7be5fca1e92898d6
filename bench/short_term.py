"""A short-term key's containment at AWS's latency: are the role's deny and its session revocation one round?

For each repetition, starts `responder sandbox serve --port 0 --seed` (a fresh incident: the role session whose
short-term key leaked, seen by CloudTrail), then times `responder run leaked-short-term-key --key-file FILE --yes
-o json` with every request held `--latency-ms` (default 50) by bench/latency_proxy.py. Reports, by the proxy's
clock from just before the process started: when each `PutRolePolicy` was answered (the deny, the revocation),
how far apart, and when the process ended. Two changes sent together are answered less than one round trip apart.

    python bench/short_term.py [--repeat N] [--latency-ms MS] [--output PATH]

stdlib + the bench's own modules. Nothing leaves 127.0.0.1; the key stays in its 0600 file.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from containment import bench_env, machine, responder_command, start_ready_server, stop_server
from latency_proxy import LatencyProxy

HERE = Path(__file__).resolve().parent
CHANGES = ("PutRolePolicy", "AttachRolePolicy")


def one(workdir: Path, latency_s: float) -> dict[str, Any]:
    responder = responder_command()
    server, ready = start_ready_server(
        [*responder, "sandbox", "serve", "--port", "0", "--seed", "--keys-dir", str(workdir)], "sandbox"
    )
    try:
        env = bench_env(ready["endpoint"], workdir)
        with LatencyProxy(ready["endpoint"], latency_s) as proxy:
            cmd = [*responder, "run", "leaked-short-term-key", "--key-file", str(workdir / "leaked-short-term-key.key")]
            cmd += ["--yes", "-o", "json", "--endpoint-url", proxy.url, "--runs-dir", str(workdir / "runs")]
            start = time.time()
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
            end = time.time()
            answers = proxy.answered_between(start, end)
    finally:
        stop_server(server)
    status = json.loads(done.stdout).get("status") if done.stdout.strip() else None
    changes = [round(a.sent_at - start, 3) for a in answers if a.operation in CHANGES and a.status == 200]
    return {
        "status": status,
        "changes_answered_s": changes,
        "apart_s": round(max(changes) - min(changes), 3) if len(changes) >= 2 else None,
        "exit_s": round(end - start, 3),
        "sequence": [f"{a.sent_at - start:.3f} {a.operation}" for a in answers if a.operation != "LookupEvents"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--output", type=Path, default=HERE / "results" / "short_term.json")
    args = parser.parse_args(argv)
    runs = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="responder-bench-") as tmp:
            runs.append(one(Path(tmp), args.latency_ms / 1000))
    ok = [r for r in runs if r["status"] == "completed" and r["apart_s"] is not None]
    apart = [r["apart_s"] for r in ok]
    result = {"machine": machine(), "latency_ms": args.latency_ms, "runs": runs}
    print(f"machine: {json.dumps(result['machine'])}")
    for r in runs:
        answered, gap, exit_s = r["changes_answered_s"], r["apart_s"], r["exit_s"]
        print(f"  {r['status']}: changes answered at {answered} s, {gap} s apart; exit {exit_s} s")
    if apart:
        median = statistics.median(apart)
        together = median < args.latency_ms / 1000
        print(
            f"{'PASS' if together else 'MISS'}  the role's deny and its session revocation in one round: "
            f"median {median:.3f} s apart at {args.latency_ms:.0f} ms a request"
        )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2))
    return 0 if len(ok) == len(runs) else 1


if __name__ == "__main__":
    sys.exit(main())
