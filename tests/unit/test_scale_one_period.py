"""Scale: at 50 accounts x 4 regions every report still reads ONE billing period.

Athena bills the bytes it scans; the CUR table is partitioned by ``billing_period``, so a
report is cheap at any organisation size only if every SELECT that reads a table (a
``bedrock_*`` view or the CUR table, not a CTE) filters on ``billing_period`` in its own
WHERE. A regex over the file would accept one filtered sub-query beside an unfiltered
one; this walks every SELECT of the rendered statement.
"""

from __future__ import annotations

import re

import pytest
import sqlglot
from sqlglot import exp

from bedrock_cost.billing.sql import list_queries, load_sql, render, view_fragments

pytestmark = pytest.mark.unit

FRAGMENTS = {
    **view_fragments("bedrock_cost", "cur2", ["team", "project", "cost-center"]),
    "group_expr": "model",
    "source_view": "bedrock_line_items",
    "tag_column": '"tag_team"',
}


def _rendered(name: str) -> exp.Expression:
    holes = set(re.findall(r"(?<![:\w]):([a-z_]+)", load_sql(name)))
    sql = render(name, FRAGMENTS, dict.fromkeys(holes, "2026-10")).sql
    return sqlglot.parse_one(sql, read="trino")


def _reads_a_table(select: exp.Select, ctes: set[str]) -> list[str]:
    sources = [select.args.get("from_") or select.args.get("from"), *(select.args.get("joins") or [])]
    names = []
    for source in sources:
        if source is None:
            continue
        table = source.this if isinstance(source.this, exp.Table) else None
        if table is not None and table.name not in ctes:
            names.append(table.name)
    return names


def _filters_period(select: exp.Select) -> bool:
    where = select.args.get("where")
    if where is None:
        return False
    return any(
        isinstance(node, exp.Column) and node.name == "billing_period"
        for predicate in where.find_all(exp.EQ, exp.In, exp.Between, exp.GTE)
        for node in predicate.find_all(exp.Column)
    )


@pytest.mark.parametrize("name", list_queries("reports"))
def test_every_select_reading_a_table_prunes_to_one_billing_period(name: str) -> None:
    # Given a report query rendered for one period
    tree = _rendered(name)
    ctes = {cte.alias for cte in tree.find_all(exp.CTE)}
    # When every SELECT reading a view or table is inspected
    readers = [(select, _reads_a_table(select, ctes)) for select in tree.find_all(exp.Select)]
    readers = [(select, tables) for select, tables in readers if tables]
    assert readers, f"{name}: reads no table at all?"
    # Then each filters billing_period in its own WHERE
    for select, tables in readers:
        assert _filters_period(select), f"{name}: SELECT from {tables} has no billing_period filter"
