"""The request-log clock over local invocation logs: the ``requests`` SQL, other groupings.

``bedrock-cost requests`` groups ``queries/requests/usage_groups.sql`` by one dimension;
reconciliation, recommendations and the per-user forecast run the very same statement with
their own dimension fragment (day, account and region; day; input size) and price the
groups with the same catalog and ``price_usage``: one SQL, one pricing, three uses.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Final

from bedrock_cost.domain.budget_forecast import month_bounds
from bedrock_cost.domain.model_catalog import load_model_catalog
from bedrock_cost.domain.model_resolution import ProfileDirectory
from bedrock_cost.domain.pricing import PriceCatalog
from bedrock_cost.domain.reconcile import EstimatedSpend
from bedrock_cost.domain.request_report import ModelResolver, UsageGroup
from bedrock_cost.domain.request_spend import daily_spend

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
