"""Spec of the generated CloudWatch dashboard body (domain/dashboard.py)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bedrock_cost.config import Config
from bedrock_cost.config_loader import load_config_file, parse_config
from bedrock_cost.dashboards.body import build_dashboard_body, referenced_metric_names
from bedrock_cost.dashboards.widgets import DashboardLinks, day_to_date, month_peak, month_to_date, search
from tests.unit.test_dashboard_schema import validate_dashboard_body

pytestmark = pytest.mark.unit

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "example.yaml"
LINKS = DashboardLinks(
    region="eu-west-1",
    athena_workgroup="bct-workgroup",
    athena_database="bedrock_cost",
    alert_topic_arn="arn:aws:sns:eu-west-1:111122223333:alerts",
)


@pytest.fixture(scope="module")
def example_config() -> Config:
    return load_config_file(EXAMPLE)


@pytest.fixture(scope="module")
def body(example_config: Config) -> dict[str, Any]:
    return build_dashboard_body(example_config, LINKS)


def _metric_widgets(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [w for w in body["widgets"] if w["type"] == "metric"]


def _expressions(widget: dict[str, Any]) -> list[str]:
    return [e[0]["expression"] for e in widget["properties"]["metrics"] if isinstance(e[0], dict)]


def _titled(body: dict[str, Any], pattern: str) -> list[dict[str, Any]]:
    return [w for w in _metric_widgets(body) if re.search(pattern, w["properties"]["title"])]


def test_body_follows_the_documented_structure(body: dict[str, Any]) -> None:
    # Given the example config
    # When the dashboard body is built
    # Then it passes every check from AWS's dashboard body reference (grid, no overlap, metric arrays)
    assert validate_dashboard_body(body) == []
    assert body["periodOverride"] == "inherit", "explicit periods must be obeyed (the MTD math assumes hourly)"


def test_first_screen_answers_are_we_ok_this_month(body: dict[str, Any]) -> None:
    # Given the example config with a $130,000 monthly and $5,000 daily total budget
    # When the dashboard is built
    first_screen = [w for w in body["widgets"] if w["y"] + w["height"] <= 12]
    titles = " | ".join(w["properties"].get("title", "") for w in first_screen)
    # Then the top 12 rows hold both month-to-date gauges, today's estimate, drift, unpriced tokens and compliance
    gauges = [w for w in first_screen if w["properties"].get("view") == "gauge"]
    assert {g["properties"]["title"] for g in gauges} == {
        "Estimated month to date vs $130,000 budget",
        "Billed month to date (CUR) vs $130,000 budget",
        "Today's estimated cost vs $5,000 daily budget",
    }
    for gauge in gauges:
        left = gauge["properties"]["yAxis"]["left"]
        assert left["min"] == 0
        assert left["max"] in (130_000, 5_000)
    for needle in ("drift", "Unpriced tokens", "Tag compliance", "budgeted tag"):
        assert needle in titles
    # And the header (row 0) links to Athena, the Glue database and the alert topic of this region
    header = body["widgets"][0]
    assert (header["type"], header["y"], header["width"]) == ("text", 0, 24)
    markdown = header["properties"]["markdown"]
    assert "https://eu-west-1.console.aws.amazon.com/athena/home?region=eu-west-1" in markdown
    assert "databases/view/bedrock_cost" in markdown
    assert "#/topic/arn:aws:sns:eu-west-1:111122223333:alerts" in markdown


def test_month_gauges_mark_each_budget_threshold(body: dict[str, Any]) -> None:
    # Given thresholds 50/75/90/100 % of $130,000
    (estimated,) = _titled(body, r"^Estimated month to date vs")
    # Then the gauge carries one band per threshold, in dollars
    values = [a["value"] for a in estimated["properties"]["annotations"]["horizontal"]]
    assert values == [65_000, 97_500, 117_000, 130_000]
    # And it reads the un-dimensioned estimate over a window longer than any month
    assert estimated["properties"]["metrics"][0][:2] == ["BedrockCostTracker", "EstimatedCostUSD"]
    assert estimated["properties"]["start"] == "-P35D"


def test_billed_gauge_reads_the_reporters_running_total_not_a_sum(body: dict[str, Any]) -> None:
    # Given BilledCostUSD is a month-to-date total republished daily by the CUR reporter
    (billed,) = _titled(body, r"^Billed month to date \(CUR\) vs")
    raw, _, shown = billed["properties"]["metrics"]
    # Then the gauge takes the month's peak of the running total (summing it would double count)
    assert raw[:2] == ["BedrockCostTracker", "BilledCostUSD"]
    assert raw[2]["stat"] == "Maximum"
    assert shown[0]["expression"] == month_peak("hourly")
    # While the estimate, published as increments, is summed
    (estimated,) = _titled(body, r"^Estimated month to date vs")
    assert estimated["properties"]["metrics"][2][0]["expression"] == month_to_date("hourly")


def test_cost_by_model_prices_native_bedrock_tokens_with_metric_math(body: dict[str, Any]) -> None:
    # Given no per-model custom metric (each would cost $0.30 a month)
    (by_model,) = _titled(body, r"^Cost by model at list price")
    metrics = by_model["properties"]["metrics"]
    visible = [m[0] for m in metrics if m[0].get("visible", True)]
    hidden = [m[0]["expression"] for m in metrics if not m[0].get("visible", True)]
    # Then every hidden series sums an AWS/Bedrock token metric of one model, never our namespace
    assert hidden
    assert all("SEARCH('{AWS/Bedrock,ModelId}" in e for e in hidden)
    assert not any("BedrockCostTracker" in e for e in hidden)
    # And each model's cost is its token sums times its list price per million
    sonnet = next(m for m in visible if m["label"] == "Claude Sonnet 4.6")
    index = sonnet["id"].removeprefix("cost")
    assert sonnet["expression"].startswith(f"(t{index}_0 * 3.30 + t{index}_1 * 16.50")
    assert sonnet["expression"].endswith(") / 1000000")
    assert by_model["properties"]["stacked"] is True
    (unpriced,) = _titled(body, r"^Unpriced tokens by model")
    assert "UnpricedTokens" in _expressions(unpriced)[0]


def test_latency_percentiles_per_model_in_every_configured_region(body: dict[str, Any], example_config: Config) -> None:
    # Given two configured regions
    for region in example_config.regions:
        for pct in ("p50", "p90", "p99"):
            # Then each region has a latency graph per percentile, in that region, over AWS/Bedrock by ModelId
            (widget,) = _titled(body, rf"^InvocationLatency {pct} by model, ms \({region}\)")
            assert widget["properties"]["region"] == region
            assert _expressions(widget) == [
                f"SEARCH('{{AWS/Bedrock,ModelId}} MetricName=\"InvocationLatency\"', '{pct}', 300)"
            ]
        (throttles,) = _titled(body, rf"^Throttles by model \({region}\)")
        assert "InvocationThrottles" in _expressions(throttles)[0]
        (errors,) = _titled(body, rf"^Errors, all models \({region}\)")
        assert any("InvocationServerErrors" in e for e in _expressions(errors))
        assert any("InvocationClientErrors" in e for e in _expressions(errors))


def test_one_cost_graph_per_budgeted_tag_key_with_daily_budget_lines(body: dict[str, Any]) -> None:
    # Given report tag keys team/project/environment, budgets on team only, a $600 daily budget for team=ml-platform
    (team,) = _titled(body, r"^Estimated cost by team")
    # Then the team graph searches EstimatedCostUSD for its TagKey and shows the daily budget line
    assert 'TagKey="team"' in _expressions(team)[0]
    assert team["properties"]["annotations"]["horizontal"] == [
        {"value": 600, "label": "ml-platform daily budget", "color": "#d62728"}
    ]
    # And the keys without a budget (no metric series) point to Athena instead of an empty graph
    assert not _titled(body, r"^Estimated cost by (project|environment)")
    (note,) = [w for w in body["widgets"] if "Cost by project, environment" in w["properties"].get("markdown", "")]
    assert "bedrock_estimates" in note["properties"]["markdown"]


def test_tokens_by_kind_and_cache_hit_rate(body: dict[str, Any]) -> None:
    (tokens,) = _titled(body, r"^Tokens by kind")
    (hit_rate,) = _titled(body, r"^Cache hit rate")
    # Then the four token kinds are sums of Bedrock's own per-ModelId series (no custom metric)
    assert _expressions(tokens) == [
        f"SUM(SEARCH('{{AWS/Bedrock,ModelId}} MetricName=\"{name}\"', 'Sum', 300))"
        for name in ("InputTokenCount", "OutputTokenCount", "CacheReadInputTokenCount", "CacheWriteInputTokenCount")
    ]
    # And the hit rate is cache read / (input + cache read), on a 0-100 axis
    assert "100 * FILL(tok_cr, 0) / (FILL(tok_in, 0) + FILL(tok_cr, 0))" in _expressions(hit_rate)
    assert hit_rate["properties"]["yAxis"]["left"] == {"min": 0, "max": 100, "label": "%", "showUnits": False}


def test_compliance_and_drift_graphs(body: dict[str, Any]) -> None:
    (drift,) = _titled(body, r"^Estimate vs billed drift, %")
    (compliance,) = _titled(body, r"^Tag compliance$")
    # Then drift shows the ±10 % alert lines from thresholds.drift_pct
    assert sorted(a["value"] for a in drift["properties"]["annotations"]["horizontal"]) == [-10, 10]
    # And compliance plots the percentage and the non-compliant count (by ResourceType) on the right axis
    texts = " ".join(_expressions(compliance))
    assert 'MetricName="NonCompliantResources"' in texts
    assert compliance["properties"]["metrics"][0][:2] == ["BedrockCostTracker", "TagCompliancePct"]


def test_without_budgets_the_gauges_become_plain_numbers() -> None:
    # Given a config with no budgets at all
    config = parse_config({"cur": {"create_export": True}, "regions": ["us-east-1"]})
    # When the dashboard is built
    body = build_dashboard_body(config, DashboardLinks(region="us-east-1"))
    # Then it is still valid, has no gauge (a gauge needs a maximum), and says why
    assert validate_dashboard_body(body) == []
    assert not [w for w in _metric_widgets(body) if w["properties"]["view"] == "gauge"]
    assert _titled(body, r"no total budget configured")
    # And the header falls back to naming the Athena database
    assert "database `bedrock_cost`" in body["widgets"][0]["properties"]["markdown"]


def test_every_metric_of_the_contract_is_on_the_dashboard(body: dict[str, Any]) -> None:
    names = {name for ns, name in referenced_metric_names(body) if ns == "BedrockCostTracker"}
    assert names == {
        "EstimatedCostUSD",
        "BilledCostUSD",
        "UnpricedTokens",
        "EstimateDriftPct",
        "TagCompliancePct",
        "NonCompliantResources",
    }


def test_search_refuses_a_term_that_would_break_the_expression() -> None:
    with pytest.raises(ValueError, match="SEARCH"):
        search("BedrockCostTracker", ["TagKey"], "EstimatedCostUSD", "Sum", 60, TagKey="te'am")


# --------------------------------------------------------------------------- metric math semantics
# moto stores dashboards but never evaluates metric math, so the month-to-date expression is
# checked here against an independent implementation of the CloudWatch functions it uses
# (documented semantics: DATE = day of month, HOUR/MINUTE in UTC, EPOCH = seconds since 1970,
# SUM/MAX of one time series = a scalar, IF(cond, a, b) point by point).


class _Series:
    def __init__(self, times: list[datetime], values: list[float]) -> None:
        self.times, self.values = times, values

    def _map(self, other: Any, op: Callable[[float, float], float]) -> _Series:
        rhs = other.values if isinstance(other, _Series) else [other] * len(self.values)
        return _Series(self.times, [op(a, b) for a, b in zip(self.values, rhs, strict=True)])

    def __sub__(self, other: Any) -> _Series:
        return self._map(other, lambda a, b: a - b)

    def __mul__(self, other: Any) -> _Series:
        return self._map(other, lambda a, b: a * b)

    def __ge__(self, other: Any) -> _Series:  # type: ignore[override]
        return self._map(other, lambda a, b: float(a >= b))


def _fn(part: Callable[[datetime], float]) -> Callable[[_Series], _Series]:
    return lambda s: _Series(s.times, [part(t) for t in s.times])


CLOUDWATCH_FUNCTIONS: dict[str, Any] = {
    "EPOCH": _fn(lambda t: t.timestamp()),
    "DATE": _fn(lambda t: t.day),
    "HOUR": _fn(lambda t: t.hour),
    "MINUTE": _fn(lambda t: t.minute),
    "MAX": lambda s: max(s.values) if isinstance(s, _Series) else s,
    "SUM": lambda s: math.fsum(s.values),
    "IF": lambda c, a, b: _Series(
        c.times,
        [
            (a.values[i] if isinstance(a, _Series) else a) if flag else (b.values[i] if isinstance(b, _Series) else b)
            for i, flag in enumerate(c.values)
        ],
    ),
}


def _evaluate(expr: str, series: _Series) -> float:
    result = eval(expr, {"__builtins__": {}}, {**CLOUDWATCH_FUNCTIONS, "s": series})
    assert isinstance(result, float)
    return result


def _hourly(start: datetime, end: datetime) -> _Series:
    times = []
    t = start
    while t <= end:
        times.append(t)
        t += timedelta(hours=1)
    return _Series(times, [1.0] * len(times))


@pytest.mark.parametrize(
    ("now", "expected_hours"),
    [
        (datetime(2026, 11, 5, 10, tzinfo=UTC), 4 * 24 + 11),  # Nov 1 00:00 .. Nov 5 10:00
        (datetime(2027, 1, 1, 0, tzinfo=UTC), 1),  # first hour of a year: December is excluded
        (datetime(2026, 3, 31, 23, tzinfo=UTC), 31 * 24),  # a whole 31-day month inside the window
    ],
)
def test_month_to_date_keeps_only_the_current_calendar_month(now: datetime, expected_hours: int) -> None:
    # Given one dollar an hour for the 35 days up to `now`
    series = _hourly(now - timedelta(days=35), now)
    # When the gauge's expression is evaluated
    # Then it sums exactly the hours since 00:00 UTC on the 1st
    assert _evaluate(month_to_date("s"), series) == expected_hours


def test_month_peak_ignores_last_months_total_on_the_first() -> None:
    # Given a running total that reached 900 in October and restarted at 0 on Nov 1, now 40
    now = datetime(2026, 11, 1, 9, tzinfo=UTC)
    series = _hourly(now - timedelta(days=35), now)
    series.values = [900.0 if t.month == 10 else 40.0 for t in series.times]
    # Then the gauge shows November's 40, not October's 900
    assert _evaluate(month_peak("s"), series) == 40


def test_day_to_date_keeps_only_today() -> None:
    now = datetime(2026, 11, 5, 13, tzinfo=UTC)
    series = _hourly(now - timedelta(hours=30), now)
    assert _evaluate(day_to_date("s"), series) == 14


def test_first_row_carries_the_month_end_forecast(body: dict[str, Any]) -> None:
    # Given the example config's $130,000 total budget
    (forecast,) = _titled(body, r"^Forecast: projected month end")
    # Then the forecast sits on the first screen, next to the gauges, against the budget
    assert forecast["y"] == 3
    assert forecast["properties"]["title"].endswith("vs $130,000 budget")
    assert forecast["properties"]["view"] == "singleValue"
    # And it carries the month's pace to an average month's end from the hourly estimate
    (projected,) = [e for e in _expressions(forecast) if "30.4375" in e]
    assert "EPOCH(hourly)" in projected
