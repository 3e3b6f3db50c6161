"""Slow burn against a trailing, weekday-aware baseline."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from bedrock_cost.domain.slow_burn import check

pytestmark = pytest.mark.unit
DAY = date(2026, 10, 19)  # a Monday


def _history(per_day, weekend=None):
    out = {}
    for i in range(1, 15):
        d = DAY - timedelta(days=i)
        out[d] = weekend if weekend is not None and d.weekday() >= 5 else per_day
    return out


def test_a_day_three_times_its_baseline_alerts():
    spend = _history(1_000_000) | {DAY: 3_000_000}
    spend[DAY - timedelta(days=3)] = 1_100_000
    burn = check("user=ana", DAY, spend, Decimal(3))
    assert burn is not None
    assert burn.sigmas_above > 3


def test_a_normal_monday_after_a_quiet_weekend_does_not_alert():
    spend = _history(1_000_000, weekend=100_000)
    spend[DAY - timedelta(days=2)] = 110_000
    spend[DAY] = 1_050_000
    assert check("user=ana", DAY, spend, Decimal(3)) is None


def test_too_little_history_never_alerts():
    assert check("user=new", DAY, {DAY - timedelta(days=1): 10, DAY: 10_000_000}, Decimal(3)) is None
