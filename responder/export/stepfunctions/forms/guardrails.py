"""Why the guardrails actions (actions/guardrails.py) have no Step Functions form."""

from __future__ import annotations

from responder.actions.guardrails import PutGuardrails, RenderGuardrails
from responder.export.stepfunctions.states import no_states_form

# Guardrails are a standing policy a person reviews and puts once, not an alarm's response.
_NOT_ON_AN_ALARM = (
    "guardrails are a standing policy a person reviews and puts once, not an alarm's response: "
    "run `responder run bedrock-key-guardrails` (or put the SCP it renders)"
)
no_states_form(RenderGuardrails, _NOT_ON_AN_ALARM)
no_states_form(PutGuardrails, _NOT_ON_AN_ALARM)
