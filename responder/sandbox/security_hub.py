"""Security Hub's BatchImportFindings as AWS checks it, on top of moto's.

moto 5.2 stores any finding that has an Id and a Resources list: it imports into an account whose hub is off
and accepts findings missing ASFF's required fields, or filed under another account's product. AWS refuses
each of those (InvalidAccessException for the hub; a FailedFindings entry per bad finding): `install()` adds
those checks, so a test against the sandbox fails where AWS would.
"""

from __future__ import annotations

import functools
import json
import threading
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.securityhub.responses import SecurityHubResponse

_INSTALLED_ATTR = "_responder_security_hub_installed"
_lock = threading.Lock()


@functools.cache  # the service model, loaded once: not at every BatchImportFindings
def _required() -> list[str]:
    import botocore.session

    shape = botocore.session.get_session().get_service_model("securityhub").shape_for("AwsSecurityFinding")
    return list(shape.required_members)


def _problem(finding: dict[str, Any], account: str, region: str, required: list[str]) -> str | None:
    missing = [name for name in required if not finding.get(name)]
    if missing:
        return f"Finding does not contain the required fields: {', '.join(missing)}"
    if finding["AwsAccountId"] != account:
        return f"AwsAccountId {finding['AwsAccountId']} is not the caller's account {account}"
    own = f":securityhub:{region}:{account}:product/{account}/default"
    if not str(finding["ProductArn"]).endswith(own):
        return f"ProductArn {finding['ProductArn']} is not a product this account may import to in {region}"
    return None


def batch_import_findings(self: SecurityHubResponse) -> str:
    backend = self.securityhub_backend
    if not getattr(backend, "enabled", False):
        raise JsonRESTError(
            "InvalidAccessException", f"Account {self.current_account} is not subscribed to AWS Security Hub"
        )
    body = json.loads(self.body.decode("utf-8") if isinstance(self.body, bytes) else self.body)
    required = _required()
    good, failed = [], []
    for finding in body.get("Findings", []):
        problem = _problem(finding, self.current_account, self.region, required)
        if problem is None:
            good.append(finding)
        else:
            failed.append({"Id": finding.get("Id", ""), "ErrorCode": "InvalidInput", "ErrorMessage": problem})
    failed_count, success_count, more = backend.batch_import_findings(findings=good)
    return json.dumps(
        {"FailedCount": failed_count + len(failed), "FailedFindings": failed + more, "SuccessCount": success_count}
    )


def install() -> None:
    with _lock:
        if not getattr(SecurityHubResponse, _INSTALLED_ATTR, False):
            setattr(SecurityHubResponse, "batch_import_findings", batch_import_findings)  # noqa: B010
            setattr(SecurityHubResponse, _INSTALLED_ATTR, True)
