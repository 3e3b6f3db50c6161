"""Invocation-log ingest Lambda (CloudWatch Logs subscription): the per-request ledger.

Thin adapter: decode the subscription payload, parse and price each record with the
catalog, add it to the running totals once (idempotent on ``requestId``), alert budgets at
50/75/90/100 % once per threshold and period, and deny a user past an enforced budget.
The daily close (00:05 UTC) lifts blocks whose period reset and judges the closed day for
slow burn per user and customer (``domain.slow_burn``) from the day counters.
``CONTROL_MESSAGE`` batches are ignored. Malformed records are counted
(``MalformedInvocationRecords``) and kept: written to the quarantine prefix of the log
bucket before the batch is acknowledged; if that write fails the invocation fails and the
asynchronous on-failure destination keeps the whole batch.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from botocore.config import Config as BotoConfig
from pydantic import BaseModel, ConfigDict, Field

from bedrock_cost.adapters.alert_publisher import AlertPublisher
from bedrock_cost.adapters.request_ledger_store import Increment, LedgerStore, PrincipalDeny, counter_key
from bedrock_cost.domain.alerts import Alert
from bedrock_cost.domain.identity import Identity, identify
from bedrock_cost.domain.invocation_log import MalformedRecord, parse_line
from bedrock_cost.domain.log_subscription import decode
from bedrock_cost.domain.model_catalog import load_model_catalog
from bedrock_cost.domain.model_resolution import InMemoryProfileDirectory, ProfileDirectory
from bedrock_cost.domain.pricing import PriceCatalog, load_bundled_layer
from bedrock_cost.domain.request_budgets import Budget, counter_keys, evaluate, period_ended, period_of
from bedrock_cost.domain.request_pricing import price_usage, to_micro_usd
from bedrock_cost.domain.request_report import ModelResolver
from bedrock_cost.domain.slow_burn import DEFAULT_SIGMAS, history_days, judge
from bedrock_cost.domain.slow_burn import SUBJECTS as SLOW_BURN_SUBJECTS
from bedrock_cost.handlers.wiring import LazyWiring
from bedrock_cost.observability import logger, metrics, tracer

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_s3 import S3Client


class IngestSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    state_table: str = Field(alias="LEDGER_TABLE", min_length=1)
    alert_topic_arn: str = Field(alias="ALERT_TOPIC_ARN", pattern=r"^arn:aws[a-z-]*:sns:")
    quarantine_bucket: str = Field(alias="QUARANTINE_BUCKET", min_length=3)
    budgets: list[dict[str, Any]] = Field(alias="REQUEST_BUDGETS", default_factory=list)
    slow_burn_sigma: Decimal = Field(alias="SLOW_BURN_SIGMA", default=DEFAULT_SIGMAS, gt=0)

    def parsed_budgets(self) -> list[Budget]:
        return [
            Budget(
                subject=str(b["subject"]),
                value=str(b.get("value", "*")),
                period=b["period"],
                limit_usd=Decimal(str(b["limit_usd"])),
                enforce=bool(b.get("enforce", False)),
            )
            for b in self.budgets
        ]


@lru_cache(maxsize=1)
def load_environment() -> IngestSettings:
    raw = dict(os.environ)
    if isinstance(raw.get("REQUEST_BUDGETS"), str):
        raw["REQUEST_BUDGETS"] = json.loads(raw["REQUEST_BUDGETS"])
    return IngestSettings.model_validate(raw)


@dataclass
class Adapters:
    store: LedgerStore
    publisher: AlertPublisher
    deny: PrincipalDeny
    s3: S3Client
    catalog: PriceCatalog
    profiles: ProfileDirectory = field(default_factory=InMemoryProfileDirectory)


def _build() -> Adapters:
    env = load_environment()
    config = BotoConfig(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=3, read_timeout=10)
    dynamodb = boto3.client("dynamodb", config=config)
    return Adapters(
        store=LedgerStore(dynamodb, env.state_table),
        publisher=AlertPublisher(boto3.client("sns", config=config), env.alert_topic_arn, dynamodb, env.state_table),
        deny=PrincipalDeny(boto3.client("iam", config=config)),
        s3=boto3.client("s3", config=config),
        catalog=PriceCatalog(bundled=load_bundled_layer()),
    )


wiring: LazyWiring[Adapters] = LazyWiring(_build)


@dataclass
class IngestResult:
    message_type: str
    records: int = 0
    counted: int = 0
    duplicates: int = 0
    malformed: int = 0
    unpriced: int = 0
    alerts_sent: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)


def run_ingest(event: Any, deps: Adapters, settings: IngestSettings) -> IngestResult:
    batch = decode(event)
    result = IngestResult(message_type=batch.message_type)
    if batch.message_type != "DATA_MESSAGE":
        return result
    resolver = ModelResolver(deps.profiles, load_model_catalog())
    increments: dict[str, Increment] = {}
    who_by_user: dict[str, Identity] = {}
    bad: list[dict[str, str]] = []
    touched: set[tuple[str, str, str]] = set()
    for event_id, message in batch.events:
        try:
            record = parse_line(message)
        except MalformedRecord as exc:
            bad.append({"id": event_id, "reason": str(exc), "message": message})
            continue
        result.records += 1
        who = identify(record.principal)
        who_by_user[who.user] = who
        resolved = resolver(record.model_id)
        cost = price_usage(record.usage, resolved, deps.catalog, tier=record.tier, long_context=record.long_context)
        keys = counter_keys(who, record.metadata, resolved.tags)
        day, month = period_of("day", record.timestamp), period_of("month", record.timestamp)
        # One counter per subject value and day: a month's total is the sum of its days (one
        # Query), so a request costs half the transactional writes a month counter would add.
        counters = [counter_key(subject, value, day) for subject, value in keys]
        touched.update((subject, value, period) for subject, value in keys for period in (day, month))
        unpriced = 0 if cost.priced else 1
        result.unpriced += unpriced
        increments.setdefault(
            record.request_id,
            Increment(record.request_id, tuple(counters), to_micro_usd(cost.cost or Decimal(0)), unpriced),
        )
    if bad:
        _quarantine(deps.s3, settings.quarantine_bucket, batch.log_group, bad)
        result.malformed = len(bad)
    result.counted, result.duplicates = deps.store.apply(list(increments.values()))
    members: dict[str, set[str]] = {}
    for subject, value, period_key in touched:
        if subject in SLOW_BURN_SUBJECTS and len(period_key) == len("YYYY-MM-DD"):
            members.setdefault(period_key, set()).add(f"{subject}={value}")
    deps.store.note_subjects(members)
    budgets = settings.parsed_budgets()
    relevant = sorted(t for t in touched if any(b.applies_to(t[0], t[1]) for b in budgets))
    if relevant:
        totals = deps.store.totals([counter_key(*t) for t in relevant])
        by_subject = {t: totals.get(counter_key(*t), 0) for t in relevant}
        alerts, blocks = evaluate(budgets, by_subject)
        for alert in alerts:
            if deps.publisher.publish(alert):
                result.alerts_sent.append(alert.dedupe_key)
        known = {b["user"]: b for b in deps.store.blocks()} if blocks else {}
        for _, user, period_key in blocks:
            blocked_who = who_by_user.get(user)
            if blocked_who is None or known.get(user, {}).get("period") == period_key:
                continue  # already blocked, or lifted by hand until this period resets
            apply_block(deps, blocked_who, period_key)
            result.blocked.append(user)
    return result


def apply_block(deps: Adapters, who: Identity, period_key: str) -> None:
    """Deny, alert, then record: a crash anywhere repeats idempotent steps, never skips one."""
    deps.deny.block(who)
    logger.warning("budget enforcement: denied Bedrock invoke", user=who.user, period=period_key)
    deps.publisher.publish(enforcement_alert(who.user, period_key, blocked=True))
    deps.store.record_block(who.user, period_key, who.principal, state="blocked")


def lift_block(deps: Adapters, user: str, *, reason: Literal["manual", "period-reset"]) -> dict[str, str] | None:
    """Remove the deny on ``user``; return the block lifted (``None`` if there was none).

    By hand (``bedrock-cost budget unblock``) the user stays unblocked until the period
    resets, although the total is still over budget (a ``lifted`` record stops the next
    batch re-blocking); at the reset the record is forgotten.
    """
    found = next((b for b in deps.store.blocks() if b["user"] == user), None)
    if found is None or (reason == "manual" and found["state"] == "lifted"):
        return None
    if found["state"] == "blocked":
        deps.deny.unblock(identify(found["principal"]))
        logger.warning("budget enforcement: lifted Bedrock deny", user=user, period=found["period"], reason=reason)
        deps.publisher.publish(enforcement_alert(user, found["period"], blocked=False, reason=reason))
    if reason == "manual":
        deps.store.record_block(user, found["period"], found["principal"], state="lifted")
    else:
        deps.store.forget_block(user)
    return found


@dataclass
class DailyCloseResult:
    lifted: list[str] = field(default_factory=list)
    slow_burn_alerts: list[str] = field(default_factory=list)


def run_daily_close(deps: Adapters, settings: IngestSettings, now: datetime) -> DailyCloseResult:
    """Lift every block whose budget period has reset (the schedule runs just after 00:00 UTC),
    then judge the day just closed for slow burn."""
    result = DailyCloseResult()
    for block in deps.store.blocks():
        if period_ended(block["period"], now) and lift_block(deps, block["user"], reason="period-reset"):
            result.lifted.append(block["user"])
    result.slow_burn_alerts = run_slow_burn(deps, settings, (now - timedelta(days=1)).date())
    return result


def run_slow_burn(deps: Adapters, settings: IngestSettings, day: date) -> list[str]:
    """Each user's and customer's spend on ``day`` against its trailing 14 days, from the day
    counters; one alert per subject value and day (a redelivered schedule event sends none)."""
    subjects = [s for s in deps.store.subjects(day.isoformat()) if s[0] in SLOW_BURN_SUBJECTS]
    days = history_days(day)
    keys = {(s, v, d): counter_key(s, v, d.isoformat()) for s, v in subjects for d in days}
    totals = deps.store.totals(list(keys.values()))
    series: dict[tuple[str, str], dict[date, int]] = {}
    for (subject, value, d), key in keys.items():
        if key in totals:
            series.setdefault((subject, value), {})[d] = totals[key]
    return [a.dedupe_key for a in judge(day, series, settings.slow_burn_sigma) if deps.publisher.publish(a)]


def enforcement_alert(user: str, period_key: str, *, blocked: bool, reason: str = "budget") -> Alert:
    action = "blocked" if blocked else "unblocked"
    return Alert(
        kind="budget_threshold",
        # Once per user, period and action: a retried step cannot send it twice.
        dedupe_key=f"request-budget-{action}#{user}#{period_key}",
        title=f"Bedrock invoke {action} for {user}",
        severity="critical" if blocked else "info",
        period=period_key,
        subject={"user": user, "action": action, "reason": reason},
        details=[
            "Deny policy on bedrock:InvokeModel* (InvokeModel, Converse and their streams), on this principal only."
        ],
    )


def _quarantine(s3: S3Client, bucket: str, log_group: str, bad: list[dict[str, str]]) -> None:
    body = "\n".join(json.dumps(item) for item in bad).encode()
    digest = hashlib.sha256(body).hexdigest()[:16]
    key = f"quarantine/{datetime.now(UTC):%Y/%m/%d}/{log_group.strip('/').replace('/', '_')}-{digest}.jsonl"
    s3.put_object(Bucket=bucket, Key=key, Body=body, ServerSideEncryption="AES256")


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if isinstance(event, dict) and event.get("ledger") == "daily-close":
        closed = run_daily_close(wiring.get(), load_environment(), datetime.now(UTC))
        logger.info("request ledger daily close", **asdict(closed))
        return asdict(closed)
    result = run_ingest(event, wiring.get(), load_environment())
    # Each series costs $0.30 a month when it gets data every hour: the record count is in the
    # batch's log line (Logs Insights), and the two exception counts are published only in a
    # batch that has some (a missing point reads as zero on a graph).
    if result.malformed:
        metrics.add_metric(name="MalformedInvocationRecords", unit=MetricUnit.Count, value=result.malformed)
    if result.unpriced:
        metrics.add_metric(name="UnpricedInvocationRecords", unit=MetricUnit.Count, value=result.unpriced)
    logger.info("invocation-log batch", **asdict(result))
    return asdict(result)
