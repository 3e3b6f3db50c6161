"""The alert envelope every producer publishes to the alert topic.

Our own Lambdas (estimator, tag-enforcer, CUR reporter, burn-rate forecast) publish an
``Alert`` as JSON; AWS Budgets, Cost Anomaly Detection and CloudWatch alarms publish
their own formats to the same topic and the notifier parses those separately. One
envelope means one Slack renderer per kind and one de-duplication rule: a
``dedupe_key`` is delivered once.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

AlertKind = Literal[
    "budget_threshold",
    "forecast_overrun",
    "anomaly",
    "token_spike",
    "unpriced_model",
    "tag_violation",
    "untagged_spend",
    "estimate_drift",
    "recommendations",
    "slow_burn",
]
Severity = Literal["info", "warning", "critical"]

ENVELOPE_VERSION = 1
"""Bump when a field changes meaning; consumers reject versions they don't know."""


@dataclass(frozen=True)
class Alert:
    """One alert, as published to SNS (``Message`` = ``to_json()``).

    ``figures`` hold display-ready values (money as Decimal strings, never floats) keyed
    by a short name such as ``spent_usd`` or ``budget_usd``; ``subject`` names what the
    alert is about (``model``, ``tag_key``/``tag_value``, ``resource_arn``...).
    """

    kind: AlertKind
    dedupe_key: str
    title: str
    severity: Severity
    period: str
    figures: dict[str, str] = field(default_factory=dict)
    subject: dict[str, str] = field(default_factory=dict)
    details: list[str] = field(default_factory=list)
    console_url: str | None = None
    source: str = "bedrock-cost-tracker"
    version: int = ENVELOPE_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @property
    def sns_subject(self) -> str:
        """SNS subjects are limited to 100 printable ASCII characters."""
        text = f"[Bedrock cost] {self.title}".encode("ascii", "replace").decode("ascii")
        return text[:100]

    @classmethod
    def from_json(cls, text: str) -> Alert:
        """Parse an envelope; raise ``ValueError`` naming what is wrong."""
        try:
            data: Any = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"alert is not JSON: {exc}") from None
        if not isinstance(data, dict) or data.get("source") != "bedrock-cost-tracker":
            raise ValueError("not a bedrock-cost-tracker alert envelope")
        if data.get("version") != ENVELOPE_VERSION:
            raise ValueError(f"unsupported alert envelope version {data.get('version')!r}")
        if data.get("kind") not in get_args(AlertKind):
            raise ValueError(f"unknown alert kind {data.get('kind')!r}")
        try:
            return cls(**data)
        except TypeError as exc:
            raise ValueError(f"malformed alert envelope: {exc}") from None
