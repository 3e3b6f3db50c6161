"""DuckDB standing in for Athena over a local CUR 2.0 export.

The deployed product reads CUR through a Glue table; locally a DuckDB view over the
Parquet files plays that table, with the same columns and types (columns a file lacks
become typed NULLs, as Athena returns them). The Athena views are then created from
the very same SQL files, transpiled from the Athena dialect by sqlglot
(``duckdb_dialect``, which keeps the translations between commands).
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from bedrock_cost.adapters.duckdb_dialect import athena_to_duckdb
from bedrock_cost.billing.cur_layout import period_folder
from bedrock_cost.billing.cur_schema import CUR_COLUMNS, PARTITION_COLUMN, REQUIRED_COLUMNS
from bedrock_cost.billing.sql import RenderedQuery
from bedrock_cost.billing.views import render_views
from bedrock_cost.errors import QueryError, UserError

_DUCK_TYPES = {
    "string": "VARCHAR",
    "timestamp": "TIMESTAMP",
    "double": "DOUBLE",
    "map<string,string>": "MAP(VARCHAR, VARCHAR)",
}
_COMMENT = re.compile(r"--[^\n]*")
_LEGACY_TAG = re.compile(r"^resource_tags_user_(.+)$", re.IGNORECASE)
_LEGACY_PRODUCT_KEYS = (
    # CUR 1 flat product column -> CUR 2.0 product map key
    ("product_product_name", "product_name"),
    ("product_region", "region"),
    ("product_servicename", "servicename"),
    ("product_model", "model"),
    ("product_provider", "provider"),
    ("product_inference_type", "inference_type"),
    ("product_feature", "feature"),
)
LOCAL_DATABASE = "bedrock_cost"
LOCAL_TABLE = "cur2"
DECIMAL_38_10_LIMIT = 1e28
"""The views cast cost and usage to ``DECIMAL(38,10)``: 28 integer digits at most."""


def _quote_column(name: str) -> str:
    """Quote a column name read from a Parquet schema (any case, any characters)."""
    return '"' + name.replace('"', '""') + '"'


def _view_of(query_name: str) -> str:
    """``views/10_bedrock_line_items`` -> ``bedrock_line_items``."""
    stem = query_name.rsplit("/", 1)[-1]
    return stem.split("_", 1)[1] if stem[:2].isdigit() else stem


def _period_of(path: Path) -> tuple[str, Path] | None:
    """The billing period a file's folders name, with the folder that names it.

    CUR 2.0: ``BILLING_PERIOD=YYYY-MM``; legacy CUR: ``year=YYYY/month=M`` (the rule:
    :func:`bedrock_cost.billing.cur_layout.period_folder`).
    """
    found = period_folder(path.parts)
    return None if found is None else (found.period, Path(*path.parts[: found.depth]))


def find_parquet_files(path: Path) -> list[Path]:
    """The Parquet files of an export folder (hive ``BILLING_PERIOD=`` folders, maybe under
    ``data/``; legacy ``year=/month=``), or the single file given. Raises ``UserError``
    naming the path, and naming both folders when one period sits in two of them (say
    ``data/BILLING_PERIOD=2026-10`` and ``BILLING_PERIOD=2026-10`` after a copy): reading
    both would count every dollar twice."""
    if not path.exists():
        raise UserError(f"--cur: {path} does not exist (expected a CUR 2.0 export folder or a Parquet file)")
    if path.is_file():
        return [path]
    files = sorted(p for p in path.rglob("*.parquet") if p.is_file() and "metadata" not in p.parts)
    if not files:
        raise UserError(f"--cur: no Parquet files under {path} (expected BILLING_PERIOD=YYYY-MM/*.parquet)")
    folders: dict[str, set[Path]] = {}
    for file in files:
        found = _period_of(file)
        if found is not None:
            folders.setdefault(found[0], set()).add(found[1])
    for period, places in sorted(folders.items()):
        if len(places) > 1:
            a, b, *_ = sorted(places)
            raise UserError(
                f"--cur: billing period {period} is in two folders, {a} and {b}: keep one, or every figure counts twice"
            )
    return files


class DuckDBEngine:
    """A ``QueryEngine`` over local CUR Parquet files."""

    name = "duckdb"

    def __init__(self, connection: duckdb.DuckDBPyConnection, files: list[Path], database: str) -> None:
        self._con = connection
        self._files = files
        self.database = database
        self._lock = threading.Lock()
        self.legacy = False
        """True when the files are a legacy CUR (CUR 1) export, read through a normalising view."""
        self._pending: dict[str, RenderedQuery] = {}

    @classmethod
    def open(
        cls,
        cur_path: Path,
        tag_keys: Sequence[str],
        *,
        memory_limit: str = "1GB",
        threads: int | None = None,
    ) -> DuckDBEngine:
        """Open an in-memory DuckDB with the CUR relation and every view created."""
        files = find_parquet_files(cur_path)
        # No ICU extension offline: TIMESTAMP stays naive UTC, which is what CUR holds.
        con = duckdb.connect(":memory:")
        con.execute(f"SET memory_limit = '{memory_limit}'")
        con.execute("SET preserve_insertion_order = false")
        # No progress bar (it would write to the terminal a report may be printing to), and
        # Parquet footers read once for the schema check, the numeric check and the query.
        con.execute("SET enable_progress_bar = false")
        con.execute("SET enable_object_cache = true")
        if threads is not None:
            con.execute(f"SET threads = {int(threads)}")
        engine = cls(con, files, LOCAL_DATABASE)
        engine._create_cur_relation(cur_path)
        engine._pending = {_view_of(s.name): s for s in render_views(LOCAL_DATABASE, LOCAL_TABLE, tag_keys)}
        return engine

    def _ensure_views(self, sql: str) -> None:
        """Create the views ``sql`` names (and theirs, first) on first use.

        Every view is rendered up front, so a broken one fails at open; creating them only
        when a query names one saves a short command most of the transpiling.
        """
        code = _COMMENT.sub("", sql)
        for name in [n for n in self._pending if re.search(rf"\b{n}\b", code)]:
            statement = self._pending.pop(name, None)
            if statement is None:
                continue
            self._ensure_views(statement.sql)
            try:
                self._con.execute(athena_to_duckdb(statement.sql))
            except duckdb.Error as exc:
                raise QueryError(f"creating {statement.name} on DuckDB: {exc}") from exc

    def _scan_sql(self, hive: bool) -> str:
        file_list = ", ".join("'" + str(f).replace("'", "''") + "'" for f in self._files)
        options = "union_by_name = true"
        if hive:
            options += ", hive_partitioning = true, hive_types_autocast = false"
        return f"read_parquet([{file_list}], {options})"

    def _create_cur_relation(self, cur_path: Path) -> None:
        hive = any(_period_of(f) is not None for f in self._files)
        scan = self._scan_sql(hive)
        try:
            described = self._con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
        except duckdb.Error as exc:
            raise UserError(f"--cur: cannot read Parquet under {cur_path}: {str(exc).splitlines()[0]}") from None
        present = {str(row[0]).lower(): str(row[0]) for row in described}
        missing = sorted(REQUIRED_COLUMNS - set(present))
        if missing:
            raise UserError(f"--cur: {cur_path} is not a CUR 2.0 export: missing column(s) {', '.join(missing)}")
        self.legacy = "product" not in present and "resource_tags" not in present
        legacy = self._legacy_projections(present) if self.legacy else {}
        projections = []
        for column, glue_type in CUR_COLUMNS:
            duck_type = _DUCK_TYPES[glue_type]
            if column in legacy:
                projections.append(f"{legacy[column]} AS {column}")
            elif column in present:
                projections.append(f"CAST({_quote_column(present[column])} AS {duck_type}) AS {column}")
            else:
                projections.append(f"CAST(NULL AS {duck_type}) AS {column}")
        if PARTITION_COLUMN in present:
            period = f"CAST({_quote_column(present[PARTITION_COLUMN])} AS VARCHAR)"
        elif "year" in present and "month" in present:
            year, month = _quote_column(present["year"]), _quote_column(present["month"])
            period = f"CAST({year} AS VARCHAR) || '-' || lpad(CAST({month} AS VARCHAR), 2, '0')"
        else:
            period = "strftime(CAST(bill_billing_period_start_date AS TIMESTAMP), '%Y-%m')"
        projections.append(f"{period} AS {PARTITION_COLUMN}")
        self._con.execute(f"CREATE SCHEMA IF NOT EXISTS {LOCAL_DATABASE}")
        self._con.execute(
            f"CREATE OR REPLACE VIEW {LOCAL_DATABASE}.{LOCAL_TABLE} AS SELECT {', '.join(projections)} FROM {scan}"
        )
        self._check_numbers(cur_path, scan, present)

    def _check_numbers(self, cur_path: Path, scan: str, present: dict[str, str]) -> None:
        """NaN, infinities and values beyond ``DECIMAL(38,10)`` in a numeric CUR column are bad
        input named by file and column, not a cast error deep in a view. One aggregate pass
        over the (few) numeric columns: the largest magnitude of each (DuckDB orders NaN above
        every number, so a NaN is the maximum); bad values are counted, and the offending file
        looked up, only when there are some."""
        columns = [column for column, glue_type in CUR_COLUMNS if glue_type == "double" and column in present]
        if not columns:
            return

        def value(column: str) -> str:
            return f"TRY_CAST({_quote_column(present[column])} AS DOUBLE)"

        def bad(column: str) -> str:
            v = value(column)
            return f"(isnan({v}) OR isinf({v}) OR abs({v}) >= {DECIMAL_38_10_LIMIT})"

        largest = ", ".join(f"max(abs({value(column)}))" for column in columns)
        try:
            found = self._con.execute(f"SELECT {largest} FROM {scan}").fetchone() or ()
        except duckdb.Error as exc:
            raise UserError(f"--cur: cannot read Parquet under {cur_path}: {str(exc).splitlines()[0]}") from None
        for column, magnitude in zip(columns, found, strict=True):
            if magnitude is None or (math.isfinite(magnitude) and magnitude < DECIMAL_38_10_LIMIT):
                continue
            (count,) = self._con.execute(f"SELECT count(*) FILTER (WHERE {bad(column)}) FROM {scan}").fetchone() or (0,)
            where = self._first_file_with(bad(column)) or str(cur_path)
            raise UserError(
                f"--cur: {where}: column {column} holds {count} value(s) that are NaN, infinite or beyond "
                f"DECIMAL(38,10)"
            )

    def _first_file_with(self, condition: str) -> str | None:
        """The first Parquet file holding a row that meets ``condition`` (error path only)."""
        for path in self._files:
            literal = "'" + str(path).replace("'", "''") + "'"
            try:
                (count,) = self._con.execute(
                    f"SELECT count(*) FILTER (WHERE {condition}) FROM read_parquet([{literal}])"
                ).fetchone() or (0,)
            except duckdb.Error:
                continue  # e.g. this file lacks the column
            if count:
                return str(path)
        return None

    @staticmethod
    def _legacy_projections(present: dict[str, str]) -> dict[str, str]:
        """Legacy CUR (CUR 1) to CUR 2.0 names: flat ``resource_tags_user_<key>`` columns
        become the ``resource_tags`` map (``user_<key>``), flat ``product_*`` columns the
        ``product`` map, ``product_region`` the region code. The views then run unchanged."""

        def string(column: str) -> str:
            return f"CAST({_quote_column(present[column])} AS VARCHAR)"

        out: dict[str, str] = {}
        tag_columns = sorted(c for c in present if _LEGACY_TAG.match(c))
        if tag_columns:
            keys = ", ".join("'user_" + _LEGACY_TAG.match(c).group(1).replace("'", "''") + "'" for c in tag_columns)  # type: ignore[union-attr]
            values = ", ".join(string(c) for c in tag_columns)
            out["resource_tags"] = f"MAP([{keys}], [{values}])"
        product = [(column, key) for column, key in _LEGACY_PRODUCT_KEYS if column in present]
        if product:
            keys = ", ".join(f"'{key}'" for _, key in product)
            values = ", ".join(string(column) for column, _ in product)
            out["product"] = f"MAP([{keys}], [{values}])"
        if "product_region_code" not in present and "product_region" in present:
            out["product_region_code"] = string("product_region")
        return out

    def periods(self) -> list[str]:
        """Billing periods present, newest last (from folder names when partitioned)."""
        from_dirs = {found[0] for f in self._files if (found := _period_of(f)) is not None}
        if from_dirs:
            return sorted(from_dirs)
        rows = self._con.execute(
            f"SELECT DISTINCT {PARTITION_COLUMN} FROM {LOCAL_DATABASE}.{LOCAL_TABLE} "
            f"WHERE {PARTITION_COLUMN} IS NOT NULL"
        ).fetchall()
        return sorted(str(r[0]) for r in rows)

    def query(self, query: RenderedQuery) -> list[dict[str, Any]]:
        sql = athena_to_duckdb(query.sql)
        with self._lock:
            self._ensure_views(query.sql)
            try:
                cursor = self._con.execute(sql, list(query.parameters))
                columns = [d[0] for d in cursor.description or []]
                return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
            except duckdb.Error as exc:
                raise QueryError(f"{query.name} on DuckDB: {exc}") from exc

    def execute_sql(self, sql: str, parameters: Sequence[Any] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run an Athena-dialect statement as given (used by the local Athena emulator)."""
        with self._lock:
            self._ensure_views(sql)
            try:
                cursor = self._con.execute(athena_to_duckdb(sql), list(parameters))
                columns = [d[0] for d in cursor.description or []]
                return columns, cursor.fetchall()
            except duckdb.Error as exc:
                raise QueryError(str(exc)) from exc

    def close(self) -> None:
        self._con.close()
