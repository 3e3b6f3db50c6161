"""Read the estimator's daily spend back from CloudWatch for the burn-rate forecast.

The estimator publishes ``EstimatedCostUSD`` (namespace ``BedrockCostTracker``) by
``TagKey``+``TagValue`` and by ``Model``. Metrics written through Powertools also carry
a ``service`` dimension, and CloudWatch matches dimension sets exactly, so this reader
discovers the series with ``ListMetrics`` instead of guessing them: it keeps the series
whose dimension names, ignoring ``service``, are exactly the expected set, and sums
them. The account total is the sum of the per-model series (the estimator folds models
beyond its cap into ``(other)``, so nothing is lost); the dimensionless total is not
used because a query without dimensions is the one shape emulators and CloudWatch
disagree on.

``GetMetricData`` with a one-day period and a start at UTC midnight returns one ``Sum``
per UTC day. CloudWatch returns doubles; each is converted through ``str`` to
``Decimal`` before any addition. ``ListMetrics`` only lists series with data in the last
two weeks, so a tag value idle for longer than that reads as zero: harmless for a
forecast driven by the recent daily rate.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from bedrock_cost.adapters.aws_errors import translate_client_error
from bedrock_cost.metric_names import ESTIMATED_COST
from bedrock_cost.observability import METRICS_NAMESPACE

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import DimensionTypeDef, MetricDataQueryTypeDef, MetricTypeDef

COST_METRIC = ESTIMATED_COST
IGNORED_DIMENSIONS = frozenset({"service"})
MAX_QUERIES_PER_CALL = 500
DAY_SECONDS = 86_400


class EstimateSpendReader:
    def __init__(self, cloudwatch: CloudWatchClient, namespace: str = METRICS_NAMESPACE) -> None:
        self._cloudwatch = cloudwatch
        self._namespace = namespace

    def daily_spend_by_tag(self, tag_key: str, tag_value: str, start: date, end: datetime) -> dict[date, Decimal]:
        """Estimated spend of one tag value per UTC day, ``start`` (inclusive) to ``end``."""
        series = self._series(
            {"TagKey": tag_key, "TagValue": tag_value}, frozenset({"TagKey", "TagValue"}), f"{tag_key}={tag_value}"
        )
        return self._daily(series, start, end)

    def daily_spend_total(self, start: date, end: datetime) -> dict[date, Decimal]:
        """Estimated spend of the whole account per UTC day (sum of the per-model series)."""
        return self._daily(self._series({}, frozenset({"Model"}), "per-model"), start, end)

    def _series(self, required: dict[str, str], shape: frozenset[str], label: str) -> list[MetricTypeDef]:
        kwargs: dict[str, Any] = {"Namespace": self._namespace, "MetricName": COST_METRIC}
        if required:
            kwargs["Dimensions"] = [{"Name": name, "Value": value} for name, value in required.items()]
        found: list[MetricTypeDef] = []
        seen: set[tuple[tuple[str, str], ...]] = set()
        try:
            for page in self._cloudwatch.get_paginator("list_metrics").paginate(**kwargs):
                for metric in page.get("Metrics", []):
                    dimensions: list[DimensionTypeDef] = [
                        {"Name": d["Name"], "Value": d["Value"]} for d in metric.get("Dimensions", [])
                    ]
                    identity = tuple(sorted((d["Name"], d["Value"]) for d in dimensions))
                    if identity in seen:  # a series is counted once, however it is listed
                        continue
                    seen.add(identity)
                    if {d["Name"] for d in dimensions} - IGNORED_DIMENSIONS == shape:
                        found.append(
                            {"Namespace": self._namespace, "MetricName": COST_METRIC, "Dimensions": dimensions}
                        )
        except ClientError as exc:
            raise translate_client_error(exc, f"listing {COST_METRIC} series ({label})") from exc
        return found

    def _daily(self, series: Sequence[MetricTypeDef], start: date, end: datetime) -> dict[date, Decimal]:
        if not series:
            return {}
        start_at = datetime.combine(start, time.min, tzinfo=UTC)
        # Round the end up to the next midnight so today's partial day is one bucket.
        end_at = datetime.combine(end.astimezone(UTC).date() + timedelta(days=1), time.min, tzinfo=UTC)
        totals: dict[date, Decimal] = {}
        for batch in _chunks(series, MAX_QUERIES_PER_CALL):
            queries: list[MetricDataQueryTypeDef] = [
                {
                    "Id": f"m{index}",
                    "MetricStat": {"Metric": metric, "Period": DAY_SECONDS, "Stat": "Sum"},
                    "ReturnData": True,
                }
                for index, metric in enumerate(batch)
            ]
            try:
                pages = self._cloudwatch.get_paginator("get_metric_data").paginate(
                    MetricDataQueries=queries, StartTime=start_at, EndTime=end_at, ScanBy="TimestampAscending"
                )
                for page in pages:
                    for result in page.get("MetricDataResults", []):
                        for stamp, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=True):
                            day = stamp.astimezone(UTC).date()
                            totals[day] = totals.get(day, Decimal(0)) + Decimal(str(value))
            except ClientError as exc:
                raise translate_client_error(exc, f"reading {COST_METRIC} daily sums") from exc
        return totals


def _chunks(items: Sequence[MetricTypeDef], size: int) -> Iterable[Sequence[MetricTypeDef]]:
    for offset in range(0, len(items), size):
        yield items[offset : offset + size]
