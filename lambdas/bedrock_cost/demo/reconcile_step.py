"""Demo step: the daily CUR reporter handler, for real, against the emulator.

Athena is moto's, answered by the demo's DuckDB engine over the generated CUR, so the
handler runs its deployed code path: pyathena queries of the views, billed-cost EMF
metrics, the JSON report and calibration file in S3, and its alerts through the topic.
"""

from __future__ import annotations

import calendar
import json
from datetime import date
from typing import Any

import boto3

from bedrock_cost.adapters.duckdb_engine import DuckDBEngine
from bedrock_cost.demo.athena_local import athena_answered_by
from bedrock_cost.demo.context import DemoContext
from bedrock_cost.demo.emulator import patched_environment
from bedrock_cost.handlers import cur_reporter

REPORT_BUCKET = "bedrock-cost-demo-reports"


class _DemoLambdaContext:
    """The context the Lambda runtime would pass (name, ARN, remaining time)."""

    function_name = "bedrock-cost-demo-cur-reporter"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bedrock-cost-demo-cur-reporter"
    aws_request_id = "demo-cur-reporter"

    def get_remaining_time_in_millis(self) -> int:
        return 600_000


def run(ctx: DemoContext) -> None:
    engine: DuckDBEngine = ctx.results["engine"]
    boto3.client("s3", endpoint_url=ctx.endpoint_url, region_name=ctx.region).create_bucket(Bucket=REPORT_BUCKET)
    year, month = (int(part) for part in ctx.period.split("-"))
    as_of = date(year, month, calendar.monthrange(year, month)[1])
    environment = {
        "ATHENA_WORKGROUP": "primary",
        "ATHENA_DATABASE": engine.database,
        "REPORT_BUCKET": REPORT_BUCKET,
        "REPORT_TAG_KEYS": json.dumps(list(ctx.config.report_tag_keys)),
        "STATE_TABLE": str(ctx.results["state_table"]),
        "ALERT_TOPIC_ARN": ctx.alert_topic_arn,
        "DRIFT_THRESHOLD_PCT": str(ctx.config.thresholds.drift_pct),
        "TAG_POLICY": ctx.config.tag_policy.model_dump_json(),
    }
    cur_reporter.configure(None)
    try:
        with patched_environment(environment), athena_answered_by(engine):
            result: dict[str, Any] = cur_reporter.handler({"as_of": as_of.isoformat()}, _DemoLambdaContext())
    finally:
        cur_reporter.configure(None)
    ctx.results["cur_reporter"] = result
    ctx.summary.append(
        f"CUR reporter (daily handler, Athena emulated on DuckDB): billed month to date ${result['total_usd']} "
        f"as of {as_of}; report and calibration prices in s3://{REPORT_BUCKET}/; "
        f"alerts sent: {', '.join(result['alerts_sent']) or 'none'}"
    )
