"""Running totals, per-user and per-metadata budgets, and the deny policy that enforces them.

Counters: every priced request adds its cost (integer micro-dollars, rounded per request)
and one request to ``user=<user>``, ``meta:<key>=<value>`` for each request-metadata key
and ``tag:<key>=<value>`` for each application-profile tag, each for its UTC day and month.

Budgets (config ``request_logs.budgets``): ``subject`` is ``user`` (every user, ``value``
``*``) or one ``meta:<key>``/``tag:<key>``/``user`` value, with a ``period`` (``day`` or
``month``) and a limit. Thresholds 50/75/90/100 % alert once per subject, period and
threshold (the alert publisher's dedupe key). With ``enforce`` a user past 100 % is denied
``bedrock:InvokeModel*`` (which also covers Converse) by :func:`deny_policy` until the period
resets or ``bedrock-cost budget unblock --user U``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, Literal

from bedrock_cost.domain.alerts import Alert
from bedrock_cost.domain.identity import Identity

Period = Literal["day", "month"]
THRESHOLDS: Final = (50, 75, 90, 100)
DENIED_ACTIONS: Final = ("bedrock:InvokeModel*",)
"""Converse and ConverseStream are authorised by ``bedrock:InvokeModel`` and
``bedrock:InvokeModelWithResponseStream``: IAM has no ``bedrock:Converse*`` action (the
policy linter rejects it), so ``InvokeModel*`` denies all four operations."""


@dataclass(frozen=True)
class Budget:
    subject: str
    """``user``, ``meta:<key>`` or ``tag:<key>``."""
    value: str
    """One value, or ``*`` for every value of the subject (the default per-user budget)."""
    period: Period
    limit_usd: Decimal
    enforce: bool = False

    def applies_to(self, subject: str, value: str) -> bool:
        return self.subject == subject and self.value in ("*", value)


def counter_keys(who: Identity, metadata: Mapping[str, str], tags: Mapping[str, str]) -> list[tuple[str, str]]:
    """The (subject, value) counters one request adds to."""
    keys = [("user", who.user)]
    keys += [(f"meta:{k}", v) for k, v in sorted(metadata.items())]
    keys += [(f"tag:{k}", v) for k, v in sorted(tags.items())]
    return keys


def period_of(period: Period, timestamp: str) -> str:
    return timestamp[:10] if period == "day" else timestamp[:7]


def crossed(total_micro: int, limit_usd: Decimal) -> list[int]:
    """Thresholds (percent) reached by ``total_micro`` against ``limit_usd``."""
    limit_micro = limit_usd * 1_000_000
    return [t for t in THRESHOLDS if Decimal(total_micro) * 100 >= limit_micro * t]


def budget_alert(budget: Budget, value: str, period_key: str, threshold: int, total_micro: int) -> Alert:
    spent = Decimal(total_micro) / 1_000_000
    label = f"{budget.subject}={value}"
    return Alert(
        kind="budget_threshold",
        dedupe_key=f"request-budget#{label}#{budget.period}#{period_key}#{threshold}",
        title=f"{label} has spent {threshold}% of its {budget.period}ly Bedrock budget",
        severity="critical" if threshold >= 100 else "warning",
        period=period_key,
        figures={"spent_usd": f"{spent:.6f}", "budget_usd": str(budget.limit_usd), "threshold_pct": str(threshold)},
        subject={"subject": budget.subject, "value": value, "clock": "invocation-logs"},
        details=["Per-request estimate from Bedrock invocation logs (list or CUR-calibrated prices)."],
    )


def evaluate(
    budgets: Iterable[Budget], totals: Mapping[tuple[str, str, str], int]
) -> tuple[list[Alert], list[tuple[Budget, str, str]]]:
    """Alerts due for ``totals`` ((subject, value, period_key) -> micro-dollars) and users to block."""
    alerts: list[Alert] = []
    blocks: list[tuple[Budget, str, str]] = []
    for budget in budgets:
        for (subject, value, period_key), micro in sorted(totals.items()):
            if not budget.applies_to(subject, value) or len(period_key) != (10 if budget.period == "day" else 7):
                continue
            reached = crossed(micro, budget.limit_usd)
            alerts.extend(budget_alert(budget, value, period_key, t, micro) for t in reached)
            if budget.enforce and subject == "user" and 100 in reached:
                blocks.append((budget, value, period_key))
    return alerts, blocks


def period_ended(period_key: str, now: datetime) -> bool:
    """Whether a block's period (``YYYY-MM-DD`` or ``YYYY-MM``) is over at ``now`` (UTC)."""
    current = now.strftime("%Y-%m-%d") if len(period_key) == 10 else now.strftime("%Y-%m")
    return period_key < current


def deny_policy_name(user: str) -> str:
    return "bedrock-cost-budget-deny-" + hashlib.sha256(user.encode()).hexdigest()[:16]


def deny_policy(who: Identity) -> dict[str, Any]:
    """An inline deny for one person or workload, conditioned on the principal.

    Assumed-role sessions are matched on ``aws:userid`` (``<role-id>:<session>``) so only
    that session is denied, not every user of the role; IAM users on ``aws:PrincipalArn``.
    """
    if who.session and who.kind == "person":
        condition = {"StringLike": {"aws:userid": f"*:{who.session}"}}
    else:
        condition = {"StringEquals": {"aws:PrincipalArn": who.principal}}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "BedrockCostBudgetExceeded",
                "Effect": "Deny",
                "Action": list(DENIED_ACTIONS),
                "Resource": "*",
                "Condition": condition,
            }
        ],
    }


def deny_policy_json(who: Identity) -> str:
    return json.dumps(deny_policy(who), separators=(",", ":"))
