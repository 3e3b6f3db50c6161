"""The usage-type classifier, in Python and in the Athena view, against the reference."""

from __future__ import annotations

from pathlib import Path

import pytest

from bedrock_cost.adapters.duckdb_engine import DuckDBEngine
from bedrock_cost.domain.usage_types import classify_usage_type, resolve_model, tokens_per_unit
from tests.fixtures.cur_builder import cur_row, write_cur
from tests.fixtures.reference_usage_types import REFERENCE_USAGE_TYPES

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("usage_type", "product_name", "kind", "tier", "scope", "region", "model"), REFERENCE_USAGE_TYPES
)
def test_python_classifier_matches_reference(usage_type, product_name, kind, tier, scope, region, model):
    # Given a usage type from the reference, When classified
    info = classify_usage_type(usage_type)
    resolved, known = resolve_model(info, product_name=product_name)
    # Then kind, tier, scope, region and model are as the reference says
    assert (info.kind, info.tier, info.scope, info.region) == (kind, tier, scope, region)
    assert info.marketplace == ("MP:" in usage_type)
    if model is None:
        assert not known
        assert resolved  # unknown models keep a name, they are never dropped
    else:
        assert (resolved, known) == (model, True)


def test_agentcore_rows_are_other_whatever_the_usage_type():
    assert classify_usage_type("USE1-AgentCore-Runtime-vCPU-Hours", "AmazonBedrockAgentCore").kind == "other"


@pytest.mark.parametrize(
    ("unit", "description", "marketplace", "expected"),
    [
        ("1K tokens", None, False, 1000),
        ("1M tokens", None, True, 1_000_000),
        ("Units", None, True, 1),
        (None, None, False, 1000),
        (None, None, True, 1),
        (None, "AWS Marketplace|Claude Sonnet 4.6 (Amazon Bedrock Edition)|1M tokens", True, 1_000_000),
        ("  ", "a|b|Units", True, 1),
        (None, "no pipes here", True, 1),
    ],
)
def test_tokens_per_unit_normalises_every_unit(unit, description, marketplace, expected):
    assert tokens_per_unit(unit, description, marketplace=marketplace) == expected


@pytest.fixture(scope="module")
def reference_engine(tmp_path_factory: pytest.TempPathFactory) -> DuckDBEngine:
    rows = []
    for usage_type, product_name, *_ in REFERENCE_USAGE_TYPES:
        marketplace = "MP:" in usage_type
        rows.append(
            cur_row(
                usage_type,
                1.0,
                2.0,
                entity="AWS Marketplace" if marketplace else "AWS",
                product_code="prod-abc" if marketplace else "AmazonBedrock",
                pricing_unit="Units" if marketplace else "1K tokens",
                product_name=product_name,
            )
        )
    root = write_cur(tmp_path_factory.mktemp("ref") / "cur", rows)
    return DuckDBEngine.open(Path(root), ["team"])


def test_sql_view_classifies_exactly_like_python(reference_engine: DuckDBEngine):
    # Given one CUR row per reference usage type, When the Athena view classifies them on DuckDB
    _, rows = reference_engine.execute_sql(
        "SELECT usage_type, usage_kind, tier, scope, region, model, model_known, tokens "
        "FROM bedrock_cost.bedrock_line_items"
    )
    by_type = {r[0]: r[1:] for r in rows}
    # Then every row is kept and agrees with the Python classifier
    assert len(by_type) == len(REFERENCE_USAGE_TYPES)
    for usage_type, product_name, kind, tier, scope, region, _model in REFERENCE_USAGE_TYPES:
        info = classify_usage_type(usage_type)
        resolved, known = resolve_model(info, product_name=product_name)
        sql_kind, sql_tier, sql_scope, sql_region, sql_model, sql_known, sql_tokens = by_type[usage_type]
        assert (sql_kind, sql_tier, sql_scope, sql_region) == (kind, tier, scope, region), usage_type
        assert (sql_model, sql_known) == (resolved, known), usage_type
        unit = tokens_per_unit("Units" if info.marketplace else "1K tokens", None, marketplace=info.marketplace)
        assert sql_tokens == (None if kind == "other" else 2 * unit), usage_type
