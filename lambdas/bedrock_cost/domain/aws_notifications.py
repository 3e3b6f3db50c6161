"""Turn whatever arrives on the alert topic into one ``Alert``.

Four producers share the topic, each with its own format:

- our Lambdas publish the ``Alert`` envelope (JSON, ``source = bedrock-cost-tracker``);
- CloudWatch publishes alarm state changes as JSON (``AlarmName``, ``NewStateValue``,
  ``Trigger`` for metric alarms, ``AlarmRule`` for composite alarms);
- Cost Anomaly Detection publishes anomalies as JSON (``anomalyId``, ``impact``...);
- AWS Budgets publishes plain text (``AWS Budget Notification <date>`` ...).

Parsing them all into the envelope means the notifier has one renderer per alert kind
and never formats raw AWS payloads. Numbers are read as ``Decimal`` (``json.loads``
with ``parse_float=Decimal``) so money never passes through a float. A message that
matches none of the formats raises ``UnrecognisedNotificationError``: the caller forwards it
as-is rather than dropping it.

Alarm descriptions carry a marker (``alarm_marker``) written by the CDK code, naming the
alert kind, severity and subject, because alarm names are generated and CloudWatch's
payload says nothing about what an alarm means to us.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, get_args
from urllib.parse import quote, unquote

from bedrock_cost.domain.alerts import Alert, AlertKind, Severity
from bedrock_cost.metric_names import ESTIMATE_DRIFT, ESTIMATED_COST, NON_COMPLIANT, TAG_COMPLIANCE, UNPRICED_TOKENS

Origin = Literal["envelope", "cloudwatch_alarm", "cost_anomaly", "budgets"]

_MARKER_PREFIX = "[bedrock-cost-tracker"
_MARKER_RE = re.compile(r"\[bedrock-cost-tracker((?:\s+[A-Za-z_]+=[^\s\]]*)*)\s*\]")
_MARKER_PAIR_RE = re.compile(r"([A-Za-z_]+)=([^\s\]]*)")
_REASON_VALUE_RE = re.compile(r"\[([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*\(")
_BUDGET_DATE_RE = re.compile(r"AWS Budget Notification\s+([A-Z][a-z]+ \d{1,2}, \d{4})")
_BUDGET_ACCOUNT_RE = re.compile(r"AWS Account\s+(\d{12})")
_BUDGET_LINK_RE = re.compile(r"\[1\]\s+(https://\S+)")
_MONEY_RE = re.compile(r"\$\s*([\d,]+(?:\.\d+)?)")
_METRIC_KINDS: dict[str, AlertKind] = {
    "InputTokenCount": "token_spike",
    "OutputTokenCount": "token_spike",
    UNPRICED_TOKENS: "unpriced_model",
    ESTIMATED_COST: "budget_threshold",
    ESTIMATE_DRIFT: "estimate_drift",
    TAG_COMPLIANCE: "tag_violation",
    NON_COMPLIANT: "tag_violation",
}
_MODEL_ATTRIBUTE_KEYS = ("ModelId", "Model", "modelId", "model")


class UnrecognisedNotificationError(ValueError):
    """The message is none of the formats the topic is expected to carry."""


@dataclass(frozen=True)
class ParsedNotification:
    """An alert and where it came from (only envelopes are de-duplicated by key)."""

    alert: Alert
    origin: Origin


# --------------------------------------------------------------------------- markers


def alarm_marker(kind: AlertKind, severity: Severity, subject: dict[str, str] | None = None) -> str:
    """The tag the CDK code appends to an alarm description, parsed back by ``parse``.

    Values are URL-quoted so tag values with spaces or brackets survive the round trip.
    """
    if kind not in get_args(AlertKind):
        raise ValueError(f"unknown alert kind {kind!r}")
    if severity not in get_args(Severity):
        raise ValueError(f"unknown severity {severity!r}")
    pairs = [f"kind={kind}", f"severity={severity}"]
    for key, value in sorted((subject or {}).items()):
        if not re.fullmatch(r"[A-Za-z_]+", key):
            raise ValueError(f"marker subject key {key!r} must be letters and underscores")
        pairs.append(f"{key}={quote(value, safe='')}")
    return f"{_MARKER_PREFIX} {' '.join(pairs)}]"


@dataclass(frozen=True)
class AlarmMarker:
    kind: AlertKind
    severity: Severity
    subject: dict[str, str]


def parse_alarm_marker(description: str | None) -> AlarmMarker | None:
    """Read the marker back from an alarm description; ``None`` when absent or invalid."""
    if not description:
        return None
    match = _MARKER_RE.search(description)
    if match is None:
        return None
    pairs = {key: unquote(value) for key, value in _MARKER_PAIR_RE.findall(match.group(1))}
    kind = pairs.pop("kind", None)
    severity = pairs.pop("severity", "warning")
    if kind not in get_args(AlertKind) or severity not in get_args(Severity):
        return None
    return AlarmMarker(kind=kind, severity=severity, subject=pairs)  # type: ignore[arg-type]


def strip_marker(description: str | None) -> str:
    """The human part of an alarm description."""
    if not description:
        return ""
    return _MARKER_RE.sub("", description).strip()


# --------------------------------------------------------------------------- entry point


def parse_notification(message: str, subject: str | None = None) -> ParsedNotification:
    """Recognise the format of one SNS ``Message`` and convert it to an ``Alert``."""
    stripped = message.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise UnrecognisedNotificationError(f"message looks like JSON but is not: {exc}") from None
        if not isinstance(data, dict):
            raise UnrecognisedNotificationError("JSON message is not an object")
        if data.get("source") == "bedrock-cost-tracker":
            try:
                return ParsedNotification(Alert.from_json(stripped), "envelope")
            except ValueError as exc:
                raise UnrecognisedNotificationError(str(exc)) from None
        if "AlarmName" in data and "NewStateValue" in data:
            return ParsedNotification(_from_cloudwatch_alarm(data), "cloudwatch_alarm")
        if "anomalyId" in data and "impact" in data:
            return ParsedNotification(_from_cost_anomaly(data), "cost_anomaly")
        raise UnrecognisedNotificationError("JSON message is neither an alert envelope, an alarm nor an anomaly")
    if "Budget Name:" in message and ("AWS Budget" in message or (subject or "").startswith("AWS Budgets")):
        return ParsedNotification(_from_budgets(message, subject), "budgets")
    raise UnrecognisedNotificationError("message is not in a format this topic carries")


# --------------------------------------------------------------------------- CloudWatch


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value)


def _decimal_str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return _plain(number)


def _plain(number: Decimal) -> str:
    """``Decimal`` as a plain string: no exponent, no trailing zeros beyond the point."""
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _cloudwatch_time(value: str) -> datetime | None:
    # "2026-11-24T10:10:12.345+0000"
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None


def _region_from_arn(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 and parts[3] else None


def _alarm_console_url(arn: str, name: str) -> str | None:
    region = _region_from_arn(arn)
    if region is None:
        return None
    base = f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
    return f"{base}#alarmsV2:alarm/{quote(name, safe='')}"


def _model_from_alarm(data: dict[str, Any], trigger: dict[str, Any]) -> str | None:
    for dimension in trigger.get("Dimensions") or []:
        if isinstance(dimension, dict) and dimension.get("name") in _MODEL_ATTRIBUTE_KEYS:
            return str(dimension.get("value"))
    for key in ("AlarmContributorAttributes", "ContributorAttributes"):
        attributes = data.get(key)
        if isinstance(attributes, dict):
            for attribute in _MODEL_ATTRIBUTE_KEYS:
                if attributes.get(attribute):
                    return str(attributes[attribute])
    return None


def _from_cloudwatch_alarm(data: dict[str, Any]) -> Alert:
    name = _text(data, "AlarmName")
    arn = _text(data, "AlarmArn")
    state = _text(data, "NewStateValue")
    reason = _text(data, "NewStateReason")
    changed = _text(data, "StateChangeTime")
    description = data.get("AlarmDescription")
    trigger = data.get("Trigger") if isinstance(data.get("Trigger"), dict) else {}
    assert isinstance(trigger, dict)  # narrow for mypy
    composite = "AlarmRule" in data and not trigger

    marker = parse_alarm_marker(description if isinstance(description, str) else None)
    metric_name = _text(trigger, "MetricName")
    kind: AlertKind = marker.kind if marker else _METRIC_KINDS.get(metric_name, "anomaly")
    severity: Severity = marker.severity if marker else ("critical" if composite else "warning")
    if state != "ALARM":
        severity = "info"

    subject: dict[str, str] = {"alarm": name}
    if marker:
        subject.update(marker.subject)
    model = _model_from_alarm(data, trigger)
    if model:
        subject["model"] = model
    contributor = data.get("AlarmContributorId")
    if contributor:
        subject["contributor"] = str(contributor)

    figures: dict[str, str] = {"state": state}
    if not composite:
        threshold = _decimal_str(trigger.get("Threshold"))
        if threshold is not None:
            figures["threshold"] = threshold
        value = _REASON_VALUE_RE.search(reason)
        if value:
            figures["observed"] = _plain(Decimal(value.group(1)))
        period = trigger.get("Period")
        if isinstance(period, int | Decimal) and int(period) > 0:
            figures["period_minutes"] = _plain(Decimal(int(period)) / 60)
        evaluation = trigger.get("EvaluationPeriods")
        if evaluation is not None:
            datapoints = trigger.get("DatapointsToAlarm") or evaluation
            figures["datapoints"] = f"{datapoints} of {evaluation}"
    else:
        subject["rule"] = _text(data, "AlarmRule")

    when = _cloudwatch_time(changed)
    period_label = when.strftime("%Y-%m") if when else "unknown"
    if when:
        figures["changed_at"] = when.strftime("%Y-%m-%d %H:%M UTC")

    human = strip_marker(description if isinstance(description, str) else None)
    prefix = {"ALARM": "", "OK": "Resolved: "}.get(state, f"{state}: ")
    title = f"{prefix}{(human or name).rstrip('. ')}"
    if model and model not in title:
        title = f"{title}: {model}"
    details = [reason] if reason else []
    return Alert(
        kind=kind,
        dedupe_key=f"alarm#{arn or name}#{contributor or '-'}#{state}#{changed}",
        title=title[:150],
        severity=severity,
        period=period_label,
        figures=figures,
        subject=subject,
        details=details,
        console_url=_alarm_console_url(arn, name) if arn else None,
    )


# --------------------------------------------------------------------------- Cost Anomaly Detection


def _from_cost_anomaly(data: dict[str, Any]) -> Alert:
    impact = data.get("impact") if isinstance(data.get("impact"), dict) else {}
    assert isinstance(impact, dict)
    figures: dict[str, str] = {}
    for source, target in (
        ("totalImpact", "impact_usd"),
        ("totalActualSpend", "actual_usd"),
        ("totalExpectedSpend", "expected_usd"),
        ("totalImpactPercentage", "impact_pct"),
        ("maxImpact", "max_daily_impact_usd"),
    ):
        value = _decimal_str(impact.get(source))
        if value is not None:
            figures[target] = value
    if "impact_usd" not in figures:
        raise UnrecognisedNotificationError("anomaly message has no impact.totalImpact")

    start = _text(data, "anomalyStartDate")[:10]
    end = _text(data, "anomalyEndDate")[:10]
    if start:
        figures["started"] = start
    if end:
        figures["ended"] = end

    dimension = _text(data, "dimensionalValue")
    subject: dict[str, str] = {}
    if dimension:
        subject["service"] = dimension
    for key, target in (("monitorName", "monitor"), ("accountId", "account"), ("monitorArn", "monitor_arn")):
        if data.get(key):
            subject[target] = _text(data, key)

    details: list[str] = []
    for cause in data.get("rootCauses") or []:
        if not isinstance(cause, dict):
            continue
        parts = [
            str(cause[key])
            for key in ("service", "region", "usageType", "linkedAccountName", "linkedAccount")
            if cause.get(key)
        ]
        contribution = cause.get("impact", {}).get("contribution") if isinstance(cause.get("impact"), dict) else None
        if contribution is not None:
            parts.append(f"${_decimal_str(contribution)}")
        if parts:
            details.append("Root cause: " + " / ".join(parts))

    percent = Decimal(figures.get("impact_pct", "0"))
    severity: Severity = "critical" if percent >= 100 else "warning"
    period = start[:7] if len(start) >= 7 else "unknown"
    what = dimension or _text(data, "monitorName") or "Bedrock"
    return Alert(
        kind="anomaly",
        dedupe_key=f"cost-anomaly#{_text(data, 'anomalyId')}#{figures['impact_usd']}",
        title=f"Cost anomaly: {what}"[:150],
        severity=severity,
        period=period,
        figures=figures,
        subject=subject,
        details=details,
        console_url=_text(data, "anomalyDetailsLink") or None,
    )


# --------------------------------------------------------------------------- AWS Budgets


def _field(text: str, label: str) -> str | None:
    match = re.search(rf"^{re.escape(label)}:\s*(.+?)\s*$", text, re.MULTILINE)
    return match.group(1) if match else None


def _money(text: str | None) -> Decimal | None:
    if not text:
        return None
    match = _MONEY_RE.search(text)
    if not match:
        return None
    try:
        return Decimal(match.group(1).replace(",", ""))
    except InvalidOperation:
        return None


def _from_budgets(message: str, subject: str | None) -> Alert:
    name = _field(message, "Budget Name")
    alert_type = (_field(message, "Alert Type") or "").upper()
    budgeted = _money(_field(message, "Budgeted Amount"))
    threshold = _money(_field(message, "Alert Threshold"))
    amount = _money(_field(message, f"{alert_type} Amount")) if alert_type else None
    if not name or alert_type not in {"ACTUAL", "FORECASTED"} or amount is None:
        raise UnrecognisedNotificationError("budget notification lacks Budget Name, Alert Type or amount")

    date_match = _BUDGET_DATE_RE.search(message)
    sent: date | None = None
    if date_match:
        try:
            sent = datetime.strptime(date_match.group(1), "%B %d, %Y").date()
        except ValueError:
            sent = None
    daily = "per day" in message
    figures: dict[str, str] = {("forecast_usd" if alert_type == "FORECASTED" else "spent_usd"): _plain(amount)}
    if budgeted is not None:
        figures["budget_usd"] = _plain(budgeted)
    if threshold is not None:
        figures["threshold_usd"] = _plain(threshold)
        if budgeted:
            figures["threshold_pct"] = _plain((threshold * 100 / budgeted).quantize(Decimal("0.1")))
    if budgeted:
        figures["used_pct"] = _plain((amount * 100 / budgeted).quantize(Decimal("0.1")))
    figures["budget_period"] = "daily" if daily else "monthly"

    subject_fields = {"budget": name}
    account = _BUDGET_ACCOUNT_RE.search(message)
    if account:
        subject_fields["account"] = account.group(1)
    link = _BUDGET_LINK_RE.search(message)

    kind: AlertKind = "forecast_overrun" if alert_type == "FORECASTED" else "budget_threshold"
    over = budgeted is not None and amount >= budgeted
    severity: Severity = "critical" if over and alert_type == "ACTUAL" else "warning"
    verb = "is forecast to reach" if alert_type == "FORECASTED" else "has reached"
    title = f"Budget {name} {verb} ${amount.quantize(Decimal('0.01')):,}"
    if budgeted is not None:
        title += f" of ${budgeted.quantize(Decimal('0.01')):,}"
    first_line = next((line.strip() for line in message.splitlines() if line.strip().startswith("You requested")), "")
    return Alert(
        kind=kind,
        dedupe_key=f"budgets#{name}#{alert_type}#{figures.get('threshold_usd', '-')}#{sent or '-'}",
        title=title[:150],
        severity=severity,
        period=sent.strftime("%Y-%m") if sent else "unknown",
        figures=figures,
        subject=subject_fields,
        details=[first_line] if first_line else ([subject] if subject else []),
        console_url=link.group(1) if link else "https://console.aws.amazon.com/billing/home#/budgets",
    )


# --------------------------------------------------------------------------- anomaly scope


def is_bedrock_service(name: str) -> bool:
    """A Cost Explorer service name of Bedrock: first-party or a Marketplace "Bedrock Edition"."""
    text = name.strip()
    return text.startswith("Amazon Bedrock") or text.endswith("(Amazon Bedrock Edition)")


def anomaly_concerns_bedrock(message: str) -> bool:
    """Whether a Cost Anomaly Detection message is about Bedrock spend.

    The services monitor sees every service, so EC2 or S3 anomalies reach the topic too.
    An anomaly is Bedrock's when its dimensional value or any root cause names a Bedrock
    service. One that names no service at all (a tag monitor's) is kept: nothing says it
    is not Bedrock's, and dropping an alert is worse than one too many.
    """
    try:
        data = json.loads(message)
    except json.JSONDecodeError:
        return True
    if not isinstance(data, dict):
        return True
    services = [str(data["dimensionalValue"])] if data.get("dimensionalValue") else []
    for cause in data.get("rootCauses") or []:
        if isinstance(cause, dict) and cause.get("service"):
            services.append(str(cause["service"]))
    return not services or any(is_bedrock_service(name) for name in services)
