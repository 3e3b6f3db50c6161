"""The usage-type classifier, in Python and in the Athena view, against the reference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bedrock_cost.adapters.duckdb_engine import DuckDBEngine
from bedrock_cost.domain.usage_types import classify_usage_type, resolve_model, tokens_per_unit
from tests.fixtures.cur_builder import cur_row, write_cur
from tests.fixtures.reference_usage_types import (
    CACHE_TTL_AND_LONG_CONTEXT,
    MP_SONNET,
    PRODUCT_MAP_ROWS,
    REFERENCE_USAGE_TYPES,
    UNIT_ROWS,
)

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
    assert (info.cache_ttl, info.long_context) == CACHE_TTL_AND_LONG_CONTEXT.get(
        usage_type, ("5m" if kind == "cache-write" else None, False)
    )
    if model is None:
        assert not known
        assert resolved  # unknown models keep a name, they are never dropped
        assert resolved.lower() != "amazon bedrock"  # the service name is never a model
    else:
        assert (resolved, known) == (model, True)


def test_unknown_first_party_model_keeps_its_billing_name():
    info = classify_usage_type("USE1-Zeta2Mini-output-tokens")
    assert resolve_model(info, product_name="Amazon Bedrock") == ("Zeta2Mini", False)
    assert resolve_model(classify_usage_type("USE1-Weird"), product_name="Amazon Bedrock") == ("unknown", False)


def test_agentcore_rows_are_other_whatever_the_usage_type():
    assert classify_usage_type("USE1-AgentCore-Runtime-vCPU-Hours", "AmazonBedrockAgentCore").kind == "other"


@pytest.mark.parametrize(("usage_type", "product", "kind", "tier", "cache_ttl"), PRODUCT_MAP_ROWS)
def test_inference_type_decides_the_kind_when_present(usage_type, product, kind, tier, cache_ttl):
    info = classify_usage_type(usage_type, inference_type=product.get("inference_type"), feature=product.get("feature"))
    assert (info.kind, info.tier, info.cache_ttl) == (kind, tier, cache_ttl)


@pytest.mark.parametrize(("unit", "description", "marketplace", "expected"), UNIT_ROWS)
def test_tokens_per_unit_normalises_every_unit(unit, description, marketplace, expected):
    assert tokens_per_unit(unit, description, marketplace=marketplace) == expected


def _mp(usage_type: str, **kw):
    return cur_row(usage_type, 1.0, 2.0, entity="AWS Marketplace", product_code="prod-abc", **kw)


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
                account="111111111111",
            )
        )
    for usage_type, product, *_ in PRODUCT_MAP_ROWS:
        rows.append(
            _mp(usage_type, product={**product, "product_name": MP_SONNET}, family="Amazon Bedrock", account="2" * 12)
        )
    for i, (unit, description, marketplace, _) in enumerate(UNIT_ROWS):
        usage_type = "USW2-MP:USW2_InputTokenCount-Units" if marketplace else "USE1-NovaPro-input-tokens"
        kw = {"pricing_unit": unit, "description": description, "account": f"{300000000000 + i}"}
        if marketplace:
            rows.append(_mp(usage_type, product_name=MP_SONNET, **kw))
        else:
            rows.append(cur_row(usage_type, 1.0, 2.0, **kw))
    root = write_cur(tmp_path_factory.mktemp("ref") / "cur", rows)
    return DuckDBEngine.open(Path(root), ["team"])


def _by_usage_type(engine: DuckDBEngine, columns: str, account: str) -> dict[str, tuple[Any, ...]]:
    """The view's ``columns`` for the rows of one account, by usage type."""
    _, rows = engine.execute_sql(
        f"SELECT usage_type, {columns} FROM bedrock_cost.bedrock_line_items WHERE usage_account_id = '{account}'"
    )
    return {r[0]: r[1:] for r in rows}


def test_sql_view_classifies_exactly_like_python(reference_engine: DuckDBEngine):
    # Given one CUR row per reference usage type, When the Athena view classifies them on DuckDB
    columns = "usage_kind, tier, scope, region, model, model_known, tokens, cache_ttl, long_context"
    by_type = _by_usage_type(reference_engine, columns, "111111111111")
    # Then every row is kept and agrees with the Python classifier
    assert len(by_type) == len(REFERENCE_USAGE_TYPES)
    for usage_type, product_name, kind, tier, scope, region, _model in REFERENCE_USAGE_TYPES:
        info = classify_usage_type(usage_type)
        resolved, known = resolve_model(info, product_name=product_name)
        sql_kind, sql_tier, sql_scope, sql_region, sql_model, sql_known, sql_tokens, sql_ttl, sql_long = by_type[
            usage_type
        ]
        assert (sql_kind, sql_tier, sql_scope, sql_region) == (kind, tier, scope, region), usage_type
        assert (sql_model, sql_known) == (resolved, known), usage_type
        assert (sql_ttl, sql_long) == (info.cache_ttl, info.long_context), usage_type
        unit = tokens_per_unit("Units" if info.marketplace else "1K tokens", None, marketplace=info.marketplace)
        assert sql_tokens == (None if kind == "other" else 2 * unit), usage_type


def test_sql_view_reads_the_product_map_like_python(reference_engine: DuckDBEngine):
    by_type = _by_usage_type(reference_engine, "usage_kind, tier, cache_ttl", "222222222222")
    assert len(by_type) == len(PRODUCT_MAP_ROWS)
    for usage_type, product, kind, tier, cache_ttl in PRODUCT_MAP_ROWS:
        info = classify_usage_type(
            usage_type, inference_type=product.get("inference_type"), feature=product.get("feature")
        )
        assert by_type[usage_type] == (info.kind, info.tier, info.cache_ttl) == (kind, tier, cache_ttl), usage_type


def test_sql_view_counts_tokens_per_unit_like_python(reference_engine: DuckDBEngine):
    _, rows = reference_engine.execute_sql(
        "SELECT usage_account_id, tokens FROM bedrock_cost.bedrock_line_items WHERE usage_account_id LIKE '3%'"
    )
    by_account = dict(rows)
    assert len(by_account) == len(UNIT_ROWS)
    for i, (unit, description, marketplace, expected) in enumerate(UNIT_ROWS):
        assert tokens_per_unit(unit, description, marketplace=marketplace) == expected
        assert by_account[f"{300000000000 + i}"] == 2 * expected, (unit, description)
