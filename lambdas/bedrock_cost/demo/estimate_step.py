"""Demo step: the near-real-time estimate, by the real estimator Lambda, against the emulator.

1. A day of per-minute ``AWS/Bedrock`` metrics is generated (``synth.metrics_generator``:
   diurnal traffic, prompt caching, a token spike, a ``team=ml`` application profile, an
   untagged one, a model the catalog does not know) and put into the emulator's
   CloudWatch.
2. The state table gets the watermark an estimator deployed at the start of that day
   would have, so the runs below are a catch-up: one hour per run, each minute once.
3. When the billed step left a DuckDB engine, the effective unit prices of the CUR
   are published where the CUR reporter publishes them (``calibration/unit_prices.json``),
   so the estimate is CUR-calibrated, as in a deployment that has read its CUR.
4. The real ``handlers.estimator.handler`` runs until it is up to date. The emulator
   has no inference-profile API, so the profiles are served by
   ``InMemoryProfileDirectory`` (the same port the Bedrock adapter implements).
5. The S3 records it wrote are read back and summed into ``estimate.csv`` (per model
   and per tag) and ``ctx.results["estimate"]``.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TextIO

import boto3

from bedrock_cost.adapters.estimate_sink import dumps_exact
from bedrock_cost.adapters.price_list import CALIBRATION_KEY
from bedrock_cost.adapters.watermark_store import DynamoWatermarkStore
from bedrock_cost.demo.context import DemoContext, DemoLambdaContext
from bedrock_cost.demo.emulator import patched_environment
from bedrock_cost.domain.estimate import UNTAGGED, floor_hour
from bedrock_cost.domain.estimator_run import EstimatorConfig, RegionPorts, WatermarkState
from bedrock_cost.domain.model_resolution import InMemoryProfileDirectory
from bedrock_cost.domain.pricing import decimal_text, previous_period
from bedrock_cost.handlers import estimator
from bedrock_cost.sample_data.metrics_generator import GeneratedMetrics, generate_metrics

ESTIMATES_BUCKET = "bedrock-cost-estimates"
DEMO_HOURS = 24
CHUNK_MINUTES = 60
MAX_RUNS = 100
PUT_BATCH = 1000
CSV_HEADER = (
    "dimension,group,cost_usd,priced,unpriced_tokens,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens\n"
)


class _EmfTee(io.TextIOBase):
    """Passes everything on to the real stdout (the runner forwards EMF from there) and
    notes which metric names and dimension sets the estimator published."""

    def __init__(self, target: TextIO) -> None:
        super().__init__()
        self._target = target
        self._partial = ""
        self.published: dict[str, set[tuple[str, ...]]] = {}

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._target.write(text)
        self._partial += text
        while "\n" in self._partial:
            line, self._partial = self._partial.split("\n", 1)
            if line.startswith('{"_aws"'):
                for block in json.loads(line)["_aws"]["CloudWatchMetrics"]:
                    for metric in block["Metrics"]:
                        for dims in block["Dimensions"]:
                            self.published.setdefault(metric["Name"], set()).add(tuple(dims))
        return len(text)

    def flush(self) -> None:
        self._target.flush()


_CONTEXT = DemoLambdaContext(
    "estimator", remaining_ms=300_000, memory_limit_in_mb=1024, aws_request_id="demo-estimator"
)


def _client(ctx: DemoContext, service: str) -> Any:
    return boto3.client(service, region_name=ctx.region, endpoint_url=ctx.endpoint_url)  # type: ignore[call-overload]


def _put_metrics(ctx: DemoContext, generated: GeneratedMetrics) -> int:
    cloudwatch = _client(ctx, "cloudwatch")
    datums = list(generated.datums())
    for i in range(0, len(datums), PUT_BATCH):
        cloudwatch.put_metric_data(Namespace="AWS/Bedrock", MetricData=datums[i : i + PUT_BATCH])
    return len(datums)


def _publish_calibration(ctx: DemoContext) -> int:
    """Effective unit prices of the billed CUR, published as the CUR reporter does."""
    engine = ctx.results.get("engine")
    if engine is None:
        return 0
    from bedrock_cost.billing.reporting import report_fragments
    from bedrock_cost.billing.sql import render

    rows = []
    for period in (previous_period(ctx.period), ctx.period):
        rows += engine.query(render("reports/unit_prices", report_fragments(engine), {"period": period}))
    document = {"period": ctx.period, "rows": rows}
    _client(ctx, "s3").put_object(Bucket=ESTIMATES_BUCKET, Key=CALIBRATION_KEY, Body=dumps_exact(document).encode())
    return len(rows)


def _scheduled_event(ctx: DemoContext, now: datetime) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "demo",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": ctx.region,
        "resources": [],
        "detail": {},
    }


def _records(ctx: DemoContext) -> list[dict[str, Any]]:
    s3 = _client(ctx, "s3")
    records: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=ESTIMATES_BUCKET, Prefix="estimates/"):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=ESTIMATES_BUCKET, Key=item["Key"])["Body"].read().decode("utf-8")
            records += [json.loads(line, parse_float=Decimal) for line in body.splitlines() if line]
    return records


@dataclass
class _Sum:
    cost: Decimal = Decimal(0)
    priced_any: bool = False
    unpriced: int = 0
    tokens: dict[str, int] | None = None

    def add(self, record: Mapping[str, Any]) -> None:
        self.tokens = self.tokens or {"input": 0, "output": 0, "cache-read": 0, "cache-write": 0}
        self.tokens[record["usage_kind"]] += int(record["tokens"])
        if record["priced"]:
            self.cost += Decimal(record["cost_usd"])
            self.priced_any = True
        else:
            self.unpriced += int(record["tokens"])

    @property
    def cost_or_none(self) -> Decimal | None:
        return self.cost if self.priced_any else None


def summarise(records: Iterable[Mapping[str, Any]], tag_keys: Iterable[str]) -> dict[str, Any]:
    """Per model, per tag value and total, from the estimator's S3 records."""
    keys = list(tag_keys)
    total = _Sum()
    by_model: dict[str, _Sum] = {}
    by_tag: dict[str, dict[str, _Sum]] = {key: {} for key in keys}
    calibrated = False
    for record in records:
        total.add(record)
        by_model.setdefault(record["model"], _Sum()).add(record)
        for key in keys:
            value = (record.get("tags") or {}).get(key) or UNTAGGED
            by_tag[key].setdefault(value, _Sum()).add(record)
        calibrated = calibrated or bool(record.get("calibrated"))
    return {"total": total, "by_model": by_model, "by_tag": by_tag, "calibrated": calibrated}


def _csv(summary: Mapping[str, Any]) -> str:
    def row(dimension: str, group: str, s: _Sum) -> str:
        cost = s.cost_or_none
        tokens = s.tokens or {}
        return (
            f"{dimension},{group},{decimal_text(cost) if cost is not None else ''},{str(s.unpriced == 0).lower()},"
            f"{s.unpriced},{tokens.get('input', 0)},{tokens.get('output', 0)},{tokens.get('cache-read', 0)},"
            f"{tokens.get('cache-write', 0)}\n"
        )

    lines = [CSV_HEADER, row("total", "all", summary["total"])]
    ranked = sorted(summary["by_model"].items(), key=lambda kv: (-kv[1].cost, kv[0]))
    lines += [row("model", name, s) for name, s in ranked]
    for key, values in summary["by_tag"].items():
        lines += [
            row(f"tag:{key}", value, s) for value, s in sorted(values.items(), key=lambda kv: (-kv[1].cost, kv[0]))
        ]
    return "".join(lines)


def _run_until_caught_up(ctx: DemoContext, now: datetime, tee: _EmfTee) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    with contextlib.redirect_stdout(tee):
        for _ in range(MAX_RUNS):
            (region_run,) = estimator.handler(_scheduled_event(ctx, now), _CONTEXT)["regions"]
            runs.append(region_run)
            if region_run["status"] != "processed" or region_run["backlog_minutes"] == 0:
                break
    return runs


def run_estimate(ctx: DemoContext, hours: int = DEMO_HOURS, now: datetime | None = None) -> dict[str, Any]:
    """Steps 1-5 of the module docstring over ``hours`` of traffic ending at the last full hour."""
    now = now or datetime.now(UTC)
    settle = timedelta(minutes=ctx.config.estimator.settle_minutes)
    day_end = floor_hour(now - settle)
    day_start = day_end - timedelta(hours=hours)
    tag_keys = tuple(ctx.config.report_tag_keys)
    generated = generate_metrics(day_start, hours, region=ctx.region, tag_keys=tag_keys)
    datapoints = _put_metrics(ctx, generated)
    table = str(ctx.results["state_table"])
    _client(ctx, "s3").create_bucket(Bucket=ESTIMATES_BUCKET)
    calibration_rows = _publish_calibration(ctx)
    # The estimator was deployed at day_start and knew every ModelId from then on.
    DynamoWatermarkStore(_client(ctx, "dynamodb"), table).advance(
        ctx.region, None, WatermarkState(minute=day_start, model_ids=frozenset(generated.model_ids))
    )

    settings = EstimatorConfig.from_config(ctx.config).model_copy(update={"regions": [ctx.region]})
    settings = settings.model_copy(
        update={"estimator": settings.estimator.model_copy(update={"max_catchup_minutes_per_run": CHUNK_MINUTES})}
    )
    environment = {"AWS_ENDPOINT_URL": ctx.endpoint_url, "AWS_DEFAULT_REGION": ctx.region}
    with patched_environment(environment):
        env = estimator.EstimatorEnvironment.model_validate(
            {
                "STATE_TABLE": table,
                "ESTIMATES_BUCKET": ESTIMATES_BUCKET,
                "CALIBRATION_BUCKET": ESTIMATES_BUCKET,
                "ESTIMATOR_CONFIG": settings.to_json(),
            }
        )
        deps = estimator.build_dependencies(env)
        deps.ports = {
            ctx.region: RegionPorts(
                source=deps.ports[ctx.region].source, directory=InMemoryProfileDirectory(generated.profiles)
            )
        }
        deps.clock = lambda: now
        estimator.configure(deps)
        tee = _EmfTee(sys.stdout)
        try:
            runs = _run_until_caught_up(ctx, now, tee)
        finally:
            estimator.configure(None)

    summary = summarise(_records(ctx), tag_keys)
    (ctx.out_dir / "estimate.csv").write_text(_csv(summary), encoding="utf-8")
    total: Any = summary["total"]
    spike_start = generated.spike_start
    result = {
        "clock": "estimate",
        "start": day_start,
        "end": day_end,
        "total_usd": total.cost,
        "by_model": {m: s.cost_or_none for m, s in summary["by_model"].items()},
        "by_tag": {k: {v: s.cost for v, s in values.items()} for k, values in summary["by_tag"].items()},
        "unpriced": {m: s.unpriced for m, s in summary["by_model"].items() if s.unpriced},
        "calibrated": summary["calibrated"],
        "calibration_rows": calibration_rows,
        "runs": len([r for r in runs if r["status"] == "processed"]),
        "datapoints": datapoints,
        "metric_points": sum(int(r["metric_points"]) for r in runs),
        "published_metrics": {name: sorted(dims) for name, dims in sorted(tee.published.items())},
        "spike": {
            "model_id": generated.spike_model_id,
            "start": spike_start,
            "minutes": 5,
        },
    }
    ctx.results["estimate"] = result
    ctx.results["estimate_generated"] = generated
    _summary_lines(ctx, result)
    return result


def _usd(value: Decimal | None) -> str:
    return "unpriced" if value is None else f"${value.quantize(Decimal('0.01')):,}"


def _summary_lines(ctx: DemoContext, result: Mapping[str, Any]) -> None:
    billed = ctx.results.get("billed") or {}
    billed_total = billed.get("total_usd")
    calibrated = "CUR-calibrated" if result["calibrated"] else "list prices"
    line = (
        f"Estimate (CloudWatch, {result['start']:%Y-%m-%d %H:%M} to {result['end']:%Y-%m-%d %H:%M} UTC, {calibrated}): "
        f"{_usd(result['total_usd'])} from {result['datapoints']:,} metric points in {result['runs']} catch-up runs"
    )
    if billed_total is not None:
        line += f"; billed (CUR, {billed.get('period')}): {_usd(billed_total)} for the month"
    ctx.summary.append(line)
    billed_models: Mapping[str, Decimal] = billed.get("by_model") or {}
    hours = int((result["end"] - result["start"]).total_seconds() // 3600)
    ctx.summary.append(f"  estimated cost per model (last {hours} h) beside billed (month):")
    for model, cost in sorted(result["by_model"].items(), key=lambda kv: (-(kv[1] or Decimal(0)), kv[0])):
        beside = f"   billed {_usd(billed_models[model])}" if model in billed_models else ""
        ctx.summary.append(f"    {model:<28} {_usd(cost):>12}{beside}")
    for model, tokens in sorted(result["unpriced"].items()):
        ctx.summary.append(f"  WARNING unpriced: {model} ({tokens:,} tokens have no price; never counted as $0)")


def run(ctx: DemoContext) -> None:
    run_estimate(ctx, now=ctx.now)
