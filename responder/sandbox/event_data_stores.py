"""CloudTrail Lake event data stores (`ListEventDataStores`, `GetEventDataStore`) for moto, which has neither.

What the investigation reads to learn whether an account logs Bedrock's and Mantle's data events to a Lake store
rather than a trail. `seed_event_data_store()` keeps a store on the account's per-region CloudTrail backend (moto's
reset clears it, accounts and regions stay apart); `install()` adds the two reads to `CloudTrailResponse`, which
`mock_aws()` and the moto server both dispatch to. Every field is botocore's (`GetEventDataStoreResponse`); the
listing gives only the ARN and the name, since the API reference marks its other `EventDataStore` members
deprecated: what a store logs is read with `GetEventDataStore`.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from moto.cloudtrail.models import CloudTrailBackend, cloudtrail_backends
from moto.cloudtrail.responses import CloudTrailResponse
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult

# Advanced selectors logging Bedrock's and Mantle's data events, as an account that keeps them in Lake writes them.
BEDROCK_DATA_SELECTORS: list[dict[str, Any]] = [
    {
        "Name": "Bedrock and Bedrock Mantle data events",
        "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "StartsWith": ["AWS::Bedrock::", "AWS::BedrockMantle::"]},
        ],
    }
]
_STATE_ATTR = "_responder_event_data_stores"  # BaseBackend.reset() empties __dict__: reset clears it
_MAX_RESULTS = 1000  # botocore: ListEventDataStores MaxResults, 1 to 1000


def _stores(backend: CloudTrailBackend) -> list[dict[str, Any]]:
    stores: list[dict[str, Any]] = backend.__dict__.setdefault(_STATE_ATTR, [])
    return stores


def seed_event_data_store(
    account_id: str,
    region: str,
    name: str,
    selectors: list[dict[str, Any]],
    created: datetime,
    multi_region: bool = True,
    status: str = "ENABLED",
    retention_days: int = 366,
) -> dict[str, Any]:
    """A Lake event data store in `region`, as `GetEventDataStore` describes it; returns that description."""
    install()
    store_id = str(uuid.uuid4())
    when = created.astimezone(timezone.utc)
    store = {
        "EventDataStoreArn": f"arn:aws:cloudtrail:{region}:{account_id}:eventdatastore/{store_id}",
        "Name": name,
        "Status": status,
        "AdvancedEventSelectors": selectors,
        "MultiRegionEnabled": multi_region,
        "OrganizationEnabled": False,
        "RetentionPeriod": retention_days,
        "TerminationProtectionEnabled": True,
        "CreatedTimestamp": when,
        "UpdatedTimestamp": when,
        "BillingMode": "EXTENDABLE_RETENTION_PRICING",
    }
    _stores(cloudtrail_backends[account_id][region]).append(store)
    return store


def list_event_data_stores(self: CloudTrailResponse) -> ActionResult:
    """CloudTrailResponse.list_event_data_stores: the region's stores, by ARN and name, paged by position."""
    max_results: Any = self._get_param("MaxResults", _MAX_RESULTS)
    token: Any = self._get_param("NextToken")
    if isinstance(max_results, bool) or not isinstance(max_results, int) or not 1 <= max_results <= _MAX_RESULTS:
        raise JsonRESTError("InvalidMaxResultsException", f"MaxResults must be between 1 and {_MAX_RESULTS}.")
    start = 0
    if token is not None:
        if not str(token).isdigit():
            raise JsonRESTError("InvalidNextTokenException", "Invalid NextToken.")
        start = int(token)
    stores = _stores(self.cloudtrail_backend)
    page = stores[start : start + max_results]
    result: dict[str, Any] = {"EventDataStores": [{k: s[k] for k in ("EventDataStoreArn", "Name")} for s in page]}
    if start + max_results < len(stores):
        result["NextToken"] = str(start + max_results)
    return ActionResult(result)


def get_event_data_store(self: CloudTrailResponse) -> ActionResult:
    """CloudTrailResponse.get_event_data_store: one store, by its ARN or the ID at the ARN's end."""
    wanted = str(self._get_param("EventDataStore") or "")
    for store in _stores(self.cloudtrail_backend):
        arn = str(store["EventDataStoreArn"])
        if wanted in (arn, arn.rsplit("/", 1)[-1]):
            return ActionResult(dict(store))
    raise JsonRESTError("EventDataStoreNotFoundException", f"The specified event data store {wanted} was not found.")


def install() -> None:
    """Idempotent."""
    CloudTrailResponse.list_event_data_stores = list_event_data_stores  # type: ignore[attr-defined]
    CloudTrailResponse.get_event_data_store = get_event_data_store  # type: ignore[attr-defined]
