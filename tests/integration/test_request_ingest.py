"""Spec of the invocation-log ingest Lambda, run for real against moto (DynamoDB, SNS, S3, IAM)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bedrock_cost.domain.identity import identify
from bedrock_cost.domain.log_subscription import encode
from bedrock_cost.domain.request_budgets import deny_policy_name
from bedrock_cost.handlers import request_ingest
from tests.support.alert_inbox import AlertInbox
from tests.support.lambda_context import FakeLambdaContext

pytestmark = pytest.mark.integration
REGION = "us-east-1"
ACCT = "123456789012"
DEV = f"arn:aws:sts::{ACCT}:assumed-role/ClaudeCodeDevelopers/ana@example.com"
GROUP = "/aws/bedrock/modelinvocations"


def record(request_id: str, principal: str = DEV, tokens: int = 100_000, **extra: Any) -> str:
    rec = {
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": "2026-10-15T10:00:00Z",
        "accountId": ACCT,
        "identity": {"arn": principal},
        "region": REGION,
        "requestId": request_id,
        "operation": "Converse",
        "modelId": "us.anthropic.claude-sonnet-4-6",
        "input": {"inputTokenCount": tokens, "cacheReadInputTokenCount": 0, "cacheWriteInputTokenCount": 0},
        "output": {"outputTokenCount": 0},
        "requestMetadata": {"customer": "acme"},
    }
    rec.update(extra)
    return json.dumps(rec)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "LEDGER_TABLE": "ledger",
        "QUARANTINE_BUCKET": "logs-bucket",
        # $3/M input on Sonnet 4.6 (regional 3.30): 100K tokens = $0.33; daily budget $1 per user.
        "REQUEST_BUDGETS": json.dumps(
            [
                {"subject": "user", "value": "*", "period": "day", "limit_usd": "1", "enforce": True},
                {"subject": "meta:customer", "value": "acme", "period": "month", "limit_usd": "100"},
            ]
        ),
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        sns = boto3.client("sns", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        inbox = AlertInbox.subscribe(sns, sqs, queue="copy", raw=True)
        monkeypatch.setenv("ALERT_TOPIC_ARN", inbox.topic_arn)
        db = boto3.client("dynamodb", region_name=REGION)
        db.create_table(
            TableName="ledger",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            BillingMode="PAY_PER_REQUEST",
        )
        boto3.client("s3", region_name=REGION).create_bucket(Bucket="logs-bucket")
        iam = boto3.client("iam", region_name=REGION)
        iam.create_role(RoleName="ClaudeCodeDevelopers", AssumeRolePolicyDocument="{}")
        request_ingest.load_environment.cache_clear()
        request_ingest.wiring.configure(None)
        yield {"db": db, "inbox": inbox, "iam": iam, "s3": boto3.client("s3", region_name=REGION)}
        request_ingest.load_environment.cache_clear()
        request_ingest.wiring.configure(None)


def invoke(messages: list[str], message_type: str = "DATA_MESSAGE") -> dict[str, Any]:
    return request_ingest.handler(encode(GROUP, messages, message_type=message_type), FakeLambdaContext())


def total(db: Any, pk: str, sk: str) -> tuple[int, int]:
    item = db.get_item(TableName="ledger", Key={"pk": {"S": pk}, "sk": {"S": sk}})["Item"]
    return int(item["cost_micro_usd"]["N"]), int(item["requests"]["N"])


def alerts(aws: dict[str, Any]) -> list[dict[str, Any]]:
    return aws["inbox"].documents()  # type: ignore[no-any-return]


def test_a_redelivered_batch_counts_once(aws):
    # Given a batch of two records, When it is delivered twice
    batch = [record("r1"), record("r2")]
    first = invoke(batch)
    second = invoke(batch)
    # Then the totals hold each request once
    assert (first["counted"], second["counted"], second["duplicates"]) == (2, 0, 2)
    assert total(aws["db"], "ledger#user=ana@example.com", "total#2026-10-15") == (660_000, 2)
    assert total(aws["db"], "ledger#meta:customer=acme", "total#2026-10-15") == (660_000, 2)


def test_budget_alerts_fire_once_per_threshold_and_enforcement_denies_then_lifts(aws):
    # Given a $1 daily budget: 0.33, 0.66, 0.99, 1.32 (four requests, each in its own batch)
    for i in range(4):
        invoke([record(f"a{i}")])
    invoke([record("a0")])  # a redelivery must not re-alert
    sent = alerts(aws)
    user_alerts = [a for a in sent if a.get("subject", {}).get("value") == "ana@example.com"]
    # Then 50, 75, 90 and 100 % each alerted exactly once
    assert sorted(int(a["figures"]["threshold_pct"]) for a in user_alerts) == [50, 75, 90, 100]
    # And the user is denied by an inline policy conditioned on the session, block alerted
    who = identify(DEV)
    doc = aws["iam"].get_role_policy(RoleName="ClaudeCodeDevelopers", PolicyName=deny_policy_name(who.user))
    statement = doc["PolicyDocument"]["Statement"][0]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"StringLike": {"aws:userid": "*:ana@example.com"}}
    assert any(a.get("subject", {}).get("action") == "blocked" for a in sent)


def test_malformed_records_are_counted_and_kept_and_control_messages_ignored(aws):
    result = invoke([record("m1"), "{broken", json.dumps({"schemaType": "Other"})])
    assert (result["counted"], result["malformed"]) == (1, 2)
    keys = [o["Key"] for o in aws["s3"].list_objects_v2(Bucket="logs-bucket").get("Contents", [])]
    assert len(keys) == 1
    assert keys[0].startswith("quarantine/")
    body = aws["s3"].get_object(Bucket="logs-bucket", Key=keys[0])["Body"].read().decode()
    assert "{broken" in body
    control = invoke(["CWL CONTROL MESSAGE: Checking health of destination"], message_type="CONTROL_MESSAGE")
    assert control["records"] == 0
    assert control["message_type"] == "CONTROL_MESSAGE"


def test_a_garbage_event_fails_the_invocation_so_the_failure_destination_keeps_it(aws):
    with pytest.raises(ValueError, match="subscription payload"):
        request_ingest.handler({"awslogs": {"data": "not-base64-gzip"}}, FakeLambdaContext())
