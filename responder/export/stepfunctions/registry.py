"""Every action's Step Functions form, by action name: importing this module fills `states.FORMS` (and
`states.REFUSED`, why an action has none). One line per action module, so an action's own module holds only what a
local run needs and a new form is a module here, a line, and the contract test over the registry
(tests/export/test_stepfunctions_lint.py)."""

from __future__ import annotations

from responder.export.stepfunctions.forms import (  # noqa: F401  (each registers its forms when imported)
    cloudtrail,
    guardrails,
    iam_access_keys,
    iam_credentials,
    iam_key_selection,
    iam_policies,
    iam_sessions,
    local_only,
)
from responder.export.stepfunctions.states import FORMS as FORMS
from responder.export.stepfunctions.states import REFUSED as REFUSED
