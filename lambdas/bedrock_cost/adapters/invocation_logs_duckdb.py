"""DuckDB standing in for the Glue table over S3-delivered invocation logs.

Deployed, Athena reads ``AWSLogs/<acct>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/
*.json.gz`` through a Glue table (OpenX JSON SerDe, malformed lines as NULL rows). Locally a
DuckDB view over the same files plays that table: ``read_json`` with explicit columns (no
schema sniffing on a million records) and ``ignore_errors`` so a broken line becomes a row
of NULLs, counted as malformed by the usage view, exactly as Athena does. The usage view
and the grouping query are the same files the Athena path runs, transpiled by sqlglot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from bedrock_cost.adapters.duckdb_dialect import athena_to_duckdb
from bedrock_cost.billing.sql import quote_identifier, render
from bedrock_cost.errors import QueryError, UserError

LOCAL_DATABASE = "bedrock_cost"
LOCAL_TABLE = "invocation_logs"
LOG_COLUMNS = {
    "schemaType": "VARCHAR",
    "schemaVersion": "VARCHAR",
    "timestamp": "VARCHAR",
    "accountId": "VARCHAR",
    "identity": "STRUCT(arn VARCHAR)",
    "region": "VARCHAR",
    "requestId": "VARCHAR",
    "operation": "VARCHAR",
    "modelId": "VARCHAR",
    "errorCode": "VARCHAR",
    "input": "STRUCT(inputTokenCount BIGINT, cacheReadInputTokenCount BIGINT, cacheWriteInputTokenCount BIGINT)",
    "output": "STRUCT(outputTokenCount BIGINT, outputBodyJson JSON)",
    "requestMetadata": "MAP(VARCHAR, VARCHAR)",
}


def find_log_files(path: Path) -> list[Path]:
    if not path.exists():
        raise UserError(f"--logs: {path} does not exist (expected an invocation-log folder or a .json.gz file)")
    if path.is_file():
        return [path]
    files = sorted(p for p in path.rglob("*.json.gz") if p.is_file())
    if not files:
        raise UserError(f"--logs: no *.json.gz under {path} (expected AWSLogs/<acct>/BedrockModelInvocationLogs/…)")
    return files


class InvocationLogEngine:
    """Runs the ``queries/requests/`` SQL over local log files."""

    def __init__(self, files: list[Path], *, threads: int | None = None, memory_limit: str = "2GB") -> None:
        self._con = duckdb.connect(":memory:")
        self._con.execute(f"SET memory_limit = '{memory_limit}'")
        self._con.execute("SET preserve_insertion_order = false")
        if threads is not None:
            self._con.execute(f"SET threads = {int(threads)}")
        file_list = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
        columns = ", ".join(f"'{k}': '{v}'" for k, v in LOG_COLUMNS.items())
        self._con.execute(f"CREATE SCHEMA IF NOT EXISTS {LOCAL_DATABASE}")
        self._con.execute(
            f"CREATE VIEW {LOCAL_DATABASE}.{LOCAL_TABLE} AS SELECT * FROM read_json([{file_list}], "
            f"format = 'newline_delimited', ignore_errors = true, compression = 'gzip', columns = {{{columns}}})"
        )
        view = render(
            "requests/00_bedrock_invocation_usage",
            {"database": quote_identifier(LOCAL_DATABASE), "table": quote_identifier(LOCAL_TABLE)},
        )
        self._con.execute(athena_to_duckdb(view.sql))

    @classmethod
    def open(cls, path: Path, **kwargs: Any) -> InvocationLogEngine:
        return cls(find_log_files(path), **kwargs)

    def query(self, name: str, fragments: dict[str, str], values: dict[str, str]) -> list[dict[str, Any]]:
        rendered = render(name, {"database": quote_identifier(LOCAL_DATABASE), **fragments}, values)
        try:
            cursor = self._con.execute(athena_to_duckdb(rendered.sql), list(rendered.parameters))
            names = [d[0] for d in cursor.description or []]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        except duckdb.Error as exc:
            raise QueryError(f"{name} on DuckDB: {str(exc).splitlines()[0]}") from exc

    def close(self) -> None:
        self._con.close()
