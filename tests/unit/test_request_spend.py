"""Which users the per-user forecast lists, and with which monthly limit."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bedrock_cost.config import RequestBudget
from bedrock_cost.domain.request_spend import split_dim, user_budget_limits

pytestmark = pytest.mark.unit


def budget(value: str, period: str, limit: str, subject: str = "user") -> RequestBudget:
    return RequestBudget(subject=subject, value=value, period=period, limit_usd=Decimal(limit))  # type: ignore[arg-type]


def test_a_named_monthly_budget_beats_the_default_and_daily_only_users_have_no_monthly_limit():
    budgets = [
        budget("alice", "month", "200"),
        budget("bob", "day", "5"),
        budget("acme", "month", "9", "meta:customer"),
    ]
    assert user_budget_limits(budgets, ["alice", "carol"]) == {"alice": Decimal(200), "bob": None}
    with_default = [*budgets, budget("*", "month", "30")]
    assert user_budget_limits(with_default, ["alice", "carol"]) == {
        "alice": Decimal(200),
        "bob": Decimal(30),
        "carol": Decimal(30),
    }


def test_no_user_budget_no_rows():
    assert user_budget_limits([budget("acme", "month", "9", "meta:customer")], ["alice"]) == {}


def test_the_dimension_splits_into_day_account_region():
    day, account, region = split_dim("2026-10-15|123456789012|us-east-1")
    assert (day.isoformat(), account, region) == ("2026-10-15", "123456789012", "us-east-1")
