"""Spec: every format that arrives on the alert topic becomes one well-formed Alert."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from bedrock_cost.domain.alerts import Alert
from bedrock_cost.domain.aws_notifications import (
    UnrecognisedNotificationError,
    alarm_marker,
    parse_alarm_marker,
    parse_notification,
    strip_marker,
)
from tests.fixtures.alerts import EXAMPLES

pytestmark = pytest.mark.unit

SAMPLES = Path(__file__).resolve().parents[1] / "snapshots" / "aws_samples"


def sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


def parsed_as(name: str, subject: str, *, origin: str, kind: str, severity: str) -> Alert:
    """Parse a sample that must arrive from ``origin`` as an alert of this kind and severity."""
    parsed = parse_notification(sample(name), subject)
    assert (parsed.origin, parsed.alert.kind, parsed.alert.severity) == (origin, kind, severity)
    return parsed.alert


def assert_figures(alert: Alert, **expected: str) -> None:
    """Each named figure is present and is exactly this decimal string (never a float's rendering)."""
    assert {name: alert.figures.get(name) for name in expected} == expected


# --------------------------------------------------------------------------- envelope


def test_our_envelope_round_trips_unchanged() -> None:
    # Given an alert published by one of our Lambdas
    alert = EXAMPLES["unpriced_model"]
    # When it is parsed back from the SNS message
    parsed = parse_notification(alert.to_json(), alert.sns_subject)
    # Then it is the same alert, and marked as an envelope (de-duplicated by key)
    assert parsed.alert == alert
    assert parsed.origin == "envelope"


def test_an_envelope_of_an_unknown_version_is_not_silently_accepted() -> None:
    data = json.loads(Alert(kind="anomaly", dedupe_key="k", title="t", severity="info", period="p").to_json())
    data["version"] = 99
    with pytest.raises(UnrecognisedNotificationError, match="version"):
        parse_notification(json.dumps(data))


# --------------------------------------------------------------------------- CloudWatch


def test_multi_time_series_token_spike_alarm_names_the_model_and_the_figures() -> None:
    # Given the state change of the per-model Metrics Insights spike alarm
    # Then kind and severity come from the marker, the model from the contributor
    alert = parsed_as(
        "cloudwatch_token_spike.json", "ALARM: spike", origin="cloudwatch_alarm", kind="token_spike", severity="warning"
    )
    assert alert.subject["model"] == "us.anthropic.claude-sonnet-4-6"
    assert alert.subject["contributor"] == "b1946ac92492d234"
    # And the numbers are the alarm's, as exact decimal strings
    assert_figures(alert, observed="412733", threshold="100000", period_minutes="5", datapoints="1 of 1")
    assert alert.period == "2026-11"
    assert alert.title.startswith("Input tokens of one model above 100,000")
    assert "[bedrock-cost-tracker" not in alert.title
    assert alert.console_url is not None
    assert alert.console_url.startswith("https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1")


def test_single_metric_alarm_reads_the_model_from_its_dimension() -> None:
    alert = parse_notification(sample("cloudwatch_unpriced_metric.json")).alert
    assert alert.kind == "unpriced_model"
    assert alert.subject["model"] == "Writer Palmyra X9"
    assert alert.figures["observed"] == "5230"
    assert alert.figures["threshold"] == "0"


def test_composite_alarm_is_a_critical_anomaly_with_its_rule() -> None:
    alert = parse_notification(sample("cloudwatch_composite.json")).alert
    assert alert.kind == "anomaly"
    assert alert.severity == "critical"
    assert "ALARM(" in alert.subject["rule"]
    assert "threshold" not in alert.figures


def test_alarm_back_to_ok_is_informational_and_titled_resolved() -> None:
    # Given a hand-made alarm (no marker) returning to OK
    alert = parse_notification(sample("cloudwatch_ok_no_marker.json")).alert
    # Then the kind is inferred from the metric, the severity is info
    assert alert.kind == "token_spike"
    assert alert.severity == "info"
    assert alert.title.startswith("Resolved: team-ml-token-watch")
    assert alert.subject["model"] == "anthropic.claude-haiku-4-5-20251001-v1:0"
    assert alert.console_url is not None
    assert "eu-west-1" in alert.console_url


def test_each_state_change_gets_its_own_dedupe_key() -> None:
    first = json.loads(sample("cloudwatch_token_spike.json"))
    second = {**first, "StateChangeTime": "2026-11-24T12:00:00.000+0000"}
    key_one = parse_notification(json.dumps(first)).alert.dedupe_key
    key_two = parse_notification(json.dumps(second)).alert.dedupe_key
    assert key_one != key_two


# --------------------------------------------------------------------------- Cost Anomaly Detection


def test_cost_anomaly_keeps_money_exact_and_lists_root_causes() -> None:
    # 238.71 % is more than double the expected spend: critical
    alert = parsed_as("cost_anomaly.json", "None", origin="cost_anomaly", kind="anomaly", severity="critical")
    assert_figures(
        alert,
        impact_usd="2817.7",
        actual_usd="3998.1",
        expected_usd="1180.4",
        impact_pct="238.71",
        started="2026-11-22",
    )
    assert alert.period == "2026-11"
    assert alert.subject["service"] == "Claude Sonnet 4.6 (Amazon Bedrock Edition)"
    assert any("USE1-MP:USE1_InputTokenCount-Units" in line and "$2304.55" in line for line in alert.details)
    assert alert.console_url is not None
    assert alert.console_url.endswith("/anomalies/6de0dd1d-feb4-488a-a55d-ff130a7a285a")


def test_anomaly_without_impact_is_refused() -> None:
    data = json.loads(sample("cost_anomaly.json"))
    data["impact"] = {}
    with pytest.raises(UnrecognisedNotificationError, match="totalImpact"):
        parse_notification(json.dumps(data))


# --------------------------------------------------------------------------- AWS Budgets


def test_budget_actual_threshold_text_becomes_a_budget_threshold_alert() -> None:
    subject = "AWS Budgets: BedrockCostTracker team=ml monthly has exceeded your alert threshold"
    # 91 % of the budget: not over yet, a warning
    alert = parsed_as("budgets_actual.txt", subject, origin="budgets", kind="budget_threshold", severity="warning")
    assert alert.subject == {"budget": "BedrockCostTracker team=ml monthly", "account": "123456789012"}
    # Every figure of the notification, and nothing else
    assert alert.figures == {
        "spent_usd": "7315.42",
        "budget_usd": "8000",
        "threshold_usd": "7200",
        "threshold_pct": "90",
        "used_pct": "91.4",
        "budget_period": "monthly",
    }
    assert alert.period == "2026-11"
    assert alert.console_url == "https://console.aws.amazon.com/billing/home#/budgets"


def test_budget_forecast_text_becomes_a_forecast_overrun() -> None:
    alert = parse_notification(sample("budgets_forecast.txt")).alert
    assert alert.kind == "forecast_overrun"
    assert alert.figures["forecast_usd"] == "23871.06"
    assert alert.title == "Budget BedrockCostTracker total monthly is forecast to reach $23,871.06 of $20,000.00"


def test_daily_budget_over_its_amount_is_critical() -> None:
    alert = parse_notification(sample("budgets_daily_actual.txt")).alert
    assert alert.figures["budget_period"] == "daily"
    assert alert.severity == "critical"
    assert alert.period == "2026-03"


def test_budget_text_without_an_amount_is_refused() -> None:
    text = sample("budgets_actual.txt").replace("ACTUAL Amount: $7,315.42", "")
    with pytest.raises(UnrecognisedNotificationError, match="amount"):
        parse_notification(text)


# --------------------------------------------------------------------------- unknown formats


@pytest.mark.parametrize(
    "message",
    [
        "hello from a test publish",
        '["not", "an", "object"]',
        '{"foo": "bar"}',
        '{"AlarmName": "x"',  # truncated JSON
        '{"source": "bedrock-cost-tracker", "version": 1, "kind": "coffee"}',
    ],
)
def test_anything_else_is_reported_as_unrecognised(message: str) -> None:
    with pytest.raises(UnrecognisedNotificationError):
        parse_notification(message)


# --------------------------------------------------------------------------- markers


def test_marker_round_trips_subject_values_with_spaces_and_brackets() -> None:
    marker = alarm_marker("budget_threshold", "warning", {"tag_key": "team", "tag_value": "ml [eu] ops"})
    description = f"Estimated cost of team=ml above its daily pace. {marker}"
    parsed = parse_alarm_marker(description)
    assert parsed is not None
    assert parsed.kind == "budget_threshold"
    assert parsed.subject == {"tag_key": "team", "tag_value": "ml [eu] ops"}
    assert strip_marker(description) == "Estimated cost of team=ml above its daily pace."


def test_marker_rejects_unknown_kinds_at_synth_time() -> None:
    with pytest.raises(ValueError, match="kind"):
        alarm_marker("coffee", "warning")  # type: ignore[arg-type]


def test_an_invalid_marker_is_ignored_and_the_metric_decides() -> None:
    data = json.loads(sample("cloudwatch_unpriced_metric.json"))
    data["AlarmDescription"] = "Something [bedrock-cost-tracker kind=coffee severity=warning]"
    assert parse_alarm_marker(data["AlarmDescription"]) is None
    assert parse_notification(json.dumps(data)).alert.kind == "unpriced_model"


def test_numbers_never_pass_through_float() -> None:
    # Given an anomaly whose impact is not representable in binary floating point
    data = json.loads(sample("cost_anomaly.json"))
    data["impact"]["totalImpact"] = Decimal("0.30000000000000001")
    text = json.dumps(data, default=str).replace('"0.30000000000000001"', "0.30000000000000001")
    # Then the figure keeps every digit
    assert parse_notification(text).alert.figures["impact_usd"] == "0.30000000000000001"
