"""`report --by tag:<key>` sums line items before classifying them; the base view classifies
each line item. Both read the same rows through the same classification fragment, so over
any export with whole-token usage they must give the same figures, value by value."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bedrock_cost.adapters.duckdb_engine import DuckDBEngine
from bedrock_cost.billing.reporting import TOKEN_COLUMNS, build_cost_report
from bedrock_cost.billing.sql import RenderedQuery
from bedrock_cost.sample_data.cur_generator import generate_cur
from tests.fixtures.real_shapes import write_cur2

pytestmark = pytest.mark.integration
PERIOD = "2026-10"
TAG_KEYS = ["team", "project", "environment"]


def _per_line_item(engine: DuckDBEngine, key: str) -> dict[str, tuple[Decimal, ...]]:
    column = f"tag_{key}"
    sql = (
        f"SELECT COALESCE({column}, '(untagged)') AS k, SUM(cost_usd) AS cost_usd, "
        + ", ".join(f"SUM({c}) AS {c}" for c in TOKEN_COLUMNS)
        + f" FROM bedrock_cost.bedrock_line_items_base WHERE billing_period = '{PERIOD}' AND is_usage GROUP BY 1"
    )
    rows = engine.query(RenderedQuery(name="per_line_item", sql=sql, parameters=[]))
    return {str(r["k"]): (Decimal(r["cost_usd"]), *(Decimal(r[c]) for c in TOKEN_COLUMNS)) for r in rows}


def _tag_report(engine: DuckDBEngine, key: str) -> dict[str, tuple[Decimal, ...]]:
    report = build_cost_report(engine, PERIOD, f"tag:{key}", with_adjustments=False)
    return {r.group: (r.cost_usd, *(Decimal(getattr(r, c)) for c in TOKEN_COLUMNS)) for r in report.rows}


@pytest.fixture(scope="module", params=["generated", "real-shapes"])
def export(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp(str(request.param))
    if request.param == "generated":
        generate_cur(folder, PERIOD, rows=20_000, seed=7, accounts=3, regions=2)
        return folder
    return write_cur2(folder / "export")


@pytest.mark.parametrize("key", TAG_KEYS)
def test_summing_first_gives_the_per_line_item_figures_for_every_tag_value(export: Path, key: str):
    engine = DuckDBEngine.open(export, TAG_KEYS)
    try:
        expected = _per_line_item(engine, key)
        got = _tag_report(engine, key)
    finally:
        engine.close()
    assert expected, "the export has usage"
    if key == "team":
        assert len(expected) > 2, "both exports spread usage over several teams"
    assert got == expected
