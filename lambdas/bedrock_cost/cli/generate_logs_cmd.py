"""``bedrock-cost generate-logs``: realistic S3-delivered Bedrock invocation logs for trying ``requests``."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bedrock_cost.cli.options import add_command
from bedrock_cost.cli.requests_cmd import parse_moment
from bedrock_cost.errors import UserError


def register(subparsers: Any) -> None:
    gen = add_command(
        subparsers,
        "generate-logs",
        run_generate,
        help="Write realistic synthetic S3-delivered Bedrock invocation logs.",
        description=(
            "Write AWSLogs/<acct>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/*.json.gz and profiles.json."
        ),
    )
    gen.add_argument("--out", required=True, type=Path, metavar="DIR")
    gen.add_argument("--start", default="2026-10-15T00:00Z", help="first hour (ISO 8601, default 2026-10-15T00:00Z)")
    gen.add_argument("--hours", type=int, default=24)
    gen.add_argument("--records", type=int, default=20_000)
    gen.add_argument("--seed", type=int, default=7)


def run_generate(args: argparse.Namespace) -> int:
    from bedrock_cost.sample_data.invocation_logs import generate_logs

    start = parse_moment(args.start, "--start")
    if args.records < 1 or args.records > 50_000_000:
        raise UserError(f"--records: {args.records} must be between 1 and 50,000,000")
    if args.hours < 1 or args.hours > 24 * 31:
        raise UserError(f"--hours: {args.hours} must be between 1 and 744")
    moment = datetime.fromisoformat(start).replace(tzinfo=UTC)
    written = generate_logs(args.out, start=moment, hours=args.hours, records=args.records, seed=args.seed)
    sys.stdout.write(
        f"wrote {written.records} records ({written.malformed} malformed) in {len(written.files)} files "
        f"under {args.out}, profiles in {written.profiles}\n"
    )
    return 0
