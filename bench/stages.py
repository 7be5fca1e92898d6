"""Reading the attack's stages on a busy key: `python bench/stages.py [--events 2000] [--repeat 3]`.

Issue 20's target: reading what a key with 2,000 CloudTrail events did (its events in every region the trails
cover, the IAM changes to its user, the trails' selectors, invocation logging, the metrics and the cost) costs at
most CloudTrail's own rate-limit floor plus 2 s. bench/busy_sandbox.py serves one incident (a long-term key made
two hours ago, `--events` bearer-token calls since, in us-east-1) with `--usage` (a trail, metrics, Cost
Explorer), and this times `responder run leaked-long-term-key --key-file FILE --dry-run -p max_events=N -o json`
as a whole process, `--repeat` times after one warm-up, waiting 1.1 s before each so no run inherits the rate
limit's window. The dry run reads exactly what an applying run reads after its last containment change, and
changes nothing, so every run reads the same key.

The floor is CloudTrail's: at most 2 `LookupEvents` a second per account and region, so a region answering n of
them takes at least (n - 1) / 2 s; n is counted in the sandbox's request log for each run, per region, and the
floor is the largest. The reading is timed from the run's first journal record to the investigation step's (the
whole process, start-up and report included, is printed beside it). PASS when the median reading is at most the
median floor + 2 s, and every run read every event. Writes bench/results/stages.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import containment  # noqa: E402  # the bench's own helpers: the server, the environment, the responder command

TARGET_ABOVE_FLOOR_S = 2.0
LOOKUPS_PER_SECOND = 2


def _lookups(log: Path, since: int) -> tuple[Counter[str], int]:
    """LookupEvents requests per region in the request log's lines from `since`; and the lines read."""
    lines = log.read_text().splitlines() if log.exists() else []
    per_region: Counter[str] = Counter()
    for line in lines[since:]:
        request = json.loads(line)
        if request.get("operation") == "LookupEvents":
            per_region[str(request.get("region"))] += 1
    return per_region, len(lines)


def _reading_s(audit: Path) -> float | None:
    """From the run's start (its first journal record) to the investigation's answer (its step's record): the
    reading of the stages, after the process's own start-up and before its report."""
    if not audit.exists():
        return None
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    start = next((r["ts"] for r in records if r.get("event") == "run.started"), None)
    read = next((r["ts"] for r in records if r.get("step") == "investigate" and r.get("event") != "step.skipped"), None)
    if start is None or read is None:
        return None
    return round((datetime.fromisoformat(read) - datetime.fromisoformat(start)).total_seconds(), 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    work = Path(tempfile.mkdtemp(prefix="responder-stages-"))
    log = work / "requests.jsonl"
    cmd = [sys.executable, str(HERE / "busy_sandbox.py"), "--keys-dir", str(work / "keys"), "--usage"]
    cmd += ["--events", str(args.events), "--request-log", str(log)]
    server, ready = containment.start_ready_server(cmd, "bench/busy_sandbox.py")
    runs: list[dict[str, Any]] = []
    try:
        env = containment.bench_env(ready["endpoint"], work)
        key_file = ready["incidents"][0]["key_file"]
        run = [*containment.responder_command(), "run", "leaked-long-term-key", "--key-file", key_file, "--dry-run"]
        run += ["-p", f"max_events={args.events}", "-o", "json", "--runs-dir", str(work / "runs")]
        seen = 0
        for i in range(args.repeat + 1):
            time.sleep(1.1)
            started = time.perf_counter()
            done = subprocess.run(run, env=env, capture_output=True, text=True, check=False)
            wall = time.perf_counter() - started
            per_region, seen = _lookups(log, seen)
            out = json.loads(done.stdout) if done.stdout.strip().startswith("{") else {}
            run_dir = work / "runs" / str(out.get("run_id"))
            report = run_dir / "report.json"
            evidence = json.loads(report.read_text()).get("evidence") or {} if report.exists() else {}
            reading = _reading_s(run_dir / "audit.jsonl")
            floor = max(((n - 1) / LOOKUPS_PER_SECOND for n in per_region.values()), default=0.0)
            record = {
                "reading_s": reading,
                "wall_s": round(wall, 3),
                "floor_s": floor,
                "lookups": dict(per_region),
                "events_read": evidence.get("events_read"),
                "stages": (evidence.get("stages") or {}).get("reached"),
                "exit": done.returncode,
            }
            if i:  # the first is the warm-up
                runs.append(record)
            print(("warm-up " if not i else f"run {i}: ") + json.dumps(record), flush=True)
    finally:
        containment.stop_server(server)
    wall = statistics.median(r["wall_s"] for r in runs)
    reading = statistics.median(r["reading_s"] or float("inf") for r in runs)
    floor = statistics.median(r["floor_s"] for r in runs)
    read_all = all((r["events_read"] or 0) >= args.events for r in runs)
    verdict = "PASS" if reading <= floor + TARGET_ABOVE_FLOOR_S and read_all else "MISS"
    summary = {
        "events": args.events,
        "median_reading_s": reading,
        "median_wall_s": wall,
        "median_floor_s": floor,
        "reading_above_floor_s": round(reading - floor, 3),
        "read_every_event": read_all,
        "verdict": verdict,
        "machine": f"{platform.platform()}, {os.cpu_count()} CPUs, load average at start {load}",
        "runs": runs,
    }
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "stages.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps({k: v for k, v in summary.items() if k != "runs"}))
    return 0 if read_all else 1


if __name__ == "__main__":
    sys.exit(main())
