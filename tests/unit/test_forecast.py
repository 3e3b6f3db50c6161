"""Spec of the burn-rate projection: worked examples and properties of the maths."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bedrock_cost.config import Budget, Budgets
from bedrock_cost.domain.forecast import (
    BudgetTarget,
    ForecastPolicy,
    InsufficientData,
    Projection,
    check_overrun,
    evaluate,
    next_month_start,
    project,
    targets_from_budgets,
    targets_from_json,
    targets_to_json,
    window_start,
)

pytestmark = pytest.mark.unit

POLICY = ForecastPolicy(trailing_days=7, min_days=3)
TEAM_ML = BudgetTarget(monthly_usd=Decimal(8000), tag_key="team", tag_value="ml")


def at(day: date, hour: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def flat(start: date, end: date, usd: str) -> dict[date, Decimal]:
    """The same spend every day from ``start`` to ``end`` inclusive."""
    days = (end - start).days + 1
    return {start + timedelta(days=i): Decimal(usd) for i in range(days)}


# --------------------------------------------------------------------------- worked examples


def test_worked_example_mid_month() -> None:
    # Given team=ml spent $300/day from 1 to 9 November and $500/day from 10 to 14 November
    daily = flat(date(2026, 11, 1), date(2026, 11, 9), "300") | flat(date(2026, 11, 10), date(2026, 11, 14), "500")
    # When projected at noon on 15 November with $250 spent so far today
    daily[date(2026, 11, 15)] = Decimal(250)
    result = project(daily, at(date(2026, 11, 15), 12), POLICY)
    # Then: MTD = 9×300 + 5×500 + 250 = 5450; rate = (2×300 + 5×500)/7 = 442.857...;
    # remaining = 15.5 days; projection = 5450 + 442.857… × 15.5
    assert isinstance(result, Projection)
    assert result.month_to_date_usd == Decimal(5450)
    assert result.daily_rate_usd == Decimal(3100) / 7
    assert result.remaining_days == Decimal("15.5")
    assert result.projected_usd == Decimal(5450) + Decimal(3100) / 7 * Decimal("15.5")
    assert result.days_of_data == 7


def test_overrun_names_the_day_the_budget_is_reached() -> None:
    daily = flat(date(2026, 11, 1), date(2026, 11, 14), "400")
    projection = project(daily, at(date(2026, 11, 15)), POLICY)
    assert isinstance(projection, Projection)
    # 14 × 400 = 5600 spent; 400/day reaches 8000 after 6 more days: on 21 November
    overrun = check_overrun(projection, TEAM_ML)
    assert overrun is not None
    assert overrun.crosses_on == date(2026, 11, 21)
    assert overrun.projected_pct == Decimal(150)  # 12000 / 8000


def test_no_alert_when_on_budget() -> None:
    daily = flat(date(2026, 11, 1), date(2026, 11, 14), "200")
    projection = project(daily, at(date(2026, 11, 15)), POLICY)
    assert isinstance(projection, Projection)
    assert check_overrun(projection, TEAM_ML) is None  # 200 × 30 = 6000 < 8000


def test_forecast_pct_below_100_warns_earlier() -> None:
    daily = flat(date(2026, 11, 1), date(2026, 11, 14), "250")  # 7500 projected
    projection = project(daily, at(date(2026, 11, 15)), POLICY)
    assert isinstance(projection, Projection)
    assert check_overrun(projection, TEAM_ML) is None
    early = BudgetTarget(monthly_usd=Decimal(8000), tag_key="team", tag_value="ml", forecast_pct=90)
    assert check_overrun(projection, early) is not None


def test_first_days_of_a_month_use_the_end_of_the_previous_month() -> None:
    # Given steady spend through October, at 06:00 on 2 November
    daily = flat(date(2026, 10, 1), date(2026, 11, 1), "300")
    result = project(daily, at(date(2026, 11, 2), 6), POLICY)
    # Then the rate comes from 26 October to 1 November and the month is projected already
    assert isinstance(result, Projection)
    assert result.daily_rate_usd == Decimal(300)
    assert result.month_to_date_usd == Decimal(300)
    assert window_start(at(date(2026, 11, 2)), POLICY) == date(2026, 10, 26)


def test_a_fresh_deployment_waits_for_the_minimum_data() -> None:
    # Given estimates exist only since yesterday
    daily = {date(2026, 11, 14): Decimal(900), date(2026, 11, 15): Decimal(100)}
    result = project(daily, at(date(2026, 11, 15), 8), POLICY)
    assert isinstance(result, InsufficientData)
    assert result.days_of_data == 1
    assert "3 needed" in result.reason


def test_no_data_at_all_is_insufficient_not_zero() -> None:
    result = project({}, at(date(2026, 11, 15)), POLICY)
    assert isinstance(result, InsufficientData)


def test_idle_days_after_the_first_estimate_count_as_zero() -> None:
    # Given one busy day a week ago and nothing since (the estimator writes no points when idle)
    daily = {date(2026, 11, 8): Decimal(700)}
    result = project(daily, at(date(2026, 11, 15)), POLICY)
    assert isinstance(result, Projection)
    assert result.daily_rate_usd == Decimal(100)


def test_naive_datetimes_and_negative_spend_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        project({}, datetime(2026, 11, 15), POLICY)
    with pytest.raises(ValueError, match="negative"):
        project({date(2026, 11, 1): Decimal(-1)}, at(date(2026, 11, 15)), POLICY)


def test_evaluate_alerts_once_per_target_with_a_monthly_dedupe_key() -> None:
    busy = flat(date(2026, 11, 1), date(2026, 11, 14), "600")
    quiet = flat(date(2026, 11, 1), date(2026, 11, 14), "10")
    total = BudgetTarget(monthly_usd=Decimal(20000))
    search = BudgetTarget(monthly_usd=Decimal(4000), tag_key="team", tag_value="search")
    report = evaluate([(TEAM_ML, busy), (search, quiet), (total, busy)], at(date(2026, 11, 15)), POLICY)
    assert [alert.dedupe_key for alert in report.alerts] == ["forecast#2026-11#tag:team=ml"]
    alert = report.alerts[0]
    assert alert.kind == "forecast_overrun"
    assert alert.subject == {"tag_key": "team", "tag_value": "ml"}
    assert alert.figures["projected_usd"] == "18000.00"
    assert alert.figures["crosses_on"] == "2026-11-14"  # already over: the day it happened (14 x 600 >= 8000)
    assert alert.severity == "critical"  # already over the budget
    assert set(report.projections) == {"tag:team=ml", "tag:team=search", "total"}


def test_targets_come_from_the_config_and_survive_the_environment() -> None:
    budgets = Budgets(
        total=Budget(monthly_usd=Decimal(20000), forecast_pct=100),
        per_tag={
            "team": {"ml": Budget(monthly_usd=Decimal("8000.50")), "ops": Budget(monthly_usd=1, forecast_pct=None)}
        },
    )
    targets = targets_from_budgets(budgets)
    assert [t.key for t in targets] == ["total", "tag:team=ml"]
    assert targets_from_json(targets_to_json(targets)) == targets


@pytest.mark.parametrize("text", ["nope", "{}", '[{"tag_key": "team"}]', '[{"monthly_usd": "x"}]'])
def test_malformed_targets_fail_loudly(text: str) -> None:
    with pytest.raises(ValueError, match="budget target"):
        targets_from_json(text)


# --------------------------------------------------------------------------- properties

days_in_2026 = st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31))
money = st.decimals(min_value=0, max_value=100_000, places=2, allow_nan=False, allow_infinity=False)
policies = st.builds(
    lambda trailing, minimum: ForecastPolicy(trailing_days=trailing, min_days=min(minimum, trailing)),
    st.integers(1, 14),
    st.integers(1, 7),
)


@st.composite
def histories(draw: st.DrawFn) -> tuple[dict[date, Decimal], datetime]:
    today = draw(days_in_2026)
    first = today - timedelta(days=draw(st.integers(0, 40)))
    values = draw(st.lists(money, min_size=(today - first).days + 1, max_size=(today - first).days + 1))
    daily = {first + timedelta(days=i): value for i, value in enumerate(values)}
    moment = at(today) + timedelta(seconds=draw(st.integers(0, 86_399)))
    return daily, moment


@given(histories(), policies)
@settings(max_examples=200, deadline=None)
def test_projection_is_never_below_what_is_already_spent(
    history: tuple[dict[date, Decimal], datetime], policy: ForecastPolicy
) -> None:
    daily, moment = history
    result = project(daily, moment, policy)
    if isinstance(result, Projection):
        assert result.projected_usd >= result.month_to_date_usd >= 0
        assert 0 < result.remaining_days <= 31


@given(money, days_in_2026, policies)
@settings(max_examples=200, deadline=None)
def test_constant_spend_projects_exactly_rate_times_days_in_month(
    usd: Decimal, today: date, policy: ForecastPolicy
) -> None:
    # Given the same spend every day for the past 40 days, evaluated at midnight
    daily = flat(today - timedelta(days=40), today - timedelta(days=1), str(usd))
    result = project(daily, at(today), policy)
    # Then the projection is the daily spend times the days of the month (within rounding of 1e-20)
    assert isinstance(result, Projection)
    days = (next_month_start(today) - today.replace(day=1)).days
    assert abs(result.projected_usd - usd * days) < Decimal("1e-20")


@given(histories(), policies, st.integers(0, 40), money)
@settings(max_examples=200, deadline=None)
def test_more_spend_never_lowers_the_projection(
    history: tuple[dict[date, Decimal], datetime], policy: ForecastPolicy, back: int, extra: Decimal
) -> None:
    daily, moment = history
    day = moment.date() - timedelta(days=back)
    if day < min(daily):
        return
    more = dict(daily)
    more[day] = more.get(day, Decimal(0)) + extra
    before, after = project(daily, moment, policy), project(more, moment, policy)
    if isinstance(before, Projection) and isinstance(after, Projection):
        assert after.projected_usd >= before.projected_usd


@given(histories(), policies, st.integers(1, 1000))
@settings(max_examples=200, deadline=None)
def test_projection_scales_linearly_with_spend(
    history: tuple[dict[date, Decimal], datetime], policy: ForecastPolicy, factor: int
) -> None:
    daily, moment = history
    scaled = {day: value * factor for day, value in daily.items()}
    base, big = project(daily, moment, policy), project(scaled, moment, policy)
    assert type(base) is type(big)
    if isinstance(base, Projection) and isinstance(big, Projection):
        assert abs(big.projected_usd - base.projected_usd * factor) < Decimal("1e-12") * max(1, big.projected_usd)


@given(histories(), policies, st.decimals(min_value=1, max_value=10_000_000, places=2))
@settings(max_examples=200, deadline=None)
def test_overrun_iff_projection_reaches_the_budget_and_the_date_is_this_month(
    history: tuple[dict[date, Decimal], datetime], policy: ForecastPolicy, budget: Decimal
) -> None:
    daily, moment = history
    result = project(daily, moment, policy)
    if not isinstance(result, Projection):
        return
    target = BudgetTarget(monthly_usd=budget)
    overrun = check_overrun(result, target)
    assert (overrun is not None) == (result.projected_usd >= budget)
    if overrun is not None:
        assert moment.date() <= overrun.crosses_on < next_month_start(moment.date())
