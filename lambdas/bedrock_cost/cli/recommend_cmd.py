"""``bedrock-cost recommend``: savings advice with dollars from the bill (DESIGN §4.2)."""

from __future__ import annotations

import argparse
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from bedrock_cost.cli.local_inputs import DEFAULT_TAG_KEYS, choose_period, open_cur
from bedrock_cost.cli.options import add_command, add_request_logs, add_rows_output
from bedrock_cost.cli.rows_output import emit, render
from bedrock_cost.errors import UserError


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "recommend",
        run,
        help="savings recommendations with monthly dollars, from effective prices in CUR",
        description="Prompt caching (per caller with --logs), model right-sizing, batch for workload roles, "
        "global routing, "
        "provisioned-throughput utilisation and unread one-hour cache writes, each with its monthly "
        "saving (never above the spend it comes from) and one line of evidence.",
    )
    parser.add_argument("--cur", type=Path, required=True, help="CUR 2.0 export folder or a Parquet file")
    add_request_logs(parser, "folder of *.json.gz invocation logs: prompt caching advised per caller")
    parser.add_argument(
        "--provisioned-usage",
        type=Path,
        help="JSON {model: {usage kind: tokens}} served by provisioned throughput in the period (metrics clock)",
    )
    parser.add_argument("--period", help="billing period YYYY-MM (default: newest in the CUR)")
    parser.add_argument("--config", type=Path, help="config YAML (price overrides and discount)")
    add_rows_output(parser)


def load_tokens_served(path: Path) -> dict[str, dict[str, int]]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"--provisioned-usage: cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"--provisioned-usage: {path} is not JSON ({exc.msg})") from None
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise UserError(f"--provisioned-usage: {path}: expected {{model: {{usage kind: tokens}}}}")
    try:
        return {str(m): {str(k): int(t) for k, t in kinds.items()} for m, kinds in raw.items()}
    except (TypeError, ValueError):
        raise UserError(f"--provisioned-usage: {path}: token counts must be integers") from None


def run(args: argparse.Namespace) -> int:
    from bedrock_cost.adapters.price_list import assemble_catalog
    from bedrock_cost.billing.advice import RECOMMEND_COLUMNS, contract_rows, recommendations
    from bedrock_cost.config import Pricing
    from bedrock_cost.config_loader import load_config_file
    from bedrock_cost.money import decimal_usd

    if args.profiles is not None and args.logs is None:
        raise UserError("--profiles: only used with --logs")
    served = load_tokens_served(args.provisioned_usage) if args.provisioned_usage else None
    config = load_config_file(args.config) if args.config else None
    engine = open_cur(args.cur, list(config.report_tag_keys) if config else list(DEFAULT_TAG_KEYS))
    try:
        period = choose_period(engine, args.period, args.cur)
        catalog = assemble_catalog(config.pricing if config else Pricing())
        callers = None
        if args.logs is not None:
            from bedrock_cost.adapters.price_list import calibration_from_engine
            from bedrock_cost.billing.request_spend import caller_prompts
            from bedrock_cost.cli.requests_cmd import load_profiles

            cur_prices = calibration_from_engine(engine, period)
            priced = assemble_catalog(
                config.pricing if config else Pricing(), calibration=(lambda: cur_prices) if cur_prices else None
            )
            callers = caller_prompts(args.logs, period, load_profiles(args.profiles), priced)
        items, spend = recommendations(engine, period, catalog, served, callers)
    finally:
        engine.close()
    total = sum((r.saving_usd_month for r in items), Decimal(0))
    cent = Decimal("0.01")
    notes = [
        f"{len(items)} recommendation(s), ${decimal_usd(total, cent)} a month together, "
        f"against ${decimal_usd(spend, cent)} of monthly Bedrock usage (clock: billed, effective prices)",
    ]
    if callers is not None:
        notes.append(
            f"--logs: prompt caching judged per caller from {callers[1]} day(s) of invocation logs "
            "(request-log clock, CUR-calibrated prices) for the models they show; other rows from CUR"
        )
    if served is None:
        notes.append("provisioned utilisation needs --provisioned-usage (tokens served, from the metrics clock)")
    title = f"Recommendations, period {period}"
    emit(render(contract_rows(items), RECOMMEND_COLUMNS, args.format, title, notes), args.out)
    return 0
