"""Plain-text e-mail bodies for our alerts, one shape per ``AlertKind``.

SNS e-mail subscribers used to receive the raw JSON envelope. Our alerts are now
published with ``MessageStructure=json``: the ``email`` entry is the text rendered here,
every other protocol (``default``, ``sqs``, ``lambda``, ``email-json``, ``https``) keeps
the JSON envelope that machines parse. The messages AWS Budgets, Cost Anomaly
Detection and CloudWatch alarms publish to the same topic are theirs and pass through
unchanged.

Pure: no I/O. Figures are already display-ready strings (money as Decimal text).
"""

from __future__ import annotations

import json
from typing import Final

from bedrock_cost.domain.alerts import Alert, AlertKind

INTRO: Final[dict[AlertKind, str]] = {
    "budget_threshold": "Bedrock spend crossed a budget threshold.",
    "forecast_overrun": "Bedrock spend is on course to exceed its budget by the end of the period.",
    "anomaly": "Bedrock spend or usage is behaving unusually.",
    "token_spike": "Bedrock token usage spiked above its threshold.",
    "unpriced_model": "A model is in use that has no price: its tokens are counted but not costed.",
    "tag_violation": "A Bedrock resource breaks the tagging rules.",
    "untagged_spend": "Bedrock spend lacks the required cost-allocation tags.",
    "estimate_drift": "The near-real-time estimate drifted from the bill.",
    "recommendations": "This week's savings advice from the bill: each item with its monthly dollars.",
    "slow_burn": "A user's or customer's daily Bedrock spend rose far above its own trailing 14-day baseline.",
}
"""The first sentence of each kind's e-mail: what happened, in words."""

ACTION: Final[dict[AlertKind, str]] = {
    "budget_threshold": "Check the cost by model and by tag (bedrock-cost report) and the budget in AWS Budgets.",
    "forecast_overrun": "Review the burn rate per team; raise the budget or slow the spend before month end.",
    "anomaly": "Open the dashboard and compare with the last days; confirm the traffic is expected.",
    "token_spike": "Find the caller (bedrock-cost report --by principal) and confirm the traffic is expected.",
    "unpriced_model": "Add the model's price under pricing.overrides in the config, or update the catalog.",
    "tag_violation": "Tag the resource as the policy requires (bedrock-cost tags check --fix in remediate mode).",
    "untagged_spend": "Tag the top resources and principals listed above.",
    "estimate_drift": "Refresh prices (bedrock-cost pricing) and check pricing.overrides and discounts.",
    "recommendations": "Review the items above (bedrock-cost recommend) and act on the largest first.",
    "slow_burn": "Compare the day with the ones before (bedrock-cost requests --by user or meta:customer, --by model) "
    "and check for a prompt or context that grew.",
}


def _label(name: str) -> str:
    return name.replace("_usd", " (USD)").replace("_pct", " (%)").replace("_", " ")


def render_email(alert: Alert) -> str:
    """The plain-text body for ``alert`` (one shape per kind, every figure and detail kept)."""
    lines = [alert.title, "", INTRO[alert.kind], ""]
    lines.append(f"Severity: {alert.severity}")
    lines.append(f"Period:   {alert.period}")
    if alert.subject:
        lines.append("")
        lines.extend(f"{_label(key)}: {value}" for key, value in sorted(alert.subject.items()))
    if alert.figures:
        lines.append("")
        width = max(len(_label(key)) for key in alert.figures)
        lines.extend(f"{_label(key).ljust(width)}  {value}" for key, value in sorted(alert.figures.items()))
    if alert.details:
        lines.append("")
        lines.extend(f"- {detail}" for detail in alert.details)
    lines.extend(["", f"What to do: {ACTION[alert.kind]}"])
    if alert.console_url:
        lines.extend(["", f"Console: {alert.console_url}"])
    lines.extend(["", f"Alert kind {alert.kind}, de-duplication key {alert.dedupe_key}.", ""])
    return "\n".join(lines)


def sns_message(alert: Alert) -> str:
    """The ``Message`` for ``Publish(MessageStructure='json')``: text for e-mail, the envelope elsewhere."""
    envelope = alert.to_json()
    return json.dumps(
        {
            "default": envelope,
            "email": render_email(alert),
            "email-json": envelope,
            "sqs": envelope,
            "lambda": envelope,
        },
        separators=(",", ":"),
    )
