"""The command line both hand-written baselines share (``floor_report.py``, ``pandas_baseline.py``).

``bench_report.py`` runs them with the same arguments as the product's report and compares
the CSVs, so they must read the same period's files the same way.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def baseline_args(argv: list[str] | None, description: str | None) -> argparse.Namespace:
    """``--cur DIR --period YYYY-MM --out FILE.csv``."""
    parser = argparse.ArgumentParser(description=description.splitlines()[0] if description else None)
    parser.add_argument("--cur", required=True, type=Path)
    parser.add_argument("--period", required=True)
    parser.add_argument("--out", required=True, type=Path)
    return parser.parse_args(argv)


def period_files(program: str, cur: Path, period: str) -> list[Path]:
    """Parquet files of one billing period, with or without the export's ``data/`` folder."""
    files = sorted(cur.glob(f"**/BILLING_PERIOD={period}/*.parquet"))
    if not files:
        raise SystemExit(f"{program}: no Parquet files for BILLING_PERIOD={period} under {cur}")
    return files
