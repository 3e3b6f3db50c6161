"""``bedrock-cost forecast``: month-end projection per budget from CUR (DESIGN §4.2)."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from bedrock_cost.cli.local_inputs import DEFAULT_TAG_KEYS, choose_period, open_cur
from bedrock_cost.cli.rows_output import FORMATS, emit, render
from bedrock_cost.errors import UserError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "forecast",
        help="month-end projection and budget crossing date per budget and tag value",
        description="Project billed spend to the month's end (trailing mean per weekday) for the total "
        "and every value of the report tag keys, against the config's budgets; crosses_on is the day "
        "cumulative spend reaches the budget (past when already over, empty when never).",
    )
    parser.add_argument("--cur", type=Path, required=True, help="CUR 2.0 export folder or a Parquet file")
    parser.add_argument("--config", type=Path, help="config YAML with budgets and report tag keys")
    parser.add_argument(
        "--as-of", dest="as_of", help="YYYY-MM-DD: project as of this day (default: after the newest billed day)"
    )
    parser.add_argument(
        "--period", help="billing period YYYY-MM (default: that of --as-of, else the newest in the CUR)"
    )
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.add_argument("--out", type=Path, help="write to this file instead of standard output")
    parser.set_defaults(func=run)


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"--as-of: expected a day YYYY-MM-DD, got {text!r}") from None


def run(args: argparse.Namespace) -> int:
    from bedrock_cost.billing.forecasting import FORECAST_COLUMNS, contract_rows, forecasts
    from bedrock_cost.config import load_config_file

    as_of = parse_day(args.as_of) if args.as_of else None
    config = load_config_file(args.config) if args.config else None
    tag_keys = list(config.report_tag_keys) if config else list(DEFAULT_TAG_KEYS)
    engine = open_cur(args.cur, tag_keys)
    try:
        period = choose_period(engine, args.period or (f"{as_of:%Y-%m}" if as_of else None), args.cur)
        try:
            items = forecasts(engine, period, tag_keys, config.budgets if config else None, as_of)
        except ValueError as exc:
            raise UserError(f"--as-of: {exc}") from None
    finally:
        engine.close()
    notes = [
        f"clock: billed (CUR); actual = complete days before {items[0].period} as-of; "
        "projected = actual + each remaining day at the trailing mean of the same weekday",
    ]
    if config is None:
        notes.append("no --config: no budgets, so crosses_on is empty")
    title = f"Forecast, period {period}"
    emit(render(contract_rows(items), (*FORECAST_COLUMNS, "status"), args.format, title, notes), args.out)
    return 0
