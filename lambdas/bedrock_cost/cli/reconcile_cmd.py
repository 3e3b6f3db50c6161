"""``bedrock-cost reconcile``: the estimate against the bill, like for like (DESIGN §4.2)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bedrock_cost.cli.local_inputs import DEFAULT_TAG_KEYS, choose_period, open_cur, read_estimate_records
from bedrock_cost.cli.options import add_command, add_request_logs, add_rows_output
from bedrock_cost.cli.rows_output import emit, render
from bedrock_cost.errors import UserError


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "reconcile",
        run,
        help="estimate against billed token usage per day, model, account and region",
        description="Compare the estimator's records (a local copy of its S3 estimates/ prefix) with "
        "billed token usage in CUR on the days both cover: same accounts, regions, token kinds and "
        "tiers. Each row appears uncalibrated (list prices) and calibrated (effective CUR prices of "
        "the days before). Billed usage no estimate can see is listed apart as 'not estimated'. "
        "With --logs, the request-log clock (invocation logs priced as `bedrock-cost requests` prices them) "
        "gets its own rows, clock=request-logs, calibrated with the period's CUR effective prices.",
    )
    parser.add_argument("--cur", type=Path, required=True, help="CUR 2.0 export folder or a Parquet file")
    parser.add_argument("--estimates", type=Path, help="folder of estimate records (*.jsonl), the metrics clock")
    add_request_logs(parser, "folder of *.json.gz invocation logs: the request-log clock, rows clock=request-logs")
    parser.add_argument("--period", help="billing period YYYY-MM (default: newest in the CUR)")
    parser.add_argument("--account", help="account of the collector when its records carry none")
    parser.add_argument("--config", type=Path, help="config YAML (price overrides and discount)")
    add_rows_output(parser)


def _request_log_spend(args: argparse.Namespace, period: str, list_prices: Any, cur_prices: Any) -> list[Any]:
    """The request-log clock's spend per day, model, account and region, list and CUR-calibrated."""
    from dataclasses import replace

    from bedrock_cost.billing.request_spend import request_log_spend
    from bedrock_cost.cli.requests_cmd import load_profiles

    calibrated = replace(list_prices, cur=cur_prices) if cur_prices is not None else list_prices
    return request_log_spend(
        args.logs, period, load_profiles(args.profiles), list_prices=list_prices, calibrated_prices=calibrated
    )


def run(args: argparse.Namespace) -> int:
    from bedrock_cost.adapters.price_list import assemble_catalog, calibration_from_engine
    from bedrock_cost.billing.reconciliation import (
        RECONCILE_COLUMNS,
        billed_token_lines,
        contract_rows,
        infer_account,
        reconcile_period,
        summary_lines,
    )
    from bedrock_cost.config import Pricing
    from bedrock_cost.config_loader import load_config_file

    if args.estimates is None and args.logs is None:
        raise UserError("--estimates or --logs: name at least one clock to reconcile with the bill")
    if args.profiles is not None and args.logs is None:
        raise UserError("--profiles: only used with --logs")
    config = load_config_file(args.config) if args.config else None
    records = read_estimate_records(args.estimates) if args.estimates else []
    tag_keys = list(config.report_tag_keys) if config else list(DEFAULT_TAG_KEYS)
    engine = open_cur(args.cur, tag_keys)
    try:
        period = choose_period(engine, args.period, args.cur)
        billed = billed_token_lines(engine, period)
        account = args.account or next((str(r["account_id"]) for r in records if r.get("account_id")), None)
        account = account or infer_account(records, billed)
        if account is None and records:
            raise UserError("--account: the estimate records carry no account id and the CUR has several; name it")
        list_prices = assemble_catalog(config.pricing if config else Pricing())
        cur_prices = calibration_from_engine(engine, period)
        other = _request_log_spend(args, period, list_prices, cur_prices) if args.logs else []
        result = reconcile_period(
            engine,
            period,
            records,
            account_id=account or "",
            list_prices=list_prices,
            cur_prices=cur_prices,
            other_estimates=other,
            billed=billed,
        )
    finally:
        engine.close()
    columns = (*RECONCILE_COLUMNS, "clock")
    clocks = " and ".join(c for c, on in (("metrics", records), ("request-logs", args.logs)) if on)
    title = f"Reconciliation, period {period} (clocks: {clocks} vs billed; calibrated = CUR effective prices)"
    emit(render(contract_rows(result), columns, args.format, title, summary_lines(result)), args.out)
    return 0
