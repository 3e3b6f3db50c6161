"""Logger, Metrics and Tracer, created once for the whole package, and ``emit_metric``.

Every handler imports these instead of building its own, so the service name, the
metrics namespace and the log format are the same in every Lambda.

Metrics never carry Powertools' automatic ``service`` dimension: alarms and dashboards
match metrics by their exact dimension set (``Model``; ``TagKey``+``TagValue``; none),
and a hidden extra dimension would make every alarm silently watch nothing. That is why
``metrics`` is built with ``service=""`` and why dimensioned metrics go through
``emit_metric`` rather than Powertools' ``single_metric`` (which adds ``service`` from
``POWERTOOLS_SERVICE_NAME``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from bedrock_cost.metric_names import NAMESPACE

METRICS_NAMESPACE = NAMESPACE

logger = Logger(service="bedrock-cost-tracker")
metrics = Metrics(namespace=METRICS_NAMESPACE, service="")
TRACED_MODULES: tuple[str, ...] = ("botocore",)
"""X-Ray patches botocore (every AWS call) and nothing else: a patched ``httplib`` records
every URL it opens in its subsegments (``http.request.url``), and the Slack webhook URL is
a credential. Don't add ``httplib``, ``requests`` or ``urllib3`` here."""
tracer = Tracer(service="bedrock-cost-tracker", patch_modules=TRACED_MODULES)


def emit_metrics(
    values: Mapping[str, tuple[float, MetricUnit]],
    *,
    dimensions: Mapping[str, str] | None = None,
    timestamp: datetime | None = None,
) -> None:
    """Write one EMF record holding several metrics with exactly ``dimensions`` (and
    optionally the data's own timestamp, so re-processing a minute lands on the same
    CloudWatch minute)."""
    record = EphemeralMetrics(namespace=METRICS_NAMESPACE, service="")
    for key, dim_value in (dimensions or {}).items():
        record.add_dimension(name=key, value=dim_value[:250] or "(empty)")
    for name, (value, unit) in values.items():
        record.add_metric(name=name, unit=unit, value=value)
    if timestamp is not None:
        record.set_timestamp(timestamp)
    record.flush_metrics()


def emit_metric(
    name: str,
    value: float,
    *,
    dimensions: Mapping[str, str] | None = None,
    unit: MetricUnit = MetricUnit.NoUnit,
    timestamp: datetime | None = None,
) -> None:
    """One metric in one EMF record (see ``emit_metrics``)."""
    emit_metrics({name: (value, unit)}, dimensions=dimensions, timestamp=timestamp)
