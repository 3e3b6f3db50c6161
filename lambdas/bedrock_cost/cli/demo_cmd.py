"""``bedrock-cost demo``: run the whole product locally on generated data (no AWS account)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bedrock_cost.cli.options import add_command
from bedrock_cost.demo.runner import DEFAULT_ROWS, DEFAULT_SEED, DemoOptions, previous_month, run_demo


def register(subparsers: Any) -> None:
    """Add the ``demo`` sub-command to the ``bedrock-cost`` parser."""
    parser = add_command(
        subparsers,
        "demo",
        run,
        help="Run the whole product locally on generated data (moto + DuckDB).",
        description=(
            "Generate two months of CUR 2.0, start a local AWS emulator (moto on 127.0.0.1) and a "
            "Slack stand-in, run the report, estimator, tag enforcer and alert handlers against them, "
            "and write report.html, alerts.jsonl, dashboard.json, slack_messages.jsonl and CSV "
            "reports to DIR. Needs no AWS account and makes no call outside this machine."
        ),
    )
    parser.add_argument(
        "--out", type=Path, default=Path("demo-out"), metavar="DIR", help="Output folder (default demo-out)."
    )
    parser.add_argument(
        "--period",
        default=None,
        metavar="YYYY-MM",
        help="Billing period to report on (default: the previous calendar month).",
    )
    parser.add_argument(
        "--rows", type=int, default=DEFAULT_ROWS, metavar="N", help=f"CUR rows per month (default {DEFAULT_ROWS:,})."
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, metavar="S", help=f"Data seed (default {DEFAULT_SEED})."
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="FILE",
        help="Config YAML (default: config/example.yaml of the repository, else built-in defaults).",
    )


def run(args: argparse.Namespace) -> int:
    period = args.period or previous_month(datetime.now(UTC).date())
    options = DemoOptions(out_dir=args.out, period=period, rows=args.rows, seed=args.seed, config_file=args.config)
    return run_demo(options)
