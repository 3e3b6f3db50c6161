"""What ``own_bill.py`` counts: the demo's EMF output and API calls, and the synthesized template.

Split from the bill itself so each stays readable: this module measures (botocore hook,
demo log parsing, template walk), ``own_bill.py`` prices.
"""

from __future__ import annotations

import datetime
import io
import json
import re
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

MINUTES_PER_MONTH = 43_800
ANOMALY_ALARM_METRICS = Decimal(3)
"""An anomaly-band alarm is billed as 3 metrics."""

STEP_HANDLER = {
    "estimate_step": "estimator",
    "reconcile_step": "cur-reporter",
    "tags_step": "tag-enforcer",
    "alerts_step": "notifier",
    "requests_step": "request-ingest",
}

BILLED_KINDS_KNOWN = {
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::CompositeAlarm",
    "AWS::CloudWatch::Dashboard",
    "AWS::CloudWatch::AnomalyDetector",  # billed through its alarm (3 metrics)
    "AWS::KMS::Key",
    "AWS::Logs::LogGroup",
    "AWS::Logs::SubscriptionFilter",  # no charge of its own; the ingest Lambda is billed
    "AWS::Lambda::Function",
    "AWS::Events::Rule",
    "AWS::DynamoDB::Table",
    "AWS::SQS::Queue",
    "AWS::S3::Bucket",
    "AWS::Athena::WorkGroup",
    "AWS::SNS::Topic",  # SNS: first 1,000 e-mails and 1M publishes a month free
    "AWS::Budgets::Budget",  # free; action-enabled budgets priced below
    "AWS::Budgets::BudgetsAction",
    "AWS::CE::AnomalyMonitor",  # Cost Anomaly Detection is free
    "AWS::CE::AnomalySubscription",
    "AWS::BCMDataExports::Export",  # Data Exports: CUR 2.0 delivery is free (S3 storage aside)
    "AWS::Glue::Database",
    "AWS::Glue::Table",  # first million Data Catalog objects free
    "AWS::CloudFormation::StackSet",
    "AWS::Oam::Sink",  # cross-account observability: no charge for the sink or links
    "AWS::Events::EventBus",  # custom bus: $1 per million events (tag events: a handful)
    "AWS::SecretsManager::Secret",  # $0.40 a month each (priced below)
}
"""Resource kinds of the template that can bill; any other billable kind fails the run."""
FREE_KINDS = ("AWS::IAM::", "AWS::Lambda::Permission", "AWS::Lambda::EventInvokeConfig", "Policy", "Custom::")


# --------------------------------------------------------------------------- emulator counting


@dataclass
class ApiCounts:
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    metrics_requested: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    """Namespace -> GetMetricData metrics requested."""
    transact_items: int = 0
    """Items in every DynamoDB TransactWriteItems call (each bills 2 write units)."""
    model_ids: set[str] = field(default_factory=set)
    """``ModelId`` values the AWS/Bedrock queries asked for."""


@contextmanager
def counted_api_calls() -> Iterator[ApiCounts]:
    """Count every AWS API call of this process (the demo's handlers run in-process)."""
    from botocore.client import BaseClient

    counts = ApiCounts()
    original = BaseClient._make_api_call

    def counting(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        service = self.meta.service_model.service_name
        counts.calls[f"{service}:{operation_name}"] += 1
        if operation_name == "TransactWriteItems":
            counts.transact_items += len(api_params.get("TransactItems", []))
        if operation_name == "GetMetricData":
            for query in api_params.get("MetricDataQueries", []):
                stat = query.get("MetricStat")
                if stat:
                    counts.metrics_requested[stat["Metric"]["Namespace"]] += 1
                    for dim in stat["Metric"].get("Dimensions", []):
                        if dim["Name"] == "ModelId":
                            counts.model_ids.add(dim["Value"])
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = counting  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


@dataclass
class DemoMeasurement:
    series: dict[str, list[list[Any]]]
    """Handler -> [namespace, metric, dimensions, hours with data in the demo]."""
    log_bytes: dict[str, int]
    estimator_runs: int
    estimator_model_ids: int
    estimator_seconds: float
    metrics_requested: dict[str, int]
    calls: dict[str, int]
    transact_items: int = 0
    ingested_records: int = 0
    """Records the demo's ingest handler counted (its ``invocation-log batch`` log lines)."""


def parse_demo_log(path: Path) -> tuple[dict[str, dict[tuple[Any, ...], set[int]]], dict[str, int]]:
    """EMF series per handler step (with the hours they hold data) and log bytes per step."""
    step = None
    series: dict[str, dict[tuple[Any, ...], set[int]]] = defaultdict(dict)
    log_bytes: dict[str, int] = defaultdict(int)
    totals: dict[str, float] = defaultdict(float)
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if line.startswith("===== "):
            step = line.strip("= \n")
            continue
        if step is None:
            continue
        handler = STEP_HANDLER.get(step, step)
        log_bytes[handler] += len(line.encode("utf-8"))
        if '"invocation-log batch"' in line:
            batch = json.loads(line)
            if batch.get("message") == "invocation-log batch":
                totals["_records_ingested"] += float(batch.get("records", 0))
        if line.startswith('{"_aws"'):
            blob = json.loads(line)
            hour = int(blob["_aws"]["Timestamp"]) // 3_600_000
            for directive in blob["_aws"]["CloudWatchMetrics"]:
                for metric in directive["Metrics"]:
                    for dims in directive["Dimensions"]:
                        key = (directive["Namespace"], metric["Name"], tuple((d, blob[d]) for d in dims))
                        series[handler].setdefault(key, set()).add(hour)
                    value = blob.get(metric["Name"])
                    totals[metric["Name"]] += sum(value) if isinstance(value, list) else float(value or 0)
    log_bytes["_records_ingested"] = int(totals.get("_records_ingested", 0))
    return series, dict(log_bytes)


class _EmfInLog:
    """The demo's EMF forwarder, keeping EMF records in demo.log between the step markers
    (the demo itself moves them to metrics.jsonl, which has no steps to attribute them to)."""

    def __new__(cls, log: Any, cloudwatch: Any, emf_log: Any = None) -> Any:
        from bedrock_cost.demo.emulator import EmfForwarder

        return EmfForwarder(log, cloudwatch, None)


def measure_demo(out_dir: Path) -> DemoMeasurement:
    from unittest import mock

    from bedrock_cost.demo import runner
    from bedrock_cost.demo.runner import DemoOptions, previous_month, run_demo

    period = previous_month(datetime.date.today())
    console = io.StringIO()
    with counted_api_calls() as counts, mock.patch.object(runner, "EmfForwarder", _EmfInLog):
        started = time.monotonic()
        code = run_demo(DemoOptions(out_dir=out_dir, period=period), stdout=console)
        elapsed = time.monotonic() - started
    if code != 0:
        raise SystemExit(f"demo failed with exit code {code}; see {out_dir / 'demo.log'}")
    series, log_bytes = parse_demo_log(out_dir / "demo.log")
    ingested = log_bytes.pop("_records_ingested", 0)
    if not any(series.values()):
        raise SystemExit("no EMF record found in demo.log: the bill would count no custom metric")
    runs = _count_runs(out_dir / "demo.log")
    model_ids = len(counts.model_ids)
    step_seconds = {m.group(1): float(m.group(2)) for m in _STEP_DONE.finditer(console.getvalue())}
    return DemoMeasurement(
        series={h: [[*k[:2], dict(k[2]), len(v)] for k, v in sorted(s.items())] for h, s in series.items()},
        log_bytes=log_bytes,
        estimator_runs=runs,
        estimator_model_ids=model_ids,
        # The whole step (metric generation and loading included): an upper bound per run.
        estimator_seconds=step_seconds.get("estimate_step", elapsed) / max(runs, 1),
        metrics_requested=dict(counts.metrics_requested),
        calls=dict(counts.calls),
        transact_items=counts.transact_items,
        ingested_records=ingested,
    )


_RUN_DONE = re.compile(r'"message":\s*"estimator region done"')
_STEP_DONE = re.compile(r"- (\w+): done in ([0-9.]+) s")


def _count_runs(log: Path) -> int:
    """Region runs of the estimator: one ``estimator region done`` line each."""
    return len(_RUN_DONE.findall(log.read_text(encoding="utf-8")))


# --------------------------------------------------------------------------- template counting


def synth_template(config_file: Path, outdir: Path) -> dict[str, Any]:
    from app import STACK_NAME, build_app
    from bedrock_cost.config import CONTEXT_KEY

    app = build_app(
        context={CONTEXT_KEY: {"config_file": str(config_file)}, "aws:cdk:bundling-stacks": []}, outdir=str(outdir)
    )
    app.synth()
    data: dict[str, Any] = json.loads((outdir / f"{STACK_NAME}.template.json").read_text())
    return data


def alarm_metrics(resource: dict[str, Any]) -> Decimal:
    """Billable metrics of one ``AWS::CloudWatch::Alarm``."""
    props = resource["Properties"]
    if "Metrics" not in props:
        return Decimal(1)
    queries = props["Metrics"]
    if any("ANOMALY_DETECTION_BAND" in str(q.get("Expression", "")) for q in queries):
        return ANOMALY_ALARM_METRICS
    return Decimal(sum(1 for q in queries if "MetricStat" in q) or 1)


_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")


def runs_per_month(expression: str) -> int:
    match = _RATE.fullmatch(expression)
    if match:
        n, unit = int(match.group(1)), match.group(2)
        minutes = n * {"minute": 1, "minutes": 1, "hour": 60, "hours": 60, "day": 1440, "days": 1440}[unit]
        return MINUTES_PER_MONTH // minutes
    if expression.startswith("cron("):
        fields = expression[5:-1].split()
        minute, hour = fields[0], fields[1]
        per_day = (60 if minute == "*" else 1) * (24 if hour == "*" else len(hour.split(",")))
        return per_day * 30
    raise ValueError(f"unknown schedule {expression!r}")


@dataclass
class TemplateCounts:
    alarm_metrics: Decimal
    standard_alarms: int
    composite_alarms: int
    dashboards: int
    kms_keys: int
    log_groups: int
    tables: int
    schedules: dict[str, dict[str, Any]]
    """Rule id -> {"expression", "runs", "memory_mb", "handler"}."""
    queues: int = 0
    secrets: int = 0
    budgets: int = 0
    budget_actions: int = 0
    pinned_tag_values: int = 0
    """Budgeted tag values (``budgets.per_tag``): the estimator's per-tag series."""
    functions: int = 0
    ledger: bool = False
    """The per-request ledger is deployed (its ingest function is in the template)."""
    ledger_fed: bool = False
    """Invocation logging is on (``request_logs.logging`` create/adopt): the ledger ingests."""
    ingest_memory_mb: int = 512


def count_template(template: dict[str, Any]) -> TemplateCounts:
    resources = template["Resources"]
    by_type: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for rid, res in resources.items():
        by_type[res["Type"]].append((rid, res))
    alarms = by_type["AWS::CloudWatch::Alarm"]
    unknown = sorted(
        kind
        for kind in by_type
        if kind not in BILLED_KINDS_KNOWN and not any(kind.startswith(f) or f in kind for f in FREE_KINDS)
    )
    if unknown:
        raise SystemExit(f"the template holds resource kinds the bill does not price: {', '.join(unknown)}")
    functions = {rid: res["Properties"] for rid, res in by_type["AWS::Lambda::Function"]}
    ingest = [f for f in functions.values() if str(f.get("Handler", "")).endswith("request_ingest.handler")]
    schedules = {}
    for rid, rule in by_type["AWS::Events::Rule"]:
        expression = rule["Properties"].get("ScheduleExpression")
        if not expression:
            continue
        for target in rule["Properties"].get("Targets", []):
            arn = target.get("Arn", {})
            function_id = arn.get("Fn::GetAtt", [None])[0] if isinstance(arn, dict) else None
            function = resources.get(function_id or "", {}).get("Properties", {})
            schedules[rid] = {
                "expression": expression,
                "runs": runs_per_month(expression),
                "memory_mb": int(function.get("MemorySize", 128)),
                "handler": str(function.get("Handler", "?")),
            }
    return TemplateCounts(
        alarm_metrics=sum((alarm_metrics(res) for _, res in alarms), Decimal(0)),
        standard_alarms=len(alarms),
        composite_alarms=len(by_type["AWS::CloudWatch::CompositeAlarm"]),
        dashboards=len(by_type["AWS::CloudWatch::Dashboard"]),
        kms_keys=len(by_type["AWS::KMS::Key"]),
        log_groups=len(by_type["AWS::Logs::LogGroup"]),
        tables=len(by_type["AWS::DynamoDB::Table"]) + len(by_type["AWS::DynamoDB::GlobalTable"]),
        schedules=schedules,
        queues=len(by_type["AWS::SQS::Queue"]),
        budgets=len(by_type["AWS::Budgets::Budget"]),
        budget_actions=len({str(r["Properties"].get("BudgetName")) for _, r in by_type["AWS::Budgets::BudgetsAction"]}),
        secrets=len(by_type["AWS::SecretsManager::Secret"]),
        functions=len(functions),
        ledger=bool(ingest),
        ingest_memory_mb=int(ingest[0].get("MemorySize", 128)) if ingest else 0,
    )


# --------------------------------------------------------------------------- sources read directly


def source_metric_names(module: str) -> dict[str, bool]:
    """Metric names a handler module adds with ``metrics.add_metric(name="...")`` (one series
    each: ``metrics`` carries no dimension), read from its source with ``ast``; the value is
    True when the call sits under an ``if`` (published only when something happened)."""
    import ast

    tree = ast.parse((REPO / "lambdas" / "bedrock_cost" / "handlers" / f"{module}.py").read_text(encoding="utf-8"))
    names: dict[str, bool] = {}

    def visit(node: ast.AST, conditional: bool) -> None:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_metric":
            for keyword in node.keywords:
                if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                    name = str(keyword.value.value)
                    names[name] = names.get(name, True) and conditional
        for child in ast.iter_child_nodes(node):
            visit(child, conditional or isinstance(node, ast.If))

    visit(tree, False)
    return dict(sorted(names.items()))


def schedule_key(handler: str) -> str:
    """``bedrock_cost.handlers.burn_rate.handler`` -> ``burn-rate``."""
    return handler.split(".")[-2].replace("_", "-") if "." in handler else handler


def ledger_measurement() -> dict[str, Any]:
    """The per-request ledger's measured figures (``benchmarks/bench_requests.py``)."""
    data: dict[str, Any] = json.loads((REPO / "benchmarks" / "results" / "requests.json").read_text())
    return data


def cur_period_bytes(out_dir: Path) -> int:
    """Bytes of the largest billing period of the demo's generated CUR, scaled to 1M requests."""
    periods: dict[str, int] = defaultdict(int)
    for path in (out_dir / "cur").rglob("*.parquet"):
        match = re.search(r"BILLING_PERIOD=([0-9-]+)", str(path))
        periods[match.group(1) if match else "?"] += path.stat().st_size
    return max(periods.values(), default=0)


def athena_queries_per_day() -> int:
    from bedrock_cost.billing.sql import queries_dir

    return len(list((queries_dir() / "reports").glob("*.sql")))
