"""Custom metric series stay under the documented caps at the reference workload.

The estimator (``CUSTOM_METRIC_CAP``), the CUR reporter, the request ledger's ingest and the
hourly forecast each have a cap in ``benchmarks/own_bill.py`` (``SERIES_CAPS``), the figures
the README's bill table is built on.

Reference (docs/organizations.md): 20 models and 100 application inference profiles
(120 ``ModelId`` values), 3 report tag keys x 10 values, budgets on two tag values. Each
series costs $0.30 a month; the own-bill budget holds only while the count stays capped.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from bedrock_cost.billing.daily_report import DRIFT_MODEL_CAP, DailyReport
from bedrock_cost.domain.estimate import Counts
from bedrock_cost.domain.estimate_points import CUSTOM_METRIC_CAP, metric_points
from bedrock_cost.domain.model_resolution import ResolvedModel
from bedrock_cost.domain.pricing import PriceCatalog, load_bundled_layer
from bedrock_cost.domain.reconcile import ModelDrift, drift
from bedrock_cost.handlers.cur_reporter import emit_billed_metrics
from benchmarks.own_bill import REFERENCE, SERIES_CAPS, source_metric_names

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
MODELS = ["Claude Sonnet 4.6", "Claude Haiku 4.5", "Nova Pro", "Nova Lite", "Llama 3.3 70B"]
KEYS = ("team", "project", "environment")
PINNED = {"team": frozenset({"value0", "value1"})}


def _reference() -> tuple[dict[str, dict[datetime, Counts]], dict[str, ResolvedModel]]:
    usage: dict[str, dict[datetime, Counts]] = {}
    resolved: dict[str, ResolvedModel] = {}
    for i in range(120):
        model_id = f"id-{i:03d}"
        tags = {key: f"value{(i + k) % 10}" for k, key in enumerate(KEYS)} if i >= 20 else {}
        resolved[model_id] = ResolvedModel(
            model_id, MODELS[i % len(MODELS)], "x", known=True, scope="regional", id_kind="model", tags=tags
        )
        cache = i if MODELS[i % len(MODELS)].startswith("Claude") else 0  # only Claude prices cache reads here
        usage[model_id] = {
            T0 + timedelta(minutes=m): Counts(input=1000 + i, output=100, cache_read=cache) for m in range(60)
        }
    return usage, resolved


def _series(detail: str) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    """Distinct (metric name, dimensions): what CloudWatch bills as one custom metric each."""
    usage, resolved = _reference()
    points = metric_points(
        usage,
        resolved=resolved,
        catalog=PriceCatalog(bundled=load_bundled_layer()),
        minutes=[T0 + timedelta(minutes=m) for m in range(60)],
        tag_keys=KEYS,
        pinned_tag_values=PINNED,
        detail=detail,  # type: ignore[arg-type]
    )
    return {(name, p.dimensions) for p in points for name, _ in p.values}


def test_default_detail_stays_under_the_custom_metric_cap() -> None:
    # Given the reference workload with every model priced
    # When an hour of metric points is built with the default detail
    series = _series("alarms")
    # Then the series are the total and the two budgeted tag values: within the cap
    assert len(series) == 3
    assert len(series) <= CUSTOM_METRIC_CAP


def test_full_detail_would_break_the_cap() -> None:
    # Given the same workload with full detail (per model and per tag value, with tokens)
    # Then the count is far above the cap: the reason the default is "alarms"
    assert len(_series("full")) > 10 * CUSTOM_METRIC_CAP


# --------------------------------------------------------------------- the other handlers' series


def _emf_series(output: str) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    found = set()
    for line in output.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        blob = json.loads(line)
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                for dims in directive["Dimensions"]:
                    found.add((metric["Name"], tuple((d, blob[d]) for d in dims)))
    return found


def _reference_report() -> DailyReport:
    models = [f"model-{i:02d}" for i in range(REFERENCE["models"])]
    drifts = tuple(ModelDrift(m, Decimal(110 + i), None, Decimal(100 + i), "none", "") for i, m in enumerate(models))
    return DailyReport(
        period="2026-11",
        as_of=date(2026, 11, 24),
        total_usd=Decimal(5000),
        by_model={m: Decimal(100) for m in models},
        by_tag={
            key: {**{f"value{v}": Decimal(10) for v in range(REFERENCE["values_per_key"])}, "(untagged)": Decimal(1)}
            for key in KEYS
        },
        adjustments={},
        unit_prices=[],
        drift=drift(date(2026, 11, 23), Decimal(5500), Decimal(5000), drifts),
    )


def test_cur_reporter_series_stay_under_their_cap(capsys: pytest.CaptureFixture[str]) -> None:
    # Given a daily report at the reference workload: 20 models (all with drift), 3 keys x 11 values
    capsys.readouterr()
    # When the reporter publishes its billed metrics with the default detail
    emit_billed_metrics(_reference_report())
    series = _emf_series(capsys.readouterr().out)
    # Then the total, each model (the dashboard's billed widget) and the total drift (its alarm)
    # are published, nothing per tag value or drift per model, within the documented cap
    assert ("BilledCostUSD", ()) in series
    assert ("EstimateDriftPct", ()) in series
    assert len({s for s in series if s[0] == "BilledCostUSD" and s[1]}) == REFERENCE["models"]
    assert not {s for s in series if s[0] == "EstimateDriftPct" and s[1]}
    assert not {s for s in series if any(k == "TagKey" for k, _ in s[1])}
    assert len(series) <= SERIES_CAPS["cur-reporter"]


def test_cur_reporter_full_detail_adds_tag_values_and_capped_drift_per_model(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given the same report, When the reporter publishes with metric_detail "full"
    capsys.readouterr()
    emit_billed_metrics(_reference_report(), "full")
    series = _emf_series(capsys.readouterr().out)
    # Then every tag value gets its series and per-model drift is capped
    drift_by_model = {s for s in series if s[0] == "EstimateDriftPct" and s[1]}
    assert len(drift_by_model) == DRIFT_MODEL_CAP < REFERENCE["models"]
    by_tag = {s for s in series if any(k == "TagKey" for k, _ in s[1])}
    assert len(by_tag) == len(KEYS) * (REFERENCE["values_per_key"] + 1)


def test_ledger_and_forecast_full_month_series_stay_under_their_caps() -> None:
    # Given the handlers' sources, When their every-run (unconditional) metrics are read
    ingest = [name for name, conditional in source_metric_names("request_ingest").items() if not conditional]
    forecast = [name for name, conditional in source_metric_names("burn_rate").items() if not conditional]
    # Then the ledger adds at most its documented series and the hourly forecast none
    assert len(ingest) <= SERIES_CAPS["request-ingest"]
    assert len(forecast) <= SERIES_CAPS["burn-rate"]
    assert "ForecastOverrunAlerts" in source_metric_names("burn_rate")  # still published, with an alert
