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


def test_judge_names_each_burning_subject_once_per_day_and_stays_silent_on_steady_spend():
    from bedrock_cost.domain.slow_burn import judge

    burning = _history(1_000_000) | {DAY: 3_000_000}
    steady = _history(1_000_000) | {DAY: 1_000_000}
    alerts = judge(DAY, {("user", "ana"): burning, ("meta:customer", "acme"): steady}, Decimal(3))
    assert [a.dedupe_key for a in alerts] == ["slow_burn#user=ana#2026-10-19"]
    assert alerts[0].kind == "slow_burn"
    assert alerts[0].figures["spent_usd"] == "3.00"
    assert alerts[0].figures["baseline_usd"] == "1.00"
    assert alerts[0].figures["sigmas_above"] == "flat baseline"
