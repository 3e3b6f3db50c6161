"""The Athena engine: the real pyathena client against a local Athena on 127.0.0.1.

The emulator answers with DuckDB over the same views, so the same SQL text travels the
real client code path (HTTP, ExecutionParameters, paging, type conversion).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from bedrock_cost.adapters.athena import AthenaEngine, athena_literal, run_statement
from bedrock_cost.adapters.duckdb_engine import DuckDBEngine
from bedrock_cost.billing.reporting import build_cost_report
from bedrock_cost.billing.sql import RenderedQuery
from bedrock_cost.errors import QueryError, QueryTimeout
from tests.fixtures.cur_builder import cur_row, write_cur
from tests.support.athena_emulator import athena_emulator

pytestmark = pytest.mark.integration

ROWS = [
    cur_row(
        "USE1-Claude4.6Sonnet-input-tokens", 3.000001, 1000, tags={"user_team": "ml"}, principal="arn:aws:iam::1:role/a"
    ),
    cur_row("USE1-Claude4.6Sonnet-output-tokens", 15.5, 1000, tags={"user_team": "ml"}, day=2),
    cur_row(
        "USW2-MP:USW2_CacheReadInputTokenCount-Units",
        0.3,
        1_000_000,
        entity="AWS Marketplace",
        product_code="prod-x",
        pricing_unit="Units",
        product_name="Claude Sonnet 4.6 (Amazon Bedrock Edition)",
        tags={"user:team": "search"},
    ),
    cur_row("USE1-NovaPro-input-tokens", 0.8, 1000, tags={"user_team": "o'brien"}),
    cur_row("USE1-NovaPro-input-tokens", -0.4, 0, line_item_type="Credit"),
    cur_row("BoxUsage:t3.micro", 9.0, 1, product_code="AmazonEC2"),
]


@pytest.fixture(scope="module")
def duck(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine.open(write_cur(tmp_path_factory.mktemp("athena") / "cur", ROWS), ["team"])
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def athena(duck: DuckDBEngine) -> Iterator[AthenaEngine]:
    with pytest.MonkeyPatch.context() as mp, athena_emulator(duck) as url:
        mp.setenv("AWS_ENDPOINT_URL_S3", url)
        engine = AthenaEngine(
            workgroup="primary",
            database="bedrock_cost",
            region="us-east-1",
            deadline_seconds=30,
            poll_seconds=0.05,
            connection_kwargs={"endpoint_url": url},
        )
        yield engine
        engine.close()


@pytest.mark.parametrize("by", ["model", "provider", "account", "region", "usage-kind", "principal", "day", "tag:team"])
def test_athena_and_duckdb_give_the_same_report(duck, athena, by):
    # Given the same views on both engines, When the same report runs through pyathena
    local = build_cost_report(duck, "2026-10", by)
    remote = build_cost_report(athena, "2026-10", by)
    # Then rows, money (as Decimal) and adjustments are identical
    assert remote.rows == local.rows
    assert remote.adjustments == local.adjustments == {"Credit": Decimal("-0.4")}
    assert all(isinstance(r.cost_usd, Decimal) for r in remote.rows)
    assert remote.engine == "athena"


def test_string_parameters_are_quoted_literals(duck, athena):
    # A tag value with a quote travels as a parameter, not as SQL text
    report = build_cost_report(athena, "2026-10", "tag:team")
    assert "o'brien" in {r.group for r in report.rows}
    assert athena_literal("o'brien") == "'o''brien'"


def test_a_failed_query_carries_athenas_reason(athena):
    with pytest.raises(QueryError, match="no_such_view"):
        athena.query(RenderedQuery("reports/bad", "SELECT * FROM bedrock_cost.no_such_view", ()))


def _stubbed_athena() -> tuple[object, Stubber]:
    client = boto3.client("athena", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    return client, Stubber(client)


def _execution(query_id: str, state: str, reason: str | None = None) -> dict[str, Any]:
    """A ``GetQueryExecution`` answer in ``state``."""
    status: dict[str, str] = {"State": state} | ({"StateChangeReason": reason} if reason else {})
    return {"QueryExecution": {"QueryExecutionId": query_id, "Status": status}}


def _run(client: Any, sql: str = "SELECT 1", **overrides: Any) -> str:
    """``run_statement`` in workgroup wg, database db, 60 s deadline and no real sleeping, unless overridden."""
    options: dict[str, Any] = {"workgroup": "wg", "database": "db", "deadline_seconds": 60, "sleep": lambda _: None}
    return run_statement(client, sql, **(options | overrides))


def test_run_statement_polls_until_succeeded():
    client, stub = _stubbed_athena()
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"})
    stub.add_response("get_query_execution", _execution("q-1", "RUNNING"))
    stub.add_response("get_query_execution", _execution("q-1", "SUCCEEDED"))
    sleeps: list[float] = []
    with stub:
        assert _run(client, "CREATE VIEW x AS SELECT 1", poll_seconds=0.5, sleep=sleeps.append) == "q-1"
    assert sleeps == [0.5]
    stub.assert_no_pending_responses()


def test_run_statement_raises_athenas_reason_on_failure():
    client, stub = _stubbed_athena()
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-2"})
    stub.add_response("get_query_execution", _execution("q-2", "FAILED", "line 3:7: Column 'nope' cannot be resolved"))
    with stub, pytest.raises(QueryError, match="Column 'nope' cannot be resolved"):
        _run(client, "SELECT nope")


def test_run_statement_stops_the_query_at_its_deadline():
    client, stub = _stubbed_athena()
    now = [0.0]
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-3"})
    for _ in range(3):
        stub.add_response("get_query_execution", _execution("q-3", "RUNNING"))
    stub.add_response("stop_query_execution", {}, {"QueryExecutionId": "q-3"})

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with stub, pytest.raises(QueryTimeout, match="deadline"):
        _run(client, deadline_seconds=6, poll_seconds=2, sleep=sleep, clock=lambda: now[0])
    stub.assert_no_pending_responses()


def test_run_statement_retries_a_throttled_poll():
    client, stub = _stubbed_athena()
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-4"})
    stub.add_client_error("get_query_execution", "ThrottlingException", "Rate exceeded")
    stub.add_response("get_query_execution", _execution("q-4", "SUCCEEDED"))
    with stub:
        assert _run(client) == "q-4"


def test_periods_come_from_hive_folders(duck):
    assert duck.periods() == ["2026-10"]


def test_single_parquet_file_derives_the_period(tmp_path: Path):
    root = write_cur(tmp_path / "cur", [cur_row("USE1-NovaPro-input-tokens", 1.0, 1, period="2026-08")])
    file = next(root.rglob("*.parquet"))
    single = tmp_path / "single.parquet"
    single.write_bytes(file.read_bytes())
    engine = DuckDBEngine.open(single, ["team"])
    assert engine.periods() == ["2026-08"]
    assert build_cost_report(engine, "2026-08", "model").total_usd == Decimal("1")
