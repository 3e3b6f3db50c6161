"""Month-end projection of billed spend per budget, and the day it crosses the budget.

The burn-rate alert (``domain.forecast``) projects the minutes-old estimate; this module
projects any daily series — billed cost from CUR, per tag value, per user from request
logs — for ``bedrock-cost forecast``, the report and the dashboard. Method:

- *actual*: spend of the period's complete days before ``as_of``;
- each remaining day of the month is projected at the **trailing mean of the same
  weekday** (the last ``TRAILING_DAYS`` complete days, which may reach into the previous
  month), so a quiet weekend is not projected onto Mondays; with fewer than
  ``MIN_SAME_WEEKDAY`` such days, at the trailing mean of the last 7 days;
- *crosses_on*: the first day cumulative spend (actual, then projected) reaches the
  budget — a day in the past when it is already over, empty when it never does.

Days after the series' first day that have no spend count as 0 (nothing billed); days
before it are unknown. Everything is ``Decimal``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

ZERO = Decimal(0)
TRAILING_DAYS = 28
MIN_SAME_WEEKDAY = 2
FALLBACK_DAYS = 7
METHOD = f"trailing {TRAILING_DAYS}-day mean per weekday"
FALLBACK_METHOD = f"trailing {FALLBACK_DAYS}-day mean"


@dataclass(frozen=True)
class BudgetForecast:
    budget: str
    """``total``, ``team=ml-platform``, ``user:alice@example.com``..."""
    period: str
    budget_usd: Decimal | None
    actual_usd: Decimal
    projected_usd: Decimal
    crosses_on: date | None
    method: str

    @property
    def status(self) -> str:
        if self.budget_usd is None:
            return "no budget"
        if self.actual_usd >= self.budget_usd:
            return "over"
        if self.projected_usd >= self.budget_usd:
            return "will cross"
        return "under"


def month_bounds(day: date) -> tuple[date, date]:
    """First and last day of ``day``'s month."""
    first = day.replace(day=1)
    following = date(first.year + 1, 1, 1) if first.month == 12 else date(first.year, first.month + 1, 1)
    return first, following - timedelta(days=1)


def daily_projection(daily_usd: Mapping[date, Decimal], as_of: date) -> tuple[dict[date, Decimal], str]:
    """Projected spend of each day from ``as_of`` to the month's end, and the method used."""
    _, last = month_bounds(as_of)
    known = {d: v for d, v in daily_usd.items() if d < as_of}
    if not known:
        return {}, "no data"
    first_seen = min(known)
    window = [as_of - timedelta(days=n) for n in range(1, TRAILING_DAYS + 1)]
    window = [d for d in window if d >= first_seen]
    recent = [d for d in window if d >= as_of - timedelta(days=FALLBACK_DAYS)]
    fallback = sum((known.get(d, ZERO) for d in recent), ZERO) / len(recent)
    by_weekday: dict[int, list[Decimal]] = {}
    for d in window:
        by_weekday.setdefault(d.weekday(), []).append(known.get(d, ZERO))
    weekday_aware = all(len(by_weekday.get(w, [])) >= MIN_SAME_WEEKDAY for w in range(7))
    projected: dict[date, Decimal] = {}
    day = as_of
    while day <= last:
        samples = by_weekday.get(day.weekday(), [])
        projected[day] = sum(samples, ZERO) / len(samples) if weekday_aware else fallback
        day += timedelta(days=1)
    return projected, METHOD if weekday_aware else FALLBACK_METHOD


def forecast_budget(
    label: str, daily_usd: Mapping[date, Decimal], budget_usd: Decimal | None, as_of: date
) -> BudgetForecast:
    """Actual, projected month end and crossing day of one budget as of ``as_of`` (a UTC day)."""
    if any(v < 0 for v in daily_usd.values()):
        raise ValueError(f"{label}: daily spend cannot be negative")
    first, last = month_bounds(as_of)
    actual = sum((v for d, v in daily_usd.items() if first <= d < as_of), ZERO)
    projected_days, method = daily_projection(daily_usd, as_of)
    projected = actual + sum(projected_days.values(), ZERO)
    crosses: date | None = None
    if budget_usd is not None:
        total = ZERO
        day = first
        while day <= last and crosses is None:
            total += daily_usd.get(day, ZERO) if day < as_of else projected_days.get(day, ZERO)
            if total >= budget_usd:
                crosses = day
            day += timedelta(days=1)
    return BudgetForecast(
        budget=label,
        period=f"{as_of:%Y-%m}",
        budget_usd=budget_usd,
        actual_usd=actual,
        projected_usd=projected,
        crosses_on=crosses,
        method=method,
    )
