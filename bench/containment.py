"""Time to containment, measured: responder vs the AWS CLI by hand vs a minimal boto3 script.

Starts `responder sandbox serve --port 0 --seed` on 127.0.0.1, and for each repetition contains one leaked
long-term Bedrock API key three ways, each against a fresh incident (a new IAM user with a new Bedrock
credential):

  responder  `responder run leaked-long-term-key --key-file FILE --yes -o json`, the whole process
  aws-cli    one `aws` process per call, as a human would type them
  boto3      the same calls in one `python` process (imports included, to be fair to responder)

Every containment is checked afterwards through boto3 (credential Inactive, deny policy present); a run that
is not contained counts as failed. Also times `responder --help` and `responder list`. Prints a table and
writes it as JSON to bench/results/containment.json.

    python bench/containment.py [--repeat N] [--output PATH]

stdlib + boto3 only. Nothing leaves 127.0.0.1; the keys are written to 0600 files and never printed.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

HERE = Path(__file__).resolve().parent
BEDROCK = "bedrock.amazonaws.com"
POLICY_NAME = "ResponderDenyBedrockBearerTokens"
DENIED_ACTIONS = ["bedrock:CallWithBearerToken", "bedrock-mantle:CallWithBearerToken"]
DENY_DOCUMENT = json.dumps(
    {"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": DENIED_ACTIONS, "Resource": "*"}}
)
SUBPROCESS_TIMEOUT = 90  # seconds; one containment takes a few at most
KEY_PATTERN = re.compile(r"ABSK[A-Za-z0-9+/=]{8,}|bedrock-api-key-[A-Za-z0-9+/=%._-]{8,}")

TARGETS = {
    "responder_vs_boto3": "responder <= 1.3x the minimal boto3 script",
    "aws_cli_vs_responder": "responder >= 4x faster than the AWS CLI sequence",
    "help": "`responder --help` < 0.25 s",
    "list": "`responder list` < 0.25 s",
}

# The minimal boto3 script (c): what an engineer would write in a hurry, run as its own process.
BOTO3_SCRIPT = f'''\
import base64, json, sys
import boto3

key = open(sys.argv[1], encoding="utf-8").read().strip()
alias = base64.b64decode(key[4:]).decode().partition(":")[0]
iam = boto3.client("iam")
calls = 0
found, kwargs = [], {{"ServiceName": "{BEDROCK}", "AllUsers": True}}
while True:
    page = iam.list_service_specific_credentials(**kwargs)
    calls += 1
    found += [c for c in page["ServiceSpecificCredentials"] if c.get("ServiceCredentialAlias") == alias]
    if not page.get("IsTruncated"):
        break
    kwargs["Marker"] = page["Marker"]
if not found:
    sys.exit("no credential with the key's alias")
user = found[0]["UserName"]
for cred in found:
    iam.update_service_specific_credential(
        UserName=cred["UserName"], ServiceSpecificCredentialId=cred["ServiceSpecificCredentialId"], Status="Inactive"
    )
    calls += 1
iam.put_user_policy(UserName=user, PolicyName="{POLICY_NAME}", PolicyDocument={DENY_DOCUMENT!r})
calls += 1
ids = {{c["ServiceSpecificCredentialId"] for c in found}}
creds = iam.list_service_specific_credentials(UserName=user, ServiceName="{BEDROCK}")["ServiceSpecificCredentials"]
policy = iam.get_user_policy(UserName=user, PolicyName="{POLICY_NAME}")
calls += 2
ok = all(c["Status"] == "Inactive" for c in creds if c["ServiceSpecificCredentialId"] in ids)
print(json.dumps({{"calls": calls, "contained": ok and bool(policy["PolicyDocument"])}}))
sys.exit(0 if ok else 1)
'''


def start_ready_server(cmd: list[str], name: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """Start a sandbox server and read its JSON ready line; refuse one that is not on loopback."""
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # blocks until ready; '' if it died
    if not line:
        raise SystemExit(f"{name} exited with {proc.wait()} before its ready line")
    ready: dict[str, Any] = json.loads(line)
    if not ready["endpoint"].startswith("http://127.0.0.1:"):
        raise SystemExit(f"the sandbox is not on loopback: {ready['endpoint']}")
    return proc, ready


def stop_server(proc: subprocess.Popen[str] | None) -> None:
    """Stop a sandbox server started by start_ready_server, killing it if it will not go within 10 s."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<redacted>")
    return KEY_PATTERN.sub("<redacted>", text)


def responder_command() -> list[str]:
    beside = Path(sys.executable).parent / "responder"
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    return [sys.executable, "-m", "responder"]


def aws_command() -> list[str] | None:
    beside = Path(sys.executable).parent / "aws"
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which("aws")
    return [found] if found else None


def bench_env(endpoint: str, home: Path) -> dict[str, str]:
    """The caller's environment without any AWS setting of theirs, pointed at the sandbox."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RESPONDER_", "BOTO_"))}
    # An installed Python caches compiled modules; a shell that forbids it would time compilation, not the tools.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 - the emulator accepts any credentials
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL=endpoint,
        # No ~/.aws/config or credentials file of the caller's may change retries, output or pagers.
        AWS_CONFIG_FILE=str(home / "aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "aws-credentials"),
        AWS_PAGER="",
        XDG_STATE_HOME=str(home / "state"),
        NO_PROXY="127.0.0.1",
        no_proxy="127.0.0.1",
    )
    return env


@dataclass
class Method:
    name: str
    label: str
    times: list[float] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)
    operations: dict[str, int] = field(default_factory=dict)  # of the last successful run
    failures: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "runs": len(self.times) + len(self.failures),
            "ok": len(self.times),
            "failed": len(self.failures),
            "failures": self.failures,
            "median_s": round(statistics.median(self.times), 4) if self.times else None,
            "min_s": round(min(self.times), 4) if self.times else None,
            "max_s": round(max(self.times), 4) if self.times else None,
            "times_s": [round(t, 4) for t in self.times],
            "calls": sorted(set(self.calls)) if self.calls else [],
            "operations_last_run": self.operations,
        }


def contained(iam: Any, user: str) -> str | None:
    """None if every Bedrock credential of the user is Inactive and the deny policy is in place, else why not."""
    creds = iam.list_service_specific_credentials(UserName=user, ServiceName=BEDROCK)
    active = [
        c["ServiceSpecificCredentialId"] for c in creds["ServiceSpecificCredentials"] if c["Status"] != "Inactive"
    ]
    if active:
        return f"credential(s) still active: {active}"
    try:
        document = iam.get_user_policy(UserName=user, PolicyName=POLICY_NAME)["PolicyDocument"]
    except iam.exceptions.NoSuchEntityException:
        return f"no inline policy {POLICY_NAME} on {user}"
    if isinstance(document, str):
        from urllib.parse import unquote

        document = json.loads(unquote(document))
    statements = document["Statement"]
    statements = statements if isinstance(statements, list) else [statements]
    denied: set[str] = set()
    for statement in statements:
        if statement.get("Effect") == "Deny":
            actions = statement.get("Action", [])
            denied.update([actions] if isinstance(actions, str) else actions)
    missing = [a for a in DENIED_ACTIONS if a not in denied]
    return f"policy does not deny {missing}" if missing else None


class Sandbox:
    """`responder sandbox serve` as a child process, with its request log to count the calls each method makes."""

    def __init__(self, workdir: Path, extra_args: tuple[str, ...] = ()) -> None:
        self.workdir = workdir
        self.extra_args = extra_args  # e.g. --accounts N --keys-per-account K (bench/scale.py)
        self.request_log = workdir / "requests.jsonl"
        self.proc: subprocess.Popen[str] | None = None
        self.ready: dict[str, Any] = {}

    def start(self) -> dict[str, Any]:
        keys_dir = self.workdir / "keys"
        cmd = [*responder_command(), "sandbox", "serve", "--port", "0", "--seed", "--keys-dir", str(keys_dir)]
        cmd += ["--request-log", str(self.request_log), *self.extra_args]
        self.proc, self.ready = start_ready_server(cmd, "responder sandbox serve")
        return self.ready

    def log_size(self) -> int:
        try:
            return self.request_log.stat().st_size
        except FileNotFoundError:
            return 0

    def requests_since(self, offset: int) -> list[str]:
        """The operations (service:Operation) the sandbox received since the log was offset bytes long."""
        try:
            with self.request_log.open("rb") as f:
                f.seek(offset)
                records = [json.loads(line) for line in f.read().splitlines() if line.strip()]
        except FileNotFoundError:
            return []
        return [f"{r.get('service')}:{r.get('operation')}" for r in records]

    def stop(self) -> None:
        stop_server(self.proc)


class Bench:
    def __init__(self, sandbox: Sandbox, workdir: Path, env: dict[str, str]) -> None:
        self.sandbox = sandbox
        self.workdir = workdir
        self.env = env
        endpoint = sandbox.ready["endpoint"]
        self.iam = boto3.client(
            "iam",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - the emulator accepts any credentials
        )
        self.responder = responder_command()
        self.aws = aws_command()
        self.boto3_script = workdir / "contain_boto3.py"
        self.boto3_script.write_text(BOTO3_SCRIPT, encoding="utf-8")
        self.secrets: list[str] = []
        self.counter = 0

    # -- fresh incidents ---------------------------------------------------------------------------------------

    def fresh_incident(self, tag: str) -> tuple[str, Path]:
        """A new IAM user with a new Bedrock credential; its key in a 0600 file. Returns (user, key file)."""
        self.counter += 1
        user = f"BedrockAPIKey-bench-{tag}-{self.counter}"
        self.iam.create_user(UserName=user)
        created = self.iam.create_service_specific_credential(UserName=user, ServiceName=BEDROCK)
        key = created["ServiceSpecificCredential"]["ServiceCredentialSecret"]
        self.secrets.append(key)
        return user, self.write_key(key, f"{user}.key")

    def write_key(self, key: str, name: str) -> Path:
        path = self.workdir / "keys" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(key + "\n")
        return path

    def contained(self, user: str) -> str | None:
        """None if every Bedrock credential of the user is Inactive and the deny policy is in place, else why not."""
        return contained(self.iam, user)

    # -- running things ----------------------------------------------------------------------------------------

    def run(self, cmd: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            cmd,
            env=self.env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=SUBPROCESS_TIMEOUT,
            check=False,
            cwd=self.workdir,
        )

    def failed(self, what: str, proc: subprocess.CompletedProcess[str]) -> str:
        tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-3:]
        return redact(f"{what} exited {proc.returncode}: {' | '.join(tail)}", self.secrets)

    def contain_responder(self, key_file: Path) -> str | None:
        cmd = [*self.responder, "run", "leaked-long-term-key", "--key-file", str(key_file), "--yes"]
        cmd += ["--endpoint-url", self.env["AWS_ENDPOINT_URL"], "--runs-dir", str(self.workdir / "runs"), "-o", "json"]
        proc = self.run(cmd)
        if proc.returncode != 0:
            return self.failed("responder run", proc)
        status = str(json.loads(proc.stdout).get("status"))
        return None if status.lower() == "completed" else f"responder run ended {status}"

    def contain_boto3(self, key_file: Path) -> str | None:
        proc = self.run([sys.executable, str(self.boto3_script), str(key_file)])
        return None if proc.returncode == 0 else self.failed("boto3 script", proc)

    def contain_aws_cli(self, key_file: Path) -> str | None:
        assert self.aws is not None
        iam = [*self.aws, "iam", "--output", "json"]

        def call(*args: str) -> dict[str, Any]:
            proc = self.run([*iam, *args])
            if proc.returncode != 0:
                raise RuntimeError(self.failed(f"aws iam {args[0]}", proc))
            return json.loads(proc.stdout) if proc.stdout.strip() else {}

        # The human's one line of Python: base64-decode the key to read its alias, <user>-at-<account>.
        key = key_file.read_text(encoding="utf-8").strip()
        alias = base64.b64decode(key[4:]).decode().partition(":")[0]
        try:
            found: list[dict[str, Any]] = []
            marker: list[str] = []
            while True:
                page = call("list-service-specific-credentials", "--all-users", "--service-name", BEDROCK, *marker)
                found += [c for c in page["ServiceSpecificCredentials"] if c.get("ServiceCredentialAlias") == alias]
                if not page.get("IsTruncated"):
                    break
                marker = ["--marker", page["Marker"]]
            if not found:
                return "aws-cli: no credential with the key's alias"
            user = found[0]["UserName"]
            for cred in found:
                call(
                    "update-service-specific-credential",
                    "--user-name",
                    cred["UserName"],
                    "--service-specific-credential-id",
                    cred["ServiceSpecificCredentialId"],
                    "--status",
                    "Inactive",
                )
            call(
                "put-user-policy", "--user-name", user, "--policy-name", POLICY_NAME, "--policy-document", DENY_DOCUMENT
            )
            listed = call("list-service-specific-credentials", "--user-name", user, "--service-name", BEDROCK)
            call("get-user-policy", "--user-name", user, "--policy-name", POLICY_NAME)
        except RuntimeError as exc:
            return str(exc)
        ids = {c["ServiceSpecificCredentialId"] for c in found}
        if any(
            c["Status"] != "Inactive"
            for c in listed["ServiceSpecificCredentials"]
            if c["ServiceSpecificCredentialId"] in ids
        ):
            return "aws-cli: read-back shows an active credential"
        return None

    def measure(self, method: Method, contain: Callable[[Path], str | None], *, timed: bool = True) -> None:
        user, key_file = self.fresh_incident(method.name)
        before = self.sandbox.log_size()
        start = time.perf_counter()
        try:
            problem = contain(key_file)
        except subprocess.TimeoutExpired:
            problem = f"timed out after {SUBPROCESS_TIMEOUT} s"
        elapsed = time.perf_counter() - start
        operations = self.sandbox.requests_since(before)
        problem = problem or self.contained(user)
        if not timed:
            if problem:
                raise SystemExit(f"warm-up of {method.label} failed: {problem}")
            return
        if problem:
            method.failures.append(problem)
        else:
            method.times.append(elapsed)
            method.calls.append(len(operations))
            method.operations = dict(Counter(operations))

    def time_command(self, args: list[str], repeat: int) -> dict[str, Any]:
        times: list[float] = []
        self.run([*self.responder, *args])  # warm-up: page cache and bytecode, as on a second use
        for _ in range(repeat):
            start = time.perf_counter()
            proc = self.run([*self.responder, *args])
            elapsed = time.perf_counter() - start
            if proc.returncode != 0:
                return {"failed": self.failed("responder " + " ".join(args), proc)}
            times.append(elapsed)
        return {
            "median_s": round(statistics.median(times), 4),
            "min_s": round(min(times), 4),
            "max_s": round(max(times), 4),
            "times_s": [round(t, 4) for t in times],
        }


def machine() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "boto3": boto3.__version__,
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
    }


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "MISS")


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def report(results: dict[str, Any]) -> str:
    lines = []
    m = results["machine"]
    lines.append(f"machine: {m['cpu_count']} CPU(s), {m['platform']}, Python {m['python']}, boto3 {m['boto3']}")
    lines.append(f"load average at start: {m['loadavg_at_start']}")
    lines.append(f"repeat: {results['repeat']} (median of N, after one untimed warm-up of each method)")
    lines.append("")
    header = f"{'method':<34} {'median s':>9} {'min s':>8} {'max s':>8} {'calls':>6} {'ok':>6}"
    lines += [header, "-" * len(header)]
    for summary in results["methods"].values():
        if summary is None:
            continue
        calls = ",".join(str(c) for c in summary["calls"]) or "-"

        def fmt(x: float | None) -> str:
            return f"{x:.3f}" if x is not None else "-"

        lines.append(
            f"{summary['label']:<34} {fmt(summary['median_s']):>9} {fmt(summary['min_s']):>8} "
            f"{fmt(summary['max_s']):>8} {calls:>6} {summary['ok']:>3}/{summary['runs']:<2}"
        )
    for name in ("help", "list"):
        cmd = results["commands"][name]
        label = f"responder {'--help' if name == 'help' else 'list'}"
        if "failed" in cmd:
            lines.append(f"{label:<34} FAILED: {cmd['failed']}")
        else:
            lines.append(f"{label:<34} {cmd['median_s']:>9.3f} {cmd['min_s']:>8.3f} {cmd['max_s']:>8.3f} {'-':>6}")
    lines.append("(calls: AWS requests the sandbox received while the method ran, from its request log)")
    for summary in results["methods"].values():
        if summary and summary["operations_last_run"]:
            ops = ", ".join(f"{op.split(':', 1)[1]} x{n}" for op, n in summary["operations_last_run"].items())
            head = f"  {summary['label'].split(' (')[0]}: "
            lines += textwrap.wrap(ops, 116, initial_indent=head, subsequent_indent="    ")
    lines.append("")
    r = results["ratios"]
    lines.append(f"ratio responder / boto3:   {r['responder_over_boto3']}x (medians)")
    lines.append(f"ratio AWS CLI / responder: {r['aws_cli_over_responder']}x (medians)")
    lines.append("")
    lines.append("targets (issue 'Speed is part of the job'):")
    for name, target in results["targets"].items():
        lines.append(f"  {verdict(target['pass']):<4}  {TARGETS[name]:<52} measured: {target['measured']}")
    for summary in results["methods"].values():
        for failure in (summary or {}).get("failures", []):
            lines.append(f"FAILED ({summary['label']}): {failure}")
    return "\n".join(lines)


@contextlib.contextmanager
def workspace() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="responder-bench-") as tmp:
        path = Path(tmp)
        path.chmod(0o700)
        yield path


def measure(repeat: int) -> dict[str, Any]:
    """The whole benchmark, no added latency: every method `repeat` times, then --help and list. Its results."""
    started = time.perf_counter()
    host = machine()  # before the benchmark loads the machine
    with workspace() as workdir:
        sandbox = Sandbox(workdir)
        try:
            ready = sandbox.start()
            env = bench_env(ready["endpoint"], workdir)
            bench = Bench(sandbox, workdir, env)
            methods = {
                "responder": Method("responder", "responder run (one process)"),
                "aws_cli": Method("awscli", "AWS CLI by hand (one process/call)"),
                "boto3": Method("boto3", "minimal boto3 script (one process)"),
            }
            contain: dict[str, Callable[[Path], str | None]] = {
                "responder": bench.contain_responder,
                "aws_cli": bench.contain_aws_cli,
                "boto3": bench.contain_boto3,
            }
            if bench.aws is None:
                print("no `aws` executable found: skipping the AWS CLI method", file=sys.stderr)
                del methods["aws_cli"], contain["aws_cli"]

            # Warm-up, untimed: the seeded incident for responder (it has CloudTrail history), fresh ones for
            # the others. Warms the page cache and bytecode as a second use on the day would.
            seeded_key = Path(ready["seeded"]["leaked-long-term-key"]["key_file"])
            seeded_user = ready["seeded"]["leaked-long-term-key"].get("user_name")
            problem = bench.contain_responder(seeded_key)
            if problem is None and seeded_user:
                problem = bench.contained(seeded_user)
            if problem:
                raise SystemExit(f"warm-up on the seeded incident failed: {redact(problem, bench.secrets)}")
            for name, method in methods.items():
                bench.measure(method, contain[name], timed=False)

            print(f"measuring {repeat} x {len(methods)} containments", end="", file=sys.stderr, flush=True)
            # Interleaved, so drift in the machine's load spreads over every method alike.
            for _ in range(repeat):
                for name, method in methods.items():
                    bench.measure(method, contain[name])
                    print(".", end="", file=sys.stderr, flush=True)
            print(file=sys.stderr)

            commands = {
                "help": bench.time_command(["--help"], repeat),
                "list": bench.time_command(["list"], repeat),
            }
        finally:
            sandbox.stop()

    summaries: dict[str, Any] = {name: method.summary() for name, method in methods.items()}
    responder_s = summaries["responder"]["median_s"]
    boto3_s = summaries["boto3"]["median_s"]
    aws_s = summaries.get("aws_cli", {}).get("median_s")
    over_boto3 = ratio(responder_s, boto3_s)
    aws_over = ratio(aws_s, responder_s)
    help_s = commands["help"].get("median_s")
    list_s = commands["list"].get("median_s")
    return {
        "benchmark": "time to containment of one leaked long-term Bedrock API key",
        "machine": host,
        "repeat": repeat,
        "endpoint": "127.0.0.1 (responder sandbox serve)",
        "methods": summaries,
        "commands": commands,
        "ratios": {"responder_over_boto3": over_boto3, "aws_cli_over_responder": aws_over},
        "targets": {
            "responder_vs_boto3": {
                "target": "<= 1.3",
                "measured": f"{over_boto3}x",
                "pass": None if over_boto3 is None else over_boto3 <= 1.3,
            },
            "aws_cli_vs_responder": {
                "target": ">= 4",
                "measured": f"{aws_over}x",
                "pass": None if aws_over is None else aws_over >= 4,
            },
            "help": {
                "target": "< 0.25 s",
                "measured": f"{help_s} s",
                "pass": None if help_s is None else help_s < 0.25,
            },
            "list": {
                "target": "< 0.25 s",
                "measured": f"{list_s} s",
                "pass": None if list_s is None else list_s < 0.25,
            },
        },
        "wall_s": round(time.perf_counter() - started, 1),
    }


def failed(results: dict[str, Any]) -> bool:
    """Whether any containment or command of a `measure` run failed."""
    return any(s["failed"] for s in results["methods"].values()) or any(
        "failed" in c for c in results["commands"].values()
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5, help="repetitions per method (default 5)")
    parser.add_argument(
        "--output", type=Path, default=HERE / "results" / "containment.json", help="where to write the JSON"
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    results = measure(args.repeat)
    print(report(results))
    print(f"\nwall time {results['wall_s']} s; written to {args.output}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 1 if failed(results) else 0


if __name__ == "__main__":
    sys.exit(main())
