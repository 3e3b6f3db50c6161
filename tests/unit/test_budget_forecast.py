"""Month-end projection and crossing dates: already over, crossing mid-month, never."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from bedrock_cost.domain.budget_forecast import FALLBACK_METHOD, METHOD, forecast_budget

pytestmark = pytest.mark.unit

AS_OF = date(2026, 11, 20)  # 19 complete days of November, 11 to project


def flat(start: date, end: date, usd: str) -> dict[date, Decimal]:
    return {start + timedelta(days=n): Decimal(usd) for n in range((end - start).days + 1)}


def test_already_over_crosses_on_the_day_it_happened_not_today():
    daily = flat(date(2026, 10, 20), date(2026, 11, 19), "100")
    result = forecast_budget("total", daily, Decimal(500), AS_OF)
    assert result.crosses_on == date(2026, 11, 5)  # 5 x 100 = 500
    assert result.actual_usd == Decimal(1900)
    assert result.projected_usd == Decimal(3000)
    assert result.status == "over"


def test_crossing_mid_month_is_the_first_projected_day_reaching_the_budget():
    daily = flat(date(2026, 10, 20), date(2026, 11, 19), "100")
    result = forecast_budget("team=ml-platform", daily, Decimal(2450), AS_OF)
    assert result.crosses_on == date(2026, 11, 25)  # 1900 + 6 x 100 = 2500 >= 2450 on the 25th
    assert result.status == "will cross"


def test_never_crossing_leaves_the_date_empty():
    daily = flat(date(2026, 10, 20), date(2026, 11, 19), "100")
    result = forecast_budget("team=search", daily, Decimal(5000), AS_OF)
    assert result.crosses_on is None
    assert result.status == "under"


def test_weekday_aware_projection_keeps_weekends_quiet():
    # Given weekdays at 100 and weekends at 10 for four weeks
    daily = {}
    day = date(2026, 10, 23)
    while day < AS_OF:
        daily[day] = Decimal(10) if day.weekday() >= 5 else Decimal(100)
        day += timedelta(days=1)
    result = forecast_budget("total", daily, None, AS_OF)
    assert result.method == METHOD
    # 20-30 Nov: 21, 22, 28, 29 are weekend days (4 x 10), 7 weekdays (7 x 100)
    assert result.projected_usd - result.actual_usd == Decimal(740)
    assert result.crosses_on is None


def test_short_history_falls_back_to_the_trailing_mean_and_says_so():
    result = forecast_budget("total", flat(date(2026, 11, 15), date(2026, 11, 19), "50"), Decimal(10_000), AS_OF)
    assert result.method == FALLBACK_METHOD
    assert result.projected_usd == Decimal(250 + 11 * 50)


def test_no_data_projects_nothing_and_negative_spend_is_rejected():
    assert forecast_budget("total", {}, Decimal(1), AS_OF).projected_usd == 0
    with pytest.raises(ValueError, match="negative"):
        forecast_budget("total", {date(2026, 11, 1): Decimal(-1)}, None, AS_OF)
