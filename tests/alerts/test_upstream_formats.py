"""The readers against each format as its own tool writes it (tests/alerts/fixtures/upstream/README.md says where
each file comes from): every field responder reads is where the tool puts it."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from responder.alerts.collected import collect
from responder.alerts.reading import read_alert_file
from responder.alerts.registry import source_named
from responder.alerts.source import Finding

UPSTREAM = Path(__file__).parent / "fixtures" / "upstream"


def read(source: str, name: str) -> list[Finding]:
    return read_alert_file(str(UPSTREAM / name), source_named(source))


def test_gitleaks_json_as_its_report_writer_writes_it() -> None:
    [finding] = read("gitleaks", "gitleaks-json_simple.json")
    assert (finding.rule, finding.secret, finding.path, finding.line, finding.column, finding.commit) == (
        "test-rule",
        "a secret",
        "auth.py",
        1,
        1,
        "0000000000000000",
    )
    assert finding.exposed_at is None  # its test data's Date, 10-19-2003, is no time; a real scan writes RFC 3339
    # Not an AWS key: counted as another secret, nothing read from a file.
    assert collect([finding], UPSTREAM).other == 1


def test_gitleaks_sarif_as_its_sarif_writer_writes_it() -> None:
    [finding] = read("gitleaks-sarif", "gitleaks-sarif_simple.sarif")
    assert (finding.rule, finding.secret, finding.path, finding.line, finding.column, finding.commit) == (
        "test-rule",
        "a secret",
        "auth.py",
        1,
        1,
        "0000000000000000",
    )


def test_trufflehog_json_as_its_printer_writes_it() -> None:
    [finding] = read("trufflehog", "trufflehog-readme.jsonl")
    assert (finding.rule, finding.secret, finding.path, finding.line) == ("AWS", "AKIAYVP4CIPPERUVIFXG", "keys", 4)
    assert finding.commit == "fbc14303ffbf8fb1c2c1914e8dda7d0121633aca"
    # "2022-06-16 10:17:40 -0700 PDT": git's time with the zone's name after it.
    assert finding.exposed_at == datetime(2022, 6, 16, 17, 17, 40, tzinfo=timezone.utc)


def test_github_secret_scanning_as_its_rest_reference_shows_it() -> None:
    [finding] = read("github", "github-rest-example.json")
    assert (finding.where, finding.rule, finding.secret) == (
        "alert 2",
        "adafruit_io_key",
        "aio_XXXXXXXXXXXXXXXXXXXXXXXXXXXX",
    )
    assert (finding.path, finding.line, finding.commit) == (
        "/example/secrets.txt",
        1,
        "f14d7debf9775f957cf4f1e8176da0786431f72b",
    )
    assert finding.exposed_at == datetime(2020, 11, 6, 18, 48, 51, tzinfo=timezone.utc)


def test_a_detect_secrets_result_without_a_line_number_is_read_and_refused_in_words(tmp_path: Path) -> None:
    import pytest

    from responder.errors import UserError

    baseline = tmp_path / "baseline"
    result = {"type": "Secret Keyword", "filename": "app.env", "hashed_secret": "0" * 40, "is_verified": False}
    baseline.write_text(json.dumps({"version": "1.5.0", "results": {"app.env": [result]}}))
    [finding] = read_alert_file(str(baseline), source_named("detect-secrets"))
    assert (finding.path, finding.line, finding.sha1) == ("app.env", None, "0" * 40)
    with pytest.raises(UserError, match="names no file and line"):
        collect([finding], tmp_path)
