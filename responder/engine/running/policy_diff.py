"""A policy document a change will put, as a diff against what is there: shown with the plan, and in the report.

Its own module: a run prints it before its first change, which must not wait for the report's modules."""

from __future__ import annotations

import difflib
import json
from typing import Any


def policy_diff(before: Any, after: Any) -> list[str]:
    """A unified diff of two policy documents (either may be absent); empty unless one is a policy document."""
    if not any(isinstance(v, dict) and "Statement" in v for v in (before, after)):
        return []
    old = json.dumps(before, indent=2, sort_keys=True).splitlines() if before is not None else []
    new = json.dumps(after, indent=2, sort_keys=True).splitlines() if after is not None else []
    return list(difflib.unified_diff(old, new, "before", "after", lineterm="", n=len(old) + len(new)))
