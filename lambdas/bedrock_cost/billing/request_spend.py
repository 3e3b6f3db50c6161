"""The request-log clock over local invocation logs: the ``requests`` SQL, other groupings.

``bedrock-cost requests`` groups ``queries/requests/usage_groups.sql`` by one dimension;
reconciliation, recommendations and the per-user forecast run the very same statement with
their own dimension fragment (day, account and region; day; input size) and price the
groups with the same catalog and ``price_usage``: one SQL, one pricing, three uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from bedrock_cost.domain.budget_forecast import BudgetForecast, forecast_budget, month_bounds
from bedrock_cost.domain.model_catalog import load_model_catalog
from bedrock_cost.domain.model_resolution import ProfileDirectory
from bedrock_cost.domain.pricing import PriceCatalog, previous_period
from bedrock_cost.domain.reconcile import EstimatedSpend
from bedrock_cost.domain.request_recommendations import CallerPrompts
from bedrock_cost.domain.request_report import ModelResolver, UsageGroup
from bedrock_cost.domain.request_spend import daily_by_user, daily_spend, user_budget_limits

SQL_GROUPS: Final = "requests/usage_groups"
DAY: Final = "day"
DAY_ACCOUNT_REGION: Final = "concat(day, '|', account, '|', region)"
"""``dim`` = ``YYYY-MM-DD|account|region`` (``domain.request_spend.split_dim``)."""


def period_window(period: str) -> tuple[str, str]:
    """``2026-10`` -> the ``since``/``until`` text bounds of ``usage_groups.sql`` (UTC)."""
    first, last = month_bounds(date.fromisoformat(f"{period}-01"))
    return f"{first}T00:00:00", f"{last + timedelta(days=1)}T00:00:00"


def usage_groups(logs: Path, dimension: str, since: str, until: str) -> list[UsageGroup]:
    """``usage_groups.sql`` over the ``*.json.gz`` under ``logs`` (DuckDB), grouped by ``dimension``."""
    from bedrock_cost.adapters.invocation_logs_duckdb import InvocationLogEngine

    engine = InvocationLogEngine.open(logs)
    try:
        rows = engine.query(SQL_GROUPS, {"dimension": dimension}, {"since": since, "until": until})
    finally:
        engine.close()
    return [UsageGroup.from_row(row) for row in rows]


def resolver_for(profiles: ProfileDirectory) -> ModelResolver:
    return ModelResolver(profiles, load_model_catalog())


def request_log_spend(
    logs: Path,
    period: str,
    profiles: ProfileDirectory,
    *,
    list_prices: PriceCatalog,
    calibrated_prices: PriceCatalog,
) -> list[EstimatedSpend]:
    """The request-log clock's spend of ``period`` per day, model, account and region, both ways."""
    groups = usage_groups(logs, DAY_ACCOUNT_REGION, *period_window(period))
    return daily_spend(groups, resolver_for(profiles), {False: list_prices, True: calibrated_prices})


def _prompt_size_by_day() -> str:
    from bedrock_cost.domain.request_recommendations import LARGE_PROMPT_TOKENS

    size = (
        f"CASE WHEN input_tokens + cache_read_tokens + cache_write_tokens >= {int(LARGE_PROMPT_TOKENS)} "
        "THEN 'large' ELSE 'small' END"
    )
    return f"concat({size}, '|', day)"


def caller_prompts(
    logs: Path, period: str, profiles: ProfileDirectory, catalog: PriceCatalog
) -> tuple[list[CallerPrompts], int]:
    """Large-prompt usage per user and model in ``period``'s logs, and the number of days logged."""
    from bedrock_cost.domain.identity import identify
    from bedrock_cost.domain.invocation_log import TokenUsage
    from bedrock_cost.domain.request_pricing import price_usage
    from bedrock_cost.domain.request_report import model_key

    resolver = resolver_for(profiles)
    days: set[str] = set()
    sums: dict[tuple[str, str], list[Any]] = {}
    for group in usage_groups(logs, _prompt_size_by_day(), *period_window(period)):
        if group.requests == 0 or not group.dim:
            continue
        size, day = group.dim.split("|")
        days.add(day)
        if size != "large" or group.tier != "on-demand" or group.usage.input == 0:
            continue
        resolved = resolver(group.model_id)
        priced = price_usage(
            TokenUsage(input=group.usage.input), resolved, catalog, tier=group.tier, long_context=group.long_context
        )
        read = price_usage(TokenUsage(cache_read=1_000_000), resolved, catalog, tier=group.tier, long_context=False)
        if priced.cost is None:
            continue  # unpriced: no advice in dollars we cannot back
        entry = sums.setdefault((identify(group.principal).user, model_key(resolved)), [0, 0, 0, Decimal(0), read.cost])
        entry[0] += group.requests - group.errors
        entry[1] += group.usage.input
        entry[2] += group.usage.cache_read
        entry[3] += priced.cost
    callers = [
        CallerPrompts(user, model, n, tokens, reads, cost, cost * 1_000_000 / tokens, read_price)
        for (user, model), (n, tokens, reads, cost, read_price) in sorted(sums.items())
    ]
    return callers, len(days)


def user_forecasts(
    logs: Path,
    period: str,
    budgets: Sequence[Any],
    as_of: date | None,
    *,
    profiles: ProfileDirectory,
    catalog: PriceCatalog,
) -> tuple[list[BudgetForecast], int]:
    """Month-end projection per user with a ``user`` budget, from each user's daily spend in the logs.

    The series covers ``period`` and the month before it (the trailing window of early days),
    projected with the budget forecast's method and crossing rule. ``as_of`` defaults to the
    day after the newest logged day. Returns the forecasts and the requests left unpriced."""
    since, _ = period_window(previous_period(period))
    _, until = period_window(period)
    groups = usage_groups(logs, DAY, since, until)
    series, unpriced = daily_by_user(groups, resolver_for(profiles), catalog)
    if as_of is None:
        logged = [d for days in series.values() for d in days if f"{d:%Y-%m}" == period]
        as_of = max(logged) + timedelta(days=1) if logged else date.fromisoformat(f"{period}-01")
        if f"{as_of:%Y-%m}" != period:
            as_of -= timedelta(days=1)
    limits = user_budget_limits(budgets, series)
    return [forecast_budget(f"user={u}", series.get(u, {}), limit, as_of) for u, limit in limits.items()], unpriced
