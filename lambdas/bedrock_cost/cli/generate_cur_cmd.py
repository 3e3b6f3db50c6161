"""``bedrock-cost generate-cur``: write a synthetic CUR 2.0 Data Export to a folder.

Lets anyone try the reports, the demo and the benchmarks without a billing account. The
command validates its flags (bad input exits 2 through ``UserError``), shows a progress
bar on an interactive terminal for big runs, and prints the files it wrote, one per
line, so scripts can pick them up.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bedrock_cost.cli.options import add_command
from bedrock_cost.sample_data.cur_generator import generate_cur

DEFAULT_ROWS = 50_000
DEFAULT_SEED = 42
DEFAULT_MONTHS = 1
PROGRESS_MIN_ROWS = 500_000
"""Below this a run takes about a second: a progress bar would only flicker."""


def register(subparsers: Any) -> None:
    """Add the ``generate-cur`` sub-command to the ``bedrock-cost`` parser."""
    parser = add_command(
        subparsers,
        "generate-cur",
        run,
        help="Write realistic synthetic CUR 2.0 data (Parquet, Data Export layout).",
        description=(
            "Write a synthetic CUR 2.0 Data Export: DIR/data/BILLING_PERIOD=YYYY-MM/*.snappy.parquet. "
            "Holds Claude billed through AWS Marketplace and first-party model usage (input, output, "
            "cache, batch, cross-region, reserved, provisioned), AgentCore, one unknown model, tagged "
            "and untagged rows, credits, refunds, tax and non-Bedrock noise."
        ),
    )
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="Export root to write into.")
    parser.add_argument("--period", required=True, metavar="YYYY-MM", help="Last billing period to generate.")
    parser.add_argument(
        "--rows", type=int, default=DEFAULT_ROWS, metavar="N", help=f"Rows per period (default {DEFAULT_ROWS})."
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, metavar="S", help=f"Random seed (default {DEFAULT_SEED})."
    )
    parser.add_argument(
        "--months",
        type=int,
        default=DEFAULT_MONTHS,
        metavar="M",
        help="Number of billing periods, ending with --period (default 1).",
    )
    parser.add_argument(
        "--accounts",
        type=int,
        default=None,
        metavar="N",
        help="Spread usage over N usage accounts (scale checks; default: the catalog's 4).",
    )
    parser.add_argument(
        "--regions",
        type=int,
        default=None,
        metavar="R",
        help="Spread usage over R regions (scale checks; default: the catalog's 3).",
    )


def run(args: argparse.Namespace) -> int:
    """Generate the export and print the files written.

    Flags are validated by the generator before anything is written, so a bad period
    or row count leaves the disk untouched.
    """
    from bedrock_cost.cli.safe_output import check_output_path

    check_output_path(args.out, directory=True)
    files = generate_cur(
        args.out,
        args.period,
        rows=args.rows,
        seed=args.seed,
        months=args.months,
        accounts=args.accounts,
        regions=args.regions,
        progress=args.rows >= PROGRESS_MIN_ROWS and sys.stderr.isatty(),
    )
    for path in files:
        print(path)
    return 0
