"""Spec of the burn-rate forecast Lambda, run for real against moto.

The estimator's output is written to moto CloudWatch the way the estimator writes it
(``EstimatedCostUSD`` dimensionless, by ``Model`` and by ``TagKey``+``TagValue``); the
handler reads it back with ``ListMetrics``/``GetMetricData``, projects the month and
publishes through ``AlertPublisher`` to a moto topic with an SQS subscription.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bedrock_cost.adapters.burn_rate_metrics import EstimateSpendReader
from bedrock_cost.demo.state_table import create_state_table
from bedrock_cost.domain.alerts import Alert
from bedrock_cost.domain.forecast import BudgetTarget, targets_to_json
from bedrock_cost.handlers import burn_rate
from bedrock_cost.handlers.wiring import InvalidEnvironmentError
from tests.support.alert_inbox import AlertInbox
from tests.support.events import scheduled_event
from tests.support.lambda_context import lambda_context

pytestmark = pytest.mark.integration

REGION = "us-east-1"
ACCOUNT = "123456789012"
NAMESPACE = "BedrockCostTracker"
AS_OF = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
TARGETS = [
    BudgetTarget(monthly_usd=Decimal(20000)),
    BudgetTarget(monthly_usd=Decimal(8000), tag_key="team", tag_value="ml"),
    BudgetTarget(monthly_usd=Decimal(4000), tag_key="team", tag_value="search"),
]
CONTEXT = lambda_context("burn-rate", memory_limit_in_mb=256, remaining_ms=60_000)


@dataclass
class Account:
    cloudwatch: Any
    inbox: AlertInbox

    def spend(self, dimensions: dict[str, str], first: date, last: date, usd_per_day: str) -> None:
        """Write the estimator's hourly points for every day from ``first`` to ``last``."""
        per_hour = Decimal(usd_per_day) / 24
        day = first
        while day <= last:
            points = [
                {
                    "MetricName": "EstimatedCostUSD",
                    "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
                    "Timestamp": datetime(day.year, day.month, day.day, hour, 30, tzinfo=UTC),
                    "Value": float(per_hour),
                }
                for hour in range(24)
            ]
            self.cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=points)
            day += timedelta(days=1)

    def alerts(self) -> list[Alert]:
        return self.inbox.alerts()


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    for name, value in {
        "STATE_TABLE": "state",
        "BUDGET_TARGETS": targets_to_json(TARGETS),
        "FORECAST_TRAILING_DAYS": "7",
        "FORECAST_MIN_DAYS": "3",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        sns = boto3.client("sns", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        inbox = AlertInbox.subscribe(sns, sqs, queue="alerts-copy")
        monkeypatch.setenv("ALERT_TOPIC_ARN", inbox.topic_arn)
        create_state_table(dynamodb, "state")
        yield Account(boto3.client("cloudwatch", region_name=REGION), inbox)


def test_reader_sums_daily_spend_by_tag_and_total(account: Account) -> None:
    # Given the estimator's points for team=ml and two models
    account.spend({"TagKey": "team", "TagValue": "ml"}, date(2026, 11, 1), date(2026, 11, 3), "240")
    account.spend({"Model": "Claude Sonnet 4.6"}, date(2026, 11, 1), date(2026, 11, 3), "100")
    account.spend({"Model": "Nova Pro"}, date(2026, 11, 1), date(2026, 11, 3), "20")
    reader = EstimateSpendReader(account.cloudwatch)
    end = datetime(2026, 11, 3, 18, tzinfo=UTC)
    # Then each UTC day sums to the day's spend
    by_tag = reader.daily_spend_by_tag("team", "ml", date(2026, 11, 1), end)
    assert {day: round(value, 6) for day, value in by_tag.items()} == {
        date(2026, 11, d): Decimal("240.000000") for d in (1, 2, 3)
    }
    # And the total is the sum of the per-model series, never adding the tag series to it
    total = reader.daily_spend_total(date(2026, 11, 1), end)
    assert round(total[date(2026, 11, 2)], 6) == Decimal("120.000000")


def test_an_overrunning_tag_value_is_alerted_once_per_month(account: Account) -> None:
    # Given team=ml spends $600/day (projects $18,300 against $8,000) and team=search $50/day
    account.spend({"TagKey": "team", "TagValue": "ml"}, date(2026, 11, 1), date(2026, 11, 15), "600")
    account.spend({"TagKey": "team", "TagValue": "search"}, date(2026, 11, 1), date(2026, 11, 15), "50")
    account.spend({"Model": "Claude Sonnet 4.6"}, date(2026, 11, 1), date(2026, 11, 15), "650")
    # When the scheduled forecast runs
    result = burn_rate.handler(scheduled_event("burn-rate", AS_OF), CONTEXT)
    # Then one forecast_overrun alert for team=ml reached the topic
    (alert,) = account.alerts()
    assert alert.kind == "forecast_overrun"
    assert alert.dedupe_key == "forecast#2026-11#tag:team=ml"
    assert alert.subject == {"tag_key": "team", "tag_value": "ml"}
    assert alert.figures["budget_usd"] == "8000.00"
    # 15 days written (9,000, today included) + 600/day × 15.5 remaining days
    assert alert.figures["projected_usd"] == "18300.00"
    assert alert.figures["month_to_date_usd"] == "9000.00"
    assert result["alerts_sent"] == ["forecast#2026-11#tag:team=ml"]
    # And total and search are projected without alert (650 × 30 = 19,500 < 20,000)
    assert set(result["projections"]) == {"total", "tag:team=ml", "tag:team=search"}
    # When it runs again an hour later, Then nothing new is sent
    again = burn_rate.handler(scheduled_event("burn-rate", AS_OF + timedelta(hours=1)), CONTEXT)
    assert account.alerts() == []
    assert again["alerts_already_sent"] == ["forecast#2026-11#tag:team=ml"]


def test_forecast_overrun_metric_only_when_an_alert_is_sent(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given one overrunning tag value
    account.spend({"TagKey": "team", "TagValue": "ml"}, date(2026, 11, 1), date(2026, 11, 15), "600")
    # When the forecast runs twice (the second run alerts nothing new)
    burn_rate.handler(scheduled_event("burn-rate", AS_OF), CONTEXT)
    first = capsys.readouterr().out
    burn_rate.handler(scheduled_event("burn-rate", AS_OF + timedelta(hours=1)), CONTEXT)
    second = capsys.readouterr().out
    # Then only the alerting run published ForecastOverrunAlerts: no hourly zero series
    assert '"ForecastOverrunAlerts"' in first
    assert "ForecastOverrunAlerts" not in second


def test_a_new_month_alerts_again(account: Account) -> None:
    account.spend({"TagKey": "team", "TagValue": "ml"}, date(2026, 10, 20), date(2026, 11, 15), "1000")
    burn_rate.handler(scheduled_event("burn-rate", datetime(2026, 10, 28, 12, tzinfo=UTC)), CONTEXT)
    burn_rate.handler(scheduled_event("burn-rate", AS_OF), CONTEXT)
    assert [a.dedupe_key for a in account.alerts()] == [
        "forecast#2026-10#tag:team=ml",
        "forecast#2026-11#tag:team=ml",
    ]


def test_too_little_data_is_reported_not_alerted(account: Account) -> None:
    # Given estimates only since yesterday, even at a huge rate
    account.spend({"TagKey": "team", "TagValue": "ml"}, date(2026, 11, 14), date(2026, 11, 15), "9000")
    result = burn_rate.handler(scheduled_event("burn-rate", AS_OF), CONTEXT)
    assert account.alerts() == []
    assert "3 needed" in result["insufficient"]["tag:team=ml"]
    assert result["insufficient"]["total"] == "no estimated spend recorded yet"


def test_environment_is_validated_loudly(account: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUDGET_TARGETS", '[{"tag_key": "team"}]')
    with pytest.raises(InvalidEnvironmentError, match="budget target 0 needs monthly_usd"):
        burn_rate.handler(scheduled_event("burn-rate", AS_OF), CONTEXT)
