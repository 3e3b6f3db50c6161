"""The tracker's own monthly AWS bill at the reference workload, line by line.

Reference (``own_bill_prices.REFERENCE``): 20 models, 100 application inference profiles
(120 ``ModelId``s, 20 per account-region), 3 tag keys x 10 values, 2 regions, 3 accounts
(organisation mode: central stack in one, a collector in each), 1M requests a month.
Sources (counted in ``own_bill_counts.py``): the synthesized template (alarms and their
metrics, dashboards, KMS keys, budgets, queues, secrets, schedules, memory sizes); the demo
run (EMF series per handler step and the hours they hold data, GetMetricData metrics per
``ModelId`` per run, ListMetrics, writes and PUTs at the emulator, estimator time and log
bytes); one period of generated CUR (Athena bytes); the metric names of handlers the demo
does not run (their source, read with ``ast``); the ledger's measured bytes and write
items per record (``results/requests.json``). An unknown schedule or billable resource
kind fails the run instead of being left out. us-east-1 list prices, dated; custom
metrics are prorated by the hour (730 h: $0.30; a daily series, 30 h: about $0.012).

Run: ``python benchmarks/own_bill.py --config config/example-organization.yaml`` (one demo
run, ~1 minute; ``--measured own_bill.json`` reuses an earlier one); writes
``benchmarks/results/own_bill.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for entry in (str(REPO / "lambdas"), str(REPO)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from bedrock_cost.domain.estimate_points import CUSTOM_METRIC_CAP  # noqa: E402
from benchmarks.machine import machine_info  # noqa: E402
from benchmarks.own_bill_counts import (  # noqa: E402
    MINUTES_PER_MONTH,
    DemoMeasurement,
    TemplateCounts,
    athena_queries_per_day,
    count_template,
    cur_period_bytes,
    ledger_measurement,
    measure_demo,
    schedule_key,
    source_metric_names,
    synth_template,
)
from benchmarks.own_bill_prices import (  # noqa: E402
    FREE_DASHBOARDS,
    HOURS_PER_MONTH,
    MODEL_IDS_PER_ACCOUNT_REGION,
    PRICES,
    PRICES_AS_OF,
    REFERENCE,
)

SERIES_CAPS: dict[str, int] = {
    # documented caps on custom metric series (README "Own AWS bill"); tests/unit/test_own_bill_cap.py
    "estimator": CUSTOM_METRIC_CAP,  # full-month series per account (metric_detail: alarms)
    "cur-reporter": 22,  # daily series at the reference: total + 20 models + drift (metric_detail: alarms)
    "request-ingest": 0,  # full-month series: none (Malformed... and Unpriced... only when non-zero)
    "burn-rate": 0,  # full-month series of the hourly forecast (its metric is published only with an alert)
}
FAILURE_ONLY = {
    "EstimatorLagMinutes",
    "EstimatorFailedRegions",
    "MalformedInvocationRecords",
    "UnpricedInvocationRecords",
    "TagViolationAlerts",
    "TagsAdded",
}
"""Published only when the estimator is behind or a region failed (the demo's catch-up runs
are behind by design), when an ingest batch holds malformed or unpriced records, or when a
tag-enforcer run sent an alert or added a tag; billed for ``FAILURE_HOURS`` a month, not
every hour."""
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
        # Per tag value and drift per model are published only with metric_detail "full":
        # scaled when the demo published some, absent otherwise.
        if by_tag:
            count += REFERENCE["report_tag_keys"] * (REFERENCE["values_per_key"] + 1) - by_tag
        if drift_by_model:
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
        on_event = sum(1 for r in measured.series.get(handler, []) if r[1] in FAILURE_ONLY)
        bill.add(
            f"custom metrics: {handler}" + ("" if per_account else " (central account)"),
            f"{series} series x {n} account(s), {HANDLER_HOURS[handler]} h/month each"
            + (f" ({on_event} only when non-zero: {FAILURE_HOURS} h)" if on_event else ""),
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


def _bill_table(rows: list[Line], total_label: str, total: Decimal) -> list[str]:
    """One Markdown table of bill lines and its bold total row, then a blank line."""
    return [
        "| item | quantity | USD/month | measured from |",
        "|---|---|---:|---|",
        *(f"| {ln.item} | {ln.quantity} | {ln.usd} | {ln.source} |" for ln in rows),
        f"| **{total_label}** | | **{total}** | |",
        "",
    ]


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
        *_bill_table(bill.lines, "total", bill.total),
    ]
    if bill.fed:
        lines += [
            f"With invocation logging feeding the ledger (`request_logs.logging: create` or `adopt`) at "
            f"{REFERENCE['requests_per_month']:,} requests a month, these lines are added:",
            "",
            *_bill_table(bill.fed, "total with the ledger fed", bill.total_fed),
        ]
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
    from bedrock_cost.config_loader import load_config_file

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
