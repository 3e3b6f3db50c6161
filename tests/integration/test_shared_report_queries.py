"""One statement, several readers: the report queries the HTML page shares with the
daily CUR reporter, the tag-governance ranking and the demo give each what it needs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest

from bedrock_cost.adapters.duckdb_engine import DuckDBEngine
from bedrock_cost.billing.daily_report import billed_on
from bedrock_cost.billing.reporting import report_fragments
from bedrock_cost.billing.sql import render
from bedrock_cost.billing.untagged_spend import ALL_ROWS
from bedrock_cost.reporting_html.data import UNTAGGED_SHOWN, fetch_report_data
from bedrock_cost.sample_data.cur_generator import generate_cur

pytestmark = pytest.mark.integration

PERIOD = "2026-10"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DuckDBEngine]:
    root = tmp_path_factory.mktemp("shared-cur")
    generate_cur(root, PERIOD, rows=8_000, seed=11)
    engine = DuckDBEngine.open(root, ["team", "project", "environment"])
    yield engine
    engine.close()


def _rows(engine: DuckDBEngine, name: str, **values: str) -> list[dict]:
    return engine.query(render(f"reports/{name}", report_fragments(engine), {"period": PERIOD, **values}))


def test_the_html_ranking_is_the_head_of_the_full_untagged_ranking(engine: DuckDBEngine) -> None:
    # Given every untagged group of the month, as the tag-governance ranking reads them
    every = _rows(engine, "untagged_spend_rows", top=ALL_ROWS)
    assert len(every) > UNTAGGED_SHOWN
    # When the HTML page reads the same statement with its limit
    data = fetch_report_data(engine, PERIOD)
    # Then it shows the first rows of that ranking, and its totals cover every group
    head = [(r["resource_id"], r["principal"], r["model"], r["cost_usd"]) for r in every[:UNTAGGED_SHOWN]]
    assert [(u.resource_id, u.principal, u.model, u.cost) for u in data.untagged] == head
    assert data.untagged_groups == len(every)
    assert data.untagged_total == sum((r["cost_usd"] for r in every), Decimal(0))
    costs = [r["cost_usd"] for r in every]
    assert costs == sorted(costs, reverse=True)


def test_cost_per_day_and_model_sums_to_each_billed_day(engine: DuckDBEngine) -> None:
    # Given the daily chart's rows, summed per day (the demo's burn-rate replay)
    per_day: dict[date, Decimal] = defaultdict(Decimal)
    for row in _rows(engine, "cost_by_day_model"):
        per_day[row["usage_date"]] += row["cost_usd"]
    # Then each day equals what the reconciliation query bills for it
    assert len(per_day) >= 28
    for day in (min(per_day), max(per_day)):
        assert per_day[day] == billed_on(engine, day)


def test_unit_prices_carry_the_period_and_read_in_table_order(engine: DuckDBEngine) -> None:
    rows = _rows(engine, "unit_prices")
    assert rows
    assert {r["billing_period"] for r in rows} == {PERIOD}
    keys = [(r["provider"], r["model"], r["usage_kind"], r["scope"], r["tier"]) for r in rows]
    assert keys == sorted(keys)
