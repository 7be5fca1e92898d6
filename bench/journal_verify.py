"""What checking a journal costs before rollback, resume, investigate or apply acts on it (issue "Trusted with the
account": at most 50 ms for a journal of 1,000 records).

The records are a real run's: one leaked long-term key contained in the in-process emulator (moto), its journal's
records repeated, in order and re-chained, to 1,000. Timed in this process, after one warm-up: reading the file,
checking every record's hash and link, and rebuilding the run's state (`journal_trust.trusted_run`, what the
commands call), the median and the slowest of --repeat runs.

    python bench/journal_verify.py [--records N] [--repeat N]

Nothing leaves the process; the emulator's run directory is a temporary one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

TARGET_MS = 50.0


def real_records(directory: Path) -> list[dict[str, object]]:
    from moto import mock_aws

    from responder.aws.clients import AwsOptions
    from responder.engine.commands.operations import start_run
    from responder.engine.running.context import Settings
    from responder.sandbox.emulator import install
    from responder.sandbox.seed import SANDBOX_REGION, seed_incident

    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 - the emulator accepts any credentials
        AWS_DEFAULT_REGION="us-east-1",
    )
    settings = Settings(runs_dir=directory, aws=AwsOptions(region=SANDBOX_REGION), verify_delays=(0.0,))
    with mock_aws():
        install()
        seeded = seed_incident("123456789012")
        run = start_run("leaked-long-term-key", {}, seeded.key, dry_run=False, confirm=None, settings=settings)
    return [json.loads(line) for line in run.paths.audit_log.read_text().splitlines()]


def long_journal(records: list[dict[str, object]], size: int, path: Path) -> None:
    from responder.engine.journal.audit import GENESIS, record_hash

    body = records[1:]
    lines, prev = [], GENESIS
    for seq in range(1, size + 1):
        record = dict(records[0] if seq == 1 else body[(seq - 2) % len(body)])
        record.update(seq=seq, prev=prev)
        record["hash"] = prev = record_hash(record)
        lines.append(json.dumps(record, sort_keys=True))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()
    from responder.engine.journal.runs import RunPaths
    from responder.engine.running.journal_trust import trusted_run

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        records = real_records(root / "made")
        paths = RunPaths(root, "bench-run")
        paths.directory.mkdir()
        long_journal(records, args.records, paths.audit_log)
        size = paths.audit_log.stat().st_size
        trusted_run(paths, "bench", accept_broken=False)  # warm-up: imports, file cache
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            trusted = trusted_run(paths, "bench", accept_broken=False)
            times.append((time.perf_counter() - started) * 1000)
        assert trusted.broken is None and len(trusted.state.records) == args.records
    median = statistics.median(times)
    print(f"machine: {os.cpu_count()} CPUs, {sys.platform}, load {os.getloadavg()[0]:.2f}")
    print(
        f"journal of {args.records} records ({size:,} bytes, records of a real run): read, verify and load: "
        f"median {median:.1f} ms, min {min(times):.1f} ms, max {max(times):.1f} ms over {args.repeat} runs"
    )
    print(f"{'PASS' if median <= TARGET_MS else 'MISS'}: target <= {TARGET_MS:.0f} ms")
    return 0 if median <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
