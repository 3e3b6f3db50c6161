"""Spec: one Slack Block Kit shape per alert kind, pinned by snapshots.

The snapshots under ``tests/snapshots/slack/`` are compared exactly. After an intended
change to the layout, regenerate them with ``UPDATE_SNAPSHOTS=1`` and review the diff.
"""

from __future__ import annotations

import json
import os
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, get_args

import pytest

from bedrock_cost.domain.alerts import Alert, AlertKind
from bedrock_cost.domain.aws_notifications import parse_notification
from bedrock_cost.domain.recommendations import Recommendation, digest_alert, is_digest_day
from bedrock_cost.domain.slack_messages import (
    FIELD_LIMIT,
    HEADER_LIMIT,
    MAX_FIELDS,
    format_usd,
    render,
    render_unrecognised,
)
from bedrock_cost.domain.slow_burn import SlowBurn, slow_burn_alert
from tests.fixtures.alerts import EXAMPLES

pytestmark = pytest.mark.unit

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots" / "slack"
SAMPLES = Path(__file__).resolve().parents[1] / "snapshots" / "aws_samples"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"

SIGMAS = Decimal("11.7")
ONE_OF_EACH: dict[AlertKind, Alert] = {
    **EXAMPLES,
    "anomaly": parse_notification((SAMPLES / "cost_anomaly.json").read_text(encoding="utf-8")).alert,
    "token_spike": parse_notification((SAMPLES / "cloudwatch_token_spike.json").read_text(encoding="utf-8")).alert,
    "recommendations": digest_alert(
        [
            Recommendation(
                "batch",
                "nightly-etl",
                Decimal("5226.47"),
                "medium",
                "workload role nightly-etl spends $10,452.93 a month on on-demand tokens; batch bills 50 % less",
                Decimal("10452.93"),
            ),
            Recommendation(
                "global-routing",
                "Claude Sonnet 4.6",
                Decimal("1552.11"),
                "high",
                "$16,354.00 a month through regional endpoints 9.5 % above global",
                Decimal("16354"),
            ),
        ],
        Decimal("107794.51"),
        "2026-11",
        date(2026, 11, 23),
    ),
    "slow_burn": slow_burn_alert(
        SlowBurn(
            "user=ana@example.com", date(2026, 11, 23), 41_250_000, Decimal(13_100_000), Decimal(2_400_000), SIGMAS
        ),
        "user",
        "ana@example.com",
        Decimal(3),
    ),
}


def _check_snapshot(name: str, payload: dict[str, Any]) -> None:
    path = SNAPSHOTS / f"{name}.json"
    text = json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing snapshot {path}; run with UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(encoding="utf-8")


def test_every_alert_kind_has_an_example() -> None:
    assert set(ONE_OF_EACH) == set(get_args(AlertKind))


@pytest.mark.parametrize("kind", sorted(get_args(AlertKind)))
def test_message_matches_its_snapshot(kind: AlertKind) -> None:
    # Given a realistic alert of this kind, When it is rendered, Then the payload is as pinned
    _check_snapshot(kind, render(ONE_OF_EACH[kind]))


def test_unrecognised_message_snapshot() -> None:
    _check_snapshot("unrecognised", render_unrecognised("hello <world> & co", "Test publish", "not a known format"))


@pytest.mark.parametrize("kind", sorted(get_args(AlertKind)))
def test_each_kind_shows_its_primary_figure_first_with_money_formatted(kind: AlertKind) -> None:
    payload = render(ONE_OF_EACH[kind])
    sections = [block for block in payload["blocks"] if block["type"] == "section" and "fields" in block]
    assert sections, "every example carries figures"
    first = sections[0]["fields"][0]["text"]
    expected_first = {
        "budget_threshold": "*Spent*\n$7,315.42",
        "forecast_overrun": "*Projected month-end*\n$9,120.55",
        "anomaly": "*Impact*\n$2,817.70",
        "token_spike": "*Observed*\n412,733",
        "unpriced_model": "*Unpriced tokens*\n1,250,000",
        "tag_violation": "*Missing tag keys*\nteam",
        "untagged_spend": "*Untagged cost*\n$1,204.17",
        "estimate_drift": "*Drift*\n14.2 %",
        "recommendations": "*Savings a month*\n$6,778.58",
        "slow_burn": "*Spent*\n$41.25",
    }[kind]
    assert first == expected_first


def test_console_link_is_a_button_and_period_is_in_the_context() -> None:
    payload = render(ONE_OF_EACH["forecast_overrun"])
    actions = [block for block in payload["blocks"] if block["type"] == "actions"]
    assert actions[0]["elements"][0]["url"] == "https://console.aws.amazon.com/costmanagement/home#/budgets"
    context = payload["blocks"][-1]["elements"][0]["text"]
    assert "period 2026-11" in context
    assert "severity critical" in context


def test_no_console_url_means_no_button() -> None:
    payload = render(ONE_OF_EACH["unpriced_model"])
    assert all(block["type"] != "actions" for block in payload["blocks"])


def test_slack_limits_are_respected_for_oversized_alerts() -> None:
    # Given an alert with a huge title, too many figures and a huge detail
    alert = Alert(
        kind="anomaly",
        dedupe_key="k",
        title="x" * 500,
        severity="info",
        period="2026-11",
        figures={f"figure_{i}_usd": str(i) for i in range(25)} | {"notes": "y" * 5000},
        details=["z" * 10_000],
    )
    payload = render(alert)
    header = payload["blocks"][0]["text"]["text"]
    fields = next(block["fields"] for block in payload["blocks"] if "fields" in block)
    details = next(block for block in payload["blocks"] if block.get("text", {}).get("text", "").startswith("•"))
    # Then Slack would accept it: header, field count/length and text length are within limits
    assert len(header) == HEADER_LIMIT
    assert len(fields) == MAX_FIELDS
    assert all(len(field["text"]) <= FIELD_LIMIT for field in fields)
    assert len(details["text"]["text"]) <= 3000


def test_mrkdwn_control_characters_are_escaped() -> None:
    alert = ONE_OF_EACH["untagged_spend"]
    payload = render(alert)
    text = json.dumps(payload)
    assert "&lt;jobs&gt;" in text
    assert "<jobs>" not in text


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1234.5", "$1,234.50"), ("0.00042", "$0.0004"), ("-12.345", "-$12.35"), ("n/a", "n/a")],
)
def test_money_formatting(value: str, expected: str) -> None:
    assert format_usd(value) == expected


def test_recommendations_digest_is_weekly_on_mondays() -> None:
    digest = ONE_OF_EACH["recommendations"]
    assert digest is not None
    assert digest.dedupe_key == "recommendations#2026-W48"
    assert digest.title == "2 ways to save $6,778.58 a month on Bedrock"
    assert is_digest_day(date(2026, 11, 23))
    assert not is_digest_day(date(2026, 11, 24))
    assert digest_alert([], Decimal(1), "2026-11", date(2026, 11, 23)) is None
