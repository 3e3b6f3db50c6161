"""Spec of the RequestLedger construct: invocation logging, subscription, ingest, Glue, views.

One module-scoped synth of the real app with ``request_logs.logging: create``, budgets and
enforcement on (cdk-nag runs inside synth: an unacknowledged finding fails it); the session
synths of the default config show the safe default (``logging: off``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.infra.synth_support import CREATED_EXPORT_CONFIG, Synth, synthesize

pytestmark = pytest.mark.infra
INGEST_HANDLER = "bedrock_cost.handlers.request_ingest.handler"
ACCT = "123456789012"

LEDGER_CONFIG: dict[str, Any] = {
    **CREATED_EXPORT_CONFIG,
    "request_logs": {
        "logging": "create",
        "retention_days": 30,
        "enforcement": True,
        "enforce_targets": ["role/ClaudeCode*", "user/BedrockAPIKey-*"],
        "budgets": [
            {"subject": "user", "period": "day", "limit_usd": "25", "enforce": True},
            {"subject": "meta:customer", "value": "acme", "period": "month", "limit_usd": "500"},
        ],
    },
}


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize(LEDGER_CONFIG, tmp_path_factory.mktemp("ledger"))


def _one(synth: Synth, kind: str, **match: Any) -> dict[str, Any]:
    found = [
        r for r in synth.resources(kind).values() if all(r.get("Properties", {}).get(k) == v for k, v in match.items())
    ]
    assert len(found) == 1, (kind, match, len(found))
    return found[0]


def _ingest(synth: Synth) -> tuple[str, dict[str, Any]]:
    functions = synth.resources("AWS::Lambda::Function")
    [(name, fn)] = [
        (k, v)
        for k, v in functions.items()
        if v["Properties"].get("Handler") == "bedrock_cost.handlers.request_ingest.handler"
    ]
    return name, fn


def test_logging_configuration_is_set_with_data_delivery_off(ledger):
    # Given logging 'create' and no keep_prompts
    resource = _one(ledger, "Custom::BedrockInvocationLogging")
    # Then the custom resource writes to the ledger's log group and bucket, prompts off
    assert resource["Properties"]["KeepPrompts"] is False
    assert "LogGroupName" in resource["Properties"]
    assert "BucketName" in resource["Properties"]
    from bedrock_cost.handlers.request_ledger_setup import LoggingProperties, logging_configuration

    config = logging_configuration(
        LoggingProperties.model_validate(
            {
                "LogGroupName": "g",
                "RoleArn": "arn:aws:iam::123456789012:role/r",
                "BucketName": "bkt",
                "KeepPrompts": False,
            }
        )
    )
    assert config["textDataDeliveryEnabled"] is False
    assert config["imageDataDeliveryEnabled"] is False
    assert config["embeddingDataDeliveryEnabled"] is False


def test_default_config_leaves_account_logging_untouched(created):
    # The default (logging: off) deploys the ledger idle and never calls Put...Configuration.
    assert created.resources("Custom::BedrockInvocationLogging") == {}
    assert len(created.resources("AWS::Logs::SubscriptionFilter")) == 1


def test_subscription_filter_feeds_the_ingest_lambda(ledger):
    name, _ = _ingest(ledger)
    [sub] = ledger.resources("AWS::Logs::SubscriptionFilter").values()
    assert sub["Properties"]["DestinationArn"] == {"Fn::GetAtt": [name, "Arn"]}
    assert sub["Properties"]["FilterPattern"] == ""
    # Lambda invoke permission for CloudWatch Logs only, from this log group
    perms = [
        p
        for p in ledger.resources("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "logs.amazonaws.com"
    ]
    assert len(perms) == 1
    assert perms[0]["Properties"]["FunctionName"] == {"Fn::GetAtt": [name, "Arn"]}


def test_ingest_lambda_has_an_encrypted_on_failure_queue_and_no_batching_window(ledger):
    name, fn = _ingest(ledger)
    [config] = [
        c
        for c in ledger.resources("AWS::Lambda::EventInvokeConfig").values()
        if c["Properties"]["FunctionName"] == {"Ref": name}
    ]
    assert config["Properties"]["MaximumRetryAttempts"] == 2
    queue_ref = config["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]
    queue_id = queue_ref["Fn::GetAtt"][0]
    queue = ledger.template_json["Resources"][queue_id]
    assert queue["Type"] == "AWS::SQS::Queue"
    assert queue["Properties"]["SqsManagedSseEnabled"] is True
    # Subscription delivery is asynchronous invoke: no event source mapping, so no batching
    # window at all; none in the template may exceed 10 s.
    for mapping in ledger.resources("AWS::Lambda::EventSourceMapping").values():
        assert mapping["Properties"].get("MaximumBatchingWindowInSeconds", 0) <= 10
    env = fn["Properties"]["Environment"]["Variables"]
    budgets = json.loads(env["REQUEST_BUDGETS"])
    assert {"subject": "user", "value": "*", "period": "day", "limit_usd": "25", "enforce": True} in budgets
    assert "ALERT_TOPIC_ARN" in env
    assert "LEDGER_TABLE" in env
    assert env["SLOW_BURN_SIGMA"] == "3"  # request_logs.slow_burn_sigma, its default


def test_glue_table_projects_account_region_and_hour(ledger):
    tables = [
        t["Properties"]["TableInput"]
        for t in ledger.resources("AWS::Glue::Table").values()
        if t["Properties"]["TableInput"]["Name"] == "bedrock_invocation_logs"
    ]
    assert len(tables) == 1
    table = tables[0]
    params = table["Parameters"]
    assert params["projection.enabled"] == "true"
    assert params["projection.dt.type"] == "date"
    assert params["projection.dt.format"] == "yyyy/MM/dd/HH"
    assert params["projection.dt.interval.unit"] == "HOURS"
    assert params["projection.log_region.values"] == "us-east-1"
    template = json.dumps(params["storage.location.template"])
    assert "s3://${Bucket}/AWSLogs/${!log_account}/BedrockModelInvocationLogs/${!log_region}/${!dt}/" in template
    serde = table["StorageDescriptor"]["SerdeInfo"]
    assert serde["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    assert serde["Parameters"]["ignore.malformed.json"] == "true"
    assert [k["Name"] for k in table["PartitionKeys"]] == ["log_account", "log_region", "dt"]


def test_views_custom_resource_creates_the_request_views(ledger):
    views = _one(ledger, "Custom::RequestLedgerViews")["Properties"]
    assert views["Table"] == "bedrock_invocation_logs"
    assert len(views["SqlHash"]) == 64


def test_state_table_has_point_in_time_recovery_and_ingest_writes_only_its_prefixes(ledger):
    [table] = ledger.resources("AWS::DynamoDB::Table").values()
    assert table["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    statements = _ingest_statements(ledger)
    dynamo = [s for s in statements if any(str(a).startswith("dynamodb:") for a in _list(s["Action"]))]
    assert dynamo
    for s in dynamo:
        prefixes = s["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
        assert all(p in ("req#*", "ledger#*", "blocks*", "alert#*") for p in prefixes)
        assert "dynamodb:Scan" not in _list(s["Action"])


def test_alert_path_publishes_to_the_alert_topic_only(ledger):
    statements = _ingest_statements(ledger)
    publish = [s for s in statements if "sns:Publish" in _list(s["Action"])]
    assert len(publish) == 1
    [topic] = [k for k in ledger.resources("AWS::SNS::Topic") if k.startswith("Alerts")]
    assert publish[0]["Resource"] == {"Ref": topic}


def test_deny_permissions_are_scoped_and_never_on_its_own_role(ledger):
    statements = _ingest_statements(ledger)
    allow = [s for s in statements if s["Effect"] == "Allow" and "iam:PutRolePolicy" in _list(s["Action"])]
    deny = [s for s in statements if s["Effect"] == "Deny"]
    assert len(allow) == 1
    resources = json.dumps(allow[0]["Resource"])
    assert ":role/ClaudeCode*" in resources
    assert ":user/BedrockAPIKey-*" in resources
    assert "role/*" not in resources
    assert deny
    assert "iam:PutRolePolicy" in _list(deny[0]["Action"])


def test_no_iam_permissions_without_enforcement(created):
    for policy in created.resources("AWS::IAM::Policy").values():
        for s in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert "iam:PutRolePolicy" not in _list(s["Action"]) or s["Effect"] == "Deny"


def test_logging_role_is_assumable_by_bedrock_from_this_account_only(ledger):
    roles = [
        r
        for r in ledger.resources("AWS::IAM::Role").values()
        if r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"].get("Service")
        == "bedrock.amazonaws.com"
    ]
    assert len(roles) == 1
    condition = roles[0]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]
    assert "aws:SourceAccount" in condition["StringEquals"]
    assert "aws:SourceArn" in condition["ArnLike"]


def test_delivery_bucket_is_encrypted_private_and_expires(ledger):
    buckets = [
        b
        for b in ledger.resources("AWS::S3::Bucket").values()
        if b["Properties"].get("LoggingConfiguration", {}).get("LogFilePrefix") == "invocation-logs/"
    ]
    assert len(buckets) == 1
    props = buckets[0]["Properties"]
    assert props["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert props["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] >= 30


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _ingest_statements(synth: Synth) -> list[dict[str, Any]]:
    _name, fn = _ingest(synth)
    role_ref = fn["Properties"]["Role"]["Fn::GetAtt"][0]
    out = []
    for policy in synth.resources("AWS::IAM::Policy").values():
        if {"Ref": role_ref} in policy["Properties"].get("Roles", []):
            out += policy["Properties"]["PolicyDocument"]["Statement"]
    return out


def test_ledger_template_is_clean_under_cfn_lint_and_cdk_nag(ledger):
    from tests.infra.test_compliance import _lint

    assert _lint(ledger, ["us-east-1"]) == []
    report = json.loads((ledger.outdir / "validation-report.json").read_text())
    assert [v for plugin in report["pluginReports"] for v in plugin.get("violations", [])] == []
