"""``bedrock-cost estimate``: the near-real-time estimate of a live account, read-only.

Runs the estimator's own code (CloudWatch ``AWS/Bedrock`` metrics × the price catalog,
inference profiles resolved through Bedrock) against one region with the standard AWS
credential chain. It needs only ``cloudwatch:ListMetrics``, ``cloudwatch:GetMetricData``
and ``bedrock:ListInferenceProfiles``/``GetInferenceProfile``/``ListTagsForResource``:
no DynamoDB, no S3, nothing written.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, NoCredentialsError

from bedrock_cost.adapters.bedrock_profiles import BedrockProfileDirectory
from bedrock_cost.adapters.cloudwatch_metrics import Backoff, CloudWatchBedrockMetrics
from bedrock_cost.cli.options import add_command
from bedrock_cost.cli.pricing_cmd import build_catalog, format_table, optional_config
from bedrock_cost.config import Config
from bedrock_cost.domain.estimate import CLOUDWATCH_RETENTION, Estimate, Totals, floor_minute
from bedrock_cost.domain.estimator_run import estimate_range
from bedrock_cost.domain.model_catalog import load_model_catalog
from bedrock_cost.domain.pricing import decimal_text
from bedrock_cost.errors import BedrockCostError, UserError

_RELATIVE = re.compile(r"^-(\d+)([mhd])$")
_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
DEFAULT_SINCE = "-1h"
DISPLAY_QUANTUM = Decimal("0.000001")
RETRY_SECONDS = 120.0


def parse_moment(text: str, now: datetime, flag: str) -> datetime:
    """``-90m``, ``-3h``, ``-2d``, ``now`` or ISO 8601 (UTC when no offset), floored to the minute."""
    value = text.strip()
    if value == "now":
        return floor_minute(now)
    relative = _RELATIVE.match(value)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)
        delta = {"m": timedelta(minutes=amount), "h": timedelta(hours=amount), "d": timedelta(days=amount)}[unit]
        return floor_minute(now - delta)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UserError(
            f"{flag}: {text!r} is not a time; use ISO 8601 (2026-11-24T10:00Z), 'now' or a relative -90m / -3h / -2d"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return floor_minute(moment)


def window(args: argparse.Namespace, now: datetime, settle_minutes: int) -> tuple[datetime, datetime]:
    since = parse_moment(args.since, now, "--since")
    until = (
        parse_moment(args.until, now, "--until")
        if args.until
        else floor_minute(now) - timedelta(minutes=settle_minutes)
    )
    if until <= since:
        raise UserError(f"--since {since:%Y-%m-%dT%H:%MZ} must be before --until {until:%Y-%m-%dT%H:%MZ}")
    if since < floor_minute(now) - CLOUDWATCH_RETENTION:
        raise UserError("--since: CloudWatch keeps 1-minute Bedrock metrics for 15 days; choose a later start")
    return since, until


def _clients(region: str) -> tuple[Any, Any]:
    try:
        session = boto3.session.Session(region_name=region)
        config = BotoConfig(retries={"mode": "standard", "max_attempts": 3})
        return session.client("cloudwatch", config=config), session.client("bedrock", config=config)
    except BotoCoreError as exc:
        raise UserError(f"--region {region}: cannot create AWS clients: {exc}") from None


def run_estimate(args: argparse.Namespace, config: Config | None, now: datetime) -> Estimate:
    settle = config.estimator.settle_minutes if config else 3
    since, until = window(args, now, settle)
    catalog = build_catalog(args, config)
    cloudwatch, bedrock = _clients(args.region)
    backoff = Backoff.for_seconds(RETRY_SECONDS)
    tag_keys = list(config.report_tag_keys) if config else ["team", "project", "environment"]
    try:
        return estimate_range(
            CloudWatchBedrockMetrics(cloudwatch, lambda: backoff),
            directory=BedrockProfileDirectory(bedrock, ttl_seconds=3600, backoff=lambda: backoff),
            catalog=catalog,
            model_catalog=load_model_catalog(),
            start=since,
            end=until,
            tag_keys=tag_keys,
        )
    except NoCredentialsError:
        raise UserError(
            "no AWS credentials found: configure the standard chain (AWS_PROFILE, environment, SSO, instance role)"
        ) from None
    except BotoCoreError as exc:
        # An outage, not bad input: exit 1 naming the endpoint (cli/exit_codes.py).
        raise BedrockCostError(f"cannot reach AWS in {args.region}: {exc}") from None


def _cost(totals: Totals) -> str:
    """Six decimals for reading (the JSON output keeps every digit)."""
    cost = totals.cost_or_none
    return "unpriced" if cost is None else decimal_text(cost.quantize(DISPLAY_QUANTUM))


def _rows(items: dict[str, Totals]) -> list[list[str]]:
    ranked = sorted(items.items(), key=lambda kv: (-kv[1].cost_usd, kv[0]))
    return [
        [
            name,
            _cost(t),
            str(t.counts.input),
            str(t.counts.output),
            str(t.counts.cache_read),
            str(t.counts.cache_write),
            str(t.unpriced_tokens) if t.unpriced_tokens else "",
        ]
        for name, t in ranked
    ]


def render_table(estimate: Estimate, region: str) -> str:
    header = ["cost_usd", "input", "output", "cache_read", "cache_write", "unpriced_tokens"]
    out = [
        f"Estimated Bedrock cost in {region}, {estimate.start:%Y-%m-%d %H:%M} to {estimate.end:%Y-%m-%d %H:%M} UTC "
        f"(clock: estimate; catalog {estimate.catalog_version}{'; CUR-calibrated' if estimate.calibrated else ''})\n",
        f"Total: {_cost(estimate.total)} USD\n\n",
        "By model\n",
        format_table(_rows(estimate.by_model), ["model", *header]),
    ]
    for key, values in sorted(estimate.by_tag.items()):
        out += [f"\nBy tag {key}\n", format_table(_rows(values), [key, *header])]
    if estimate.unpriced_by_model:
        models = ", ".join(f"{m} ({n} tokens)" for m, n in estimate.unpriced_by_model.items())
        out.append(f"\nWARNING: unpriced tokens, no price in any source: {models}. Add pricing.overrides.\n")
    return "".join(out)


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "estimate",
        run,
        help="near-real-time cost estimate of a live account from CloudWatch metrics (read-only)",
        description="Estimate Bedrock cost per model and per tag from AWS/Bedrock CloudWatch metrics and "
        "the price catalog, with the standard AWS credential chain. Writes nothing to AWS.",
    )
    parser.add_argument("--region", required=True, help="AWS region to read (e.g. us-east-1)")
    parser.add_argument("--since", default=DEFAULT_SINCE, help="start: ISO 8601, 'now' or -90m/-3h/-2d (default -1h)")
    parser.add_argument("--until", help="end (exclusive): same forms (default: now minus the settle delay)")
    parser.add_argument("--format", choices=["table", "json"], default="table")
    parser.add_argument("--config", type=Path, help="config YAML: tag keys, pricing overrides, discount")
    parser.add_argument("--cur", type=Path, help="CUR 2.0 export to calibrate prices from (effective unit prices)")
    parser.add_argument("--period", help="billing period of --cur (default: newest)")
    # Let "--since -3h" through as a value: argparse takes any "-x" that is not a plain
    # negative number for an option. (`--since=-3h` works either way.)
    parser._negative_number_matcher = re.compile(r"^-\d+[mhd]?$|^-\d*\.\d+$")


def run(args: argparse.Namespace) -> int:
    if not _REGION.match(args.region):
        raise UserError(f"--region: {args.region!r} is not an AWS region name like 'us-east-1'")
    config = optional_config(args.config)
    estimate = run_estimate(args, config, datetime.now(UTC))
    if args.format == "json":
        sys.stdout.write(json.dumps({"region": args.region, **estimate.to_dict()}, indent=2) + "\n")
    else:
        from bedrock_cost.cli.safe_output import terminal_safe

        sys.stdout.write(terminal_safe(render_table(estimate, args.region)))
    return 0
