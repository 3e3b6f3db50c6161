"""``bedrock-cost requests`` and ``generate-logs``: the per-request ledger from invocation logs.

``requests`` runs ``queries/requests/usage_groups.sql`` (DuckDB over local ``*.json.gz``, or
Athena over the deployed Glue table and usage view), prices each group with the one price
catalog and folds it into the ``--by`` key. ``generate-logs`` writes realistic S3-delivered
logs plus the ``profiles.json`` that resolves their application inference profiles.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from bedrock_cost.cli.options import add_command
from bedrock_cost.domain.pricing import decimal_text
from bedrock_cost.domain.request_report import (
    COLUMNS,
    BadGrouping,
    ModelResolver,
    RequestReport,
    RequestRow,
    UsageGroup,
    build_report,
    parse_grouping,
    profiles_directory,
)
from bedrock_cost.errors import UserError

SQL_GROUPS = "requests/usage_groups"
DIMENSIONS = {
    "hour": "hour",
    "region": "region",
    "account": "account",
}


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "requests",
        run,
        help="Cost per user, principal, model, metadata value or tag from Bedrock invocation logs.",
        description="Price every request in S3-delivered Bedrock model invocation logs and group the cost.",
    )
    parser.add_argument("--logs", type=Path, help="folder of *.json.gz invocation logs (duckdb engine)")
    parser.add_argument(
        "--profiles", type=Path, help="JSON of `aws bedrock list-inference-profiles --type-equals APPLICATION`"
    )
    parser.add_argument("--since", help="ISO 8601 start (inclusive, UTC)")
    parser.add_argument("--until", help="ISO 8601 end (exclusive, UTC)")
    parser.add_argument("--by", default="user", help="user|principal|model|account|region|hour|meta:<key>|tag:<key>")
    parser.add_argument("--format", choices=["table", "csv", "json", "html"], default="table")
    parser.add_argument("--engine", choices=["duckdb", "athena"], default="duckdb")
    parser.add_argument("--config", type=Path, help="config YAML (pricing overrides, discount)")
    athena = parser.add_argument_group("athena engine")
    athena.add_argument("--workgroup")
    athena.add_argument("--database", default="bedrock_cost")
    athena.add_argument("--region")


def parse_moment(text: str, flag: str) -> str:
    """ISO 8601 -> ``YYYY-MM-DDTHH:MM:SS`` UTC (the logs' own text form, compared as text)."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"{flag}: {text!r} is not an ISO 8601 time (e.g. 2026-10-15T00:00Z)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def load_profiles(path: Path | None) -> Any:
    """The ``--profiles`` file as a profile directory (empty without one: profiles stay unresolved)."""
    from bedrock_cost.domain.model_resolution import InMemoryProfileDirectory

    if path is None:
        return InMemoryProfileDirectory()
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return profiles_directory(document)
    except OSError as exc:
        raise UserError(f"--profiles: cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise UserError(f"--profiles: {path}: {str(exc).splitlines()[0]}") from None


def _dimension(kind: str) -> tuple[str, dict[str, str]]:
    if kind in DIMENSIONS:
        return DIMENSIONS[kind], {}
    if kind == "meta":
        return "element_at(request_metadata, :meta_key)", {}
    return "''", {}


def fetch_groups(
    args: argparse.Namespace, grouping_kind: str, meta_key: str, since: str, until: str
) -> list[UsageGroup]:
    dimension, _ = _dimension(grouping_kind)
    values = {"since": since, "until": until}
    if grouping_kind == "meta":
        values["meta_key"] = meta_key
    if args.engine == "athena":
        if not args.workgroup or not args.region:
            raise UserError("--engine athena needs --workgroup and --region (see the stack outputs)")
        from bedrock_cost.adapters.athena import AthenaEngine
        from bedrock_cost.billing.sql import quote_identifier, render

        athena = AthenaEngine(workgroup=args.workgroup, database=args.database, region=args.region)
        try:
            rendered = render(SQL_GROUPS, {"database": quote_identifier(args.database), "dimension": dimension}, values)
            rows = athena.query(rendered)
        finally:
            athena.close()
    else:
        if args.logs is None:
            raise UserError("--logs: required with the duckdb engine (a folder of *.json.gz invocation logs)")
        from bedrock_cost.adapters.invocation_logs_duckdb import InvocationLogEngine

        engine = InvocationLogEngine.open(args.logs)
        try:
            rows = engine.query(SQL_GROUPS, {"dimension": dimension}, values)
        finally:
            engine.close()
    return [UsageGroup.from_row(row) for row in rows]


def compute(args: argparse.Namespace) -> RequestReport:
    try:
        grouping = parse_grouping(args.by)
    except BadGrouping as exc:
        raise UserError(str(exc)) from None
    since = parse_moment(args.since, "--since") if args.since else "0000-01-01T00:00:00"
    until = parse_moment(args.until, "--until") if args.until else "9999-12-31T23:59:59"
    if since >= until:
        raise UserError(f"--since {since} must be before --until {until}")
    directory = load_profiles(args.profiles)
    from bedrock_cost.cli.pricing_cmd import build_catalog, optional_config
    from bedrock_cost.domain.model_catalog import load_model_catalog

    config = optional_config(args.config) if getattr(args, "config", None) else None
    args.cur = None
    catalog = build_catalog(args, config)
    groups = fetch_groups(args, grouping.kind, grouping.key, since, until)
    return build_report(groups, grouping, ModelResolver(directory, load_model_catalog()), catalog)


def _cells(row: RequestRow) -> list[str]:
    return [
        row.key,
        decimal_text(row.cost.quantize(MICRO_QUANTUM)),
        str(row.requests),
        str(row.input_tokens),
        str(row.output_tokens),
        str(row.cache_read_tokens),
        str(row.cache_write_tokens),
        str(row.unpriced_requests),
    ]


MICRO_QUANTUM = __import__("decimal").Decimal("0.000001")


def render_report(report: RequestReport, fmt: str) -> str:
    header = [report.grouping.label, *COLUMNS]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(_cells(r) for r in report.rows)
        return buffer.getvalue()
    if fmt == "json":
        rows = [dict(zip(header, _cells(r), strict=True)) for r in report.rows]
        for row in rows:
            for col in COLUMNS[1:]:
                row[col] = int(row[col])  # type: ignore[assignment]
        return (
            json.dumps(
                {
                    "by": report.grouping.label,
                    "rows": rows,
                    "malformed_records": report.malformed,
                    "error_requests": report.errors,
                    "envelope_body_disagreements": report.disagreements,
                    "unpriced_requests_by_model": report.unpriced_by_model,
                    "not_seen_by_this_clock": list(report.blind_spots),
                },
                indent=2,
            )
            + "\n"
        )
    table = [header, *(_cells(r) for r in report.rows)]
    if fmt == "html":
        head = "".join(f"<th>{escape(c)}</th>" for c in header)
        body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>" for cells in table[1:])
        notes = "".join(f"<li>{escape(n)}</li>" for n in _notes(report))
        return (
            "<!doctype html><html><head><meta charset='utf-8'><title>Bedrock cost per request</title></head>"
            f"<body><h1>Bedrock cost by {escape(report.grouping.label)}</h1><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table><ul>{notes}</ul></body></html>\n"
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        for r in table
    ]
    return "\n".join([*lines, "", *_notes(report)]) + "\n"


def _notes(report: RequestReport) -> list[str]:
    notes = [
        f"malformed records: {report.malformed} (kept, not priced)",
        f"error requests: {report.errors} (counted as requests, no tokens)",
        f"envelope/body count disagreements: {report.disagreements} (body usage used)",
    ]
    if report.unpriced_by_model:
        listed = ", ".join(f"{m} ({n})" for m, n in sorted(report.unpriced_by_model.items()))
        notes.append(f"UNPRICED requests by model: {listed}")
    notes.extend(f"not seen by this clock: {b}" for b in report.blind_spots)
    return notes


def run(args: argparse.Namespace) -> int:
    report = compute(args)
    sys.stdout.write(render_report(report, args.format))
    return 0


__all__ = ["load_profiles", "parse_moment", "register", "render_report", "run"]
