"""The per-request Athena views: Trino grammar, and run on DuckDB against independent pricing.

The views are the SQL the deployed Glue table serves (``RequestLedger`` creates them); here
the same rendered statements run on DuckDB over generated S3-delivered logs, and every user,
customer and model total must equal the independent oracle to the micro-dollar. The user
rule written in SQL must name every principal of the identity table as ``identify`` does.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from trino_query_parser import parse_statement

from bedrock_cost.adapters.duckdb_dialect import athena_to_duckdb
from bedrock_cost.adapters.invocation_logs_duckdb import LOG_COLUMNS
from bedrock_cost.billing.request_views import render_request_views, request_view_names
from bedrock_cost.domain.identity import identify
from bedrock_cost.domain.pricing import PriceCatalog, load_bundled_layer
from bedrock_cost.sample_data.invocation_logs import generate_logs
from tests.support.request_oracle import oracle
from tests.unit.test_identity import TABLE

pytestmark = pytest.mark.integration
MICRO = Decimal("0.000001")
CATALOG = PriceCatalog(bundled=load_bundled_layer())


def _engine(files: list[Path]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("CREATE SCHEMA db")
    columns = ", ".join(f"'{k}': '{v}'" for k, v in LOG_COLUMNS.items())
    listed = ", ".join(f"'{f}'" for f in files)
    con.execute(
        f"CREATE VIEW db.logs AS SELECT * FROM read_json([{listed}], format = 'newline_delimited', "
        f"ignore_errors = true, compression = 'gzip', columns = {{{columns}}})"
    )
    for view in render_request_views("db", "logs", CATALOG):
        con.execute(athena_to_duckdb(view.sql))
    return con


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("request-views")
    generate_logs(out, start=datetime(2026, 10, 15, tzinfo=UTC), hours=4, records=3_000, seed=11)
    return out


@pytest.fixture(scope="module")
def con(logs: Path) -> duckdb.DuckDBPyConnection:
    return _engine(sorted(logs.rglob("*.json.gz")))


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_every_request_view_parses_as_trino():
    for view in render_request_views("bedrock_cost", "invocation_logs", CATALOG):
        assert "{{" not in view.sql
        parse_statement(view.sql)
        assert "::" not in view.sql.replace("iam|sts)::", "")


def test_views_are_created_in_dependency_order():
    names = request_view_names()
    assert names[0] == "bedrock_invocation_usage"
    assert names.index("bedrock_request_prices") < names.index("bedrock_request_cost")
    assert {
        "bedrock_request_cost_by_user",
        "bedrock_request_cost_by_principal",
        "bedrock_request_cost_by_meta",
        "bedrock_request_cost_by_model",
        "bedrock_request_cost_by_hour",
    } <= set(names)


@pytest.mark.parametrize(
    ("view", "key_sql", "oracle_key"),
    [
        ("bedrock_request_cost_by_user", '"user"', "user"),
        ("bedrock_request_cost_by_model", "model", "model"),
    ],
)
def test_view_cost_matches_the_oracle_to_the_micro_dollar(con, logs, view, key_sql, oracle_key):
    # Given generated logs (no profiles file: application-profile requests stay unpriced)
    got = {
        k: Decimal(v).quantize(MICRO)
        for k, v in _rows(con, f"SELECT {key_sql}, SUM(cost_usd) FROM db.{view} GROUP BY 1")
        if v is not None and Decimal(v)
    }
    # Then each key equals the independent computation
    want = {k: v.quantize(MICRO) for k, v in oracle(logs, {})[oracle_key].items() if v}
    assert got == want


def test_meta_view_matches_the_oracle_per_customer(con, logs):
    got = {
        v: Decimal(c).quantize(MICRO)
        for v, c in _rows(
            con,
            "SELECT meta_value, SUM(cost_usd) FROM db.bedrock_request_cost_by_meta "
            "WHERE meta_key = 'customer' GROUP BY 1",
        )
        if c is not None and Decimal(c)
    }
    want = {k: v.quantize(MICRO) for k, v in oracle(logs, {})["customer"].items() if v and k != "(none)"}
    assert got == want


def test_unknown_models_are_unpriced_not_zero(con):
    rows = _rows(con, "SELECT model, unpriced_requests, cost_usd FROM db.bedrock_request_cost_by_model")
    unknown = [r for r in rows if r[0] == "acme.unknown-model-v1"]
    assert unknown
    assert all(r[1] > 0 and r[2] is None for r in unknown)
    assert any(r[0].startswith("(unresolved) arn:aws:bedrock:") and r[1] > 0 for r in rows)


def test_hour_view_sums_to_the_user_view(con):
    (by_hour,) = _rows(con, "SELECT SUM(cost_usd) FROM db.bedrock_request_cost_by_hour")[0:1]
    (by_user,) = _rows(con, "SELECT SUM(cost_usd) FROM db.bedrock_request_cost_by_user")[0:1]
    assert by_hour == by_user
    assert by_hour[0] > 0


@pytest.mark.parametrize("row", TABLE, ids=[str(i) for i in range(len(TABLE))])
def test_sql_user_rule_names_principals_like_identify(tmp_path, row):
    # Given one well-formed record from this principal
    principal = row[0]
    line = json.dumps(
        {
            "schemaType": "ModelInvocationLog",
            "timestamp": "2026-10-15T10:00:00Z",
            "requestId": "r-1",
            "identity": {"arn": principal},
            "modelId": "amazon.nova-micro-v1:0",
            "input": {"inputTokenCount": 10},
            "output": {"outputTokenCount": 1},
        }
    )
    path = tmp_path / "one.json.gz"
    path.write_bytes(gzip.compress((line + "\n").encode()))
    con = _engine([path])
    # Then the SQL user equals the Python rule's
    assert _rows(con, 'SELECT "user" FROM db.bedrock_request_cost') == [(identify(principal).user,)]
