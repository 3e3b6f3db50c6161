"""Spec of the demo's tag-governance step, against a moto server on 127.0.0.1."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from bedrock_cost.config_loader import load_config_file
from bedrock_cost.demo import tags_step
from bedrock_cost.demo.context import DemoContext
from bedrock_cost.demo.state_table import create_state_table
from bedrock_cost.domain.alerts import Alert
from bedrock_cost.sample_data.cur_generator import generate_cur

pytestmark = pytest.mark.integration

REGION = "us-east-1"
PERIOD = "2026-10"
CONFIG = Path(__file__).resolve().parents[2] / "config" / "example.yaml"


@pytest.fixture
def endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def test_step_alerts_on_the_bad_profile_and_writes_the_ranking(endpoint: str, tmp_path: Path) -> None:
    # Given the emulator with the alert topic, its capture queue and the state table
    client = lambda name: boto3.client(name, region_name=REGION, endpoint_url=endpoint)  # noqa: E731
    sns, sqs, dynamodb = client("sns"), client("sqs"), client("dynamodb")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="capture")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    create_state_table(dynamodb, "state")
    # And a month of generated CUR
    cur = tmp_path / "cur"
    generate_cur(cur, PERIOD, rows=2000, seed=3)
    ctx = DemoContext(
        out_dir=tmp_path,
        cur_dir=cur,
        period=PERIOD,
        config=load_config_file(CONFIG),
        endpoint_url=endpoint,
        region=REGION,
        alert_topic_arn=topic,
        slack_url="http://127.0.0.1:9/unused",
    )
    ctx.results["state_table"] = "state"

    # When the step runs
    tags_step.run(ctx)

    # Then exactly one tag_violation alert, for the non-compliant profile, reached the topic
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    alerts = [Alert.from_json(m["Body"]) for m in messages]
    assert [a.subject["resource_name"] for a in alerts] == ["scratchpad"]
    assert alerts[0].kind == "tag_violation"
    # And the violation state is in the table
    items = dynamodb.scan(TableName="state")["Items"]
    assert any(i["pk"]["S"].startswith("violation#") for i in items)
    # And the ranking was written with dollars, and summarised
    rows = list(csv.DictReader((tmp_path / "untagged_spend.csv").open()))
    assert rows
    assert all(r["cost_usd"].replace(".", "").lstrip("-").isdigit() for r in rows)
    assert any(line.startswith("Tags: 1 of 2 Bedrock resources") for line in ctx.summary)
    assert any(line.startswith(f"Untagged spend {PERIOD}: $") for line in ctx.summary)
    assert json.dumps(ctx.results["tags"])
