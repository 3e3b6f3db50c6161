"""Local inputs shared by ``reconcile``, ``forecast`` and ``recommend``: a CUR export opened
on DuckDB with its period checked, and a folder of the estimator's S3 hour records.

Every mistake is a ``UserError`` naming the flag and the file (exit 2, one line)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from bedrock_cost.errors import UserError

DEFAULT_TAG_KEYS = ("team", "project", "environment")


def open_cur(cur: Path, tag_keys: list[str]) -> Any:
    if not cur.exists():
        raise UserError(f"--cur: {cur} does not exist (expected a CUR 2.0 export folder or a Parquet file)")
    from bedrock_cost.adapters.duckdb_engine import DuckDBEngine

    return DuckDBEngine.open(cur, tag_keys)


def choose_period(engine: Any, period: str | None, cur: Path) -> str:
    from bedrock_cost.billing.reporting import parse_period

    present = [str(p) for p in engine.periods()]
    if not present:
        raise UserError(f"--cur: no billing period found in {cur}")
    if period is None:
        return present[-1]
    parse_period(period)
    if period not in present:
        raise UserError(f"--period: no data for {period} in {cur} (periods present: {', '.join(present)})")
    return period


REQUIRED_RECORD_FIELDS = ("usage_date", "model", "region", "usage_kind", "tokens")


def read_estimate_records(folder: Path) -> list[dict[str, Any]]:
    """Every record of every ``*.jsonl`` under ``folder`` (a local copy of ``s3://…/estimates/``)."""
    if not folder.is_dir():
        raise UserError(f"--estimates: {folder} is not a folder (expected a copy of the estimator's estimates/ prefix)")
    files = sorted(folder.rglob("*.jsonl"))
    if not files:
        raise UserError(f"--estimates: no *.jsonl estimate records under {folder}")
    records: list[dict[str, Any]] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"--estimates: cannot read {path}: {exc}") from None
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line, parse_float=Decimal)
            except json.JSONDecodeError as exc:
                raise UserError(f"--estimates: {path}:{number} is not JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise UserError(f"--estimates: {path}:{number} is not a JSON object")
            missing = [f for f in REQUIRED_RECORD_FIELDS if f not in record]
            if missing:
                raise UserError(f"--estimates: {path}:{number} lacks field {missing[0]!r} (not an estimate record)")
            records.append(record)
    return records
