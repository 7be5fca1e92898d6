"""Sweep and fan-out at scale: wall time and AWS calls per key, and what concurrency buys at 50 ms a call.

Each configuration starts its own `responder sandbox serve --accounts M --keys-per-account K` on 127.0.0.1
(an organization of M emulated member accounts, K long-term keys each, one user per key) and times, as whole
processes, what an operator would type:

  keys      1, 10, 100, 1,000 keys in one member account:
            `responder sweep --accounts FILE -o json`, and (up to --contain-max keys)
            `responder run contain-bedrock-keys -p filter=all --accounts FILE --yes -o json`
  accounts  1, 10, 50 member accounts of 2 keys each: the same two commands (concurrency 8)
  latency   the accounts sweep again through a loopback proxy holding every call 50 ms:
            --concurrency 1 against --concurrency 8

Calls are what the sandbox's request log received while the command ran. Every containment is checked (every
key Inactive afterwards, by a sweep that is not timed). Prints a table, PASS/MISS against the issue's targets
(concurrency 8 at least 6x faster than 1 at 50 ms a call; calls per key not growing with the number of keys or
accounts), and writes bench/results/scale.json.

    python bench/scale.py [--contain-max N] [--latency-accounts M] [--output PATH]

stdlib + boto3 only (via bench/containment.py). Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from containment import HERE, Sandbox, bench_env, machine, responder_command, verdict, workspace
from latency_proxy import LatencyProxy

KEY_SIZES = (1, 10, 100, 1000)
ACCOUNT_SIZES = (1, 10, 50)
KEYS_PER_ACCOUNT = 2
LATENCY_S = 0.05
TIMEOUT_S = 600
TARGETS = {
    "concurrency": "at 50 ms a call, --concurrency 8 >= 6x faster than --concurrency 1",
    "calls_per_key": "AWS calls per key do not grow with the number of keys or accounts",
}


@contextlib.contextmanager
def sandbox(workdir: Path, accounts: int, keys_per_account: int) -> Iterator[tuple[Sandbox, dict[str, str], Path]]:
    """A sandbox of `accounts` member accounts; the environment pointing at it; its accounts file."""
    home = workdir / f"sandbox-{len(list(workdir.iterdir()))}-a{accounts}-k{keys_per_account}"
    home.mkdir()
    box = Sandbox(home, ("--accounts", str(accounts), "--keys-per-account", str(keys_per_account)))
    try:
        ready = box.start()
        yield box, bench_env(ready["endpoint"], home), Path(ready["organization"]["accounts_file"])
    finally:
        box.stop()


def timed(box: Sandbox, env: dict[str, str], args: list[str], expect_exit: int = 0) -> tuple[float, int, str]:
    """Seconds the whole `responder ARGS` process took, requests the sandbox received meanwhile, its stdout."""
    offset = box.log_size()
    start = time.perf_counter()
    proc = subprocess.run(
        [*responder_command(), *args], capture_output=True, text=True, env=env, timeout=TIMEOUT_S, check=False
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != expect_exit:
        raise SystemExit(f"`responder {' '.join(args)}` exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
    return elapsed, len(box.requests_since(offset)), proc.stdout


def sweep_and_contain(
    box: Sandbox, env: dict[str, str], accounts_file: Path, keys: int, contain: bool
) -> dict[str, Any]:
    fan_out = ["--accounts", str(accounts_file)]
    seconds, calls, out = timed(box, env, ["sweep", *fan_out, "-o", "json"])
    rows = json.loads(out)
    if len(rows) != keys:
        raise SystemExit(f"the sweep listed {len(rows)} keys, not {keys}")
    result: dict[str, Any] = {
        "keys": keys,
        "sweep_s": round(seconds, 3),
        "sweep_calls": calls,
        "sweep_calls_per_key": round(calls / keys, 2),
    }
    if contain:
        args = ["run", "contain-bedrock-keys", "-p", "filter=all", *fan_out, "--yes", "-o", "json"]
        seconds, calls, out = timed(box, env, args)
        if json.loads(out)["status"] != "completed":
            raise SystemExit(f"containment did not complete: {json.loads(out)['message']}")
        after = json.loads(timed(box, env, ["sweep", *fan_out, "-o", "json"])[2])
        if {row["status"] for row in after} != {"Inactive"}:
            raise SystemExit("containment reported completed but some key is still active")
        result |= {
            "contain_s": round(seconds, 3),
            "contain_calls": calls,
            "contain_calls_per_key": round(calls / keys, 2),
        }
    return result


def not_growing(series: list[dict[str, Any]], field: str) -> bool | None:
    """Calls per key at the largest size are no more than at the smallest (fixed costs may make them fall)."""
    values = [row[field] for row in series if field in row]
    return None if len(values) < 2 else values[-1] <= values[0] * 1.05


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--contain-max", type=int, default=100, help="contain up to this many keys (default 100)")
    parser.add_argument("--latency-accounts", type=int, default=50, help="accounts in the 50 ms test (default 50)")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "scale.json")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": machine(), "targets": TARGETS, "keys": [], "accounts": []}
    with workspace() as workdir:
        for keys in KEY_SIZES:
            with sandbox(workdir, 1, keys) as (box, env, listing):
                row = sweep_and_contain(box, env, listing, keys, contain=keys <= args.contain_max)
            results["keys"].append(row)
            print(f"keys {keys}: {row}", file=sys.stderr)
        for accounts in ACCOUNT_SIZES:
            with sandbox(workdir, accounts, KEYS_PER_ACCOUNT) as (box, env, listing):
                row = {"accounts": accounts, **sweep_and_contain(box, env, listing, accounts * KEYS_PER_ACCOUNT, True)}
            results["accounts"].append(row)
            print(f"accounts {accounts}: {row}", file=sys.stderr)
        with sandbox(workdir, args.latency_accounts, KEYS_PER_ACCOUNT) as (box, env, listing):  # noqa: SIM117
            with LatencyProxy(env["AWS_ENDPOINT_URL"], LATENCY_S) as proxy:
                slow = env | {"AWS_ENDPOINT_URL": proxy.url}
                sweep = ["sweep", "--accounts", str(listing), "-o", "json"]
                one, calls, _ = timed(box, slow, [*sweep, "--concurrency", "1"])
                eight, _, _ = timed(box, slow, [*sweep, "--concurrency", "8"])
        results["latency"] = {
            "accounts": args.latency_accounts,
            "delay_s": LATENCY_S,
            "calls": calls,
            "concurrency_1_s": round(one, 3),
            "concurrency_8_s": round(eight, 3),
            "speedup": round(one / eight, 2),
        }
    checks = {
        "concurrency": results["latency"]["speedup"] >= 6,
        "calls_per_key": all(
            not_growing(results[series], field) is not False
            for series in ("keys", "accounts")
            for field in ("sweep_calls_per_key", "contain_calls_per_key")
        ),
    }
    results["verdicts"] = {name: verdict(ok) for name, ok in checks.items()}
    results["wall_s"] = round(time.perf_counter() - started, 1)
    print(render(results))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwall time {results['wall_s']} s; written to {args.output}")
    return 0


def render(results: dict[str, Any]) -> str:
    lines = [
        f"machine: {results['machine']}",
        "",
        f"{'keys':>6} {'accts':>5} {'sweep s':>8} {'calls/key':>9} {'contain s':>10} {'calls/key':>9}",
    ]
    for row in results["keys"] + results["accounts"]:
        contain = f"{row['contain_s']:>10.2f} {row['contain_calls_per_key']:>9.2f}" if "contain_s" in row else " " * 20
        lines.append(
            f"{row['keys']:>6} {row.get('accounts', 1):>5} {row['sweep_s']:>8.2f} {row['sweep_calls_per_key']:>9.2f} "
            f"{contain}"
        )
    latency = results["latency"]
    lines += [
        "",
        f"sweep of {latency['accounts']} accounts at {latency['delay_s'] * 1000:.0f} ms a call "
        f"({latency['calls']} calls): "
        f"concurrency 1 {latency['concurrency_1_s']:.2f} s, concurrency 8 {latency['concurrency_8_s']:.2f} s, "
        f"{latency['speedup']:.2f}x",
        "",
        "targets (issue 'Scale and speed'):",
    ]
    for name, text in TARGETS.items():
        lines.append(f"  {results['verdicts'][name]:<4}  {text}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
