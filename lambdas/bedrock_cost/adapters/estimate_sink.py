"""Where an estimate goes: JSON-lines objects in S3 and embedded-metric records.

S3 keys are a function of region and UTC hour only
(``estimates/dt=YYYY-MM-DD/region=<region>/<YYYYMMDDTHH>00Z.jsonl``): each run rewrites
the hours it touched, from the start of the hour, so a re-run overwrites instead of
adding. Money is written as exact JSON numbers (no float round-trip), which the Glue
table reads as ``DECIMAL``.

Metric records go to stdout in CloudWatch embedded metric format (EMF) through
Powertools, with no ``service`` dimension (see ``observability``) and the timestamp of
the minute they describe.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError

from bedrock_cost.adapters.aws_errors import translate_client_error
from bedrock_cost.domain.estimate_points import MetricPoint
from bedrock_cost.domain.pricing import decimal_text
from bedrock_cost.metric_names import ESTIMATED_COST
from bedrock_cost.observability import emit_metrics

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

DEFAULT_PREFIX = "estimates"
_DECIMAL_MARK = "\u0000decimal:"
_DECIMAL_STRING = re.compile(r'"\\u0000decimal:(-?[0-9.]+)"')


def hour_key(prefix: str, region: str, hour: datetime) -> str:
    hour = hour.astimezone(UTC)
    return f"{prefix}/dt={hour:%Y-%m-%d}/region={region}/{hour:%Y%m%dT%H}00Z.jsonl"


def _mark(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _DECIMAL_MARK + decimal_text(value)
    if isinstance(value, dict):
        return {k: _mark(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mark(v) for v in value]
    return value


def dumps_exact(record: Mapping[str, Any]) -> str:
    """JSON with ``Decimal`` values written as exact numbers (``0.0407385``, not a float)."""
    text = json.dumps(_mark(dict(record)), separators=(",", ":"), sort_keys=False)
    return _DECIMAL_STRING.sub(r"\1", text)


class S3EstimateSink:
    """``EstimateSink`` writing one JSON-lines object per region-hour."""

    def __init__(self, client: S3Client, bucket: str, prefix: str = DEFAULT_PREFIX) -> None:
        self._client = client
        self._bucket = bucket
        self._prefix = prefix.strip("/")

    def write_hour(self, region: str, hour: datetime, records: Sequence[Mapping[str, Any]]) -> str:
        key = hour_key(self._prefix, region, hour)
        body = "".join(dumps_exact(record) + "\n" for record in records).encode("utf-8")
        try:
            self._client.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType="application/x-ndjson")
        except ClientError as exc:
            raise translate_client_error(exc, f"writing s3://{self._bucket}/{key}") from exc
        return key


class EmfMetricPublisher:
    """``MetricPublisher`` printing one EMF record per point (namespace ``BedrockCostTracker``)."""

    def publish(self, points: Sequence[MetricPoint]) -> int:
        for point in points:
            # The only float conversion of money in the product: CloudWatch stores doubles.
            values = {
                name: (float(value), MetricUnit.NoUnit if name == ESTIMATED_COST else MetricUnit.Count)
                for name, value in point.values
            }
            emit_metrics(values, dimensions=dict(point.dimensions), timestamp=point.timestamp)
        return len(points)


class CollectingMetricPublisher:
    """Keeps points in memory instead of printing them (CLI dry runs and tests)."""

    def __init__(self) -> None:
        self.points: list[MetricPoint] = []

    def publish(self, points: Sequence[MetricPoint]) -> int:
        self.points.extend(points)
        return len(points)
