"""Burn-rate forecast: will this tag value (or the whole account) overrun its budget?

AWS Budgets forecasts from billed cost, which lags 8-24 h and refreshes a few times a
day, and needs weeks of history before its forecast is stable. The estimate
(``EstimatedCostUSD`` from CloudWatch token metrics) is minutes old, so a simple
projection on it warns days earlier.

Method (documented for users in docs/alerts.md):

    projected = month_to_date + daily_rate × remaining_days

- ``month_to_date``: estimated spend from the 1st of the month (UTC) up to ``as_of``,
  including today's partial day.
- ``daily_rate``: mean spend of the last ``trailing_days`` *complete* days (UTC), which
  may reach into the previous month, so the first days of a month are not blind.
  Days after the first day with any data and without a datapoint count as zero spend
  (the estimator publishes nothing when nothing is used); days before it are unknown
  and excluded, so a freshly deployed stack does not dilute its rate with fake zeros.
- ``remaining_days``: the exact fraction of days from ``as_of`` to the end of the month.
- Minimum-data rule: no projection until ``min_days`` complete days are in the window.

Everything is ``Decimal``; nothing here talks to AWS.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from bedrock_cost.config import Budgets
from bedrock_cost.domain.alerts import Alert, Severity

ZERO = Decimal(0)
SECONDS_PER_DAY = Decimal(86_400)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class ForecastPolicy:
    trailing_days: int = 7
    """How many complete days the daily rate averages over."""
    min_days: int = 3
    """Complete days of data needed before any projection is made."""

    def __post_init__(self) -> None:
        if self.trailing_days < 1:
            raise ValueError("trailing_days must be at least 1")
        if not 1 <= self.min_days <= self.trailing_days:
            raise ValueError("min_days must be between 1 and trailing_days")


@dataclass(frozen=True)
class BudgetTarget:
    """What is forecast (a tag value, or the account total) and the budget it must fit."""

    monthly_usd: Decimal
    tag_key: str | None = None
    tag_value: str | None = None
    forecast_pct: int = 100

    def __post_init__(self) -> None:
        if (self.tag_key is None) != (self.tag_value is None):
            raise ValueError("give both tag_key and tag_value, or neither for the total")
        if self.monthly_usd <= 0:
            raise ValueError("monthly_usd must be positive")
        if self.forecast_pct < 1:
            raise ValueError("forecast_pct must be at least 1")

    @property
    def label(self) -> str:
        return "all Bedrock spend" if self.tag_key is None else f"{self.tag_key}={self.tag_value}"

    @property
    def key(self) -> str:
        return "total" if self.tag_key is None else f"tag:{self.tag_key}={self.tag_value}"

    @property
    def threshold_usd(self) -> Decimal:
        return self.monthly_usd * self.forecast_pct / 100


@dataclass(frozen=True)
class Projection:
    period: str
    as_of: datetime
    month_to_date_usd: Decimal
    daily_rate_usd: Decimal
    remaining_days: Decimal
    projected_usd: Decimal
    days_of_data: int


@dataclass(frozen=True)
class InsufficientData:
    reason: str
    days_of_data: int


@dataclass(frozen=True)
class Overrun:
    threshold_usd: Decimal
    projected_pct: Decimal
    crosses_on: date


@dataclass(frozen=True)
class ForecastReport:
    alerts: list[Alert] = field(default_factory=list)
    projections: dict[str, Projection] = field(default_factory=dict)
    insufficient: dict[str, InsufficientData] = field(default_factory=dict)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    return moment.astimezone(UTC)


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month_start(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def window_start(as_of: datetime, policy: ForecastPolicy) -> date:
    """First day the caller must fetch: the month start or the trailing window, whichever is earlier."""
    today = _utc(as_of).date()
    return min(month_start(today), today - timedelta(days=policy.trailing_days))


def project(
    daily_usd: Mapping[date, Decimal], as_of: datetime, policy: ForecastPolicy
) -> Projection | InsufficientData:
    """Project month-end spend from daily estimated spend (UTC days)."""
    now = _utc(as_of)
    today = now.date()
    known = {day: value for day, value in daily_usd.items() if day <= today}
    if any(value < 0 for value in known.values()):
        raise ValueError("daily spend cannot be negative")
    if not known:
        return InsufficientData("no estimated spend recorded yet", 0)

    first_seen = min(known)
    window = [
        today - timedelta(days=offset)
        for offset in range(1, policy.trailing_days + 1)
        if today - timedelta(days=offset) >= first_seen
    ]
    if len(window) < policy.min_days:
        return InsufficientData(f"{len(window)} complete day(s) of estimates, {policy.min_days} needed", len(window))

    rate = sum((known.get(day, ZERO) for day in window), ZERO) / len(window)
    start = month_start(today)
    month_to_date = sum((value for day, value in known.items() if day >= start), ZERO)
    end = datetime.combine(next_month_start(today), datetime.min.time(), tzinfo=UTC)
    remaining = Decimal(int((end - now).total_seconds())) / SECONDS_PER_DAY
    return Projection(
        period=today.strftime("%Y-%m"),
        as_of=now,
        month_to_date_usd=month_to_date,
        daily_rate_usd=rate,
        remaining_days=remaining,
        projected_usd=month_to_date + rate * remaining,
        days_of_data=len(window),
    )


def crossed_on(daily_usd: Mapping[date, Decimal], threshold: Decimal, start: date, end: date) -> date | None:
    """The first day in ``[start, end]`` on which cumulative spend reached ``threshold``."""
    total = ZERO
    day = start
    while day <= end:
        total += daily_usd.get(day, ZERO)
        if total >= threshold:
            return day
        day += timedelta(days=1)
    return None


def check_overrun(
    projection: Projection, target: BudgetTarget, daily_usd: Mapping[date, Decimal] | None = None
) -> Overrun | None:
    """``Overrun`` when the projection reaches ``forecast_pct`` of the budget, else ``None``.

    Already over: ``crosses_on`` is the day cumulative spend crossed it (from ``daily_usd``),
    not today."""
    threshold = target.threshold_usd
    if projection.projected_usd < threshold:
        return None
    today = projection.as_of.date()
    if projection.month_to_date_usd >= threshold and daily_usd is not None:
        crosses_on = crossed_on(daily_usd, threshold, month_start(today), today) or today
    elif projection.month_to_date_usd >= threshold or projection.daily_rate_usd == 0:
        crosses_on = today
    else:
        days = (threshold - projection.month_to_date_usd) / projection.daily_rate_usd
        crosses_at = projection.as_of + timedelta(seconds=int(days * SECONDS_PER_DAY))
        last_day = next_month_start(today) - timedelta(days=1)
        crosses_on = min(crosses_at.date(), last_day)
    projected_pct = projection.projected_usd * 100 / target.monthly_usd
    return Overrun(threshold_usd=threshold, projected_pct=projected_pct, crosses_on=crosses_on)


def _money(value: Decimal) -> str:
    return str(value.quantize(CENT))


def overrun_alert(target: BudgetTarget, projection: Projection, overrun: Overrun, console_url: str | None) -> Alert:
    """The ``forecast_overrun`` alert: one per target per month (the dedupe key says so)."""
    already_over = projection.month_to_date_usd >= target.monthly_usd
    days_left = (overrun.crosses_on - projection.as_of.date()).days
    severity: Severity = "critical" if already_over or days_left <= 3 else "warning"
    subject = {"budget": target.label}
    if target.tag_key is not None and target.tag_value is not None:
        subject = {"tag_key": target.tag_key, "tag_value": target.tag_value}
    return Alert(
        kind="forecast_overrun",
        dedupe_key=f"forecast#{projection.period}#{target.key}",
        title=(
            f"{target.label} on track to spend ${projection.projected_usd.quantize(CENT):,} "
            f"against a ${target.monthly_usd.quantize(CENT):,} budget in {projection.period}"
        ),
        severity=severity,
        period=projection.period,
        figures={
            "projected_usd": _money(projection.projected_usd),
            "budget_usd": _money(target.monthly_usd),
            "projected_pct": str(overrun.projected_pct.quantize(Decimal("0.1"))),
            "month_to_date_usd": _money(projection.month_to_date_usd),
            "daily_rate_usd": _money(projection.daily_rate_usd),
            "crosses_on": overrun.crosses_on.isoformat(),
            "days_of_data": str(projection.days_of_data),
        },
        subject=subject,
        details=[
            f"Projection = month-to-date + mean of the last {projection.days_of_data} complete day(s) "
            f"× {projection.remaining_days.quantize(Decimal('0.01'))} remaining day(s), "
            "from the near-real-time estimate.",
            f"Alerts at {target.forecast_pct} % of the budget (${_money(overrun.threshold_usd)}); "
            "AWS Budgets' own forecast follows billed data, hours to days later.",
        ],
        console_url=console_url,
    )


def evaluate(
    targets: Sequence[tuple[BudgetTarget, Mapping[date, Decimal]]],
    as_of: datetime,
    policy: ForecastPolicy,
    console_url: str | None = None,
) -> ForecastReport:
    """Project every target; return the alerts to send and why others were skipped."""
    report = ForecastReport()
    for target, daily in targets:
        result = project(daily, as_of, policy)
        if isinstance(result, InsufficientData):
            report.insufficient[target.key] = result
            continue
        report.projections[target.key] = result
        overrun = check_overrun(result, target, daily)
        if overrun is not None:
            report.alerts.append(overrun_alert(target, result, overrun, console_url))
    return report


def targets_from_budgets(budgets: Budgets) -> list[BudgetTarget]:
    """Forecast targets for every configured budget that asks for a forecast alert."""
    targets: list[BudgetTarget] = []
    if budgets.total is not None and budgets.total.forecast_pct is not None:
        targets.append(BudgetTarget(monthly_usd=budgets.total.monthly_usd, forecast_pct=budgets.total.forecast_pct))
    for key, values in sorted(budgets.per_tag.items()):
        for value, budget in sorted(values.items()):
            if budget.forecast_pct is not None:
                targets.append(
                    BudgetTarget(
                        monthly_usd=budget.monthly_usd, tag_key=key, tag_value=value, forecast_pct=budget.forecast_pct
                    )
                )
    return targets


def targets_to_json(targets: Sequence[BudgetTarget]) -> str:
    """Serialise targets for a Lambda environment variable (money as strings)."""
    return json.dumps(
        [
            {
                "monthly_usd": str(target.monthly_usd),
                "forecast_pct": target.forecast_pct,
                **({"tag_key": target.tag_key, "tag_value": target.tag_value} if target.tag_key is not None else {}),
            }
            for target in targets
        ],
        separators=(",", ":"),
    )


def targets_from_json(text: str) -> list[BudgetTarget]:
    """Inverse of ``targets_to_json``; raises ``ValueError`` naming what is wrong."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"budget targets are not JSON: {exc}") from None
    if not isinstance(raw, list):
        raise ValueError("budget targets must be a JSON list")
    targets = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or "monthly_usd" not in item:
            raise ValueError(f"budget target {index} needs monthly_usd")
        try:
            targets.append(
                BudgetTarget(
                    monthly_usd=Decimal(str(item["monthly_usd"])),
                    tag_key=item.get("tag_key"),
                    tag_value=item.get("tag_value"),
                    forecast_pct=int(item.get("forecast_pct", 100)),
                )
            )
        except (InvalidOperation, TypeError, ValueError) as exc:
            raise ValueError(f"budget target {index}: {exc}") from None
    return targets
