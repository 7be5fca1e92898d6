"""CloudWatch's `ListMetrics` as AWS answers it: only metrics that reported data in the past two weeks.

moto lists every metric it ever received, so a model idle for longer still shows, and code that finds models only
by listing looks right in the sandbox and misses them in AWS (botocore's cloudwatch model, ListMetrics: "doesn't
return information about metrics if those metrics haven't reported data in the past two weeks"). `install()` makes
moto's listing skip data points older than that; `GetMetricData` still answers from every data point kept.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from moto.cloudwatch.models import CloudWatchBackend, MetricDatumBase
from moto.core.utils import utcnow

LISTED_FOR = timedelta(days=14)  # ListMetrics: data "in the past two weeks"


def _recently_reported(
    self: CloudWatchBackend, metric_name: str, namespace: str, dimensions: list[dict[str, str]]
) -> list[MetricDatumBase]:
    since = utcnow() - LISTED_FOR
    found: list[MetricDatumBase] = []
    for datum in self.get_all_metrics():
        recent = datum.timestamp.replace(tzinfo=None) >= since  # moto keeps naive UTC
        if recent and datum.filter(
            namespace=namespace, name=metric_name, dimensions=dimensions, already_present_metrics=found
        ):
            found.append(datum)
    return found


def install() -> None:
    """Idempotent."""
    patched: Any = _recently_reported
    CloudWatchBackend.get_filtered_metrics = patched  # type: ignore[method-assign]
