"""trufflehog's JSON lines (`trufflehog git|filesystem ... --json`): one result object a line.

Field names from trufflehog's output printer (pkg/output/json.go) and its source metadata protos
(proto/source_metadata.proto: Git, Github, Filesystem each have `file`, `line`, and git sources `commit`,
`timestamp`). `Raw` is the whole secret the detector matched (a custom regex detector's match), so no file is
read. trufflehog has no Bedrock detector: responder ships a custom-detector file (detectors/).
"""

from __future__ import annotations

from dataclasses import dataclass

from responder.alerts.document import load_json, need, optional, timestamp
from responder.alerts.located import register_recorded
from responder.alerts.source import Finding, Holds
from responder.errors import UserError


@dataclass(frozen=True)
class Trufflehog:
    name: str = "trufflehog"
    title: str = "trufflehog JSON lines report"
    holds: Holds = "whole key"
    exposure: str = "the commit's timestamp (SourceMetadata.Data.Git.timestamp), for git sources"
    documented_by: str = "trufflehog pkg/output/json.go, proto/source_metadata.proto"

    def findings(self, text: str) -> list[Finding]:
        found = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            where = f"line {number}"
            if not line.lstrip().startswith("{"):
                # trufflehog writes its log to stderr; a line that is not an object is not its --json output.
                raise UserError(f"not a {self.title}: {where} is not a JSON object")
            result = load_json(line, self.title)
            raw = need(result, "Raw", str, where, self.title)
            register_recorded(raw, optional(result, "RawV2", str) or "", optional(result, "Redacted", str) or "")
            data = optional(optional(result, "SourceMetadata", dict) or {}, "Data", dict) or {}
            # One key names the source (Git, Github, Filesystem, ...): its value holds file, line, commit.
            located = next((v for v in data.values() if isinstance(v, dict)), {})
            found.append(
                Finding(
                    where=where,
                    rule=optional(result, "DetectorName", str) or "",
                    secret=raw,
                    path=optional(located, "file", str),
                    line=optional(located, "line", int),
                    commit=optional(located, "commit", str),
                    exposed_at=timestamp(optional(located, "timestamp", str)),
                )
            )
        return found


TRUFFLEHOG = Trufflehog()
