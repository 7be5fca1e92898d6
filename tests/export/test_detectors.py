"""Detectors out: the shipped gitleaks, trufflehog and detect-secrets files are what the family registry makes,
their patterns are RE2-compatible, find every key kind responder knows a start for (keys made by AWS's token
generators and by the sandbox, the `+1` alias, whole short-term keys) and no near-miss; and the real
detect-secrets, where it is installed, finds them with the plugin."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from responder.export.detectors import FILES, not_covered, patterns, write
from responder.keys.registry import FAMILIES
from responder.sandbox.seed import Seeded
from responder.sandbox.service_credentials import create_credential
from tests.factories import ACCOUNT, SECRET_PART
from tests.keys.test_families import long_term_sample, short_term_sample

SHIPPED = Path(__file__).resolve().parents[2] / "detectors"
CONTEXTS = ("{}", 'KEY="{}"', "export AWS_BEARER_TOKEN_BEDROCK={}", '{{"token": "{}"}}', "key: '{}' # prod")


def every_key_kind(account: Seeded) -> dict[str, str]:
    """A key of every family and kind responder knows a start for, named."""
    keys = {}
    for family in FAMILIES.values():
        if family.long_term.prefix is None:
            continue
        keys[f"{family.name} long-term"] = long_term_sample(family, f"svc-at-{ACCOUNT}")
        keys[f"{family.name} second key (+1)"] = long_term_sample(family, f"anika+1-at-{ACCOUNT}")
        keys[f"{family.name} long, odd user"] = long_term_sample(family, f"a.b@c_d=e,f-at-{ACCOUNT}")
        if family.short_term is not None:
            keys[f"{family.name} short-term"] = short_term_sample(family)
    second = create_credential(ACCOUNT, account.user_name)  # the sandbox issues a second key's alias as +1
    keys["bedrock sandbox second key"] = second["ServiceCredentialSecret"]
    keys["bedrock sandbox key"] = account.key
    return keys


def near_misses() -> dict[str, str]:
    other_host = base64.b64encode(b"sts.amazonaws.com/?Action=GetCallerIdentity&X-Amz-Algorithm=AWS4-HMAC").decode()
    bedrock = long_term_sample(FAMILIES["bedrock"], f"svc-at-{ACCOUNT}")
    return {
        "the short-term prefix alone": "bedrock-api-key-",
        "a short-term prefix before another presigned request": "bedrock-api-key-" + other_host * 4,
        "a long-term prefix with too little after it": "ABSK" + base64.b64encode(f"u-at-{ACCOUNT}:x".encode()).decode(),
        "a long-term key inside a longer base64 run": "QUJD" + bedrock,
        "a lower-case prefix": "absk" + bedrock[4:],
        "a prefix no family has": "ABSX" + bedrock[4:],
        "an AWS access key id": "AKIAIOSFODNN7EXAMPLE",
        "an AWS secret access key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "the long-term secret part alone": SECRET_PART,
    }


def found(text: str) -> list[str]:
    return [m for p in patterns() for m in re.findall(p.regex, text)]


def test_the_shipped_files_are_what_the_registry_makes(tmp_path: Path) -> None:
    write(tmp_path)
    for name in FILES:
        assert (SHIPPED / name).read_text() == (tmp_path / name).read_text(), "run: responder export detectors"


def test_every_family_with_a_known_start_has_a_pattern_for_each_kind() -> None:
    made = {(p.family.name, p.kind) for p in patterns()}
    expected = {(f.name, k) for f in FAMILIES.values() if f.long_term.prefix for k in f.kinds}
    assert made == expected
    assert not_covered() == [f.title for f in FAMILIES.values() if f.long_term.prefix is None]


def test_patterns_are_re2_compatible() -> None:
    for p in patterns():
        assert not re.search(r"\(\?[=!<]|\\[1-9]|\(\?P", p.regex), p.regex  # no look-around, back-reference
        assert all(int(n) <= 1000 for n in re.findall(r"\{(\d+)", p.regex))  # RE2's largest repeat count
        assert re.compile(p.regex).groups == 1  # gitleaks's secretGroup, trufflehog's submatch


def test_every_key_kind_is_found_whole_in_every_context(account: Seeded) -> None:
    for name, key in every_key_kind(account).items():
        for context in CONTEXTS:
            assert found(context.format(key)) == [key], (name, context)


def test_no_near_miss_is_found() -> None:
    for name, text in near_misses().items():
        for context in CONTEXTS:
            assert found(context.format(text)) == [], name


def test_the_real_detect_secrets_finds_every_key_with_the_plugin(account: Seeded, tmp_path: Path) -> None:
    pytest.importorskip("detect_secrets")
    from detect_secrets import SecretsCollection
    from detect_secrets.settings import transient_settings

    keys = every_key_kind(account)
    (tmp_path / "leaks.env").write_text("\n".join(f"K{i}={k}" for i, k in enumerate(keys.values())) + "\n")
    (tmp_path / "misses.env").write_text("\n".join(f"K{i}={k}" for i, k in enumerate(near_misses().values())))
    plugin = {"name": "AwsApiKeyDetector", "path": f"file://{SHIPPED / 'responder_detect_secrets.py'}"}
    with transient_settings({"plugins_used": [plugin]}):
        secrets = SecretsCollection(root=str(tmp_path))
        secrets.scan_file("leaks.env")
        secrets.scan_file("misses.env")
    found_lines = sorted((Path(s.filename).name, s.line_number) for _, s in secrets)
    assert found_lines == [("leaks.env", n) for n in range(1, len(keys) + 1)]
    assert {s.secret_value for _, s in secrets} == set(keys.values())
