"""`identify --from` and `run --from`, in process against the emulated account: the alert's key is contained,
and no form of any secret the alert file holds reaches an output or a file of the run."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from responder.cli.main import app
from responder.sandbox.seed import Seeded
from tests.factories import credential_status
from tests.test_secrets import everything_written, secret_forms

runner = CliRunner()
OTHER_SECRET = "ghp_AnotherSecretTheAlertHappensToHold0123"
FIXTURES = Path(__file__).parent / "fixtures"


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


def gitleaks_report(tmp_path: Path, key: str) -> Path:
    """A gitleaks report of the leak: the key recorded whole, twice (two commits), beside another secret."""
    (tmp_path / "app.env").write_text(f"KEY={key}\nTOKEN={OTHER_SECRET}\n")
    base = {"File": "app.env", "StartColumn": 5, "Match": f"KEY={key}"}
    report = [
        {**base, "RuleID": "aws-amazon-bedrock-api-key-long-lived", "Secret": key, "StartLine": 1,
         "Commit": "a1b2c3d", "Date": "2026-11-29T17:00:00Z"},
        {**base, "RuleID": "aws-amazon-bedrock-api-key-long-lived", "Secret": key, "StartLine": 1,
         "Commit": "d3c2b1a", "Date": "2026-11-30T17:00:00Z"},
        {**base, "RuleID": "github-pat", "Secret": OTHER_SECRET, "Match": OTHER_SECRET, "StartLine": 2},
    ]  # fmt: skip
    path = tmp_path / "gitleaks-report.json"
    path.write_text(json.dumps(report))
    return path


def test_run_from_a_gitleaks_report_contains_its_key_and_leaks_nothing(
    account: Seeded, tmp_path: Path, iam: Any
) -> None:
    report = gitleaks_report(tmp_path, account.key)
    runs = ["--runs-dir", str(tmp_path / "runs")]
    from_alert = ["--from", "gitleaks", str(report), "--repo", str(tmp_path)]
    outputs = []
    identified = invoke("identify", *from_alert, "--offline", "-o", "json")
    outputs.append(identified.stdout + identified.stderr)
    assert identified.exit_code == 0, identified.stderr
    [key] = json.loads(identified.stdout)["keys"]
    assert (key["user_name"], key["exposed_at"], key["alerts"]) == (
        account.user_name,
        "2026-11-29T17:00:00+00:00",
        ["finding 1", "finding 2"],
    )
    assert key["next"]["command"].startswith("responder run leaked-long-term-key --from gitleaks")
    done = invoke("run", "leaked-long-term-key", *from_alert, "--yes", "-o", "json", *runs)
    outputs.append(done.stdout + done.stderr + repr(done.exception))
    assert done.exit_code == 0, done.stdout + done.stderr
    assert credential_status(iam, account.user_name, account.credential_id) == "Inactive"
    # The report gives the time from the earliest exposure the alerts record to containment.
    outcome = json.loads(done.stdout)
    report = json.loads(Path(outcome["report_json"]).read_text())
    alert = report["alert"]
    assert (alert["source"], alert["findings"], alert["exposed_at"]) == (
        "gitleaks",
        ["finding 1", "finding 2"],
        "2026-11-29T17:00:00+00:00",
    )
    exposed = datetime.fromisoformat(alert["exposed_at"])
    assert alert["exposed_to_contained_s"] == (datetime.fromisoformat(report["contained_at"]) - exposed).total_seconds()
    assert (
        "| Exposure | exposed 2026-11-29 17:00:00 UTC (gitleaks, 2 finding(s)); contained "
        in Path(outcome["report"]).read_text()
    )
    seen = "\n".join(outputs) + everything_written(tmp_path / "runs")
    for form in [*secret_forms(account.key), OTHER_SECRET]:
        assert form not in seen


def test_bad_alert_input_is_one_line_exit_2_and_changes_nothing(account: Seeded, tmp_path: Path, iam: Any) -> None:
    truncated = tmp_path / "truncated.json"
    truncated.write_text(gitleaks_report(tmp_path, account.key).read_text()[:-40])
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps([{"RuleID": "r", "Secret": "bedrock-api-key-", "File": "../x", "StartLine": 1}]))
    for args in (
        ["--from", "gitleaks", str(truncated)],
        ["--from", "gitleaks", str(outside), "--repo", str(tmp_path)],
        ["--from", "trufflehog", str(FIXTURES / "gitleaks.json")],
        ["--from", "nosuch", str(truncated)],
        [str(truncated)],  # an alert file without --from
    ):
        result = invoke("run", "leaked-long-term-key", *args, "--yes", "--runs-dir", str(tmp_path / "runs"))
        assert result.exit_code == 2, (args, result.stdout, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
        assert account.key not in result.stdout + result.stderr
    assert credential_status(iam, account.user_name, account.credential_id) == "Active"
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_identify_from_guardduty_names_the_principal_and_the_command() -> None:
    result = invoke("identify", "--from", "guardduty", str(FIXTURES / "guardduty.json"), "--offline")
    assert result.exit_code == 0, result.stderr
    assert "Principal:    role app-role in 123456789012 (Impact:IAMUser/AnomalousModelInvocation)" in result.stdout
    assert "responder run leaked-short-term-key -p role_name=app-role --dry-run" in result.stdout
