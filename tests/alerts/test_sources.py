"""The alert-source contract, over the whole registry: each format's fixture (made by the real tool, or after
the tool's own test data) is read into the right keys; every source refuses what is not its format."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from responder.alerts.collected import collect
from responder.alerts.reading import MAX_ALERT_BYTES, read_alert_file
from responder.alerts.registry import SOURCES, source_named
from responder.engine.commands.alerts import AlertFile, key_to_run, read_alerts
from responder.errors import UserError
from responder.keys import fingerprint

FIXTURES = Path(__file__).parent / "fixtures"
REPO = FIXTURES / "repo"
FIXTURE = {
    "gitleaks": "gitleaks.json",
    "gitleaks-sarif": "gitleaks.sarif",
    "trufflehog": "trufflehog.jsonl",
    "detect-secrets": "detect-secrets.baseline",
    "github": "github.json",
    "guardduty": "guardduty.json",
    "keys": "keys.txt",
}
# The keys in the fixture repository's config.env, by line: long-term, short-term, a GitHub token, a second key.
LINES = re.findall(r'"([^"]+)"', (REPO / "config.env").read_text())
LONG, SHORT, SECOND = fingerprint(LINES[0]), fingerprint(LINES[1]), fingerprint(LINES[3])
EXPECTED = {
    "gitleaks": {LONG, SHORT},  # the short-term key recorded only as its prefix: read from config.env line 2
    "gitleaks-sarif": {LONG, SHORT},
    "trufflehog": {LONG, SHORT},
    "detect-secrets": {LONG, SHORT, SECOND},  # only hashes: read from the file and confirmed by SHA-1
    "github": {SECOND},
    "guardduty": set(),
    "keys": {LONG, SHORT},
}


def test_every_source_has_a_fixture_and_states_its_contract() -> None:
    assert set(SOURCES) == set(FIXTURE) == set(EXPECTED)
    for name, source in SOURCES.items():
        assert source.name == name and source.title and source.documented_by
        assert source.holds in ("whole key", "whole or part of the key", "principal")


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_each_fixture_is_read_into_its_keys(name: str) -> None:
    collected = read_alerts(AlertFile(name, str(FIXTURES / FIXTURE[name]), REPO))
    assert {k.key.fingerprint for k in collected.keys} == EXPECTED[name]
    for found in collected.keys:
        assert fingerprint(found.secret) == found.key.fingerprint  # the whole key, not the alert's part
    if SOURCES[name].exposure:
        assert collected.keys or collected.principals
        assert all(k.exposed_at is not None for k in collected.keys)


@pytest.mark.parametrize("name", sorted(SOURCES))
@pytest.mark.parametrize("text", ["", "   \n", "not a report at all\n", "{}", "[{}]", '[{"Secret": "x"'])
def test_each_source_refuses_what_is_not_its_format(name: str, text: str, tmp_path: Path) -> None:
    path = tmp_path / "alert"
    path.write_text(text)
    with pytest.raises(UserError) as refused:
        read_alerts(AlertFile(name, str(path), tmp_path))
    assert "\n" not in refused.value.message


def test_binary_oversized_and_unknown_formats_are_refused(tmp_path: Path) -> None:
    binary, big = tmp_path / "binary", tmp_path / "big"
    binary.write_bytes(b"[\x00\x01\x02]")
    with big.open("wb") as handle:
        handle.truncate(MAX_ALERT_BYTES + 1)  # sparse: the bound is checked before anything is parsed
    for path, says in ((binary, "binary"), (big, "larger than")):
        with pytest.raises(UserError, match=says):
            read_alert_file(str(path), SOURCES["gitleaks"])
    with pytest.raises(UserError, match="responder reads gitleaks"):
        source_named("kingfisher")


def test_the_earliest_exposure_wins_and_duplicates_are_one_key() -> None:
    collected = read_alerts(AlertFile("gitleaks", str(FIXTURES / "gitleaks.json"), REPO))
    long_term = next(k for k in collected.keys if k.key.fingerprint == LONG)
    assert long_term.where == ["finding 1", "finding 4"]
    assert long_term.exposed_at is not None and long_term.exposed_at.isoformat() == "2026-11-29T17:00:00+00:00"
    assert collected.other == 1  # the GitHub token: not a key responder contains


def _gitleaks(tmp_path: Path, secret: str, file: str = "config.env", line: int = 2) -> Path:
    import json

    report = tmp_path / "report.json"
    finding = {"RuleID": "aws-amazon-bedrock-api-key-short-lived", "Secret": secret, "Match": secret}
    report.write_text(json.dumps([{**finding, "File": file, "StartLine": line, "StartColumn": 27}]))
    return report


def test_a_partly_recorded_key_that_the_file_does_not_confirm_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not match what the alert recorded"):
        read_alerts(AlertFile("gitleaks", str(_gitleaks(tmp_path, "ABSK")), REPO))  # line 2 holds a short-term key
    with pytest.raises(UserError, match="redacted"):
        read_alerts(AlertFile("gitleaks", str(_gitleaks(tmp_path, "REDACTED")), REPO))
    with pytest.raises(UserError, match="no key at"):
        read_alerts(AlertFile("gitleaks", str(_gitleaks(tmp_path, "bedrock-api-key-", line=3)), REPO))
    # --redact=80 keeps the start of the secret: still confirmed.
    redacted = _gitleaks(tmp_path, LINES[1][:20] + "...")
    assert [k.key.fingerprint for k in read_alerts(AlertFile("gitleaks", str(redacted), REPO)).keys] == [SHORT]


def test_a_detect_secrets_hash_that_does_not_match_the_line_is_refused(tmp_path: Path) -> None:
    baseline = (FIXTURES / "detect-secrets.baseline").read_text()
    wrong = tmp_path / "baseline"
    wrong.write_text(baseline.replace(hashlib.sha1(LINES[0].encode()).hexdigest(), "0" * 40))  # noqa: S324 (detect-secrets hashes with SHA-1)
    with pytest.raises(UserError, match=r"result 1 of config.env: .* not confirmed"):
        read_alerts(AlertFile("detect-secrets", str(wrong), REPO))


@pytest.mark.parametrize("outside", ["../fixtures/keys.txt", "/etc/passwd", "sub/../../gitleaks.json"])
def test_a_path_outside_the_repository_is_refused(tmp_path: Path, outside: str) -> None:
    with pytest.raises(UserError, match="outside the repository"):
        read_alerts(AlertFile("gitleaks", str(_gitleaks(tmp_path, "bedrock-api-key-", file=outside)), REPO))


def test_a_file_changed_since_is_read_at_the_alerts_commit(tmp_path: Path) -> None:
    import subprocess

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(tmp_path), *args], capture_output=True, text=True, check=True)
        return done.stdout.strip()

    git("init", "-q")
    (tmp_path / "config.env").write_text((REPO / "config.env").read_text())
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "leak")
    commit = git("rev-parse", "HEAD")
    (tmp_path / "config.env").write_text("# the key was removed\n")
    import json

    report = tmp_path / "report.json"
    finding = {"RuleID": "aws-amazon-bedrock-api-key-short-lived", "Secret": "bedrock-api-key-", "Match": ""}
    report.write_text(json.dumps([{**finding, "File": "config.env", "StartLine": 2, "Commit": commit}]))
    assert [k.key.fingerprint for k in read_alerts(AlertFile("gitleaks", str(report), tmp_path)).keys] == [SHORT]


def test_run_takes_one_key_or_names_the_command_for_each() -> None:
    alert = AlertFile("gitleaks", str(FIXTURES / "gitleaks.json"), REPO)
    with pytest.raises(UserError, match="holds 2 keys: contain each with its own run") as refused:
        key_to_run(alert, None)
    assert f"--key {LONG}" in refused.value.message and f"--key {SHORT}" in refused.value.message
    assert key_to_run(alert, SHORT).key.fingerprint == SHORT
    with pytest.raises(UserError, match=r"principals, not keys: .*role_name=app-role"):
        key_to_run(AlertFile("guardduty", str(FIXTURES / "guardduty.json"), REPO), None)


def test_guardduty_reads_the_principal_from_the_finding_in_either_spelling(tmp_path: Path) -> None:
    import json

    event = json.loads((FIXTURES / "guardduty.json").read_text())
    detail = event["detail"]
    pascal = {"Findings": [{k[0].upper() + k[1:]: v for k, v in detail.items()}]}
    for document in (event, detail, pascal):
        path = tmp_path / "finding.json"
        path.write_text(json.dumps(document))
        [found] = collect(read_alert_file(str(path), SOURCES["guardduty"]), tmp_path).principals
        assert (found.principal.kind, found.principal.name, found.principal.account_id) == (
            "role",
            "app-role",
            "123456789012",
        )
