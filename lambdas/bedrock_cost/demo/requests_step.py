"""Demo step: the per-request ledger, from invocation logs to a per-user deny and back.

Generated invocation logs for the demo day (the day before the demo's "now", the estimate's day) are reported with
``bedrock-cost requests`` (cost per developer and per customer, ``requests_by_user.csv``),
then replayed as the CloudWatch Logs subscription would deliver them: base64 gzip
``DATA_MESSAGE`` batches, one ``CONTROL_MESSAGE`` and one batch delivered twice, into the
real ingest handler against the emulator. The day's top spender gets an enforced daily
budget below their spend, so the ledger alerts each threshold once, denies them, and
``bedrock-cost budget unblock`` lifts the deny again.
"""

from __future__ import annotations

import calendar
import contextlib
import gzip
import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3

from bedrock_cost.cli.main import build_parser
from bedrock_cost.cli.main import main as cli_main
from bedrock_cost.cli.requests_cmd import compute, render_report
from bedrock_cost.demo.context import DemoContext, DemoLambdaContext
from bedrock_cost.demo.emulator import patched_environment
from bedrock_cost.domain.identity import identify
from bedrock_cost.domain.log_subscription import encode
from bedrock_cost.domain.request_report import RequestReport
from bedrock_cost.handlers import request_ingest
from bedrock_cost.sample_data.invocation_logs import generate_logs

LOG_BUCKET = "bedrock-cost-demo-invocation-logs"
LOG_GROUP = "/aws/bedrock/modelinvocations"
RECORDS = 600
BATCH = 100
BUDGET_SHARE = Decimal("0.6")
"""The top spender's enforced daily budget: 60 % of what they spend that day."""


_CONTEXT = DemoLambdaContext(
    "bedrock-cost-demo-request-ledger",
    remaining_ms=120_000,
    memory_limit_in_mb=512,
    aws_request_id="demo-request-ledger",
)


def _report(logs: Path, by: str) -> RequestReport:
    argv = ["requests", "--logs", str(logs), "--profiles", str(logs / "profiles.json"), "--by", by]
    return compute(build_parser(argv).parse_args(argv))


def _messages(logs: Path) -> list[str]:
    lines: list[str] = []
    for path in sorted(logs.rglob("*.json.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            lines += [line for line in handle.read().splitlines() if line.strip()]
    return lines


def _principal(message: str) -> str:
    try:
        return str(json.loads(message)["identity"]["arn"])
    except (ValueError, KeyError, TypeError):
        return ""


def _target(principal: str, endpoint_url: str, region: str) -> None:
    """The IAM role or user the deny goes on must exist in the emulator."""
    iam = boto3.client("iam", endpoint_url=endpoint_url, region_name=region)
    resource = principal.split(":", 5)[5]
    parts = resource.split("/")
    trust = json.dumps({"Version": "2012-10-17", "Statement": []})
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        if parts[0] == "assumed-role":
            iam.create_role(RoleName=parts[1], AssumeRolePolicyDocument=trust)
        else:
            iam.create_user(UserName=parts[-1])


def run(ctx: DemoContext) -> None:
    year, month = (int(p) for p in ctx.period.split("-"))
    last_day = datetime(year, month, calendar.monthrange(year, month)[1], tzinfo=UTC)
    # The demo's one "now": the logs cover the day before it, the day the estimate covers too.
    day = (
        (ctx.now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1))
        if ctx.now
        else last_day
    )
    logs = ctx.out_dir / "invocation_logs"
    generate_logs(logs, start=day, hours=24, records=RECORDS, seed=5)

    by_user = _report(logs, "user")
    (ctx.out_dir / "requests_by_user.csv").write_text(render_report(by_user, "csv"), encoding="utf-8")
    by_customer = _report(logs, "meta:customer")
    messages = _messages(logs)

    # Developers are the people behind sessions (SSO or e-mail session names); the budget goes
    # on the top-spending one, whose session an inline deny on the role can name.
    enforceable = {}
    for principal in sorted({_principal(m) for m in messages}):
        who = identify(principal)
        if ":assumed-role/" in principal and who.kind == "person":
            enforceable[who.user] = principal
    developers = sorted((r for r in by_user.rows if r.key in enforceable), key=lambda r: r.cost, reverse=True)
    top = developers[0]
    limit = (top.cost * BUDGET_SHARE).quantize(Decimal("0.01"))
    _target(enforceable[top.key], ctx.endpoint_url, ctx.region)
    s3 = boto3.client("s3", endpoint_url=ctx.endpoint_url, region_name=ctx.region)
    s3.create_bucket(Bucket=LOG_BUCKET)

    batches = [encode(LOG_GROUP, messages[i : i + BATCH], first_id=i) for i in range(0, len(messages), BATCH)]
    control = encode(LOG_GROUP, ["CWL CONTROL MESSAGE: Checking health of destination"], message_type="CONTROL_MESSAGE")
    deliveries = [control, *batches, batches[0]]  # the first batch arrives twice
    table = str(ctx.results["state_table"])
    environment = {
        "LEDGER_TABLE": table,
        "ALERT_TOPIC_ARN": ctx.alert_topic_arn,
        "QUARANTINE_BUCKET": LOG_BUCKET,
        "REQUEST_BUDGETS": json.dumps(
            [{"subject": "user", "value": top.key, "period": "day", "limit_usd": str(limit), "enforce": True}]
        ),
        "POWERTOOLS_SERVICE_NAME": "request-ledger",
    }
    totals: dict[str, int] = {"counted": 0, "duplicates": 0, "malformed": 0, "control": 0}
    blocked: list[str] = []
    request_ingest.load_environment.cache_clear()
    request_ingest.wiring.configure(None)
    try:
        with patched_environment(environment):
            for event in deliveries:
                result: dict[str, Any] = request_ingest.handler(event, _CONTEXT)
                if result["message_type"] == "CONTROL_MESSAGE":
                    totals["control"] += 1
                for key in ("counted", "duplicates", "malformed"):
                    totals[key] += result[key]
                blocked += result["blocked"]
            iam = boto3.client("iam", endpoint_url=ctx.endpoint_url, region_name=ctx.region)
            role = enforceable[top.key].split(":", 5)[5].split("/")[1]
            denied = iam.list_role_policies(RoleName=role)["PolicyNames"]
            with contextlib.redirect_stdout(io.StringIO()):
                code = cli_main(
                    ["budget", "unblock", "--user", top.key, "--table", table, "--topic-arn", ctx.alert_topic_arn]
                )
            lifted = not iam.list_role_policies(RoleName=role)["PolicyNames"]
    finally:
        request_ingest.load_environment.cache_clear()
        request_ingest.wiring.configure(None)

    ctx.results["requests"] = {
        **totals,
        "blocked": blocked,
        "deny_policies": denied,
        "unblock_exit": code,
        "lifted": lifted,
        "budget_user": top.key,
        "budget_usd": str(limit),
    }
    people = ", ".join(f"{r.key} ${r.cost:.2f}" for r in developers[:4])
    customers = ", ".join(f"{r.key} ${r.cost:.2f}" for r in sorted(by_customer.rows, key=lambda r: -r.cost)[:4])
    ctx.summary.append(
        f"Per-request ledger ({day:%Y-%m-%d}, {len(messages):,} invocation-log lines): top developers {people}"
    )
    ctx.summary.append(f"  by customer (request metadata): {customers}")
    ctx.summary.append(
        f"  ingest via subscription payloads: {totals['counted']} counted, {totals['duplicates']} redelivered "
        f"counted once, {totals['malformed']} malformed kept in quarantine, {totals['control']} control message ignored"
    )
    ctx.summary.append(
        f"  budget {top.key} ${limit}/day (enforced): denied ({', '.join(denied) or 'no policy'}), "
        f"then 'bedrock-cost budget unblock' -> {'lifted' if lifted else 'STILL DENIED'}"
    )
