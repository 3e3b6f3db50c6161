"""Demo step: the three clocks meet — the daily CUR reporter and the like-for-like reconciliation.

1. The estimate records of the days before the estimator's own day (``demo_scenario``:
   computed with the estimator's ``hour_records`` from the same traffic) join its records
   in the emulator's S3, as a deployment that has run for days would have them.
2. The real CUR reporter handler runs as of the demo's now, with Athena answered by DuckDB:
   billed metrics, the report and calibration file in S3, and the like-for-like drift of
   two days back from those records — total and per model ``EstimateDriftPct`` (the
   dashboard's drift widget), its alert when over the threshold.
3. The records are copied to ``estimates/`` in the output folder (what ``aws s3 sync``
   would give a user) and reconciled with the bill by the code of ``bedrock-cost
   reconcile``: ``reconcile.csv``, per-model drift uncalibrated and calibrated.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import boto3

from bedrock_cost.adapters.duckdb_engine import DuckDBEngine
from bedrock_cost.adapters.estimate_sink import dumps_exact, hour_key
from bedrock_cost.adapters.price_list import assemble_catalog, calibration_from_engine
from bedrock_cost.billing.reconciliation import (
    RECONCILE_COLUMNS,
    billed_token_lines,
    contract_rows,
    reconcile_period,
    summary_lines,
)
from bedrock_cost.cli.rows_output import to_csv
from bedrock_cost.demo.athena_local import athena_answered_by
from bedrock_cost.demo.context import DemoContext, DemoLambdaContext
from bedrock_cost.demo.emulator import patched_environment
from bedrock_cost.handlers import cur_reporter
from bedrock_cost.sample_data import demo_scenario

REPORT_BUCKET = "bedrock-cost-demo-reports"
ESTIMATES_BUCKET = "bedrock-cost-estimates"
"""The estimate step's bucket (``estimate_step.ESTIMATES_BUCKET``)."""


_CONTEXT = DemoLambdaContext(
    "bedrock-cost-demo-cur-reporter", remaining_ms=600_000, memory_limit_in_mb=512, aws_request_id="demo-cur-reporter"
)


def _s3(ctx: DemoContext) -> Any:
    return boto3.client("s3", endpoint_url=ctx.endpoint_url, region_name=ctx.region)


def _backfill(ctx: DemoContext, scenario: demo_scenario.Scenario) -> int:
    s3 = _s3(ctx)
    if not _bucket_exists(s3):
        s3.create_bucket(Bucket=ESTIMATES_BUCKET)
    history = demo_scenario.history_records(scenario, scenario.now)
    for hour, records in history.items():
        body = "".join(dumps_exact(r) + "\n" for r in records).encode()
        s3.put_object(Bucket=ESTIMATES_BUCKET, Key=hour_key("estimates", ctx.region, hour), Body=body)
    return sum(len(r) for r in history.values())


def _bucket_exists(s3: Any) -> bool:
    return any(b["Name"] == ESTIMATES_BUCKET for b in s3.list_buckets().get("Buckets", []))


def _download(ctx: DemoContext) -> list[dict[str, Any]]:
    s3 = _s3(ctx)
    folder = ctx.out_dir / "estimates"
    records: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=ESTIMATES_BUCKET, Prefix="estimates/"):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=ESTIMATES_BUCKET, Key=item["Key"])["Body"].read()
            path = folder / item["Key"].removeprefix("estimates/")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
            records += [json.loads(line, parse_float=Decimal) for line in body.decode().splitlines() if line]
    return records


def _run_reporter(ctx: DemoContext, engine: DuckDBEngine, as_of: date) -> dict[str, Any]:
    _s3(ctx).create_bucket(Bucket=REPORT_BUCKET)
    environment = {
        "ATHENA_WORKGROUP": "primary",
        "ATHENA_DATABASE": engine.database,
        "REPORT_BUCKET": REPORT_BUCKET,
        "REPORT_TAG_KEYS": json.dumps(list(ctx.config.report_tag_keys)),
        "STATE_TABLE": str(ctx.results["state_table"]),
        "ALERT_TOPIC_ARN": ctx.alert_topic_arn,
        "DRIFT_THRESHOLD_PCT": str(ctx.config.thresholds.drift_pct),
        "TAG_POLICY": ctx.config.tag_policy.model_dump_json(),
        "ESTIMATES_BUCKET": ESTIMATES_BUCKET,
        "METRIC_DETAIL": ctx.config.estimator.metric_detail,
    }
    cur_reporter.configure(None)
    try:
        with patched_environment(environment), athena_answered_by(engine):
            result: dict[str, Any] = cur_reporter.handler({"as_of": as_of.isoformat()}, _CONTEXT)
    finally:
        cur_reporter.configure(None)
    return result


def run(ctx: DemoContext) -> None:
    engine: DuckDBEngine = ctx.results["engine"]
    scenario: demo_scenario.Scenario | None = ctx.results.get("scenario")
    backfilled = _backfill(ctx, scenario) if scenario is not None else 0
    as_of = ctx.now.date() if ctx.now else date.fromisoformat(f"{ctx.period}-28")
    result = _run_reporter(ctx, engine, as_of)
    ctx.results["cur_reporter"] = result
    ctx.summary.append(
        f"CUR reporter (daily handler, Athena emulated on DuckDB): billed month to date ${result['total_usd']} "
        f"as of {as_of}; report and calibration prices in s3://{REPORT_BUCKET}/; "
        f"alerts sent: {', '.join(result['alerts_sent']) or 'none'}"
    )

    records = _download(ctx)
    billed = billed_token_lines(engine, ctx.period)
    account = scenario.account if scenario is not None else "123456789012"
    reconciled = reconcile_period(
        engine,
        ctx.period,
        records,
        account_id=account,
        list_prices=assemble_catalog(ctx.config.pricing),
        cur_prices=calibration_from_engine(engine, ctx.period),
        billed=billed,
    )
    rows = contract_rows(reconciled)
    (ctx.out_dir / "reconcile.csv").write_text(to_csv(rows, (*RECONCILE_COLUMNS, "clock")), encoding="utf-8")
    ctx.results["reconciliation"] = reconciled
    ctx.summary.append(
        f"Reconciliation ({len(records):,} estimate records, {backfilled:,} of them back-filled history) "
        f"-> reconcile.csv ({len(rows)} rows)"
    )
    ctx.summary.extend(summary_lines(reconciled))
