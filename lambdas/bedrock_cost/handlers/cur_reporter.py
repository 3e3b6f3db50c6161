"""Daily CUR reporter Lambda: billed truth -> metrics, S3 report, calibration, drift alert.

Thin adapter: validate the environment, open Athena, call ``build_daily_report``, then
write what it returns (EMF metrics, the JSON report in S3, the unit prices the estimator
calibrates from) and publish a drift alert once per day.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from bedrock_cost.adapters.alert_publisher import AlertPublisher
from bedrock_cost.adapters.athena import AthenaEngine
from bedrock_cost.adapters.estimate_metrics import CloudWatchEstimates
from bedrock_cost.adapters.estimate_records import S3EstimateRecords
from bedrock_cost.billing.daily_report import DRIFT_MODEL_CAP, DailyReport, build_daily_report
from bedrock_cost.billing.untagged_spend import untagged_spend_alert
from bedrock_cost.config import TagPolicy
from bedrock_cost.domain.reconcile import drift_alert
from bedrock_cost.handlers.wiring import JSON_TEXT, container_wiring, environment_loader
from bedrock_cost.metric_names import BILLED_COST, DIM_MODEL, DIM_TAG_KEY, DIM_TAG_VALUE, ESTIMATE_DRIFT
from bedrock_cost.observability import emit_metric, logger, metrics, tracer

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

CALIBRATION_KEY = "calibration/unit_prices.json"
"""Where the estimator reads CUR-observed unit prices from."""
SAFETY_MARGIN_MS = 20_000


class CurReporterEnvironment(BaseModel):
    """The function's environment, validated on the first invocation."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    workgroup: str = Field(alias="ATHENA_WORKGROUP", min_length=1)
    database: str = Field(alias="ATHENA_DATABASE", min_length=1)
    region: str = Field(alias="AWS_REGION", min_length=1)
    report_bucket: str = Field(alias="REPORT_BUCKET", min_length=3)
    tag_keys: Annotated[list[str], JSON_TEXT] = Field(alias="REPORT_TAG_KEYS")
    state_table: str = Field(alias="STATE_TABLE", min_length=1)
    alert_topic_arn: str = Field(alias="ALERT_TOPIC_ARN", pattern=r"^arn:aws[a-z-]*:sns:")
    drift_threshold_pct: Decimal = Field(alias="DRIFT_THRESHOLD_PCT", gt=0)
    tag_policy: Annotated[TagPolicy, JSON_TEXT] = Field(alias="TAG_POLICY")
    estimates_bucket: str | None = Field(default=None, alias="ESTIMATES_BUCKET", min_length=3)
    """Where the estimator writes its hour records: set, drift is like for like and per model."""
    metric_detail: Literal["alarms", "full"] = Field(default="alarms", alias="METRIC_DETAIL")
    """``alarms``: the series an alarm or widget reads; ``full``: also per tag value and drift per model."""


load_environment = environment_loader(CurReporterEnvironment, "cur-reporter")


@dataclass
class Dependencies:
    """The clients one container reuses; Athena is opened per invocation (its deadline)."""

    env: CurReporterEnvironment
    s3: S3Client
    estimates: CloudWatchEstimates
    publisher: AlertPublisher


def build_dependencies(env: CurReporterEnvironment) -> Dependencies:
    return Dependencies(
        env=env,
        s3=boto3.client("s3"),
        estimates=CloudWatchEstimates(boto3.client("cloudwatch")),
        publisher=AlertPublisher(boto3.client("sns"), env.alert_topic_arn, boto3.client("dynamodb"), env.state_table),
    )


configure, current_dependencies = container_wiring(lambda: build_dependencies(load_environment()))


class ReportEvent(BaseModel):
    """A scheduled event, or a manual run that names the day (``{"as_of": "2026-10-15"}``)."""

    model_config = ConfigDict(extra="ignore")

    as_of: date | None = None


def emit_billed_metrics(report: DailyReport, detail: Literal["alarms", "full"] = "alarms") -> None:
    """Month-to-date billed cost as gauges: the total and per model (the dashboard's billed
    widget), and the drift the drift alarm watches.

    Per tag value and drift per model are read by no alarm or widget: each series is $0.30 a
    month prorated (30 tag values and 10 models: about $0.50 a month), and both are in the S3
    report and the Athena views. ``detail="full"`` (config ``estimator.metric_detail: full``)
    publishes them as well.
    """
    emit_metric(BILLED_COST, float(report.total_usd))
    for model, cost in report.by_model.items():
        emit_metric(BILLED_COST, float(cost), dimensions={DIM_MODEL: model})
    if detail == "full":
        for key, values in report.by_tag.items():
            for value, cost in values.items():
                emit_metric(BILLED_COST, float(cost), dimensions={DIM_TAG_KEY: key, DIM_TAG_VALUE: value})
    if report.drift is None or report.drift.pct is None:
        return
    emit_metric(ESTIMATE_DRIFT, float(report.drift.pct), unit=MetricUnit.Percent)
    if detail == "full":
        ranked = sorted(report.drift.models, key=lambda m: (-m.billed_usd, m.model))
        for drifted in [m for m in ranked if m.drift_pct is not None][:DRIFT_MODEL_CAP]:
            emit_metric(
                ESTIMATE_DRIFT,
                float(drifted.drift_pct or 0),
                unit=MetricUnit.Percent,
                dimensions={DIM_MODEL: drifted.model},
            )


def _deadline_seconds(context: LambdaContext) -> float:
    return max(5.0, (context.get_remaining_time_in_millis() - SAFETY_MARGIN_MS) / 1000)


def daily_report(deps: Dependencies, today: date, deadline_seconds: float, account_id: str = "") -> DailyReport:
    """Query the views through Athena for the report of ``today``."""
    env = deps.env
    records = (
        S3EstimateRecords(deps.s3, env.estimates_bucket, account_id) if env.estimates_bucket and account_id else None
    )
    engine = AthenaEngine(
        workgroup=env.workgroup, database=env.database, region=env.region, deadline_seconds=deadline_seconds
    )
    try:
        return build_daily_report(
            engine, today, env.tag_keys, deps.estimates, tag_policy=env.tag_policy, estimate_records=records
        )
    finally:
        engine.close()


def write_report(deps: Dependencies, report: DailyReport, today: date) -> dict[str, Any]:
    """Metrics, the dated report and the calibration file, then each alert once; returns the summary."""
    env = deps.env
    emit_billed_metrics(report, env.metric_detail)
    document = report.to_document()
    deps.s3.put_object(
        Bucket=env.report_bucket,
        Key=f"billed/period={report.period}/as_of={today}.json",
        Body=json.dumps(document, indent=2).encode(),
        ContentType="application/json",
    )
    deps.s3.put_object(
        Bucket=env.report_bucket,
        Key=CALIBRATION_KEY,
        Body=json.dumps({"period": report.period, "rows": document["unit_prices"]}).encode(),
        ContentType="application/json",
    )
    alerts = [
        drift_alert(report.drift, env.drift_threshold_pct) if report.drift else None,
        untagged_spend_alert(report.untagged, as_of=today) if report.untagged else None,
        report.digest,
    ]
    sent = [alert.kind for alert in alerts if alert is not None and deps.publisher.publish(alert)]
    logger.info(
        "daily report written",
        extra={
            "period": report.period,
            "total_usd": document["total_usd"],
            "drift": document["drift"],
            "notes": report.notes,
        },
    )
    return {"period": report.period, "total_usd": document["total_usd"], "alerts_sent": sent}


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Report the month to date as of the event's day (default: today, UTC)."""
    deps = current_dependencies()
    request = ReportEvent.model_validate(event if isinstance(event, dict) else {})
    today = request.as_of or datetime.now(UTC).date()
    account_id = str(getattr(context, "invoked_function_arn", "")).split(":")[4:5] or [""]
    report = daily_report(deps, today, _deadline_seconds(context), account_id[0])
    return write_report(deps, report, today)
