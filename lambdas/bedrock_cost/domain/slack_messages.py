"""Slack Block Kit messages, one shape per alert kind.

A person reading Slack needs, in this order: what happened and how bad (header), the
numbers that prove it (fields), what it is about (model, tag, budget, resource), when
(period) and where to act (console button). Each kind lists the figures it shows first;
figures a producer adds later still appear, after those, so a new figure never needs a
renderer change. Money arrives as Decimal strings and is formatted here, never through
a float.

Slack limits are enforced here rather than discovered as HTTP 400s: header text 150
characters, section text 3,000, field text 2,000, 10 fields per section.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from bedrock_cost.domain.alerts import Alert, AlertKind

Payload = dict[str, Any]

HEADER_LIMIT = 150
TEXT_LIMIT = 3000
FIELD_LIMIT = 2000
MAX_FIELDS = 10

SEVERITY_EMOJI = {"critical": ":rotating_light:", "warning": ":warning:", "info": ":information_source:"}

KIND_LABEL: dict[AlertKind, str] = {
    "budget_threshold": "Budget threshold",
    "forecast_overrun": "Forecast overrun",
    "anomaly": "Cost anomaly",
    "token_spike": "Token spike",
    "unpriced_model": "Unpriced model",
    "tag_violation": "Tag violation",
    "untagged_spend": "Untagged spend",
    "estimate_drift": "Estimate drift",
    "recommendations": "Savings recommendations",
    "slow_burn": "Slow burn",
}

PRIMARY_FIGURES: dict[AlertKind, tuple[str, ...]] = {
    "budget_threshold": ("spent_usd", "budget_usd", "used_pct", "threshold_pct", "threshold_usd"),
    "forecast_overrun": (
        "projected_usd",
        "forecast_usd",
        "budget_usd",
        "projected_pct",
        "month_to_date_usd",
        "daily_rate_usd",
        "crosses_on",
    ),
    "anomaly": ("impact_usd", "impact_pct", "actual_usd", "expected_usd", "observed", "threshold"),
    "token_spike": ("input_tokens_5min", "observed", "threshold", "period_minutes"),
    "unpriced_model": ("unpriced_tokens", "observed", "threshold"),
    "tag_violation": ("missing_keys", "invalid_values", "non_compliant_resources"),
    "untagged_spend": ("untagged_usd", "share_pct", "total_usd"),
    "estimate_drift": ("drift_pct", "estimated_usd", "billed_usd", "threshold_pct"),
    "recommendations": ("monthly_saving_usd", "monthly_spend_usd", "recommendations"),
    "slow_burn": ("spent_usd", "baseline_usd", "std_usd", "sigmas_above", "threshold_sigma"),
}

FIGURE_LABEL = {
    "monthly_saving_usd": "Savings a month",
    "monthly_spend_usd": "Monthly usage",
    "recommendations": "Recommendations",
    "spent_usd": "Spent",
    "baseline_usd": "Baseline (14 days)",
    "std_usd": "Standard deviation",
    "sigmas_above": "Above baseline (sigma)",
    "threshold_sigma": "Threshold (sigma)",
    "budget_usd": "Budget",
    "used_pct": "Used",
    "threshold_pct": "Threshold",
    "threshold_usd": "Threshold",
    "projected_usd": "Projected month-end",
    "forecast_usd": "Forecast",
    "projected_pct": "Projected vs budget",
    "month_to_date_usd": "Month to date",
    "daily_rate_usd": "Daily rate",
    "crosses_on": "Budget reached on",
    "impact_usd": "Impact",
    "impact_pct": "Impact",
    "actual_usd": "Actual spend",
    "expected_usd": "Expected spend",
    "max_daily_impact_usd": "Max daily impact",
    "observed": "Observed",
    "threshold": "Threshold",
    "period_minutes": "Period (min)",
    "input_tokens_5min": "Input tokens (5 min)",
    "unpriced_tokens": "Unpriced tokens",
    "missing_keys": "Missing tag keys",
    "invalid_values": "Invalid values",
    "non_compliant_resources": "Non-compliant resources",
    "untagged_usd": "Untagged cost",
    "share_pct": "Share of total",
    "total_usd": "Total cost",
    "drift_pct": "Drift",
    "estimated_usd": "Estimated",
    "billed_usd": "Billed",
    "days_of_data": "Days of data",
    "datapoints": "Datapoints",
    "changed_at": "Changed at",
    "state": "State",
    "budget_period": "Budget period",
    "started": "Started",
    "ended": "Ended",
}

SUBJECT_LABEL = {
    "model": "Model",
    "tag_key": "Tag key",
    "tag_value": "Tag value",
    "budget": "Budget",
    "resource_arn": "Resource",
    "principal": "Principal",
    "service": "Service",
    "monitor": "Monitor",
    "alarm": "Alarm",
    "account": "Account",
    "region": "Region",
}

_HIDDEN_FIGURES = frozenset({"state"})
_HIDDEN_SUBJECT = frozenset({"monitor_arn", "contributor", "rule"})


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _escape(text: str) -> str:
    """Escape the three characters Slack mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def format_usd(value: str) -> str:
    """``'12345.678'`` -> ``'$12,345.68'``; sub-dollar amounts keep four decimals."""
    try:
        number = Decimal(value)
    except InvalidOperation:
        return value
    sign = "-" if number < 0 else ""
    magnitude = abs(number)
    if magnitude >= 1:
        return f"{sign}${magnitude.quantize(Decimal('0.01'), ROUND_HALF_UP):,}"
    return f"{sign}${magnitude.quantize(Decimal('0.0001'), ROUND_HALF_UP)}"


def format_number(value: str) -> str:
    try:
        number = Decimal(value)
    except InvalidOperation:
        return value
    if number == number.to_integral_value():
        return f"{int(number):,}"
    return f"{number.normalize():,f}"


def format_figure(key: str, value: str) -> str:
    if key.endswith("_usd"):
        return format_usd(value)
    if key.endswith("_pct"):
        try:
            return f"{Decimal(value).quantize(Decimal('0.1'), ROUND_HALF_UP)} %"
        except InvalidOperation:
            return value
    if key.endswith(("_tokens", "_5min", "_resources")) or key in {"observed", "threshold"}:
        return format_number(value)
    return value


def _label(key: str, labels: dict[str, str]) -> str:
    return labels.get(key) or key.replace("_", " ").capitalize()


def _ordered_figures(alert: Alert) -> list[tuple[str, str]]:
    primary = [key for key in PRIMARY_FIGURES[alert.kind] if key in alert.figures]
    rest = sorted(key for key in alert.figures if key not in primary and key not in _HIDDEN_FIGURES)
    return [(key, alert.figures[key]) for key in (*primary, *rest)]


def _fields(alert: Alert) -> list[dict[str, str]]:
    fields: list[dict[str, str]] = []
    seen_labels: set[str] = set()
    for key, value in _ordered_figures(alert):
        label = _label(key, FIGURE_LABEL)
        if label in seen_labels:  # e.g. threshold_pct and threshold_usd: keep the first
            continue
        seen_labels.add(label)
        text = f"*{_escape(label)}*\n{_escape(format_figure(key, value))}"
        fields.append({"type": "mrkdwn", "text": _truncate(text, FIELD_LIMIT)})
    return fields[:MAX_FIELDS]


def _subject_line(alert: Alert) -> str | None:
    parts = []
    subject = dict(alert.subject)
    if "tag_key" in subject and "tag_value" in subject:
        parts.append(f"*Tag* `{_escape(subject.pop('tag_key'))}={_escape(subject.pop('tag_value'))}`")
    for key in sorted(subject):
        if key in _HIDDEN_SUBJECT:
            continue
        parts.append(f"*{_escape(_label(key, SUBJECT_LABEL))}* `{_escape(subject[key])}`")
    return "  ·  ".join(parts) if parts else None


def render(alert: Alert) -> Payload:
    """The Slack webhook payload for ``alert``: Block Kit blocks plus a notification text."""
    emoji = SEVERITY_EMOJI[alert.severity]
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _truncate(f"{emoji} {alert.title}", HEADER_LIMIT), "emoji": True},
        }
    ]
    subject_line = _subject_line(alert)
    if subject_line:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _truncate(subject_line, TEXT_LIMIT)}})
    fields = _fields(alert)
    if fields:
        blocks.append({"type": "section", "fields": fields})
    if alert.details:
        details = "\n".join(f"• {_escape(line)}" for line in alert.details)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _truncate(details, TEXT_LIMIT)}})
    if alert.console_url:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open in AWS console"},
                        "url": alert.console_url,
                        "action_id": "open_console",
                    }
                ],
            }
        )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"{KIND_LABEL[alert.kind]}  ·  period {_escape(alert.period)}  ·  "
                    f"severity {alert.severity}  ·  {_escape(alert.source)}",
                }
            ],
        }
    )
    return {"text": _truncate(f"{KIND_LABEL[alert.kind]}: {alert.title}", TEXT_LIMIT), "blocks": blocks}


def render_unrecognised(message: str, subject: str | None, reason: str) -> Payload:
    """A message nobody could parse is still shown to people, verbatim, never dropped."""
    title = subject or "Unrecognised notification on the Bedrock cost alert topic"
    body = _truncate(message, TEXT_LIMIT - 20)
    return {
        "text": _truncate(title, TEXT_LIMIT),
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": _truncate(f":grey_question: {title}", HEADER_LIMIT)},
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": f"```{_escape(body)}```"}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": _truncate(_escape(reason), TEXT_LIMIT)}]},
        ],
    }
