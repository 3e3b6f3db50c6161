"""Demo step: the CloudWatch dashboard and the HTML report.

Writes ``dashboard.json`` (the body the stack deploys), puts it to CloudWatch in the
emulator, and checks which of the metrics it reads the earlier steps actually published
(a renamed metric on either side shows up here, not weeks later as an empty graph).
Then renders ``report.html`` from the billed CUR through the same views as Athena.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from bedrock_cost.adapters.aws_errors import translate_client_error
from bedrock_cost.adapters.duckdb_engine import DuckDBEngine
from bedrock_cost.dashboards.body import build_dashboard_body, referenced_metric_names
from bedrock_cost.dashboards.widgets import DashboardLinks
from bedrock_cost.demo.context import DemoContext
from bedrock_cost.errors import BedrockCostError
from bedrock_cost.metric_names import NAMESPACE
from bedrock_cost.reporting_html import render_html_report

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

DASHBOARD_NAME = "BedrockCostTracker-demo"
DEMO_WORKGROUP = "bedrock-cost-tracker"


def published_metric_names(cloudwatch: CloudWatchClient, names: set[str]) -> set[str]:
    """Which of ``names`` hold data in our namespace of (emulated) CloudWatch.

    One filtered ``ListMetrics`` page per name is enough to know a metric exists.
    """
    found: set[str] = set()
    for name in sorted(names):
        try:
            page = cloudwatch.list_metrics(Namespace=NAMESPACE, MetricName=name)
        except ClientError as exc:
            raise translate_client_error(exc, f"listing metric {NAMESPACE}/{name}") from exc
        if page.get("Metrics"):
            found.add(name)
    return found


def put_dashboard(cloudwatch: CloudWatchClient, body: dict[str, Any]) -> None:
    try:
        response = cloudwatch.put_dashboard(DashboardName=DASHBOARD_NAME, DashboardBody=json.dumps(body))
    except ClientError as exc:
        raise translate_client_error(exc, f"putting dashboard {DASHBOARD_NAME}") from exc
    problems = response.get("DashboardValidationMessages", [])
    if problems:
        raise BedrockCostError(f"CloudWatch rejected parts of the dashboard: {problems}")


def _outlook_sections(ctx: DemoContext) -> list[str]:
    """The reconciliation, forecast and recommendation sections from the earlier steps' results."""
    from bedrock_cost.reporting_html import outlook

    sections = []
    if "reconciliation" in ctx.results:
        sections.append(outlook.reconciliation_section(ctx.results["reconciliation"]))
    if "forecast" in ctx.results:
        sections.append(outlook.forecast_section(ctx.results["forecast"]))
    if "recommendations" in ctx.results:
        sections.append(outlook.recommendations_section(*ctx.results["recommendations"]))
    return sections


def run(ctx: DemoContext) -> None:
    links = DashboardLinks(
        region=ctx.region,
        athena_workgroup=DEMO_WORKGROUP,
        athena_database=ctx.config.athena.database,
        alert_topic_arn=ctx.alert_topic_arn,
    )
    body = build_dashboard_body(ctx.config, links)
    (ctx.out_dir / "dashboard.json").write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    cloudwatch: CloudWatchClient = boto3.client("cloudwatch", endpoint_url=ctx.endpoint_url, region_name=ctx.region)
    put_dashboard(cloudwatch, body)

    wanted = {name for namespace, name in referenced_metric_names(body) if namespace == NAMESPACE}
    forwarded = ctx.results.get("metrics_published")
    if forwarded is not None:
        # What the handlers' EMF output put into the emulator. Asking the emulator instead
        # would scan every stored data point per call: minutes per call after a day of
        # per-minute estimates.
        published = {name for namespace, name in forwarded if namespace == NAMESPACE}
    else:
        published = published_metric_names(cloudwatch, wanted)
    missing = sorted(wanted - published)
    ctx.results["dashboard"] = {
        "name": DASHBOARD_NAME,
        "widgets": len(body["widgets"]),
        "metrics_read": sorted(wanted),
        "metrics_without_data": missing,
    }
    ctx.summary.append(
        f"Dashboard: {len(body['widgets'])} widgets put to CloudWatch as {DASHBOARD_NAME}; "
        f"{len(wanted) - len(missing)}/{len(wanted)} of its {NAMESPACE} metrics have data in the emulator"
        + (f" (none yet: {', '.join(missing)})" if missing else "")
    )

    engine = ctx.results.get("engine")
    own_engine = engine is None
    if engine is None:
        engine = DuckDBEngine.open(ctx.cur_dir, ctx.config.report_tag_keys)
    try:
        html = render_html_report(engine, ctx.period, ctx.config, extra_sections=_outlook_sections(ctx))
    finally:
        if own_engine:
            engine.close()
    (ctx.out_dir / "report.html").write_text(html, encoding="utf-8")
    ctx.summary.append(f"HTML report: {ctx.out_dir / 'report.html'} ({len(html) // 1024} KB, self-contained)")
