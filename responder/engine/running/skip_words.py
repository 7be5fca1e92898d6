"""A skipped step's false condition in words (never `${params.X}` raw): for whoever watches a run, and the report.

Its own small module: the executor says it as a step is skipped, before the first change, where nothing of the
report may be imported yet."""

from __future__ import annotations

from typing import Any

from responder.playbook.refs import refs_in

# What a false condition means, for the conditions the shipped playbooks use; others get a generic sentence.
_FALSE_OUTPUT = {
    "is_user": "the key's principal is not an IAM user",
    "is_role": "the key's principal is not a role",
    "has_user_access_key": "the key was not signed by an IAM user's long-term access key",
    "on_principal": "the deny was not to go on the principal",
}


def condition_words(condition: str, params: dict[str, Any], steps: dict[str, Any]) -> str:
    """A false `when`, in words (never `${params.X}` raw): what was false, and how to have the step run."""
    found: list[str] = []
    for ref in refs_in(condition):
        if ref.kind == "params" and not params.get(ref.name):
            found.append(f"it runs only with `-p {ref.name}=true`, which this run did not set")
        elif ref.kind == "steps":
            outputs = steps.get(ref.step) or {}
            if not (outputs.get(ref.name) if isinstance(outputs, dict) else None):
                found.append(_FALSE_OUTPUT.get(ref.name, f"step {ref.step} found `{ref.name}` false"))
    return "; ".join(found) or "its condition was false"
