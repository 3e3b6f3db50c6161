"""Read ``AWS/Bedrock`` token and invocation metrics from CloudWatch, in as few calls as allowed.

``GetMetricData`` is billed per metric requested ($0.01 per 1,000), on every run, so a
run requests only the metrics the estimate prices (``METRIC_FIELDS``: the four token
counts) and, of those, only the ones CloudWatch lists for that ``ModelId`` (a model that
never used prompt caching has no cache metrics: 2 metrics, not 4). At
most 500 queries go in one call. Discovery lists the ``ModelId`` dimension of the whole
namespace with ``ListMetrics`` (500 metrics a page, $0.01 per 1,000 requests), and is
cached for a few minutes.

Throttling and 5xx answers are retried with exponential backoff and full jitter until
a deadline tied to the Lambda's remaining time; then the run fails without moving the
watermark, and the next run starts from the same minute.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import ClientError

from bedrock_cost.adapters.aws_errors import translate_client_error
from bedrock_cost.domain.estimate import METRIC_FIELDS, Counts, floor_minute
from bedrock_cost.errors import BedrockCostError, Throttled

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import MetricDataQueryTypeDef

BEDROCK_NAMESPACE = "AWS/Bedrock"
MODEL_ID_DIMENSION = "ModelId"
MAX_QUERIES_PER_CALL = 500
PERIOD_SECONDS = 60
DISCOVERY_TTL_SECONDS = 300.0
"""ListMetrics answers are reused this long; late-listed ids are back-filled by the run."""

MANTLE_NAMESPACE = "AWS/BedrockMantle"
MANTLE_METRIC_FIELDS: dict[str, str] = {
    "Inferences": "invocations",
    "TotalInputTokens": "input",
    "TotalOutputTokens": "output",
}
"""``AWS/BedrockMantle`` metric -> ``Counts`` field (reference §3: dimensions Project, Model).
UNSURE: ``TotalOutputTokens`` is inferred from ``TotalInputTokens``; a name that does not
exist returns no data (an under-estimate shown as zero output), never an error."""

T = TypeVar("T")


class DeadlineExceeded(Throttled):
    """Retries ran out of time; the run stops before moving the watermark."""


@dataclass
class Backoff:
    """Retry AWS calls on throttling/5xx with capped exponential backoff and full jitter."""

    deadline: float
    """``clock()`` value after which no new attempt starts."""
    base_seconds: float = 0.25
    max_seconds: float = 8.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    retries: int = 0
    """Retries performed so far (for logs and tests)."""

    @classmethod
    def for_seconds(cls, seconds: float, **kwargs: Any) -> Backoff:
        clock: Callable[[], float] = kwargs.get("clock", time.monotonic)
        return cls(deadline=clock() + seconds, **kwargs)

    def call(self, operation: Callable[[], T], doing: str) -> T:
        attempt = 0
        while True:
            try:
                return operation()
            except ClientError as exc:
                error = translate_client_error(exc, doing)
                status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
                if not isinstance(error, Throttled) and status < 500:
                    raise error from exc
                delay = min(self.max_seconds, self.base_seconds * 2**attempt) * self.rng.uniform(0.5, 1.0)
                if self.clock() + delay > self.deadline:
                    raise DeadlineExceeded(f"{error} (gave up after {attempt + 1} attempts: deadline reached)") from exc
                self.sleep(delay)
                attempt += 1
                self.retries += 1


def _query_id(index: int, metric_index: int) -> str:
    return f"m{index}_{metric_index}"


def mantle_queries(
    series: Sequence[tuple[str, str]],
) -> tuple[list[MetricDataQueryTypeDef], dict[str, tuple[str, str]]]:
    """GetMetricData queries for bedrock-mantle (project, model) series, and each query's owner.

    The owner is the *model* (projects of one model sum into it), so mantle spend is priced
    like any other model id; mantle traffic never appears in ``AWS/Bedrock``, so nothing is
    counted twice.
    """
    queries: list[MetricDataQueryTypeDef] = []
    owner: dict[str, tuple[str, str]] = {}
    for index, (project, model) in enumerate(series):
        for metric_index, (metric_name, field_name) in enumerate(MANTLE_METRIC_FIELDS.items()):
            query_id = f"mantle{index}_{metric_index}"
            owner[query_id] = (model, field_name)
            queries.append(
                {
                    "Id": query_id,
                    "MetricStat": {
                        "Metric": {
                            "Namespace": MANTLE_NAMESPACE,
                            "MetricName": metric_name,
                            "Dimensions": [{"Name": "Project", "Value": project}, {"Name": "Model", "Value": model}],
                        },
                        "Period": PERIOD_SECONDS,
                        "Stat": "Sum",
                    },
                    "ReturnData": True,
                }
            )
    return queries, owner


class CloudWatchBedrockMetrics:
    """``MetricsSource`` over one region's CloudWatch."""

    def __init__(
        self,
        client: CloudWatchClient,
        backoff: Callable[[], Backoff],
        discovery_ttl_seconds: float = DISCOVERY_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._backoff = backoff
        self._ttl = discovery_ttl_seconds
        self._clock = clock
        self._discovered: tuple[float, set[str]] | None = None
        self._listed: dict[str, set[str]] = {}
        """``ModelId`` -> the ``METRIC_FIELDS`` names CloudWatch lists for it."""
        self.metrics_requested = 0
        """Metrics requested with ``GetMetricData`` so far (what the bill counts)."""

    def discover_model_ids(self) -> set[str]:
        """Every ``ModelId`` with Bedrock metrics in the last two weeks (cached)."""
        now = self._clock()
        if self._discovered is not None and now - self._discovered[0] < self._ttl:
            return set(self._discovered[1])
        backoff = self._backoff()
        found: set[str] = set()
        listed: dict[str, set[str]] = {}
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {
                "Namespace": BEDROCK_NAMESPACE,
                "Dimensions": [{"Name": MODEL_ID_DIMENSION}],
            }
            if token:
                kwargs["NextToken"] = token
            page = backoff.call(functools.partial(self._client.list_metrics, **kwargs), "listing AWS/Bedrock metrics")
            for metric in page.get("Metrics", []):
                dims = metric.get("Dimensions", [])
                # Only the per-ModelId series: other dimension sets would double count.
                if len(dims) == 1 and dims[0].get("Name") == MODEL_ID_DIMENSION and dims[0].get("Value"):
                    model_id = str(dims[0]["Value"])
                    name = str(metric.get("MetricName", ""))
                    if name in METRIC_FIELDS:
                        found.add(model_id)
                        listed.setdefault(model_id, set()).add(name)
            token = page.get("NextToken")
            if not token:
                break
        self._discovered = (now, found)
        self._listed = listed
        return set(found)

    def _metric_names(self, model_id: str) -> list[str]:
        """The metrics to request for ``model_id``: those listed for it, else all of them
        (an id known from the watermark but not listed this time is read in full)."""
        listed = self._listed.get(model_id)
        return [name for name in METRIC_FIELDS if listed is None or name in listed]

    def read_usage(self, model_ids: Sequence[str], start: datetime, end: datetime) -> dict[str, dict[datetime, Counts]]:
        """1-minute sums of the listed ``METRIC_FIELDS`` for every id over ``[start, end)``, all pages read."""
        queries: list[MetricDataQueryTypeDef] = []
        owner: dict[str, tuple[str, str]] = {}
        for index, model_id in enumerate(model_ids):
            names = self._metric_names(model_id)
            for metric_index, (metric_name, field_name) in enumerate(METRIC_FIELDS.items()):
                if metric_name not in names:
                    continue
                query_id = _query_id(index, metric_index)
                owner[query_id] = (model_id, field_name)
                queries.append(
                    {
                        "Id": query_id,
                        "MetricStat": {
                            "Metric": {
                                "Namespace": BEDROCK_NAMESPACE,
                                "MetricName": metric_name,
                                "Dimensions": [{"Name": MODEL_ID_DIMENSION, "Value": model_id}],
                            },
                            "Period": PERIOD_SECONDS,
                            "Stat": "Sum",
                        },
                        "ReturnData": True,
                    }
                )
        values: dict[str, dict[datetime, dict[str, int]]] = {}
        backoff = self._backoff()
        for offset in range(0, len(queries), MAX_QUERIES_PER_CALL):
            batch = queries[offset : offset + MAX_QUERIES_PER_CALL]
            self.metrics_requested += len(batch)
            self._read_batch(batch=batch, owner=owner, start=start, end=end, values=values, backoff=backoff)
        return {
            model_id: {minute: Counts.from_fields(fields) for minute, fields in sorted(minutes.items())}
            for model_id, minutes in values.items()
        }

    def discover_mantle_series(self) -> list[tuple[str, str]]:
        """Every (Project, Model) pair with ``AWS/BedrockMantle`` metrics in the last two weeks."""
        backoff = self._backoff()
        found: set[tuple[str, str]] = set()
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Namespace": MANTLE_NAMESPACE, "MetricName": "Inferences"}
            if token:
                kwargs["NextToken"] = token
            page = backoff.call(functools.partial(self._client.list_metrics, **kwargs), "listing AWS/BedrockMantle")
            for metric in page.get("Metrics", []):
                dims = {str(d.get("Name")): str(d.get("Value", "")) for d in metric.get("Dimensions", [])}
                if set(dims) == {"Project", "Model"} and dims["Model"]:
                    found.add((dims["Project"], dims["Model"]))
            token = page.get("NextToken")
            if not token:
                return sorted(found)

    def read_mantle_usage(self, start: datetime, end: datetime) -> dict[str, dict[datetime, Counts]]:
        """1-minute bedrock-mantle sums per model over ``[start, end)`` (all projects)."""
        queries, owner = mantle_queries(self.discover_mantle_series())
        values: dict[str, dict[datetime, dict[str, int]]] = {}
        backoff = self._backoff()
        for offset in range(0, len(queries), MAX_QUERIES_PER_CALL):
            batch = queries[offset : offset + MAX_QUERIES_PER_CALL]
            self._read_batch(batch=batch, owner=owner, start=start, end=end, values=values, backoff=backoff)
        return {
            model: {minute: Counts.from_fields(fields) for minute, fields in sorted(minutes.items())}
            for model, minutes in values.items()
        }

    def _read_batch(
        self,
        *,
        batch: list[MetricDataQueryTypeDef],
        owner: dict[str, tuple[str, str]],
        start: datetime,
        end: datetime,
        values: dict[str, dict[datetime, dict[str, int]]],
        backoff: Backoff,
    ) -> None:
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {
                "MetricDataQueries": batch,
                "StartTime": start,
                "EndTime": end,
                "ScanBy": "TimestampAscending",
            }
            if token:
                kwargs["NextToken"] = token
            page = backoff.call(
                functools.partial(self._client.get_metric_data, **kwargs), "reading AWS/Bedrock metrics"
            )
            for message in page.get("Messages", []):
                if message.get("Code") not in (None, "", "MaxMetricsExceeded"):
                    raise BedrockCostError(f"GetMetricData: {message.get('Code')}: {message.get('Value', '')}")
            for result in page.get("MetricDataResults", []):
                status = result.get("StatusCode", "Complete")
                if status not in ("Complete", "PartialData"):
                    detail = "; ".join(f"{m.get('Code')}: {m.get('Value')}" for m in result.get("Messages", []))
                    raise BedrockCostError(f"GetMetricData returned {status} for query {result.get('Id')}: {detail}")
                model_id, field_name = owner[str(result["Id"])]
                minutes = values.setdefault(model_id, {})
                for stamp, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=True):
                    minute = floor_minute(stamp)
                    if not start <= minute < end:
                        continue
                    fields = minutes.setdefault(minute, {})
                    fields[field_name] = fields.get(field_name, 0) + round(value)
            token = page.get("NextToken")
            if not token:
                return
