"""Rebuild tests/alerts/fixtures (run by hand: `python tests/alerts/make_fixtures.py`). The detect-secrets
baseline is made by the real detect-secrets; the other formats follow the tools' own test data (see each
source module's docstring), with keys made by AWS's token generator and in AWS's long-term format."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from factories import make_key, make_token

HERE = Path(__file__).resolve().parent / "fixtures"
LONG = make_key("bedrock-api-key-test-at-123456789012")
SECOND = make_key("anika+1-at-123456789012")
SHORT = make_token("ASIAEXAMPLEEXAMPLE12", issued=datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc))
OTHER = "ghp_EXAMPLEexampleEXAMPLEexample0123456"


def main() -> None:
    repo = HERE / "repo"
    repo.mkdir(parents=True, exist_ok=True)
    (repo / "config.env").write_text(
        f'BEDROCK_KEY="{LONG}"\nAWS_BEARER_TOKEN_BEDROCK="{SHORT}"\nGITHUB_TOKEN="{OTHER}"\nSECOND="{SECOND}"\n'
    )
    common = {
        "SymlinkFile": "",
        "Entropy": 5.2,
        "Author": "dev",
        "Email": "dev@example.com",
        "Message": "add config",
        "Tags": [],
        "EndLine": 0,
        "EndColumn": 0,
    }
    gitleaks = [
        {
            **common,
            "Description": "long-lived Bedrock key",
            "RuleID": "aws-amazon-bedrock-api-key-long-lived",
            "StartLine": 1,
            "StartColumn": 14,
            "Match": LONG,
            "Secret": LONG,
            "File": "config.env",
            "Commit": "a1b2c3d",
            "Date": "2026-11-30T09:05:00Z",
            "Fingerprint": "a1b2c3d:config.env:aws:1",
        },
        {
            **common,
            "Description": "short-lived Bedrock key",
            "RuleID": "aws-amazon-bedrock-api-key-short-lived",
            "StartLine": 2,
            "StartColumn": 27,
            "Match": "bedrock-api-key-",
            "Secret": "bedrock-api-key-",
            "File": "config.env",
            "Commit": "a1b2c3d",
            "Date": "2026-11-30T09:05:00Z",
            "Fingerprint": "a1b2c3d:config.env:short:2",
        },
        {
            **common,
            "Description": "GitHub token",
            "RuleID": "github-pat",
            "StartLine": 3,
            "StartColumn": 15,
            "Match": OTHER,
            "Secret": OTHER,
            "File": "config.env",
            "Commit": "a1b2c3d",
            "Date": "2026-11-30T09:05:00Z",
            "Fingerprint": "a1b2c3d:config.env:github-pat:3",
        },
        {
            **common,
            "Description": "long-lived Bedrock key",
            "RuleID": "aws-amazon-bedrock-api-key-long-lived",
            "StartLine": 1,
            "StartColumn": 14,
            "Match": LONG,
            "Secret": LONG,
            "File": "config.env",
            "Commit": "0f0e0d0",
            "Date": "2026-11-29T17:00:00Z",
            "Fingerprint": "0f0e0d0:config.env:aws:1",
        },
    ]
    (HERE / "gitleaks.json").write_text(json.dumps(gitleaks, indent=1) + "\n")
    sarif = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "gitleaks", "semanticVersion": "v8.29.0", "rules": []}},
                "results": [
                    {
                        "message": {"text": f"{f['RuleID']} has detected secret for file {f['File']}."},
                        "ruleId": f["RuleID"],
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": f["File"]},
                                    "region": {
                                        "startLine": f["StartLine"],
                                        "startColumn": f["StartColumn"],
                                        "endLine": f["StartLine"],
                                        "endColumn": 0,
                                        "snippet": {"text": f["Secret"]},
                                    },
                                }
                            }
                        ],
                        "partialFingerprints": {
                            "commitSha": f["Commit"],
                            "email": f["Email"],
                            "author": f["Author"],
                            "date": f["Date"],
                            "commitMessage": f["Message"],
                        },
                    }
                    for f in gitleaks
                ],
            }
        ],
    }
    (HERE / "gitleaks.sarif").write_text(json.dumps(sarif, indent=1) + "\n")
    lines = []
    for raw, line, name in ((LONG, 1, "AmazonBedrockAPIKey"), (SHORT, 2, "AmazonBedrockAPIKey"), (OTHER, 3, "Github")):
        lines.append(
            json.dumps(
                {
                    "SourceMetadata": {
                        "Data": {
                            "Git": {
                                "commit": "a1b2c3d",
                                "file": "config.env",
                                "email": "dev <dev@example.com>",
                                "repository": "https://github.com/example/app.git",
                                "timestamp": "2026-11-30 10:05:00 +0100 +0100",
                                "line": line,
                            }
                        }
                    },
                    "SourceID": 1,
                    "SourceType": 7,
                    "SourceName": "trufflehog - git",
                    "DetectorType": 0,
                    "DetectorName": name,
                    "DecoderName": "PLAIN",
                    "Verified": False,
                    "Raw": raw,
                    "RawV2": "",
                    "Redacted": "",
                    "ExtraData": None,
                    "StructuredData": None,
                }
            )
        )
    (HERE / "trufflehog.jsonl").write_text("\n".join(lines) + "\n")
    baseline = subprocess.run(
        ["detect-secrets", "scan", "--all-files", "config.env"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout
    (HERE / "detect-secrets.baseline").write_text(baseline)
    github = [
        {
            "number": 42,
            "created_at": "2026-11-30T09:06:00Z",
            "updated_at": "2026-11-30T09:06:00Z",
            "url": "https://api.github.com/repos/example/app/secret-scanning/alerts/42",
            "html_url": "https://github.com/example/app/security/secret-scanning/42",
            "locations_url": "https://api.github.com/repos/example/app/secret-scanning/alerts/42/locations",
            "state": "open",
            "resolution": None,
            "resolved_at": None,
            "resolved_by": None,
            "secret_type": "aws_bedrock_api_key",
            "secret_type_display_name": "Amazon Bedrock API Key",
            "secret": SECOND,
            "validity": "unknown",
            "publicly_leaked": False,
            "multi_repo": False,
            "first_location_detected": {
                "path": "config.env",
                "start_line": 4,
                "end_line": 4,
                "start_column": 9,
                "end_column": 100,
                "blob_sha": "b" * 40,
                "commit_sha": "a" * 40,
            },
        }
    ]
    (HERE / "github.json").write_text(json.dumps(github, indent=1) + "\n")
    (HERE / "keys.txt").write_text(f"# leaked on 2026-11-30\n{LONG}\n\nexport AWS_BEARER_TOKEN_BEDROCK={SHORT}\n")


if __name__ == "__main__":
    main()
