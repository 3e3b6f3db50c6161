"""Billed-cost reports: one billing period of usage cost grouped by a key.

Engine-agnostic: the same function serves ``bedrock-cost report`` on DuckDB, the same
command on Athena, the daily CUR reporter Lambda and the demo. Grouping keys come from
an allow-list; a tag key travels as a query parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bedrock_cost.billing.engine import QueryEngine
from bedrock_cost.billing.sql import USAGE_SUMS, quote_identifier, render, tag_value_sql, usage_classification_sql
from bedrock_cost.errors import UserError

GROUP_EXPRESSIONS: dict[str, str] = {
    "model": "model",
    "provider": "provider",
    "account": "usage_account_id",
    "region": "region",
    "usage-kind": "usage_kind",
    "principal": "COALESCE(principal, '(unknown)')",
    "user": "COALESCE(principal, '(unknown)')",
    "day": "CAST(usage_date AS VARCHAR)",
}
MODEL_KEYS = frozenset({"model", "provider"})
"""Keys that need the model name: they read ``bedrock_line_items`` (alias joins); every other
key reads ``bedrock_line_items_base``, one scan with no join."""
UNTAGGED = "(untagged)"
TOKEN_COLUMNS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_TAG_KEY = re.compile(r"^[^\x00-\x1f]{1,128}$")


@dataclass(frozen=True)
class GroupBy:
    """A validated ``--by`` value."""

    key: str
    column: str
    """Name of the first output column: the key, or the tag key for ``tag:<key>``."""
    expression: str
    values: dict[str, str]


def parse_group_by(by: str) -> GroupBy:
    """Validate ``--by``; raise ``UserError`` listing what is allowed."""
    if by in GROUP_EXPRESSIONS:
        return GroupBy(by, by.replace("-", "_"), GROUP_EXPRESSIONS[by], {})
    if by.startswith("tag:"):
        tag_key = by[4:]
        if not _TAG_KEY.match(tag_key):
            raise UserError(f"--by: tag key in {by!r} must be 1-128 printable characters, e.g. tag:team")
        expression = f"COALESCE({tag_value_sql(':tag_key')}, '{UNTAGGED}')"
        return GroupBy(by, tag_key, expression, {"tag_key": tag_key})
    allowed = ", ".join([*GROUP_EXPRESSIONS, "tag:<key>"])
    raise UserError(f"--by: {by!r} is not a report key (expected one of: {allowed})")


def parse_period(period: str) -> str:
    """Validate ``YYYY-MM``; raise ``UserError`` otherwise."""
    if not _PERIOD.match(period):
        raise UserError(f"--period: {period!r} is not a billing period (expected YYYY-MM, e.g. 2026-10)")
    return period


def current_period(now: datetime | None = None) -> str:
    return f"{(now or datetime.now(UTC)):%Y-%m}"


@dataclass(frozen=True)
class CostRow:
    group: str
    cost_usd: Decimal
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int


@dataclass(frozen=True)
class CostReport:
    period: str
    group_by: GroupBy
    engine: str
    rows: list[CostRow]
    adjustments: dict[str, Decimal]
    """Credits, refunds, tax... by line item type: never part of ``total_usd``."""

    @property
    def total_usd(self) -> Decimal:
        return sum((r.cost_usd for r in self.rows), Decimal(0))


def _decimal(value: Any) -> Decimal:
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _int(value: Any) -> int:
    return 0 if value is None else int(value)


def report_fragments(engine: QueryEngine) -> dict[str, str]:
    return {
        "database": quote_identifier(engine.database),
        "usage_sums": USAGE_SUMS,
        "usage_classification": usage_classification_sql(),
    }


def _fold_by_user(rows: list[CostRow]) -> list[CostRow]:
    """Roll per-principal rows up to the person or workload behind each (``identify``).

    Applied in Python on the per-principal aggregate (a few hundred principals at most, never
    per line item), so CUR reports and the per-request ledger name people with one rule.
    The user name carries no account, so one person is one row across accounts.
    """
    from bedrock_cost.domain.identity import identify

    totals: dict[str, list[Any]] = {}
    for row in rows:
        user = identify(None if row.group == "(unknown)" else row.group).user
        acc = totals.setdefault(user, [Decimal(0), 0, 0, 0, 0])
        acc[0] += row.cost_usd
        for i, column in enumerate(TOKEN_COLUMNS, start=1):
            acc[i] += getattr(row, column)
    return [CostRow(user, acc[0], acc[1], acc[2], acc[3], acc[4]) for user, acc in totals.items()]


def sort_rows(rows: list[CostRow], key: str) -> list[CostRow]:
    """``day``: by date (a time series reads in order); every other key: by cost, largest first."""
    if key == "day":
        return sorted(rows, key=lambda r: r.group)
    return sorted(rows, key=lambda r: (-r.cost_usd, r.group))


def build_cost_report(engine: QueryEngine, period: str, by: str, *, with_adjustments: bool = True) -> CostReport:
    """Usage cost of ``period`` grouped by ``by``, sorted by cost descending (``day``: by date).

    Credits, refunds and tax need a second pass over the period; callers whose output
    does not show them (CSV, JSON) skip it with ``with_adjustments=False``.
    """
    group_by = parse_group_by(by)
    source = "bedrock_line_items" if group_by.key in MODEL_KEYS else "bedrock_line_items_base"
    fragments = {**report_fragments(engine), "group_expr": group_by.expression, "source_view": source}
    # A tag key sums line items before classifying them (one scan, no per-row string work).
    query = "reports/cost_by_tag" if group_by.key.startswith("tag:") else "reports/cost_by"
    rows = engine.query(render(query, fragments, {**group_by.values, "period": period}))
    cost_rows = [
        CostRow(
            group=str(row["group_key"]),
            cost_usd=_decimal(row["cost_usd"]),
            **{column: _int(row[column]) for column in TOKEN_COLUMNS},
        )
        for row in rows
    ]
    if group_by.key == "user":
        cost_rows = _fold_by_user(cost_rows)
    cost_rows = sort_rows(cost_rows, group_by.key)
    adjustments: dict[str, Decimal] = {}
    if with_adjustments:
        adjustments_rows = engine.query(render("reports/adjustments", report_fragments(engine), {"period": period}))
        adjustments = {str(r["line_item_type"]): _decimal(r["cost_usd"]) for r in adjustments_rows}
    return CostReport(period, group_by, engine.name, cost_rows, adjustments)
