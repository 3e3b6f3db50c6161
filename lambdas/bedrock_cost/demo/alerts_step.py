"""Demo step: the alerts a FinOps team would have received, end to end.

What AWS evaluates by itself (CloudWatch alarms, AWS Budgets) is not evaluated by the
emulator, so this step applies the same rules to the demo's data and publishes the
resulting alerts through the product's ``AlertPublisher`` (claim in the state table,
then SNS), exactly as the Lambdas do:

- **token spike**: the busiest 5 minutes of ``AWS/Bedrock`` ``InputTokenCount`` per
  model in the emulator, against ``thresholds.spike_input_tokens_5min`` (what the
  Metrics Insights alarm checks);
- **budget threshold**: billed month-to-date (``ctx.results["billed"]``) against the
  configured monthly budgets, highest crossed threshold per budget (what AWS Budgets
  notifies);
- **forecast overrun**: the real burn-rate code (``run_burn_rate``) on the estimate
  metrics in the emulator; when those hold too few days (the demo estimates one day),
  the same projection replayed on the billed daily cost as of mid-month;
- **unpriced model**: ``UnpricedTokens`` written by the estimate, else billed usage of
  models the alias table does not know.

Then the real Slack notifier handler delivers everything this step published to the
Slack stand-in (``ctx.slack_url``), with its webhook secret and idempotency table in the
emulator; one message is delivered twice to show it reaches Slack once.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
from botocore.exceptions import ClientError

from bedrock_cost.adapters.alert_publisher import AlertPublisher
from bedrock_cost.adapters.aws_errors import translate_client_error
from bedrock_cost.adapters.burn_rate_metrics import EstimateSpendReader
from bedrock_cost.billing.sql import quote_identifier, render, tag_column
from bedrock_cost.config import Budget, Config
from bedrock_cost.demo.context import DemoContext, DemoLambdaContext
from bedrock_cost.demo.sns_relay import SnsRelay
from bedrock_cost.domain.alerts import Alert
from bedrock_cost.domain.forecast import (
    BudgetTarget,
    ForecastPolicy,
    evaluate,
    targets_from_budgets,
)
from bedrock_cost.handlers import slack_notifier
from bedrock_cost.handlers.burn_rate import BUDGETS_CONSOLE_URL, run_burn_rate
from bedrock_cost.metric_names import NAMESPACE, UNPRICED_TOKENS

SPIKE_WINDOW = timedelta(minutes=5)
SECRET_NAME = "bedrock-cost-tracker/slack-webhook"  # noqa: S105 - a secret name, not a secret
IDEMPOTENCY_TABLE = "bedrock-cost-notifier-idempotency"
CENT = Decimal("0.01")


def _client(ctx: DemoContext, service: str) -> Any:
    return boto3.client(service, endpoint_url=ctx.endpoint_url, region_name=ctx.region)  # type: ignore[call-overload]


def _usd(value: Decimal) -> str:
    return f"${value.quantize(CENT):,}"


# --------------------------------------------------------------------------- token spike


def _series(cloudwatch: Any, namespace: str, metric: str, dimension: str) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for page in cloudwatch.get_paginator("list_metrics").paginate(Namespace=namespace, MetricName=metric):
        for item in page.get("Metrics", []):
            dims = item.get("Dimensions", [])
            if [d["Name"] for d in dims] == [dimension]:
                seen.setdefault(dims[0]["Value"], {"Namespace": namespace, "MetricName": metric, "Dimensions": dims})
    return list(seen.values())


def _sums(
    cloudwatch: Any, series: Sequence[dict[str, Any]], start: datetime, end: datetime, period: int
) -> list[tuple[str, datetime, Decimal]]:
    """(dimension value, bucket start, sum) for every non-empty bucket."""
    out: list[tuple[str, datetime, Decimal]] = []
    for offset in range(0, len(series), 100):
        batch = series[offset : offset + 100]
        queries = [
            {"Id": f"m{i}", "MetricStat": {"Metric": metric, "Period": period, "Stat": "Sum"}, "ReturnData": True}
            for i, metric in enumerate(batch)
        ]
        for page in cloudwatch.get_paginator("get_metric_data").paginate(
            MetricDataQueries=queries, StartTime=start, EndTime=end
        ):
            for result in page["MetricDataResults"]:
                value_of = batch[int(result["Id"][1:])]["Dimensions"][0]["Value"]
                for stamp, value in zip(result["Timestamps"], result["Values"], strict=True):
                    if value:
                        out.append((value_of, stamp.astimezone(UTC), Decimal(str(value))))
    return out


Peaks = dict[str, tuple[datetime, Decimal]]


def _bucket(moment: datetime) -> datetime:
    """The 5-minute bucket CloudWatch puts a minute in (aligned on the hour)."""
    return moment.replace(minute=moment.minute - moment.minute % 5, second=0, microsecond=0)


def peaks_from_usage(usage: Mapping[str, Mapping[datetime, Any]]) -> Peaks:
    """Busiest 5 minutes of input tokens per ``ModelId`` from per-minute counts."""
    peaks: Peaks = {}
    for model, minutes in usage.items():
        buckets: dict[datetime, Decimal] = {}
        for minute, counts in minutes.items():
            key = _bucket(minute.astimezone(UTC))
            buckets[key] = buckets.get(key, Decimal(0)) + Decimal(int(counts.input))
        if buckets:
            stamp = max(buckets, key=lambda b: (buckets[b], b))
            peaks[model] = (stamp, buckets[stamp])
    return peaks


def peaks_from_cloudwatch(cloudwatch: Any, start: datetime, end: datetime) -> Peaks:
    """Busiest 5 minutes of ``AWS/Bedrock`` ``InputTokenCount`` per ``ModelId`` in [start, end)."""
    series = _series(cloudwatch, "AWS/Bedrock", "InputTokenCount", "ModelId")
    peaks: Peaks = {}
    for model, stamp, tokens in _sums(cloudwatch, series, start, end, int(SPIKE_WINDOW.total_seconds())):
        if model not in peaks or tokens > peaks[model][1]:
            peaks[model] = (stamp, tokens)
    return peaks


def token_spike_alerts(peaks: Peaks, threshold: int) -> tuple[list[Alert], str]:
    """A ``token_spike`` alert per model whose busiest 5 minutes exceed ``threshold``."""
    if not peaks:
        return [], "no AWS/Bedrock token metrics"
    alerts = []
    for model, (stamp, tokens) in sorted(peaks.items()):
        if tokens <= threshold:
            continue
        alerts.append(
            Alert(
                kind="token_spike",
                dedupe_key=f"spike#{model}#{stamp:%Y-%m-%dT%H:%M}",
                title=f"Input tokens of {model} above {threshold:,} in 5 minutes",
                severity="warning",
                period=f"{stamp:%Y-%m}",
                figures={
                    "input_tokens_5min": str(int(tokens)),
                    "threshold": str(threshold),
                    "window_start": f"{stamp:%Y-%m-%d %H:%M} UTC",
                },
                subject={"model": model},
                details=["Same rule as the per-model Metrics Insights alarm on AWS/Bedrock InputTokenCount."],
            )
        )
    top = max(peaks.items(), key=lambda item: item[1][1])
    return alerts, f"busiest 5 min: {top[0]} {int(top[1][1]):,} input tokens at {top[1][0]:%Y-%m-%d %H:%M} UTC"


def spike_peaks(ctx: DemoContext) -> Peaks:
    """From the metrics the estimate step generated, else from the emulator's last two days."""
    generated = ctx.results.get("estimate_generated")
    if generated is not None and getattr(generated, "usage", None):
        return peaks_from_usage(generated.usage)
    now = datetime.now(UTC)
    return peaks_from_cloudwatch(_client(ctx, "cloudwatch"), _bucket(now - timedelta(days=2)), now)


# --------------------------------------------------------------------------- budget thresholds


def _crossed(spent: Decimal, budget: Budget) -> int | None:
    crossed = [pct for pct in budget.thresholds_pct if spent * 100 >= budget.monthly_usd * pct]
    return max(crossed) if crossed else None


def budget_threshold_alerts(billed: dict[str, Any], config: Config) -> list[Alert]:
    """The highest crossed ACTUAL threshold of every monthly budget, on billed month-to-date."""
    period = str(billed["period"])
    checks: list[tuple[str, dict[str, str], Decimal, Budget]] = []
    if config.budgets.total is not None:
        checks.append(("all Bedrock spend", {"budget": "total"}, Decimal(billed["total_usd"]), config.budgets.total))
    for key, values in sorted(config.budgets.per_tag.items()):
        for value, budget in sorted(values.items()):
            spent = Decimal(billed.get("by_tag", {}).get(key, {}).get(value, 0))
            checks.append((f"{key}={value}", {"tag_key": key, "tag_value": value}, spent, budget))
    alerts = []
    for label, subject, spent, budget in checks:
        pct = _crossed(spent, budget)
        if pct is None:
            continue
        used = spent * 100 / budget.monthly_usd
        alerts.append(
            Alert(
                kind="budget_threshold",
                dedupe_key=f"budget#{period}#{label}#{pct}",
                title=f"{label} passed {pct} % of its monthly Bedrock budget",
                severity="critical" if pct >= 100 else "warning",
                period=period,
                figures={
                    "spent_usd": str(spent.quantize(CENT)),
                    "budget_usd": str(budget.monthly_usd.quantize(CENT)),
                    "threshold_pct": str(pct),
                    "used_pct": str(used.quantize(Decimal("0.1"))),
                },
                subject=subject,
                details=["Billed month-to-date from CUR, as AWS Budgets sees it (refreshed up to 3 times a day)."],
                console_url=BUDGETS_CONSOLE_URL,
            )
        )
    return alerts


# --------------------------------------------------------------------------- forecast


def _billed_daily(ctx: DemoContext, targets: Sequence[BudgetTarget]) -> dict[str, dict[date, Decimal]]:
    engine = ctx.results["engine"]
    database = {"database": quote_identifier(engine.database)}
    series: dict[str, dict[date, Decimal]] = {}
    total = series.setdefault("total", {})
    for row in engine.query(render("reports/cost_by_day_model", database, {"period": ctx.period})):
        day = _as_date(row["usage_date"])
        total[day] = total.get(day, Decimal(0)) + Decimal(row["cost_usd"])
    for key in sorted({t.tag_key for t in targets if t.tag_key is not None}):
        fragments = {**database, "tag_column": quote_identifier(tag_column(key))}
        for row in engine.query(render("reports/alerts_daily_by_tag", fragments, {"period": ctx.period})):
            daily = series.setdefault(f"tag:{key}={row['tag_value']}", {})
            daily[_as_date(row["usage_date"])] = Decimal(row["cost_usd"])
    return series


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def forecast_alerts(
    ctx: DemoContext, publisher: AlertPublisher, policy: ForecastPolicy
) -> tuple[list[str], list[Alert], str]:
    """(already published keys, alerts to publish, how the forecast was made)."""
    targets = targets_from_budgets(ctx.config.budgets)
    if not targets:
        return [], [], "no budget asks for a forecast"
    estimate = ctx.results.get("estimate") or {}
    span = (estimate["end"] - estimate["start"]) if "start" in estimate and "end" in estimate else None
    if span is None or span >= timedelta(days=policy.min_days + 1):
        reader = EstimateSpendReader(_client(ctx, "cloudwatch"))
        now = datetime.now(UTC)
        result = run_burn_rate(now, targets, policy, reader, publisher)
        if result.alerts_sent or result.projections:
            return result.alerts_sent, [], f"burn rate over the estimate as of {now:%Y-%m-%d %H:%M} UTC"
    if "engine" not in ctx.results:
        return [], [], "too few days of estimates, and no billed data to replay"
    # The demo's estimate covers one day: replay the same projection on billed days.
    billed = _billed_daily(ctx, targets)
    as_of = ctx.now or datetime.strptime(f"{ctx.period}-15", "%Y-%m-%d").replace(tzinfo=UTC)
    report = evaluate([(t, billed.get(t.key, {})) for t in targets], as_of, policy, console_url=BUDGETS_CONSOLE_URL)
    replayed = [
        Alert(
            **{
                **alert.__dict__,
                "details": [*alert.details, f"Demo: replayed on billed daily cost as of {as_of:%Y-%m-%d}."],
            }
        )
        for alert in report.alerts
    ]
    return [], replayed, f"burn rate replayed on billed daily cost as of {as_of:%Y-%m-%d}"


# --------------------------------------------------------------------------- unpriced


def unpriced_alerts(ctx: DemoContext) -> tuple[list[Alert], str]:
    totals: dict[str, Decimal] = {}
    source = "estimate (UnpricedTokens)"
    period = ctx.period
    estimate = ctx.results.get("estimate") or {}
    if "unpriced" in estimate:
        totals = {str(model): Decimal(int(tokens)) for model, tokens in estimate["unpriced"].items()}
        if isinstance(estimate.get("end"), datetime):
            period = f"{estimate['end']:%Y-%m}"
    else:
        cloudwatch = _client(ctx, "cloudwatch")
        series = _series(cloudwatch, NAMESPACE, UNPRICED_TOKENS, "Model")
        now = datetime.now(UTC)
        for model, _, tokens in _sums(cloudwatch, series, now - timedelta(days=2), now, 3600):
            totals[model] = totals.get(model, Decimal(0)) + tokens
    if not totals and "engine" in ctx.results:
        source = "billed usage of models the alias table does not know"
        period = ctx.period
        engine = ctx.results["engine"]
        rows = engine.query(
            render(
                "reports/html_unknown_models", {"database": quote_identifier(engine.database)}, {"period": ctx.period}
            )
        )
        for row in rows:
            model = str(row["model"])
            totals[model] = totals.get(model, Decimal(0)) + Decimal(row["tokens"] or 0)
    alerts = [
        Alert(
            kind="unpriced_model",
            dedupe_key=f"unpriced#{period}#{model}",
            title=f"{model} is used but has no price: its cost is unknown",
            severity="warning",
            period=period,
            figures={"unpriced_tokens": str(int(tokens))},
            subject={"model": model},
            details=[
                f"Found in the {source}. Add a price override (pricing.overrides) or update the catalog; "
                "it is reported as unpriced, never as $0."
            ],
        )
        for model, tokens in sorted(totals.items())
        if tokens > 0
    ]
    return alerts, source


# --------------------------------------------------------------------------- Slack delivery


def _install_notifier(ctx: DemoContext) -> None:
    """The webhook secret and idempotency table in the emulator (kept if they exist)."""
    secrets = _client(ctx, "secretsmanager")
    dynamodb = _client(ctx, "dynamodb")
    secret = json.dumps({"url": ctx.slack_url})
    try:
        secrets.create_secret(Name=SECRET_NAME, SecretString=secret)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceExistsException":
            raise translate_client_error(exc, "creating the demo webhook secret") from exc
        secrets.put_secret_value(SecretId=SECRET_NAME, SecretString=secret)
    try:
        dynamodb.create_table(
            TableName=IDEMPOTENCY_TABLE,
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceInUseException":
            raise translate_client_error(exc, "creating the notifier's idempotency table") from exc
    slack_notifier.configure(
        slack_notifier.build_notifier(
            secrets_client=secrets,
            dynamodb_client=dynamodb,
            env=slack_notifier.SlackNotifierEnvironment(
                SLACK_WEBHOOK_SECRET_ID=SECRET_NAME, IDEMPOTENCY_TABLE_NAME=IDEMPOTENCY_TABLE
            ),
        )
    )


def deliver_to_slack(ctx: DemoContext, relay: SnsRelay) -> tuple[int, int]:
    """Run the notifier handler on every relayed delivery (the first one twice): (sent, duplicates)."""
    events = relay.drain()
    if not events:
        return 0, 0
    sent = duplicates = 0
    context = DemoLambdaContext(function_name="slack-notifier", aws_request_id=str(uuid.uuid4()))
    for event in [*events, events[0]]:
        for outcome in slack_notifier.handler(event, context)["delivered"]:
            if outcome["status"] == "sent":
                sent += 1
            else:
                duplicates += 1
    return sent, duplicates


# --------------------------------------------------------------------------- the step


def run(ctx: DemoContext) -> None:
    sns = _client(ctx, "sns")
    publisher = AlertPublisher(sns, ctx.alert_topic_arn, _client(ctx, "dynamodb"), str(ctx.results["state_table"]))
    relay = SnsRelay(sns, _client(ctx, "sqs"), ctx.alert_topic_arn, name="demo-slack-notifier-relay")
    _install_notifier(ctx)
    budgets = ctx.config.budgets
    policy = ForecastPolicy(trailing_days=budgets.forecast_trailing_days, min_days=budgets.forecast_min_days)
    lines: list[str] = []
    published: list[str] = []
    try:
        spikes, spike_note = token_spike_alerts(spike_peaks(ctx), ctx.config.thresholds.spike_input_tokens_5min)
        lines.append(f"    token spike: {len(spikes)} model(s) over the threshold ({spike_note})")
        thresholds = budget_threshold_alerts(ctx.results["billed"], ctx.config) if "billed" in ctx.results else []
        lines.append(
            f"    budget thresholds: {len(thresholds)} crossed"
            + "".join(f"; {a.subject.get('tag_value', 'total')} {a.figures['used_pct']} %" for a in thresholds)
        )
        already, forecasts, how = forecast_alerts(ctx, publisher, policy)
        published.extend(already)
        lines.append(
            f"    forecast overrun: {len(already) + len(forecasts)} ({how})"
            + "".join(
                f"; {a.subject.get('tag_value', 'total')} → {_usd(Decimal(a.figures['projected_usd']))}"
                f" by {a.figures['crosses_on']}"
                for a in forecasts
            )
        )
        unpriced, source = unpriced_alerts(ctx)
        lines.append(
            f"    unpriced models: {len(unpriced)} ({source})" + "".join(f"; {a.subject['model']}" for a in unpriced)
        )
        for alert in [*spikes, *thresholds, *forecasts, *unpriced]:
            if publisher.publish(alert):
                published.append(alert.dedupe_key)
        sent, duplicates = deliver_to_slack(ctx, relay)
    finally:
        slack_notifier.configure(None)
        relay.close()
    ctx.results["alerts"] = {"published": published, "slack_sent": sent, "slack_duplicates": duplicates}
    ctx.summary.append(f"Alerts (this step): {len(published)} published to the alert topic")
    ctx.summary.extend(lines)
    ctx.summary.append(
        f"    Slack notifier: {sent} message(s) delivered, {duplicates} redelivery suppressed (idempotency)"
    )
