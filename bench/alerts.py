"""An alert file of 1,000 findings holding 50 distinct keys (25 long-term, 25 short-term made by AWS's token
generator), identified offline: `responder identify --from FORMAT FILE --offline`.

    python bench/alerts.py --out DIR      # writes DIR/gitleaks.json, DIR/trufflehog.jsonl, DIR/repo/...
    responder identify --from gitleaks DIR/gitleaks.json --repo DIR/repo --offline -o json > /dev/null

The gitleaks report records the short-term keys only by their prefix, as gitleaks's own rule does, so their
whole keys are read from the repository's files and confirmed: the slow path. Time the second command as a whole
process (e.g. /usr/bin/time -v); it includes Python's start-up and responder's imports.
"""

from __future__ import annotations

import argparse
import base64
import json
from datetime import timedelta
from pathlib import Path

from aws_bedrock_token_generator import provide_token
from botocore.credentials import CredentialProvider, Credentials

FINDINGS = 1000
KEYS = 50


def long_term(n: int) -> str:
    secret = base64.b64encode(n.to_bytes(2, "big") * 22).decode()  # 60 characters, as AWS's
    return "ABSK" + base64.b64encode(f"bench-user-{n}-at-123456789012:{secret}".encode()).decode()


def short_term(n: int) -> str:
    class Fixed(CredentialProvider):  # type: ignore[misc]
        def load(self) -> Credentials:
            return Credentials(f"ASIABENCH{n:011d}", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "FwoGZXIvYXdzEXAMPLE")

    return str(provide_token(region="us-east-1", aws_credentials_provider=Fixed(), expiry=timedelta(hours=12)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    out = parser.parse_args().out
    (out / "repo").mkdir(parents=True, exist_ok=True)
    keys = [long_term(n) if n % 2 else short_term(n) for n in range(KEYS)]
    for n, key in enumerate(keys):
        (out / "repo" / f"service-{n}.env").write_text(f'TOKEN="{key}"\n')
    report, lines = [], []
    for i in range(FINDINGS):
        n = i % KEYS
        key = keys[n]
        secret = key if key.startswith("ABSK") else "bedrock-api-key-"
        report.append(
            {"RuleID": "aws-amazon-bedrock-api-key", "Secret": secret, "Match": secret, "File": f"service-{n}.env",
             "StartLine": 1, "StartColumn": 8, "Commit": f"{i:07x}", "Date": "2026-11-30T09:00:00Z"}
        )  # fmt: skip
        lines.append(json.dumps({"SourceMetadata": {"Data": {"Git": {"file": f"service-{n}.env", "line": 1}}},
                                 "DetectorName": "AmazonBedrockAPIKey", "Raw": key}))  # fmt: skip
    (out / "gitleaks.json").write_text(json.dumps(report))
    (out / "trufflehog.jsonl").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
