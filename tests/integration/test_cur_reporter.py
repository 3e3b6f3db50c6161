"""The daily CUR reporter: Athena views -> billed metrics, S3 report, calibration, drift alert."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import boto3
import pytest

from bedrock_cost.adapters.duckdb_engine import DuckDBEngine
from bedrock_cost.billing.daily_report import build_daily_report, cap_values
from bedrock_cost.demo.state_table import create_state_table
from bedrock_cost.domain.reconcile import drift, drift_alert
from bedrock_cost.handlers import cur_reporter
from tests.fixtures.cur_builder import cur_row, write_cur
from tests.support.athena_emulator import athena_emulator
from tests.support.lambda_context import FakeLambdaContext

pytestmark = pytest.mark.integration

ROWS = [
    cur_row("USE1-Claude4.6Sonnet-input-tokens", 30.0, 10_000, day=3, tags={"user_team": "ml"}),
    cur_row("USE1-Claude4.6Sonnet-output-tokens", 75.0, 5_000, day=3, tags={"user_team": "ml"}),
    cur_row("USE1-NovaPro-input-tokens", 8.0, 10_000, day=4, tags={"user_team": "search"}),
    cur_row("USE1-NovaPro-input-tokens", -5.0, 0, day=4, line_item_type="Credit"),
]


class FixedEstimates:
    def __init__(self, values: dict[date, Decimal]) -> None:
        self.values = values

    def estimated_usd(self, day: date) -> Decimal | None:
        return self.values.get(day)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine.open(write_cur(tmp_path_factory.mktemp("rep") / "cur", ROWS), ["team"])
    yield engine
    engine.close()


def test_daily_report_totals_unit_prices_and_drift(engine):
    # Given billed cost of $105 on Oct 3 and an estimate of $120 for that day
    estimates = FixedEstimates({date(2026, 10, 3): Decimal("120")})
    # When the report runs on Oct 5 (drift is measured two days back)
    report = build_daily_report(engine, date(2026, 10, 5), ["team"], estimates)
    # Then usage totals exclude the credit, and drift is +14.29 %
    assert report.total_usd == Decimal("113")
    assert report.by_tag["team"] == {"ml": Decimal("105"), "search": Decimal("8")}
    assert report.adjustments == {"Credit": Decimal("-5")}
    assert report.drift is not None
    assert (report.drift.billed_usd, report.drift.pct) == (Decimal("105"), Decimal("14.29"))
    prices = {(r["model"], r["usage_kind"]): r["usd_per_million"] for r in report.unit_prices}
    assert prices[("Claude Sonnet 4.6", "input")] == Decimal("3")
    assert prices[("Claude Sonnet 4.6", "output")] == Decimal("15")


def test_missing_estimate_is_noted_not_guessed(engine):
    report = build_daily_report(engine, date(2026, 10, 5), ["team"], FixedEstimates({}))
    assert report.drift is None
    assert "no estimate recorded for 2026-10-03" in report.notes[0]


def test_drift_alert_only_beyond_threshold():
    small = drift(date(2026, 10, 3), Decimal("104"), Decimal("100"))
    big = drift(date(2026, 10, 3), Decimal("80"), Decimal("100"))
    assert drift_alert(small, Decimal("10")) is None
    alert = drift_alert(big, Decimal("10"))
    assert alert is not None
    assert alert.kind == "estimate_drift"
    assert alert.figures["drift_pct"] == "-20.00"
    assert "under-shoots" in alert.title
    assert drift(date(2026, 10, 3), Decimal("5"), Decimal("0")).pct is None


def test_tag_values_are_capped_for_metric_cardinality():
    values = {f"v{i:03d}": Decimal(i) for i in range(120)}
    capped = cap_values(values, limit=50)
    assert len(capped) == 50
    assert sum(capped.values()) == sum(values.values())
    assert "v119" in capped
    assert "v000" not in capped


@pytest.fixture
def aws(engine, monkeypatch) -> Iterator[dict[str, Any]]:
    with athena_emulator(engine) as url:
        for name, value in {
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": url,
            "AWS_ENDPOINT_URL_S3": url,
        }.items():
            monkeypatch.setenv(name, value)
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="reports")
        ddb = boto3.client("dynamodb")
        create_state_table(ddb, "state")
        sns, sqs = boto3.client("sns"), boto3.client("sqs")
        topic = sns.create_topic(Name="alerts")["TopicArn"]
        queue = sqs.create_queue(QueueName="alerts")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
        boto3.client("cloudwatch").put_metric_data(
            Namespace="BedrockCostTracker",
            MetricData=[
                {"MetricName": "EstimatedCostUSD", "Value": 60.0, "Timestamp": datetime(2026, 10, 3, 12, tzinfo=UTC)}
            ],
        )
        env = {
            "ATHENA_WORKGROUP": "primary",
            "ATHENA_DATABASE": "bedrock_cost",
            "REPORT_BUCKET": "reports",
            "REPORT_TAG_KEYS": '["team"]',
            "STATE_TABLE": "state",
            "ALERT_TOPIC_ARN": topic,
            "DRIFT_THRESHOLD_PCT": "10",
            "TAG_POLICY": json.dumps({"required_keys": ["team", "project"]}),
            "POWERTOOLS_METRICS_NAMESPACE": "BedrockCostTracker",
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        yield {"s3": s3, "sqs": sqs, "queue": queue}


def test_handler_writes_report_metrics_calibration_and_alerts_once(aws, capsys):
    # Given the estimator recorded $60 for Oct 3 while CUR billed $105 (-42.86 %)
    # When the daily reporter runs for Oct 5, twice
    first = cur_reporter.handler({"as_of": "2026-10-05"}, FakeLambdaContext())
    second = cur_reporter.handler({"as_of": "2026-10-05"}, FakeLambdaContext())
    # Then the report and the calibration file are in S3
    doc = json.loads(
        aws["s3"].get_object(Bucket="reports", Key="billed/period=2026-10/as_of=2026-10-05.json")["Body"].read()
    )
    assert doc["total_usd"] == "113.000000"
    assert doc["drift"]["pct"] == "-42.86"
    calibration = json.loads(aws["s3"].get_object(Bucket="reports", Key="calibration/unit_prices.json")["Body"].read())
    assert calibration["period"] == "2026-10"
    assert {r["model"] for r in calibration["rows"]} == {"Claude Sonnet 4.6", "Nova Pro"}
    # And billed-cost metrics went out as EMF, with drift
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    names = {m["Name"] for doc in emf for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert {"BilledCostUSD", "EstimateDriftPct"} <= names
    assert any(doc.get("Model") == "Claude Sonnet 4.6" and "BilledCostUSD" in doc for doc in emf)
    # And no record carries a hidden 'service' dimension (alarms match exact dimension sets), nor
    # a per-tag-value series (metric_detail "alarms": those figures are in the S3 report)
    dimension_sets = {tuple(d) for doc in emf for m in doc["_aws"]["CloudWatchMetrics"] for d in m["Dimensions"]}
    assert dimension_sets == {(), ("Model",)}
    assert doc["by_tag"]["team"]["ml"] == "105.000000"
    # And one drift alert, one untagged-spend digest and (Oct 5 is a Monday) the weekly
    # recommendations digest were published, once
    assert first["alerts_sent"] == ["estimate_drift", "untagged_spend", "recommendations"]
    assert second["alerts_sent"] == []
    messages = aws["sqs"].receive_message(QueueUrl=aws["queue"], MaxNumberOfMessages=10)["Messages"]
    alerts = {a["kind"]: a for a in (json.loads(json.loads(m["Body"])["Message"]) for m in messages)}
    assert set(alerts) == {"estimate_drift", "untagged_spend", "recommendations"}
    assert alerts["recommendations"]["dedupe_key"] == "recommendations#2026-W41"
    assert alerts["estimate_drift"]["figures"]["billed_usd"] == "105.00"
    # Every row has the reported 'team' key, none the policy's required 'project':
    # nothing is untagged, all $113 of usage is non-compliant
    assert doc["untagged"]["untagged_usd"] == "0.000000"
    assert doc["untagged"]["non_compliant_usd"] == "113.000000"


def test_handler_fails_loudly_on_missing_environment(monkeypatch):
    monkeypatch.delenv("REPORT_BUCKET", raising=False)
    with pytest.raises(Exception, match="REPORT_BUCKET"):
        cur_reporter.load_environment()
