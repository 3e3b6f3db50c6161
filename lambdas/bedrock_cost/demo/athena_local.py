"""A local Athena: moto's Athena answered by DuckDB, for the demo and the tests.

moto's Athena accepts queries but never runs them. This shim routes each
``StartQueryExecution`` to a ``DuckDBEngine`` (through the same Athena->DuckDB
transpile step the local engine uses) and stores the rows as Athena's
``GetQueryResults`` would return them, so the real pyathena client code path (HTTP,
paging, type conversion, ExecutionParameters) runs the real SQL. Failures become a
FAILED execution carrying DuckDB's message as ``StateChangeReason``.

It patches moto internals: moto is pinned in pyproject.toml for that reason. Only the
demo and the tests use it; deployed code talks to the real Athena.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from unittest import mock

from moto.athena.models import AthenaBackend, QueryResults
from moto.athena.responses import AthenaResponse

from bedrock_cost.adapters.duckdb_engine import DuckDBEngine
from bedrock_cost.errors import QueryError

_ATHENA_TYPES: tuple[tuple[type, str], ...] = (
    # First match wins: bool before int, datetime before date (subclasses first).
    (bool, "boolean"),
    (int, "bigint"),
    (Decimal, "decimal"),
    (float, "double"),
    (datetime, "timestamp"),
    (date, "date"),
)


def _athena_type(value: Any) -> str:
    return next((name for kind, name in _ATHENA_TYPES if isinstance(value, kind)), "varchar")


def _text(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"VarCharValue": "true" if value else "false"}
    if isinstance(value, datetime):
        return {"VarCharValue": value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]}
    if isinstance(value, Decimal):
        return {"VarCharValue": f"{value:f}"}
    return {"VarCharValue": str(value)}


def parse_literal(literal: str) -> Any:
    """Athena ExecutionParameters are SQL literals: 'text' (quotes doubled) or numbers."""
    if literal.startswith("'") and literal.endswith("'"):
        return literal[1:-1].replace("''", "'")
    return Decimal(literal) if "." in literal else int(literal)


@contextmanager
def athena_answered_by(engine: DuckDBEngine) -> Iterator[None]:
    """Within the block, moto's Athena (in this process, also behind its server) runs every
    query on ``engine``."""
    original_start = AthenaBackend.start_query_execution
    original_get = AthenaResponse.get_query_execution
    reasons: dict[str, str] = {}
    executed: list[str] = []

    def start_query_execution(  # noqa: PLR0917 - moto's own signature
        self: AthenaBackend,
        query: str,
        context: Any,
        config: Any,
        workgroup: str,
        execution_parameters: list[str] | None,
    ) -> str:
        exec_id: str = original_start(self, query, context, config, workgroup, execution_parameters)
        executed.append(query)
        params = [parse_literal(p) for p in execution_parameters or []]
        try:
            columns, rows = engine.execute_sql(query, params)
        except QueryError as exc:
            self.executions[exec_id].status = "FAILED"
            reasons[exec_id] = str(exc).splitlines()[0]
            return exec_id
        types = [next((_athena_type(r[i]) for r in rows if r[i] is not None), "varchar") for i in range(len(columns))]
        column_info = [
            {
                "CatalogName": "hive",
                "SchemaName": "",
                "TableName": "",
                "Name": c,
                "Label": c,
                "Type": t,
                "Precision": 38 if t == "decimal" else 0,
                "Scale": 10 if t == "decimal" else 0,
                "Nullable": "UNKNOWN",
                "CaseSensitive": t == "varchar",
            }
            for c, t in zip(columns, types, strict=True)
        ]
        header = {"Data": [{"VarCharValue": c} for c in columns]}
        data = [{"Data": [_text(v) for v in row]} for row in rows]
        self.query_results[exec_id] = QueryResults(rows=[header, *data], column_info=column_info)  # type: ignore[arg-type]
        return exec_id

    def get_query_execution(self: AthenaResponse) -> str:
        body = json.loads(original_get(self))
        exec_id = body["QueryExecution"]["QueryExecutionId"]
        if exec_id in reasons:
            body["QueryExecution"]["Status"]["State"] = "FAILED"
            body["QueryExecution"]["Status"]["StateChangeReason"] = reasons[exec_id]
        return json.dumps(body)

    with (
        mock.patch.object(AthenaBackend, "start_query_execution", start_query_execution),
        mock.patch.object(AthenaResponse, "get_query_execution", get_query_execution),
    ):
        yield
