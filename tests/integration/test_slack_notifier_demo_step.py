"""Spec of the demo's alerts step: rules applied to emulator data, delivered to Slack once.

Runs the step against a moto server on 127.0.0.1 and the demo's Slack stand-in, both
started and stopped here. The emulator holds one day of ``AWS/Bedrock`` token metrics
with a spike and the estimator's ``UnpricedTokens``; billed totals come as the report
step leaves them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest

from bedrock_cost.config_loader import parse_config
from bedrock_cost.demo import alerts_step
from bedrock_cost.demo.context import DemoContext
from bedrock_cost.demo.emulator import demo_environment, moto_server, patched_environment
from bedrock_cost.demo.runner import create_alert_plumbing, drain_alerts
from bedrock_cost.demo.slack_standin import slack_standin
from bedrock_cost.domain.estimate import Counts

pytestmark = pytest.mark.integration

REGION = "us-east-1"
CONFIG = parse_config(
    {
        "cur": {"create_export": True},
        "report_tag_keys": ["team"],
        "budgets": {
            "total": {"monthly_usd": 20000},
            "per_tag": {"team": {"ml": {"monthly_usd": 8000}, "search": {"monthly_usd": 4000}}},
        },
        "thresholds": {"spike_input_tokens_5min": 100000},
    }
)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[DemoContext, Any]]:
    with (
        moto_server() as endpoint_url,
        slack_standin(tmp_path / "slack.jsonl") as slack,
        patched_environment(demo_environment(endpoint_url, REGION, tmp_path)),
    ):
        topic_arn, queue_url, table = create_alert_plumbing(endpoint_url, REGION)
        ctx = DemoContext(
            out_dir=tmp_path,
            cur_dir=tmp_path / "cur",
            period="2026-10",
            config=CONFIG,
            endpoint_url=endpoint_url,
            region=REGION,
            alert_topic_arn=topic_arn,
            slack_url=slack.url,
        )
        ctx.results["state_table"] = table
        ctx.results["queue_url"] = queue_url
        yield ctx, slack


def put_usage(ctx: DemoContext) -> datetime:
    """One day of input tokens every 10 minutes for two models, Claude spiking at 14:00 UTC."""
    cloudwatch = boto3.client("cloudwatch", endpoint_url=ctx.endpoint_url, region_name=REGION)
    day = (datetime.now(UTC) - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    for model, base in (("us.anthropic.claude-sonnet-4-6", 2000.0), ("amazon.nova-pro-v1:0", 500.0)):
        points = []
        for minute in range(0, 24 * 60, 10):
            value = base * 10
            if model.startswith("us.anthropic") and 14 * 60 <= minute < 14 * 60 + 5:
                value = 150_000.0
            points.append(
                {
                    "MetricName": "InputTokenCount",
                    "Dimensions": [{"Name": "ModelId", "Value": model}],
                    "Timestamp": day + timedelta(minutes=minute),
                    "Value": value,
                }
            )
        for offset in range(0, len(points), 500):
            cloudwatch.put_metric_data(Namespace="AWS/Bedrock", MetricData=points[offset : offset + 500])
    cloudwatch.put_metric_data(
        Namespace="BedrockCostTracker",
        MetricData=[
            {
                "MetricName": "UnpricedTokens",
                "Dimensions": [{"Name": "Model", "Value": "FooBar 9 Ultra"}],
                "Timestamp": day + timedelta(hours=3),
                "Value": 4200.0,
            }
        ],
    )
    return day


def test_alerts_step_publishes_each_rule_once_and_slack_gets_each_once(world: tuple[DemoContext, Any]) -> None:
    ctx, slack = world
    # Given a spike in the emulator's token metrics, an unpriced model and billed totals
    day = put_usage(ctx)
    ctx.results["billed"] = {
        "period": "2026-10",
        "total_usd": Decimal("15500.10"),
        "by_tag": {"team": {"ml": Decimal("8100"), "search": Decimal("100")}},
    }
    # When the step runs
    alerts_step.run(ctx)
    # Then the topic received the spike, two budget thresholds and the unpriced model
    sqs = boto3.client("sqs", endpoint_url=ctx.endpoint_url, region_name=REGION)
    drain_alerts(sqs, ctx.results["queue_url"], ctx.out_dir / "alerts.jsonl")
    envelopes = [
        json.loads(json.loads(line)["Message"]) for line in (ctx.out_dir / "alerts.jsonl").read_text().splitlines()
    ]
    keys = sorted(e["dedupe_key"] for e in envelopes)
    assert keys == sorted(
        [
            f"spike#us.anthropic.claude-sonnet-4-6#{day:%Y-%m-%d}T14:00",
            "budget#2026-10#all Bedrock spend#75",
            "budget#2026-10#team=ml#100",
            "unpriced#2026-10#FooBar 9 Ultra",
        ]
    )
    spike = next(e for e in envelopes if e["kind"] == "token_spike")
    assert spike["figures"]["input_tokens_5min"] == "150000"
    # And the Slack stand-in got each of them once, the redelivered one suppressed
    messages = [json.loads(line)["payload"] for line in slack.path.read_text().splitlines()]
    assert len(messages) == 4
    assert ctx.results["alerts"]["slack_sent"] == 4
    assert ctx.results["alerts"]["slack_duplicates"] == 1
    headers = sorted(m["blocks"][0]["text"]["text"] for m in messages)
    assert ":rotating_light: team=ml passed 100 % of its monthly Bedrock budget" in headers
    assert any("FooBar 9 Ultra" in h for h in headers)
    # And the summary says so
    assert any("4 message(s) delivered, 1 redelivery suppressed" in line for line in ctx.summary)
    # When the step runs again (a second demo pass), Then nothing is published twice
    alerts_step.run(ctx)
    assert ctx.results["alerts"]["published"] == []


def test_spikes_come_from_the_generated_metrics_when_the_estimate_step_ran() -> None:
    # Given per-minute counts as the estimate step generated them (a 5-minute burst at 09:10)
    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    usage = {
        "us.anthropic.claude-sonnet-4-6": {
            start + timedelta(minutes=m): Counts(input=40_000 if 10 <= m < 15 else 1_000) for m in range(60)
        },
        "amazon.nova-pro-v1:0": {start + timedelta(minutes=m): Counts(input=900) for m in range(60)},
    }
    # When the peaks are computed, Then they are the 5-minute sums CloudWatch would return
    peaks = alerts_step.peaks_from_usage(usage)
    assert peaks["us.anthropic.claude-sonnet-4-6"] == (start + timedelta(minutes=10), Decimal(200_000))
    assert peaks["amazon.nova-pro-v1:0"][1] == Decimal(4_500)
    alerts, note = alerts_step.token_spike_alerts(peaks, threshold=100_000)
    assert [a.subject["model"] for a in alerts] == ["us.anthropic.claude-sonnet-4-6"]
    assert "200,000 input tokens at 2026-11-23 09:10 UTC" in note
