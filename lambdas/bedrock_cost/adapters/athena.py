"""Athena: run the views' DDL at deploy time and the reports against the deployed views.

Every wait is bounded: a statement that has not finished by its deadline is stopped and
reported as ``QueryTimeout``; a failed one raises ``QueryError`` carrying Athena's own
reason, so a deployment or a report fails with something a person can act on.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from bedrock_cost.adapters.aws_errors import translate_client_error
from bedrock_cost.billing.sql import RenderedQuery, dumps_parameters
from bedrock_cost.errors import QueryError, QueryTimeout, Throttled

if TYPE_CHECKING:
    from mypy_boto3_athena import AthenaClient

_TERMINAL = {"SUCCEEDED", "FAILED", "CANCELLED"}


def run_statement(
    client: AthenaClient,
    sql: str,
    *,
    workgroup: str,
    database: str,
    deadline_seconds: float,
    poll_seconds: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """Run one statement to completion and return its execution id.

    Polls with exponential backoff (``poll_seconds`` doubling up to 5 s). At the deadline
    the query is stopped and ``QueryTimeout`` raised; FAILED or CANCELLED raise
    ``QueryError`` with Athena's ``StateChangeReason``.
    """
    deadline = clock() + deadline_seconds
    try:
        started = client.start_query_execution(
            QueryString=sql,
            WorkGroup=workgroup,
            QueryExecutionContext={"Database": database},
        )
    except ClientError as exc:
        raise translate_client_error(exc, "starting Athena query") from exc
    query_id = started["QueryExecutionId"]
    delay = poll_seconds
    while True:
        try:
            execution = client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        except ClientError as exc:
            error = translate_client_error(exc, f"polling Athena query {query_id}")
            if not isinstance(error, Throttled):
                raise error from exc
            execution = {}
        status = execution.get("Status", {})
        state = status.get("State", "QUEUED")
        if state == "SUCCEEDED":
            return query_id
        if state in _TERMINAL:
            reason = status.get("StateChangeReason", "no reason given")
            raise QueryError(f"Athena query {query_id} {state}: {reason}")
        if clock() + delay > deadline:
            with contextlib.suppress(ClientError):
                client.stop_query_execution(QueryExecutionId=query_id)
            raise QueryTimeout(f"Athena query {query_id} still {state} at its deadline ({deadline_seconds:.0f}s)")
        sleep(delay)
        delay = min(delay * 2, 5.0)


def athena_literal(value: str) -> str:
    """An Athena ``ExecutionParameters`` entry: parameters are SQL literals, so strings are
    single-quoted with quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


class AthenaEngine:
    """A ``QueryEngine`` over the deployed views, through pyathena."""

    name = "athena"

    def __init__(
        self,
        *,
        workgroup: str,
        database: str,
        region: str,
        deadline_seconds: float = 300.0,
        poll_seconds: float = 1.0,
        connection_kwargs: dict[str, Any] | None = None,
    ) -> None:
        from pyathena import connect
        from pyathena.async_cursor import AsyncCursor

        self.database = database
        self._deadline = deadline_seconds
        self._connection = connect(
            work_group=workgroup,
            schema_name=database,
            region_name=region,
            poll_interval=poll_seconds,
            cursor_class=AsyncCursor,
            **(connection_kwargs or {}),
        )

    def query(self, query: RenderedQuery) -> list[dict[str, Any]]:
        from pyathena.error import Error as PyAthenaError

        cursor = self._connection.cursor()
        try:
            query_id, future = cursor.execute(
                query.sql,
                [athena_literal(p) for p in query.parameters] or None,
                paramstyle="qmark",
            )
            try:
                result = future.result(timeout=self._deadline)
            except TimeoutError:
                cursor.cancel(query_id)
                raise QueryTimeout(f"{query.name}: Athena query {query_id} exceeded {self._deadline:.0f}s") from None
            if result.state != "SUCCEEDED":
                raise QueryError(
                    f"{query.name}: Athena query {query_id} {result.state}: {result.state_change_reason} "
                    f"(parameters {dumps_parameters(query.parameters)})"
                )
            columns = [d[0] for d in result.description or []]
            types = [d[1] for d in result.description or []]
            return [_typed_row(columns, types, tuple(row)) for row in result.fetchall()]
        except PyAthenaError as exc:
            raise QueryError(f"{query.name}: {exc}") from exc
        finally:
            cursor.close()

    def close(self) -> None:
        self._connection.close()


def _typed_row(columns: Sequence[str], types: Sequence[str], row: Sequence[Any]) -> dict[str, Any]:
    """pyathena converts most types; make sure decimals stay ``Decimal`` even when a
    result arrives as text (money must never pass through float)."""
    from decimal import Decimal

    out: dict[str, Any] = {}
    for column, type_name, raw in zip(columns, types, row, strict=True):
        is_decimal = raw is not None and str(type_name).lower().startswith("decimal")
        out[column] = Decimal(str(raw)) if is_decimal and not isinstance(raw, Decimal) else raw
    return out
