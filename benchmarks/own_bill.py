"""The tracker's own monthly AWS bill at the reference workload, line by line.

Reference workload: 20 models and 100 application inference profiles (120 ``ModelId``
series, 20 per account-region), 3 report tag keys x 10 values, 2 regions, 3 accounts
(organisation mode: the central stack in one, a collector in each), 1M requests a month.

Where each figure comes from:

* **the synthesized template** (``config/example.yaml``, the stack every account's
  central part deploys): alarms and the metrics each one evaluates, dashboards, KMS keys,
  schedules (runs a month per function) and memory sizes;
* **the demo run** (``bedrock-cost demo``: every handler for real against moto): the
  custom metric series the handlers printed as EMF (counted from ``demo.log``, per
  handler step, with the hours each series received data), the ``GetMetricData`` metrics
  requested per estimator run per ``ModelId`` (counted at the emulator with a botocore
  hook), state-table writes and S3 PUTs per run, estimator wall time and log bytes;
* **the generated CUR**: bytes of one billing period (the most any view scans, every
  view filters on the ``billing_period`` partition);
* **the handlers the demo does not run** (burn-rate, price refresh, budget-filter refresh,
  Athena views, anomaly monitor): the metric names their source adds (read with ``ast``),
  for the hours their schedule gives them;
* **the per-request ledger** (``benchmarks/results/requests.json``, measured by
  ``benchmarks/bench_requests.py``): bytes per invocation-log record and DynamoDB
  transaction items per record, at ``REFERENCE["requests_per_month"]``; the demo's own
  ingest (TransactWriteItems items counted at the emulator) is shown beside it.

Every schedule in the template must have a duration here (measured or assumed) and every
resource kind that bills must have a line: an unknown schedule or a billed kind the bill
does not know fails the run instead of being left out.

Prices: us-east-1 list prices (``PRICES``, dated). Custom metrics are prorated by the
hour: a series billed 730 h a month costs $0.30, a daily series (30 h) about $0.012.

Run: ``python benchmarks/own_bill.py`` (one demo run, ~1 minute); writes
``benchmarks/results/own_bill.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import re
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for entry in (str(REPO / "lambdas"), str(REPO)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from benchmarks.machine import machine_info  # noqa: E402

PRICES_AS_OF = "2026-11-24"
PRICES: dict[str, Decimal] = {
    # us-east-1 list prices (AWS pricing pages; re-check before quoting)
    "custom_metric_month": Decimal("0.30"),  # first 10,000 metrics, prorated by the hour
    "get_metric_data_per_1000": Decimal("0.01"),
    "list_metrics_per_1000": Decimal("0.01"),
    "alarm_metric_month": Decimal("0.10"),  # standard resolution, per metric evaluated
    "anomaly_alarm_metrics": Decimal(3),  # an anomaly-band alarm counts as 3 metrics
    "composite_alarm_month": Decimal("0.50"),
    "dashboard_month": Decimal("3.00"),  # beyond 3 free dashboards per account
    "logs_ingest_per_gb": Decimal("0.50"),
    "athena_per_tb": Decimal("5.00"),  # minimum 10 MB per query
    "lambda_gb_second_arm": Decimal("0.0000133334"),
    "lambda_per_million_requests": Decimal("0.20"),
    "dynamodb_per_million_writes": Decimal("0.625"),
    "s3_put_per_1000": Decimal("0.005"),
    "kms_key_month": Decimal("1.00"),
    "logs_storage_gb_month": Decimal("0.03"),
    "sqs_per_million_requests": Decimal("0.40"),  # first 1M a month free; DLQs see none when quiet
    "secret_month": Decimal("0.40"),
    "s3_storage_gb_month": Decimal("0.023"),
    "budget_day": Decimal(0),  # AWS Price List (effective 2020-10-01): budget-days are free
    "action_budget_day": Decimal("0.10"),  # action-enabled budgets beyond the first 62 budget-days
}
HOURS_PER_MONTH = 730
MINUTES_PER_MONTH = 43_800
FREE_DASHBOARDS = 3

REFERENCE: dict[str, int] = {
    "models": 20,
    "application_profiles": 100,
    "report_tag_keys": 3,
    "values_per_key": 10,
    "regions": 2,
    "accounts": 3,
    "requests_per_month": 1_000_000,
}
MODEL_IDS_PER_ACCOUNT_REGION = (REFERENCE["models"] + REFERENCE["application_profiles"]) // (
    REFERENCE["regions"] * REFERENCE["accounts"]
)

from bedrock_cost.domain.estimate_points import CUSTOM_METRIC_CAP  # noqa: E402

STEP_HANDLER = {
    "estimate_step": "estimator",
    "reconcile_step": "cur-reporter",
    "tags_step": "tag-enforcer",
    "alerts_step": "notifier",
    "requests_step": "request-ingest",
}
SERIES_CAPS: dict[str, int] = {
    # documented caps on custom metric series (README "Own AWS bill"); tests/unit/test_own_bill_cap.py
    "estimator": CUSTOM_METRIC_CAP,  # full-month series per account (metric_detail: alarms)
    "cur-reporter": 65,  # daily series at the reference: 1 + 20 models + 3 x 11 tag values + 1 + 10 drift
    "request-ingest": 3,  # full-month series (InvocationRecords, Malformed..., Unpriced...)
    "burn-rate": 0,  # full-month series of the hourly forecast (its metric is published only with an alert)
}
FAILURE_ONLY = {"EstimatorLagMinutes", "EstimatorFailedRegions"}
"""Published only when the estimator is behind or a region failed (the demo's catch-up runs
are behind by design); billed for ``FAILURE_HOURS`` a month, not every hour."""
FAILURE_HOURS = 10
HANDLER_HOURS = {
    # hours a month a series of this handler receives data
    "estimator": HOURS_PER_MONTH,  # every minute is stamped: every hour has points
    "cur-reporter": 30,  # daily run
    "tag-enforcer": 30,  # daily scan (plus rare CloudTrail-triggered runs)
    "notifier": 10,  # only when an alert is sent: assumed 10 hours a month with one
    "request-ingest": HOURS_PER_MONTH,  # every subscription batch: requests arrive every hour
}
ASSUMED_SECONDS = {
    "cur-reporter": 60.0,
    "tag-enforcer": 20.0,
    "burn-rate": 5.0,
    "price-refresh": 10.0,
    "budget-filters": 5.0,
    "request-ingest": 5.0,  # the ledger's daily close
}
"""Durations not measured here (their work is Athena / Bedrock API waits), stated as assumptions."""
UNRUN_HANDLERS = ("burn_rate", "price_refresh", "budget_filters", "athena_views", "anomaly_monitor")
"""Handlers the demo does not invoke through their entry point: their metrics are read from source."""
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


@dataclass
class Line:
    item: str
    quantity: str
    usd: Decimal
    source: str


@dataclass
class Bill:
    lines: list[Line] = field(default_factory=list)
    fed: list[Line] = field(default_factory=list)
    """Lines billed only once invocation logging feeds the ledger (``request_logs.logging``
    create/adopt); with ``off`` (the default) the ledger is deployed idle."""
    ledger_fed: bool = False

    def add(self, item: str, quantity: str, usd: Decimal, source: str, *, fed: bool = False) -> None:
        line = Line(item, quantity, usd.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), source)
        (self.fed if fed and not self.ledger_fed else self.lines).append(line)

    @property
    def total(self) -> Decimal:
        return sum((line.usd for line in self.lines), Decimal(0))

    @property
    def total_fed(self) -> Decimal:
        return self.total + sum((line.usd for line in self.fed), Decimal(0))


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
    """Records the demo's ingest handler counted (``InvocationRecords``)."""


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
    log_bytes["_records_ingested"] = int(totals.get("InvocationRecords", 0))
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
        return PRICES["anomaly_alarm_metrics"]
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


# --------------------------------------------------------------------------- the bill


def monthly_series(measured: DemoMeasurement, handler: str, pinned_tag_values: int = 0) -> tuple[int, Decimal]:
    """(series, billed metric-months) of one handler at the reference workload.

    Series whose count grows with the workload are scaled: ``BilledCostUSD`` by model and by
    tag value (CUR reporter) to 20 models and 3 x 10 values (+ untagged).
    """
    rows = measured.series.get(handler, [])
    count = len(rows)
    if handler == "cur-reporter":
        from bedrock_cost.billing.daily_report import DRIFT_MODEL_CAP

        by_model = sum(1 for r in rows if r[1] == "BilledCostUSD" and "Model" in r[2])
        by_tag = sum(1 for r in rows if "TagKey" in r[2])
        drift_by_model = sum(1 for r in rows if r[1] == "EstimateDriftPct" and "Model" in r[2])
        count += REFERENCE["models"] - by_model
        count += REFERENCE["report_tag_keys"] * (REFERENCE["values_per_key"] + 1) - by_tag
        count += min(REFERENCE["models"], DRIFT_MODEL_CAP) - drift_by_model
    if handler == "estimator":
        # At the reference every model is priced: the demo's deliberately unknown model
        # (two UnpricedTokens series) does not exist there; the budgeted tag values are the
        # config's (the demo's data reaches only some of its own).
        count -= sum(1 for r in rows if r[1] == "UnpricedTokens")
        count += pinned_tag_values - sum(1 for r in rows if r[1] == "EstimatedCostUSD" and "TagKey" in r[2])
    failing = sum(1 for r in rows if r[1] in FAILURE_ONLY)
    hours = HANDLER_HOURS.get(handler, HOURS_PER_MONTH)
    months = (Decimal((count - failing) * hours) + Decimal(failing * FAILURE_HOURS)) / Decimal(HOURS_PER_MONTH)
    return count, months


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


def estimator_schedule(counts: TemplateCounts) -> dict[str, Any]:
    (found,) = [s for s in counts.schedules.values() if s["handler"].endswith("estimator.handler")]
    return found


def build_bill(
    counts: TemplateCounts, measured: DemoMeasurement, cur_period_bytes: int, athena_queries_per_day: int
) -> Bill:
    bill = Bill(ledger_fed=counts.ledger_fed)
    accounts = REFERENCE["accounts"]
    regions = REFERENCE["regions"]
    p = PRICES
    # Custom metrics: every account runs an estimator and a tag enforcer; the central one
    # also the CUR reporter (its series are the organisation's billed figures).
    handlers: list[tuple[str, bool]] = [
        ("estimator", False),
        ("tag-enforcer", True),
        ("cur-reporter", False),
        ("notifier", False),
    ]
    for handler, per_account in handlers + ([("request-ingest", False)] if counts.ledger else []):
        series, metric_months = monthly_series(measured, handler, counts.pinned_tag_values)
        n = accounts if per_account else 1
        bill.add(
            f"custom metrics: {handler}" + ("" if per_account else " (central account)"),
            f"{series} series x {n} account(s), {HANDLER_HOURS[handler]} h/month each"
            + (" (lag: only when behind)" if handler == "estimator" else ""),
            metric_months * n * p["custom_metric_month"],
            "EMF in demo.log",
            fed=handler == "request-ingest",
        )
    # Member collectors publish only the total: the budgeted tag values' pace alarms live in
    # the central account (members run with no pinned tag values), so the per-tag series
    # would be watched by nothing.
    rows = measured.series.get("estimator", [])
    member = [r for r in rows if not r[2] and r[1] != "UnpricedTokens"]
    failing = sum(1 for r in member if r[1] in FAILURE_ONLY)
    bill.add(
        "custom metrics: estimator (member collectors)",
        f"{len(member) - failing} series x {accounts - 1} account(s), 730 h/month each"
        + (f" (+{failing} only when behind, {FAILURE_HOURS} h)" if failing else ""),
        (Decimal(len(member) - failing) + Decimal(failing * FAILURE_HOURS) / HOURS_PER_MONTH)
        * (accounts - 1)
        * p["custom_metric_month"],
        "EMF in demo.log",
    )
    # Handlers the demo does not run through their entry point: their metrics from source,
    # for the hours their schedule gives them (none when they run only at deploy time).
    by_key = {schedule_key(rule["handler"]): rule for rule in counts.schedules.values()}
    for module in UNRUN_HANDLERS:
        names = source_metric_names(module)
        rule = by_key.get(module.replace("_", "-"))
        hours = min(HOURS_PER_MONTH, rule["runs"]) if rule else 0
        hours_each = {name: min(hours, FAILURE_HOURS) if conditional else hours for name, conditional in names.items()}
        listed = ", ".join(
            f"{name} {h} h" + (" (only on an event)" if names[name] else "") for name, h in hours_each.items()
        )
        bill.add(
            f"custom metrics: {module.replace('_', '-')} (central account)",
            f"{len(names)} series ({listed or '-'})" + ("" if rule else ", runs at deploy only"),
            Decimal(sum(hours_each.values())) / HOURS_PER_MONTH * p["custom_metric_month"],
            "handler source + template schedule",
        )
    # Alarms and dashboard (central account only)
    bill.add(
        "alarms (standard + metric math + anomaly band)",
        f"{counts.standard_alarms} alarms, {counts.alarm_metrics} metrics",
        counts.alarm_metrics * p["alarm_metric_month"],
        "template",
    )
    bill.add(
        "composite alarms",
        str(counts.composite_alarms),
        counts.composite_alarms * p["composite_alarm_month"],
        "template",
    )
    bill.add(
        "dashboards",
        f"{counts.dashboards} (3 free per account)",
        max(0, counts.dashboards - FREE_DASHBOARDS) * p["dashboard_month"],
        "template",
    )
    bill.add("KMS keys (customer-managed)", str(counts.kms_keys), counts.kms_keys * p["kms_key_month"], "template")
    paid_action_days = max(0, counts.budget_actions * 30 - 62)
    bill.add(
        "AWS Budgets",
        f"{counts.budgets} budgets (free), {counts.budget_actions} with an action (first 62 budget-days free)",
        counts.budgets * 30 * p["budget_day"] + paid_action_days * p["action_budget_day"],
        "template",
    )
    bill.add("Secrets Manager secrets", str(counts.secrets), counts.secrets * p["secret_month"], "template")
    bill.add(
        "SQS dead-letter queues",
        f"{counts.queues} queues, no messages in a quiet month (first 1M requests free)",
        Decimal(0) * p["sqs_per_million_requests"],
        "template",
    )
    # GetMetricData: metrics per ModelId per run, counted at the emulator
    schedule = estimator_schedule(counts)
    bedrock_metrics = measured.metrics_requested.get("AWS/Bedrock", 0)
    per_id_run = Decimal(bedrock_metrics) / Decimal(max(1, measured.estimator_runs * measured.estimator_model_ids))
    ids = MODEL_IDS_PER_ACCOUNT_REGION * regions * accounts
    gmd = per_id_run * ids * schedule["runs"]
    bill.add(
        "GetMetricData (estimator)",
        f"{per_id_run:.2f} metrics/ModelId/run x {ids} ModelIds x {schedule['runs']:,} runs ({schedule['expression']})",
        gmd / 1000 * p["get_metric_data_per_1000"],
        "emulator",
    )
    list_calls = measured.calls.get("cloudwatch:ListMetrics", 0) / max(1, measured.estimator_runs)
    # The demo's catch-up runs follow each other within the AWS/Bedrock discovery cache
    # (DISCOVERY_TTL_SECONDS); a schedule longer than the cache lists again every run.
    from bedrock_cost.adapters.cloudwatch_metrics import DISCOVERY_TTL_SECONDS

    if MINUTES_PER_MONTH / schedule["runs"] * 60 >= DISCOVERY_TTL_SECONDS:
        list_calls = max(list_calls, 2.0)  # AWS/Bedrock and AWS/BedrockMantle, one page each
    bill.add(
        "ListMetrics (estimator discovery)",
        f"{list_calls:.1f} calls/run x {regions * accounts} account-regions",
        Decimal(str(list_calls)) * regions * accounts * schedule["runs"] / 1000 * p["list_metrics_per_1000"],
        "emulator + discovery cache",
    )
    # Lambda: estimator measured; the others at their schedules with stated durations
    gb_s = Decimal(str(measured.estimator_seconds)) * Decimal(schedule["memory_mb"]) / 1024 * schedule["runs"]
    requests = schedule["runs"] * accounts
    other = Decimal(0)
    for rule in counts.schedules.values():
        key = schedule_key(rule["handler"])
        if key == "estimator":
            continue
        if key not in ASSUMED_SECONDS:
            raise SystemExit(
                f"schedule of {rule['handler']} has no duration in ASSUMED_SECONDS: the bill would miss it"
            )
        other += Decimal(str(ASSUMED_SECONDS[key])) * Decimal(rule["memory_mb"]) / 1024 * rule["runs"]
        requests += rule["runs"]
    bill.add(
        "Lambda compute",
        f"estimator {measured.estimator_seconds:.2f} s/run measured x {accounts} accounts; others assumed",
        (gb_s * accounts + other) * p["lambda_gb_second_arm"],
        "emulator + template",
    )
    bill.add(
        "Lambda requests", f"{requests:,}", Decimal(requests) / 1_000_000 * p["lambda_per_million_requests"], "template"
    )
    # Logs: estimator log bytes per run (EMF included: it is log data), scaled to the schedule
    per_run = Decimal(measured.log_bytes.get("estimator", 0)) / max(1, measured.estimator_runs)
    # The demo's runs cover an hour each (catch-up); a scheduled run covers schedule minutes.
    per_scheduled_run = per_run * Decimal(MINUTES_PER_MONTH) / schedule["runs"] / 60
    logs_gb = per_scheduled_run * schedule["runs"] * accounts / Decimal(1024**3)
    bill.add(
        "CloudWatch Logs ingestion",
        f"{per_scheduled_run / 1024:.1f} KiB/estimator run x {schedule['runs']:,} x {accounts}",
        logs_gb * p["logs_ingest_per_gb"],
        "demo.log",
    )
    writes = measured.calls.get("dynamodb:PutItem", 0) + measured.calls.get("dynamodb:UpdateItem", 0)
    writes_per_run = Decimal(writes) / max(1, measured.estimator_runs)
    bill.add(
        "DynamoDB writes",
        f"{writes_per_run:.1f}/run x {schedule['runs']:,} x {accounts}",
        writes_per_run * schedule["runs"] * accounts / 1_000_000 * p["dynamodb_per_million_writes"],
        "emulator",
    )
    puts = measured.calls.get("s3:PutObject", 0) / max(1, measured.estimator_runs)
    bill.add(
        "S3 PUTs (estimate records)",
        f"{puts:.1f}/run x {schedule['runs']:,} x {accounts}",
        Decimal(str(puts)) * schedule["runs"] * accounts / 1000 * p["s3_put_per_1000"],
        "emulator",
    )
    if counts.ledger:
        add_ledger_lines(bill, counts, measured)
    scanned = max(cur_period_bytes, 10 * 1024**2)  # Athena bills at least 10 MB per query
    athena_tb = Decimal(scanned) * athena_queries_per_day * 30 / Decimal(1024**4)
    bill.add(
        "Athena (CUR reporter)",
        f"{athena_queries_per_day} queries/day x <= {scanned / 1024**2:.1f} MB (one billing period)",
        athena_tb * p["athena_per_tb"],
        "generated CUR",
    )
    return bill


def add_ledger_lines(bill: Bill, counts: TemplateCounts, measured: DemoMeasurement) -> None:
    """The per-request ledger at ``REFERENCE["requests_per_month"]`` (central account).

    Bedrock writes one invocation-log record per request to the ledger's log group
    (ingested and kept for its retention); the subscription delivers them to the ingest
    Lambda, which writes each request once to DynamoDB in transactions (2 write units per
    item). Bytes and items per record are the benchmark's measured figures.
    """
    p = PRICES
    requests = REFERENCE["requests_per_month"]
    bench = ledger_measurement()
    record_bytes = Decimal(str(bench["stats"]["mean_bytes_per_record"]))
    items = Decimal(str(bench["ingest"]["dynamodb_transact_items_per_record"]))
    gb = record_bytes * requests / Decimal(1024**3)
    bill.add(
        "request ledger: invocation-log ingestion",
        f"{requests:,} records x {record_bytes:.0f} B (measured)",
        gb * p["logs_ingest_per_gb"],
        "requests.json",
        fed=True,
    )
    bill.add(
        "request ledger: invocation-log storage",
        f"{gb:.2f} GB kept (30-day retention)",
        gb * p["logs_storage_gb_month"],
        "requests.json + template",
        fed=True,
    )
    demo_items = (
        f"; demo: {Decimal(measured.transact_items) / measured.ingested_records:.2f}/record"
        if measured.ingested_records
        else ""
    )
    bill.add(
        "request ledger: DynamoDB transactional writes",
        f"{items} items/record x 2 WRU x {requests:,}{demo_items}",
        items * 2 * requests / 1_000_000 * p["dynamodb_per_million_writes"],
        "requests.json + emulator",
        fed=True,
    )
    batch = 1000
    invocations = requests // batch
    own = Decimal(str(bench["ingest"]["median_handler_own_s_per_1000"]))
    transactions = Decimal(bench["ingest"]["dynamodb_transactions"]) / bench["ingest"]["batches"]
    seconds = own + transactions * Decimal("0.010")  # 10 ms per TransactWriteItems, assumed
    gb_s = seconds * counts.ingest_memory_mb / 1024 * invocations
    bill.add(
        "request ledger: ingest Lambda",
        f"{invocations:,} batches of {batch} x {seconds:.2f} s x {counts.ingest_memory_mb} MB",
        gb_s * p["lambda_gb_second_arm"] + Decimal(invocations) / 1_000_000 * p["lambda_per_million_requests"],
        "requests.json + template",
        fed=True,
    )


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


def render_markdown(
    bill: Bill, counts: TemplateCounts, measured: DemoMeasurement, machine: dict[str, Any], config_name: str = ""
) -> str:
    lines = [
        "# Own AWS bill at the reference workload",
        "",
        f"Reference: {REFERENCE['models']} models, {REFERENCE['application_profiles']} application inference "
        f"profiles ({MODEL_IDS_PER_ACCOUNT_REGION} ModelIds per account-region), {REFERENCE['report_tag_keys']} "
        f"report tag keys x {REFERENCE['values_per_key']} values, {REFERENCE['regions']} regions, "
        f"{REFERENCE['accounts']} accounts, {REFERENCE['requests_per_month']:,} requests a month.",
        f"Prices: us-east-1 list prices as of {PRICES_AS_OF}. Generated by "
        f"`python benchmarks/own_bill.py --config {config_name}`.",
        "",
        "| item | quantity | USD/month | measured from |",
        "|---|---|---:|---|",
    ]
    lines += [f"| {ln.item} | {ln.quantity} | {ln.usd} | {ln.source} |" for ln in bill.lines]
    lines += [f"| **total** | | **{bill.total}** | |", ""]
    if bill.fed:
        lines += [
            f"With invocation logging feeding the ledger (`request_logs.logging: create` or `adopt`) at "
            f"{REFERENCE['requests_per_month']:,} requests a month, these lines are added:",
            "",
            "| item | quantity | USD/month | measured from |",
            "|---|---|---:|---|",
        ]
        lines += [f"| {ln.item} | {ln.quantity} | {ln.usd} | {ln.source} |" for ln in bill.fed]
        lines += [f"| **total with the ledger fed** | | **{bill.total_fed}** | |", ""]
    lines.append(
        "Documented series caps (tests/unit/test_own_bill_cap.py fails above them): "
        + ", ".join(f"{name} {cap}" for name, cap in SERIES_CAPS.items())
        + " (estimator: full-month series per account; cur-reporter: daily series)."
    )
    lines.append(
        f"Demo's ledger ingest: {measured.ingested_records} records, {measured.transact_items} "
        "TransactWriteItems items (redelivered chunks included)."
    )
    lines.append("")
    lines.append("Series the demo's handlers published (EMF), by handler:")
    lines.append("")
    for handler, rows in sorted(measured.series.items()):
        names = sorted({f"{r[1]}{{{','.join(r[2])}}}" for r in rows})
        lines.append(f"- {handler}: {len(rows)} series ({', '.join(names)})")
    lines += ["", f"Machine: {machine.get('cpu', '?')}, Python {machine.get('python', '?')}.", ""]
    return "\n".join(lines)


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--config", type=Path, default=REPO / "config" / "example.yaml")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument(
        "--measured",
        type=Path,
        default=None,
        help="reuse the demo measurement of an earlier own_bill.json instead of running the demo",
    )
    args = parser.parse_args(argv)
    from bedrock_cost.config import load_config_file

    config = load_config_file(args.config.resolve())
    with tempfile.TemporaryDirectory(prefix="own-bill-") as scratch:
        work = Path(scratch)
        counts = count_template(synth_template(args.config.resolve(), work / "cdk.out"))
        counts.pinned_tag_values = sum(len(values) for values in config.budgets.per_tag.values())
        counts.ledger_fed = counts.ledger and config.request_logs.logging != "off"
        if args.measured:
            earlier = json.loads(args.measured.read_text(encoding="utf-8"))
            measured, period_bytes = DemoMeasurement(**earlier["measured"]), int(earlier["cur_period_bytes"])
        else:
            measured = measure_demo(work / "demo")
            period_bytes = cur_period_bytes(work / "demo")
        bill = build_bill(counts, measured, period_bytes, athena_queries_per_day())
    machine = machine_info()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "own_bill.md").write_text(
        render_markdown(bill, counts, measured, machine, _relative(args.config)), encoding="utf-8"
    )
    document = {
        "prices_as_of": PRICES_AS_OF,
        "prices": {k: str(v) for k, v in PRICES.items()},
        "reference": REFERENCE,
        "lines": [{**asdict(ln), "usd": str(ln.usd)} for ln in bill.lines],
        "total_usd": str(bill.total),
        "ledger_fed_lines": [{**asdict(ln), "usd": str(ln.usd)} for ln in bill.fed],
        "total_with_ledger_fed_usd": str(bill.total_fed),
        "cur_period_bytes": period_bytes,
        "template": {**asdict(counts), "alarm_metrics": str(counts.alarm_metrics)},
        "measured": asdict(measured),
        "custom_metric_cap": CUSTOM_METRIC_CAP,
        "machine": machine,
    }
    (args.out / "own_bill.json").write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    print((args.out / "own_bill.md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
