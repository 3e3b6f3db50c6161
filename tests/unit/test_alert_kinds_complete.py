"""Every alert kind has every rendering: a new kind cannot reach a subscriber as a KeyError.

Given the ``AlertKind`` literal, when each renderer's per-kind table is read, then none
lacks a kind, and an alert of each kind renders as e-mail text and as a Slack message.
"""

from __future__ import annotations

import json
from typing import get_args

import pytest

from bedrock_cost.domain import alert_email, slack_messages
from bedrock_cost.domain.alerts import Alert, AlertKind

pytestmark = pytest.mark.unit

KINDS = set(get_args(AlertKind))


@pytest.mark.parametrize(
    "table",
    [alert_email.INTRO, alert_email.ACTION, slack_messages.KIND_LABEL, slack_messages.PRIMARY_FIGURES],
    ids=["email-intro", "email-action", "slack-label", "slack-figures"],
)
def test_every_kind_has_an_entry(table: dict[str, object]) -> None:
    assert set(table) == KINDS


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_renders_for_email_and_slack(kind: str) -> None:
    alert = Alert(
        kind=kind,  # type: ignore[arg-type]
        severity="warning",
        title=f"A {kind} alert",
        period="2026-11",
        dedupe_key=f"{kind}#2026-11",
        figures={"spent_usd": "12.50"},
        subject={"model": "Claude Sonnet 4.6"},
    )
    message = json.loads(alert_email.sns_message(alert))
    assert f"A {kind} alert" in message["email"]
    assert json.loads(message["default"])["kind"] == kind
    assert f"A {kind} alert" in slack_messages.render(alert)["text"]
