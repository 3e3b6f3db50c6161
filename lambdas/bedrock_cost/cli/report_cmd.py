"""``bedrock-cost report``: billed Bedrock cost from CUR 2.0, on DuckDB or Athena."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from bedrock_cost.billing.report_format import to_csv, to_json, to_table
from bedrock_cost.billing.reporting import UNTAGGED, build_cost_report, current_period, parse_group_by, parse_period
from bedrock_cost.cli.options import add_command
from bedrock_cost.errors import UserError

DEFAULT_TAG_KEYS = ("team", "project", "environment")


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "report",
        run,
        help="billed cost from a CUR 2.0 export (local DuckDB) or the deployed Athena views",
        description="Bedrock usage cost of one billing period, grouped by a key. Credits, refunds "
        "and tax are reported apart from usage.",
    )
    parser.add_argument("--cur", type=Path, help="CUR 2.0 export folder or a Parquet file (duckdb engine)")
    parser.add_argument("--period", help="billing period YYYY-MM (default: newest in the data; athena: this month)")
    parser.add_argument(
        "--by",
        default="model",
        help="model (default), provider, account, region, usage-kind, principal, user (the person or "
        "workload behind a principal, across accounts), day (sorted by date), or tag:<key>",
    )
    parser.add_argument("--format", choices=["table", "csv", "json", "html"], default="table")
    parser.add_argument("--out", type=Path, help="write to this file instead of standard output")
    parser.add_argument("--engine", choices=["duckdb", "athena"], default="duckdb")
    parser.add_argument("--tag-keys", default=",".join(DEFAULT_TAG_KEYS), help="tag keys the views expose")
    parser.add_argument("--config", type=Path, help="config YAML (budgets for the HTML report, tag keys)")
    athena = parser.add_argument_group("athena engine")
    athena.add_argument("--workgroup", help="Athena workgroup of the deployed stack")
    athena.add_argument("--database", default="bedrock_cost", help="Glue database holding the views")
    athena.add_argument("--table", help="the CUR 2.0 table (default: the config's athena.table, else cur2)")
    athena.add_argument("--region", help="AWS region of the workgroup")


def _open_engine(args: argparse.Namespace, tag_keys: list[str], config: Any = None) -> Any:
    if args.engine == "athena":
        if not args.workgroup or not args.region:
            raise UserError("--engine athena needs --workgroup and --region (see the stack outputs)")
        from bedrock_cost.adapters.athena import AthenaEngine

        _refuse_legacy_cur(args, config)
        return AthenaEngine(workgroup=args.workgroup, database=args.database, region=args.region)
    if args.cur is None:
        raise UserError("--cur: required with the duckdb engine (a CUR 2.0 export folder or Parquet file)")
    from bedrock_cost.adapters.duckdb_engine import DuckDBEngine

    return DuckDBEngine.open(args.cur, tag_keys)


def _refuse_legacy_cur(args: argparse.Namespace, config: Any) -> None:
    """A deployed table over a legacy CUR reports $0: refuse it in one line (two read calls)."""
    import boto3
    from botocore.config import Config as BotoConfig

    from bedrock_cost.adapters.cur_table_location import refuse_legacy_cur
    from bedrock_cost.config import AthenaSettings
    from bedrock_cost.glue_names import GLUE_NAME_PATTERN

    settings = config.athena if config is not None else AthenaSettings()
    table = args.table if args.table is not None else settings.table
    if not re.match(GLUE_NAME_PATTERN, table):
        raise UserError(f"--table: {table!r} is not a Glue table name (lower-case letters, digits, '_')")
    # One attempt each: the check is advisory, an outage must not add retries' worth of waiting.
    boto_config = BotoConfig(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=5, read_timeout=10)
    glue = boto3.client("glue", region_name=args.region, config=boto_config)
    s3 = boto3.client("s3", region_name=args.region, config=boto_config)
    refuse_legacy_cur(glue, s3, database=args.database, table=table)


def _resolve_period(args: argparse.Namespace, engine: Any) -> str:
    if args.period is not None:
        period = parse_period(args.period)
        if args.engine == "duckdb":
            present = engine.periods()
            if period not in present:
                raise UserError(f"--period: no data for {period} in {args.cur} (periods present: {', '.join(present)})")
        return period
    if args.engine == "duckdb":
        present = engine.periods()
        if not present:
            raise UserError(f"--cur: no billing period found in {args.cur}")
        return str(present[-1])
    return current_period()


def _warn_about_tag_key(engine: Any, period: str, report: Any) -> None:
    """A ``tag:<key>`` report that found no value at all: name the key on stderr (exit stays 0)."""
    if not report.group_by.key.startswith("tag:") or any(row.group != UNTAGGED for row in report.rows):
        return
    from bedrock_cost.billing.tag_keys import check_tag_key

    warning = check_tag_key(engine, period, report.group_by.column)
    if warning:
        print(warning, file=sys.stderr)


def forecast_footer(engine: Any, period: str, config: Any) -> str:
    """The table format's forecast footer: total and budgeted tag values, month end and crossing day."""
    from bedrock_cost.billing.forecasting import forecasts
    from bedrock_cost.money import CENT, decimal_usd

    items = forecasts(
        engine, period, list(config.report_tag_keys) if config else [], config.budgets if config else None
    )
    shown = [f for f in items if f.budget_usd is not None] or items[:1]
    lines = ["", f"Forecast to month end ({items[0].method}):"]
    for f in shown:
        budget = f" of ${decimal_usd(f.budget_usd, CENT)}" if f.budget_usd is not None else ""
        crosses = f", crosses on {f.crosses_on}" if f.crosses_on else ""
        lines.append(f"  {f.budget}: ${decimal_usd(f.projected_usd, CENT)} projected{budget} ({f.status}{crosses})")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    parse_group_by(args.by)  # fail on a bad --by before touching any data
    if args.period is not None:
        parse_period(args.period)
    from bedrock_cost.cli.safe_output import check_output_path, terminal_safe, write_text_atomic
    from bedrock_cost.tag_key_option import parse_tag_keys_option

    inputs = [path for path in (args.cur, args.config) if path is not None]
    if args.out is not None:
        check_output_path(args.out, inputs=inputs)  # before any work: never clobber the CUR
    config = None
    tag_keys = parse_tag_keys_option(args.tag_keys, "--tag-keys")
    if args.by.startswith("tag:"):
        parse_tag_keys_option(args.by.removeprefix("tag:"), "--by")
    if args.config is not None:
        from bedrock_cost.config_loader import load_config_file

        config = load_config_file(args.config)
        tag_keys = list(config.report_tag_keys)
    engine = _open_engine(args, tag_keys, config)
    try:
        period = _resolve_period(args, engine)
        if args.format == "html":
            from bedrock_cost.reporting_html import render_html_report
            from bedrock_cost.reporting_html.outlook import cur_sections

            text = render_html_report(engine, period, config, extra_sections=cur_sections(engine, period, config))
        else:
            report = build_cost_report(engine, period, args.by, with_adjustments=args.format == "table")
            _warn_about_tag_key(engine, period, report)
            text = {"table": to_table, "csv": to_csv, "json": to_json}[args.format](report)
            if args.format == "table":
                from bedrock_cost.billing.report_sections import render_sections, sections, unmapped_models

                text += render_sections(sections(engine, period, args.by), unmapped_models(engine, period))
                text += forecast_footer(engine, period, config)
    finally:
        engine.close()
    if args.format == "table":
        text = terminal_safe(text)
    if args.out is not None:
        write_text_atomic(args.out, text, inputs=inputs)
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
