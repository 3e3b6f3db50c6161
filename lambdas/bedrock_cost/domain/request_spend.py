"""The request-log clock's spend per day, model, account and region (for reconciliation).

The engine runs the same ``queries/requests/usage_groups.sql`` that ``bedrock-cost
requests`` runs, with the dimension ``day|account|region``; this module prices each group
with the same :func:`~bedrock_cost.domain.request_pricing.price_usage` and folds it into
:class:`~bedrock_cost.domain.reconcile.EstimatedSpend` rows, once per catalog: list
prices (*uncalibrated*) and list prices plus the period's CUR effective prices
(*calibrated*). A key with any successful request the catalog cannot price is unpriced
(``None``), never a partial sum that would look complete. Application profiles missing
from the profiles file stay ``(unresolved) <id>``: a model the bill never names, so their
rows show as unpriced rather than guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Final, Protocol

from bedrock_cost.domain.identity import identify
from bedrock_cost.domain.pricing import PriceCatalog
from bedrock_cost.domain.reconcile import EstimatedSpend
from bedrock_cost.domain.request_pricing import price_usage
from bedrock_cost.domain.request_report import ModelResolver, UsageGroup, model_key


class RequestBudget(Protocol):
    """What the forecast reads of a ``request_logs.budgets`` entry (config's ``RequestBudget``)."""

    subject: str
    value: str
    period: str
    limit_usd: Decimal


SEPARATOR: Final = "|"
"""Between day, account and region in the ``dim`` column (none of them can contain it)."""


def split_dim(dim: str) -> tuple[date, str, str]:
    """``2026-10-15|123456789012|us-east-1`` -> (day, account, region)."""
    day, account, region = dim.split(SEPARATOR)
    return date.fromisoformat(day), account, region


def daily_spend(
    groups: Iterable[UsageGroup], resolver: ModelResolver, catalogs: Mapping[bool, PriceCatalog]
) -> list[EstimatedSpend]:
    """One :class:`EstimatedSpend` per day, model, account, region and catalog (``calibrated`` key)."""
    sums: dict[tuple[date, str, str, str, bool], Decimal | None] = {}
    for group in groups:
        if group.requests == 0 or not group.dim:
            continue  # malformed lines only: counted by the usage view, never priced
        day, account, region = split_dim(group.dim)
        resolved = resolver(group.model_id)
        for calibrated, catalog in catalogs.items():
            priced = price_usage(group.usage, resolved, catalog, tier=group.tier, long_context=group.long_context)
            key = (day, model_key(resolved), account, region, calibrated)
            total = sums.get(key, Decimal(0))
            sums[key] = None if total is None or priced.cost is None else total + priced.cost
    return [
        EstimatedSpend(day, model, account, region, cost, calibrated=calibrated)
        for (day, model, account, region, calibrated), cost in sorted(sums.items())
    ]


def daily_by_user(
    groups: Iterable[UsageGroup], resolver: ModelResolver, catalog: PriceCatalog
) -> tuple[dict[str, dict[date, Decimal]], int]:
    """Each user's priced spend per day (groups with ``dim`` = the day), and the requests left unpriced.

    Users are named by the shared identity rule, as the ledger's counters and budgets name them."""
    out: dict[str, dict[date, Decimal]] = {}
    unpriced = 0
    for group in groups:
        if group.requests == 0 or not group.dim:
            continue
        priced = price_usage(
            group.usage, resolver(group.model_id), catalog, tier=group.tier, long_context=group.long_context
        )
        if priced.cost is None:
            unpriced += group.requests - group.errors
            continue
        series = out.setdefault(identify(group.principal).user, {})
        day = date.fromisoformat(group.dim)
        series[day] = series.get(day, Decimal(0)) + priced.cost
    return out, unpriced


def user_budget_limits(budgets: Iterable[RequestBudget], users: Iterable[str]) -> dict[str, Decimal | None]:
    """Users with a ``user`` budget and their monthly limit (one naming the user beats ``*``).

    A user covered only by daily budgets is listed with no monthly limit (``None``): a month
    of daily budgets is not a monthly budget."""
    mine = [b for b in budgets if b.subject == "user"]
    out: dict[str, Decimal | None] = {}
    for user in sorted(set(users) | {b.value for b in mine if b.value != "*"}):
        applies = [b for b in mine if b.value in ("*", user)]
        if not applies:
            continue
        monthly = sorted((b for b in applies if b.period == "month"), key=lambda b: b.value == "*")
        out[user] = monthly[0].limit_usd if monthly else None
    return out
