"""``bedrock-cost forecast``: month-end projection per budget from CUR (DESIGN §4.2)."""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bedrock_cost.cli.local_inputs import DEFAULT_TAG_KEYS, choose_period, open_cur
from bedrock_cost.cli.options import add_command, add_request_logs, add_rows_output
from bedrock_cost.cli.rows_output import emit, render
from bedrock_cost.errors import UserError


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "forecast",
        run,
        help="month-end projection and budget crossing date per budget and tag value",
        description="Project billed spend to the month's end (trailing mean per weekday) for the total "
        "and every value of the report tag keys, against the config's budgets; crosses_on is the day "
        "cumulative spend reaches the budget (past when already over, empty when never). With --logs, "
        "each user with a request_logs budget in the config gets a row (budget user=<user>) projected "
        "the same way from that user's daily spend in the invocation logs.",
    )
    parser.add_argument("--cur", type=Path, help="CUR 2.0 export folder or a Parquet file (optional with --logs)")
    add_request_logs(
        parser,
        "folder of *.json.gz invocation logs: one row per user with a request_logs budget",
        "with --logs: the `aws bedrock list-inference-profiles --type-equals APPLICATION` JSON",
    )
    parser.add_argument("--config", type=Path, help="config YAML with budgets and report tag keys")
    parser.add_argument(
        "--as-of", dest="as_of", help="YYYY-MM-DD: project as of this day (default: after the newest billed day)"
    )
    parser.add_argument(
        "--period", help="billing period YYYY-MM (default: that of --as-of, else the newest in the CUR)"
    )
    add_rows_output(parser)


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"--as-of: expected a day YYYY-MM-DD, got {text!r}") from None


def run(args: argparse.Namespace) -> int:
    from bedrock_cost.billing.forecasting import FORECAST_COLUMNS, contract_rows, forecasts
    from bedrock_cost.config_loader import load_config_file

    if args.cur is None and args.logs is None:
        raise UserError("--cur or --logs: name the bill, the invocation logs or both")
    if args.profiles is not None and args.logs is None:
        raise UserError("--profiles: only used with --logs")
    as_of = parse_day(args.as_of) if args.as_of else None
    config = load_config_file(args.config) if args.config else None
    tag_keys = list(config.report_tag_keys) if config else list(DEFAULT_TAG_KEYS)
    items: list[Any] = []
    notes: list[str] = []
    cur_prices = None
    period = args.period or (f"{as_of:%Y-%m}" if as_of else None)
    if args.cur is not None:
        from bedrock_cost.adapters.price_list import calibration_from_engine

        engine = open_cur(args.cur, tag_keys)
        try:
            period = choose_period(engine, period, args.cur)
            if as_of is None and args.logs is not None:
                from bedrock_cost.billing.forecasting import daily_total, default_as_of

                as_of = default_as_of(daily_total(engine, period), period)  # one "now" for both clocks
            try:
                items = forecasts(engine, period, tag_keys, config.budgets if config else None, as_of)
            except ValueError as exc:
                raise UserError(f"--as-of: {exc}") from None
            cur_prices = calibration_from_engine(engine, period) if args.logs else None
        finally:
            engine.close()
        notes.append(
            f"clock: billed (CUR); actual = complete days before {items[0].period} as-of; "
            "projected = actual + each remaining day at the trailing mean of the same weekday"
        )
        if config is None:
            notes.append("no --config: no budgets, so crosses_on is empty")
    if args.logs is not None:
        if period is None:
            raise UserError("--period: needed with --logs when there is no --cur (YYYY-MM)")
        if as_of is not None and f"{as_of:%Y-%m}" != period:
            as_of = as_of - timedelta(days=1)  # the month is complete: as the bill's rows do
        notes += _user_rows(args, period, as_of, config, cur_prices=cur_prices, items=items)
    title = f"Forecast, period {period}"
    emit(render(contract_rows(items), (*FORECAST_COLUMNS, "status"), args.format, title, notes), args.out)
    return 0


def _user_rows(
    args: argparse.Namespace, period: str, as_of: date | None, config: Any, *, cur_prices: Any, items: list[Any]
) -> list[str]:
    """Append one forecast per budgeted user from the logs to ``items``; return the notes."""
    from bedrock_cost.adapters.price_list import assemble_catalog
    from bedrock_cost.billing.request_spend import user_forecasts
    from bedrock_cost.cli.requests_cmd import load_profiles
    from bedrock_cost.config import Pricing

    budgets = list(config.request_logs.budgets) if config else []
    if not any(b.subject == "user" for b in budgets):
        return ["--logs: no request_logs.budgets entry with subject 'user' in the config, so no user rows"]
    catalog = assemble_catalog(
        config.pricing if config else Pricing(), calibration=(lambda: cur_prices) if cur_prices else None
    )
    try:
        users, unpriced = user_forecasts(
            args.logs, period, budgets, as_of, profiles=load_profiles(args.profiles), catalog=catalog
        )
    except ValueError as exc:
        raise UserError(f"--logs: {exc}") from None
    items.extend(users)
    notes = [
        f"clock: request logs for user= rows ({len(users)} user(s) with a user budget; "
        "monthly limit, empty when only daily budgets apply); same method and crossing rule"
    ]
    if unpriced:
        notes.append(f"UNPRICED: {unpriced} request(s) in the logs left out of the user rows")
    return notes
