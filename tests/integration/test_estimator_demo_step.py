"""Spec of the demo's estimate step: generated traffic in, the real estimator against a moto
server on 127.0.0.1, and an estimate that equals tokens × catalog price exactly."""

from __future__ import annotations

import csv
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from bedrock_cost.adapters.duckdb_engine import DuckDBEngine
from bedrock_cost.adapters.price_list import CalibrationReader, assemble_catalog
from bedrock_cost.config_loader import load_config_file
from bedrock_cost.demo import estimate_step
from bedrock_cost.demo.context import DemoContext
from bedrock_cost.demo.state_table import create_state_table
from bedrock_cost.domain.estimate import UNTAGGED, Counts
from bedrock_cost.domain.model_catalog import load_model_catalog
from bedrock_cost.domain.model_resolution import InMemoryProfileDirectory, resolve_model_id
from bedrock_cost.domain.pricing import TOKEN_KINDS, PriceCatalog
from bedrock_cost.sample_data.cur_generator import generate_cur
from bedrock_cost.sample_data.metrics_generator import UNKNOWN_MODEL_ID, GeneratedMetrics

pytestmark = pytest.mark.integration

REGION = "us-east-1"
PERIOD = "2026-10"
CONFIG = Path(__file__).resolve().parents[2] / "config" / "example.yaml"
HOURS = 3


@pytest.fixture
def endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    # moto keeps its backends per process: start from an empty account every time
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=10).close()
    try:
        yield url
    finally:
        server.stop()


def context(endpoint: str, out: Path) -> DemoContext:
    dynamodb = boto3.client("dynamodb", region_name=REGION, endpoint_url=endpoint)
    create_state_table(dynamodb, "state")
    ctx = DemoContext(
        out_dir=out,
        cur_dir=out / "cur",
        period=PERIOD,
        config=load_config_file(CONFIG),
        endpoint_url=endpoint,
        region=REGION,
        alert_topic_arn=f"arn:aws:sns:{REGION}:123456789012:unused",
        slack_url="http://127.0.0.1:9/unused",
    )
    ctx.results["state_table"] = "state"
    return ctx


def expected(
    generated: GeneratedMetrics, catalog: PriceCatalog
) -> tuple[dict[str, Fraction], dict[str, int], dict[str, Fraction]]:
    """Per model cost and unpriced tokens, and team cost, straight from the ground truth."""
    directory = InMemoryProfileDirectory(generated.profiles)
    cost: dict[str, Fraction] = {}
    unpriced: dict[str, int] = {}
    team: dict[str, Fraction] = {}
    for model_id, series in generated.usage.items():
        model = resolve_model_id(model_id, directory, load_model_catalog())
        total = sum(series.values(), Counts())
        for kind in TOKEN_KINDS:
            tokens = total.tokens(kind)
            price = catalog.price(model.model, kind, model.scope)
            if tokens and price is None:
                unpriced[model.model] = unpriced.get(model.model, 0) + tokens
            elif tokens and price is not None:
                amount = Fraction(tokens) * Fraction(price.usd_per_million) / 1_000_000
                cost[model.model] = cost.get(model.model, Fraction(0)) + amount
                value = model.tags.get("team") or UNTAGGED
                team[value] = team.get(value, Fraction(0)) + amount
    return cost, unpriced, team


def test_estimate_equals_tokens_times_catalog_price_exactly(
    endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the emulator and no CUR read yet (list prices only)
    ctx = context(endpoint, tmp_path)
    # When the step feeds three hours of traffic and runs the real estimator
    result = estimate_step.run_estimate(ctx, hours=HOURS)
    generated: GeneratedMetrics = ctx.results["estimate_generated"]
    catalog = assemble_catalog(ctx.config.pricing)
    cost, unpriced, team = expected(generated, catalog)
    # Then every model's estimate is exactly its tokens x the catalog price
    assert {m: Fraction(c) for m, c in result["by_model"].items() if c is not None} == cost
    assert Fraction(result["total_usd"]) == sum(cost.values())
    assert {k: Fraction(v) for k, v in result["by_tag"]["team"].items()} == team
    # And a hand-checked one: Nova Pro at 0.80 in / 3.20 out / 0.20 cache read per 1M
    nova = generated.total("amazon.nova-pro-v1:0")
    assert result["by_model"]["Nova Pro"] == (
        Decimal(nova.input) * Decimal("0.80")
        + Decimal(nova.output) * Decimal("3.20")
        + Decimal(nova.cache_read) * Decimal("0.20")
    ) / Decimal(1_000_000)
    # And the unknown model is unpriced, never $0
    assert result["by_model"][UNKNOWN_MODEL_ID] is None
    assert (
        result["unpriced"]
        == unpriced
        == {UNKNOWN_MODEL_ID: generated.total(UNKNOWN_MODEL_ID).input + generated.total(UNKNOWN_MODEL_ID).output}
    )
    # And the spike (> 100k input tokens in 5 minutes) is in the data the estimate covers
    spike = result["spike"]
    series = generated.usage[spike["model_id"]]
    window = [c for m, c in series.items() if spike["start"] <= m < spike["start"] + timedelta(minutes=5)]
    assert sum(c.input for c in window) > 100_000
    # And it published only what alarms watch: the total, the budgeted tag values, unpriced tokens
    # (per-model and per-tag detail is in the S3 records; the dashboard prices AWS/Bedrock tokens)
    published = result["published_metrics"]
    assert published["EstimatedCostUSD"] == [(), ("TagKey", "TagValue")]
    assert "Tokens" not in published
    assert ("Model",) in published["UnpricedTokens"]
    # And the catch-up ran one hour per run, then caught up to now
    assert result["runs"] == HOURS + 1
    assert result["calibrated"] is False
    # And estimate.csv holds the same figures
    rows = list(csv.DictReader((tmp_path / "estimate.csv").open()))
    by_model = {r["group"]: r for r in rows if r["dimension"] == "model"}
    assert Decimal(by_model["Nova Pro"]["cost_usd"]) == result["by_model"]["Nova Pro"]
    assert by_model[UNKNOWN_MODEL_ID]["cost_usd"] == ""
    assert by_model[UNKNOWN_MODEL_ID]["priced"] == "false"
    assert {r["group"] for r in rows if r["dimension"] == "tag:team"} == {"ml-platform", UNTAGGED}
    # And the summary shows the estimate and flags the unpriced model
    assert any(line.startswith("Estimate (CloudWatch") for line in ctx.summary)
    assert any("unpriced" in line and UNKNOWN_MODEL_ID in line for line in ctx.summary)


def test_with_cur_read_the_estimate_is_calibrated_and_stands_beside_billed(endpoint: str, tmp_path: Path) -> None:
    # Given the billed step ran: a DuckDB engine over a generated CUR, billed totals known
    ctx = context(endpoint, tmp_path)
    generate_cur(ctx.cur_dir, PERIOD, rows=4000, seed=5)
    engine = DuckDBEngine.open(ctx.cur_dir, ctx.config.report_tag_keys)
    ctx.results["engine"] = engine
    ctx.results["billed"] = {
        "period": PERIOD,
        "total_usd": Decimal("1234.56"),
        "by_model": {"Nova Pro": Decimal("99.99")},
    }
    try:
        # When the step runs
        result = estimate_step.run_estimate(ctx, hours=1)
    finally:
        engine.close()
    # Then CUR-observed prices were published and used, and the result says so
    assert result["calibration_rows"] > 0
    assert result["calibrated"] is True
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=endpoint)
    calibration = CalibrationReader(s3, estimate_step.ESTIMATES_BUCKET).load()
    assert calibration is not None
    catalog = assemble_catalog(ctx.config.pricing, calibration=lambda: calibration)
    cost, _, _ = expected(ctx.results["estimate_generated"], catalog)
    assert {m: Fraction(c) for m, c in result["by_model"].items() if c is not None} == cost
    # And the summary stands the estimate beside the billed figures
    assert "CUR-calibrated" in ctx.summary[0]
    assert "billed (CUR, 2026-10): $1,234.56" in ctx.summary[0]
    assert any("Nova Pro" in line and "billed $99.99" in line for line in ctx.summary)
