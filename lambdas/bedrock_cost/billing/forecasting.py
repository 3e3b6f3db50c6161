"""Billed daily series from CUR, projected per budget (``domain.budget_forecast``).

One projection per configured budget and per value of each report tag key, plus the
total: the CLI's ``forecast``, the report's forecast section and the demo share it. The
series spans the period and the one before it, so the trailing window of the first days
of a month is not blind."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from bedrock_cost.billing.engine import QueryEngine
from bedrock_cost.billing.reporting import report_fragments
from bedrock_cost.billing.sql import quote_identifier, render, tag_column
from bedrock_cost.config import Budgets
from bedrock_cost.domain.budget_forecast import BudgetForecast, forecast_budget
from bedrock_cost.domain.pricing import previous_period
from bedrock_cost.money import decimal_usd

FORECAST_COLUMNS = ("budget", "period", "budget_usd", "actual_usd", "projected_usd", "crosses_on", "method")
UNTAGGED = "(untagged)"


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def daily_total(engine: QueryEngine, period: str) -> dict[date, Decimal]:
    out: dict[date, Decimal] = defaultdict(Decimal)
    for each in (previous_period(period), period):
        for row in engine.query(render("reports/cost_by_day_model", report_fragments(engine), {"period": each})):
            out[_day(row["usage_date"])] += Decimal(str(row["cost_usd"]))
    return dict(out)


def daily_by_tag(engine: QueryEngine, period: str, key: str) -> dict[str, dict[date, Decimal]]:
    fragments = {**report_fragments(engine), "tag_column": quote_identifier(tag_column(key))}
    out: dict[str, dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for each in (previous_period(period), period):
        for row in engine.query(render("reports/daily_cost_by_tag", fragments, {"period": each})):
            value = str(row["tag_value"]).strip() if row["tag_value"] is not None else ""
            out[value or UNTAGGED][_day(row["usage_date"])] += Decimal(str(row["cost_usd"]))
    return {k: dict(v) for k, v in out.items()}


def default_as_of(daily: dict[date, Decimal], period: str) -> date:
    """The day after the newest billed day of ``period`` (CUR is complete up to it)."""
    days = [d for d in daily if f"{d:%Y-%m}" == period]
    if not days:
        return date.fromisoformat(f"{period}-01")
    return max(days) + timedelta(days=1)


def forecasts(
    engine: QueryEngine, period: str, tag_keys: Sequence[str], budgets: Budgets | None, as_of: date | None = None
) -> list[BudgetForecast]:
    """Total first, then every tag value (budgeted ones first), projected as of ``as_of``."""
    total = daily_total(engine, period)
    as_of = as_of or default_as_of(total, period)
    if f"{as_of - timedelta(days=1):%Y-%m}" != period and f"{as_of:%Y-%m}" != period:
        raise ValueError(f"as-of day {as_of} is not in period {period}")
    if f"{as_of:%Y-%m}" != period:  # the month is complete: project nothing beyond it
        as_of = as_of - timedelta(days=1)
        total = {d: v for d, v in total.items() if d <= as_of}
    total_budget = budgets.total.monthly_usd if budgets and budgets.total else None
    out = [forecast_budget("total", total, total_budget, as_of)]
    for key in tag_keys:
        per_value = budgets.per_tag.get(key, {}) if budgets else {}
        series = daily_by_tag(engine, period, key)
        for value in sorted(set(series) | set(per_value), key=lambda v: (v not in per_value, v)):
            budget = per_value.get(value)
            out.append(
                forecast_budget(f"{key}={value}", series.get(value, {}), budget.monthly_usd if budget else None, as_of)
            )
    return out


def contract_rows(items: Sequence[BudgetForecast]) -> list[dict[str, str]]:
    cent = Decimal("0.01")
    return [
        {
            "budget": f.budget,
            "period": f.period,
            "budget_usd": "" if f.budget_usd is None else decimal_usd(f.budget_usd, cent),
            "actual_usd": decimal_usd(f.actual_usd, cent),
            "projected_usd": decimal_usd(f.projected_usd, cent),
            "crosses_on": "" if f.crosses_on is None else f.crosses_on.isoformat(),
            "method": f.method,
            "status": f.status,
        }
        for f in items
    ]
