"""Detectors out: what lets the scanners find every key responder contains, written from the family registry
so a new family reaches them too. One pattern per family and kind whose start AWS (or a third party) documents:
a gitleaks rule file, a trufflehog custom-detector file and a detect-secrets plugin (a standalone module: it
imports only detect-secrets).

Patterns are RE2-compatible (gitleaks and trufflehog are Go: no look-around, no back-references) and Python
`re`-compatible (detect-secrets). A key is not inside a longer base64 run; a long-term key is `<prefix>` + the
base64 of `<alias>:<secret>` (at least 104 characters: the shortest alias, 17 characters, and AWS's 60-character
secret); a short-term key is `<prefix>` + the base64 of `<host>/?Action=CallWithBearerToken&...`, whose start is
fixed and is matched whole, not only the prefix (gitleaks's own short-lived rule matches only the prefix).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from pathlib import Path

from responder.keys.family import KeyFamily, KeyKind
from responder.keys.registry import FAMILIES

_BEFORE = "(?:^|[^A-Za-z0-9+/_-])"  # not inside a base64 run or a longer name ('=' may precede: KEY=...)
_AFTER = "(?:[^A-Za-z0-9+/=]|$)"
_BODY = "[A-Za-z0-9+/]"
MIN_LONG_TERM_BODY = 100  # base64 of the shortest alias ('a-at-123456789012'), ':' and a 60-character secret: 104


@dataclass(frozen=True)
class DetectorPattern:
    family: KeyFamily
    kind: KeyKind
    regex: str  # group 1 is the whole key
    keyword: str  # a literal every match contains (the scanners' pre-filter)

    @property
    def rule_id(self) -> str:
        return f"aws-{self.family.name}-api-key-{self.kind}"

    @property
    def description(self) -> str:
        source = {"aws": "documented by AWS", "third-party": "prefix known from third parties only"}
        spec = self.family.format_of(self.kind)
        assert spec is not None
        return f"{self.kind} {self.family.title} API key ({source[spec.confirmed_by]}); contain it with responder"


def _literal(text: str) -> str:
    """A prefix or base64 text as a regular expression: only '+' is special among its characters (escaping '-'
    too would be legal in both dialects, but the files read better without it)."""
    assert re.fullmatch(r"[A-Za-z0-9+/-]*", text), text
    return text.replace("+", r"\+")


def _fixed_base64_start(text: str) -> str:
    """The base64 characters every encoding of a string starting with `text` starts with."""
    whole = len(text.encode()) // 3 * 3
    return base64.b64encode(text.encode()[:whole]).decode()


def patterns() -> list[DetectorPattern]:
    found = []
    for family in FAMILIES.values():
        if family.long_term.prefix is not None:
            prefix = _literal(family.long_term.prefix)
            regex = f"{_BEFORE}({prefix}{_BODY}{{{MIN_LONG_TERM_BODY},}}={{0,2}}){_AFTER}"
            found.append(DetectorPattern(family, "long-term", regex, family.long_term.prefix.lower()))
        if family.short_term is not None:
            spec = family.short_term
            start = _fixed_base64_start(f"{spec.host}/?Action=CallWithBearerToken&")
            regex = f"{_BEFORE}({_literal(spec.prefix)}{_literal(start)}{_BODY}{{100,}}={{0,2}}){_AFTER}"
            found.append(DetectorPattern(family, "short-term", regex, spec.prefix.lower()))
    return found


def not_covered() -> list[str]:
    """The families whose long-term keys no pattern can find: AWS documents no prefix for them."""
    return [f.title for f in FAMILIES.values() if f.long_term.prefix is None]


def _toml_string(text: str) -> str:
    return json.dumps(text)  # a TOML basic string is JSON's string syntax for these characters


def gitleaks_toml() -> str:
    lines = [
        "# gitleaks rules for every AWS API key responder contains (generated: `responder export detectors`).",
        "# Use: gitleaks git --config gitleaks.toml (extends gitleaks's own rules).",
        f"# Not covered: long-term keys of {', '.join(not_covered())} (AWS documents no prefix).",
        'title = "responder: AWS API keys"',
        "",
        "[extend]",
        "useDefault = true",
    ]
    for p in patterns():
        lines += [
            "",
            "[[rules]]",
            f"id = {_toml_string(p.rule_id)}",
            f"description = {_toml_string(p.description)}",
            f"regex = '''{p.regex}'''",
            "secretGroup = 1",
            f"keywords = [{_toml_string(p.keyword)}]",
        ]
    return "\n".join(lines) + "\n"


def trufflehog_yaml() -> str:
    lines = [
        "# trufflehog custom detectors for every AWS API key responder contains (generated: `responder export",
        "# detectors`). Use: trufflehog git file://. --config trufflehog.yaml --no-verification",
        f"# Not covered: long-term keys of {', '.join(not_covered())} (AWS documents no prefix).",
        "detectors:",
    ]
    for p in patterns():
        lines += [
            f"  - name: {p.rule_id}",
            "    keywords:",
            f"      - {json.dumps(p.keyword)}",
            "    regex:",
            f"      key: '{p.regex}'",
        ]
    return "\n".join(lines) + "\n"


def detect_secrets_plugin() -> str:
    # One line a pattern, however long: the comment above it names the rule.
    compiled = "\n".join(f'        # {p.rule_id}\n        re.compile(r"{p.regex}"),' for p in patterns())
    return f'''"""detect-secrets plugin for every AWS API key responder contains.

Generated by `responder export detectors`. Use: detect-secrets scan --plugin responder_detect_secrets.py
Not covered: long-term keys of {", ".join(not_covered())} (AWS documents no prefix).
"""

import re

from detect_secrets.plugins.base import RegexBasedDetector


class AwsApiKeyDetector(RegexBasedDetector):
    """Scans for AWS API keys: Bedrock and Claude Platform on AWS, long- and short-term."""

    secret_type = "AWS API key"

    denylist = (
{compiled}
    )
'''


FILES = {
    "gitleaks.toml": gitleaks_toml,
    "trufflehog.yaml": trufflehog_yaml,
    "responder_detect_secrets.py": detect_secrets_plugin,
}


def write(output_dir: Path) -> list[Path]:
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, render in FILES.items():
        path = output_dir / name
        path.write_text(render(), encoding="utf-8")
        written.append(path)
    return written
