"""The account's regions (`account:ListRegions`) for moto, which has the Account service but not this operation.

What the investigation asks to learn which regions a multi-region trail covers. The sandbox's account has every
region of botocore's `aws` partition enabled by default, as a new account has its regions that need no opt-in.
`install()` adds the route and the method to moto's Account service, which `mock_aws()` and the moto server both
read their routes from at each request.
"""

from __future__ import annotations

from typing import Any

import boto3
from moto.account import urls
from moto.account.responses import AccountResponse
from moto.core.responses import ActionResult

_ROUTE = "{0}/listRegions$"
_STATUS = "ENABLED_BY_DEFAULT"


def _list_regions(self: AccountResponse) -> ActionResult:
    wanted = self._get_param("RegionOptStatusContains") or [_STATUS]
    regions: list[dict[str, Any]] = []
    if _STATUS in wanted:
        names = boto3.session.Session().get_available_regions("ec2")
        regions = [{"RegionName": name, "RegionOptStatus": _STATUS} for name in sorted(names)]
    return ActionResult({"Regions": regions})


def install() -> None:
    """Idempotent."""
    urls.url_paths.setdefault(_ROUTE, AccountResponse.dispatch)
    AccountResponse.list_regions = _list_regions  # type: ignore[attr-defined]  # the operation moto lacks
