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
from bedrock_cost.billing.sql import USAGE_SUMS, quote_identifier, render, tag_value_sql
from bedrock_cost.errors import UserError

GROUP_EXPRESSIONS: dict[str, str] = {
    "model": "model",
    "provider": "provider",
    "account": "usage_account_id",
    "region": "region",
    "usage-kind": "usage_kind",
    "principal": "COALESCE(principal, '(unknown)')",
    "day": "CAST(usage_date AS VARCHAR)",
}
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
    return {"database": quote_identifier(engine.database), "usage_sums": USAGE_SUMS}


def build_cost_report(engine: QueryEngine, period: str, by: str, *, with_adjustments: bool = True) -> CostReport:
    """Usage cost of ``period`` grouped by ``by``, sorted by cost descending.

    Credits, refunds and tax need a second pass over the period; callers whose output
    does not show them (CSV, JSON) skip it with ``with_adjustments=False``.
    """
    group_by = parse_group_by(by)
    fragments = {**report_fragments(engine), "group_expr": group_by.expression}
    rows = engine.query(render("reports/cost_by", fragments, {**group_by.values, "period": period}))
    cost_rows = [
        CostRow(
            group=str(row["group_key"]),
            cost_usd=_decimal(row["cost_usd"]),
            **{column: _int(row[column]) for column in TOKEN_COLUMNS},
        )
        for row in rows
    ]
    cost_rows.sort(key=lambda r: (-r.cost_usd, r.group))
    adjustments: dict[str, Decimal] = {}
    if with_adjustments:
        adjustments_rows = engine.query(render("reports/adjustments", report_fragments(engine), {"period": period}))
        adjustments = {str(r["line_item_type"]): _decimal(r["cost_usd"]) for r in adjustments_rows}
    return CostReport(period, group_by, engine.name, cost_rows, adjustments)
