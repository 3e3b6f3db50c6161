"""Spec of the Estimator and StateTable constructs: schedule, IAM scope, table, bucket, Glue table.

Synthesized once per module with cdk-nag's AwsSolutions checks as a validation plugin:
an unacknowledged finding fails the synth, so every test here also asserts "nag clean".
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from aws_cdk import App, Stack, Validations
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks

import tests.infra.synth_support  # noqa: F401 - puts the project's Node.js on PATH for jsii
from app import cdk_json_context
from bedrock_cost.config_loader import parse_config
from bedrock_cost.domain.estimate import Counts, hour_records
from bedrock_cost.domain.estimator_run import EstimatorConfig
from bedrock_cost.domain.model_resolution import ResolvedModel
from bedrock_cost.domain.pricing import PriceCatalog, load_bundled_layer
from bedrock_cost.handlers.estimator import EstimatorEnvironment
from infra.cur_analytics import CurAnalytics
from infra.estimator import ESTIMATE_COLUMNS, ESTIMATOR_HANDLER, PRICE_REFRESH_HANDLER, Estimator
from infra.state_table import StateTable
from tests.infra.policy_statements import actions, policy_statements

pytestmark = pytest.mark.infra

CONFIG: dict[str, Any] = {
    "regions": ["us-east-1", "eu-west-1"],
    "report_tag_keys": ["team", "project"],
    "cur": {"create_export": True},
    "estimator": {"schedule_minutes": 2, "settle_minutes": 3},
    "pricing": {
        "discount_pct": "7.5",
        "overrides": [{"model": "Nova Pro", "usage_kind": "input", "usd_per_million": "0.7"}],
    },
    "budgets": {"per_tag": {"team": {"ml": {"monthly_usd": 1000}}}},
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    config = parse_config(CONFIG)
    feature_flags = {k: v for k, v in cdk_json_context().items() if k.startswith("@")}
    app = App(context={**feature_flags, "aws:cdk:bundling-stacks": []})
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    stack = Stack(app, "EstimatorSpec")
    analytics = CurAnalytics(stack, "Analytics", config=config)
    state = StateTable(stack, "State")
    reports = s3.Bucket(stack, "Reports", enforce_ssl=True, server_access_logs_bucket=analytics.access_logs_bucket)
    Estimator(stack, "Estimator", config=config, analytics=analytics, state=state, calibration_bucket=reports)
    result: dict[str, Any] = app.synth().get_stack_by_name("EstimatorSpec").template
    return result


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def function(template: dict[str, Any], handler: str) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (k, r) for k, r in resources(template, "AWS::Lambda::Function").items() if r["Properties"]["Handler"] == handler
    ]
    return found


def statements_of(template: dict[str, Any], function_key: str) -> list[dict[str, Any]]:
    return policy_statements(template, template["Resources"][function_key]["Properties"]["Role"]["Fn::GetAtt"][0])


def test_estimator_runs_on_the_configured_rate_without_async_retries(template: dict[str, Any]) -> None:
    key, _ = function(template, ESTIMATOR_HANDLER)
    t = Template.from_json(template)
    t.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "rate(2 minutes)",
            "Targets": [
                Match.object_like(
                    {
                        "Arn": {"Fn::GetAtt": [key, "Arn"]},
                        "RetryPolicy": {"MaximumEventAgeInSeconds": 300, "MaximumRetryAttempts": 0},
                    }
                )
            ],
        },
    )
    t.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig", {"FunctionName": {"Ref": key}, "MaximumRetryAttempts": 0}
    )
    _, props = function(template, ESTIMATOR_HANDLER)
    # No reserved concurrency (it fails in accounts at their minimum concurrency quota):
    # one run at a time comes from the lease item and the conditional watermark
    assert "ReservedConcurrentExecutions" not in props["Properties"]
    assert props["Properties"]["Timeout"] == 300


def test_default_schedule_is_five_minutes() -> None:
    assert parse_config({"cur": {"create_export": True}}).estimator.schedule_minutes == 5


def test_price_refresh_runs_daily(template: dict[str, Any]) -> None:
    key, _ = function(template, PRICE_REFRESH_HANDLER)
    Template.from_json(template).has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "cron(30 5 * * ? *)",
            "Targets": [Match.object_like({"Arn": {"Fn::GetAtt": [key, "Arn"]}})],
        },
    )


def test_estimator_environment_is_what_the_handler_validates(template: dict[str, Any]) -> None:
    _, props = function(template, ESTIMATOR_HANDLER)
    env = props["Properties"]["Environment"]["Variables"]
    concrete = {k: (v if isinstance(v, str) else "resolved-at-deploy") for k, v in env.items()}
    parsed = EstimatorEnvironment.model_validate(concrete)
    assert parsed.config == EstimatorConfig.from_config(parse_config(CONFIG))
    assert parsed.config.pinned_tag_values == {"team": ["ml"]}
    assert str(parsed.config.pricing.discount_pct) == "7.5"


def test_state_table_is_on_demand_with_pitr_encryption_and_ttl(template: dict[str, Any]) -> None:
    Template.from_json(template).has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True},
            "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
        },
    )
    (table,) = resources(template, "AWS::DynamoDB::Table").values()
    assert "TableName" not in table["Properties"]  # generated: two stacks can share an account


def test_estimator_iam_is_scoped(template: dict[str, Any]) -> None:
    key, _ = function(template, ESTIMATOR_HANDLER)
    statements = statements_of(template, key)
    by_action = {a: s for s in statements for a in actions(s)}
    # Only the read-only APIs without resource-level permissions use "*"
    unscoped = {a for s in statements if s["Resource"] == "*" for a in actions(s)}
    assert unscoped == {
        "cloudwatch:GetMetricData",
        "cloudwatch:ListMetrics",
        "bedrock:ListInferenceProfiles",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }
    # Inference-profile reads: application profiles of this account, configured regions only
    profile_resources = json.dumps(by_action["bedrock:GetInferenceProfile"]["Resource"])
    assert ":bedrock:us-east-1:" in profile_resources
    assert ":bedrock:eu-west-1:" in profile_resources
    assert profile_resources.count("application-inference-profile/*") == 2
    assert by_action["bedrock:ListTagsForResource"] is by_action["bedrock:GetInferenceProfile"]
    # State table: watermark items (read, conditional write) and the run lease, nothing else
    dynamo = [s for s in statements if any(a.startswith("dynamodb:") for a in actions(s))]
    by_keys = {s["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"][0]: s for s in dynamo}
    assert set(by_keys) == {"watermark#*", "lease#estimator*"}
    assert sorted(actions(by_keys["watermark#*"])) == ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    assert sorted(actions(by_keys["lease#estimator*"])) == [
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
    ]
    # S3: write records, read prices and calibration, by prefix
    assert json.dumps(by_action["s3:PutObject"]["Resource"]).endswith('"/estimates/*"]]}')
    reads = json.dumps(by_action["s3:GetObject"]["Resource"])
    assert "/pricing/*" in reads
    assert "/calibration/*" in reads
    assert not any(a.startswith(("s3:Delete", "dynamodb:Scan", "bedrock:Invoke")) for a in by_action)
    # DeleteItem only releases the run lease, never a watermark
    assert "dynamodb:DeleteItem" not in actions(by_keys["watermark#*"])


def test_price_refresh_iam_is_scoped(template: dict[str, Any]) -> None:
    key, _ = function(template, PRICE_REFRESH_HANDLER)
    statements = statements_of(template, key)
    granted = {a for s in statements for a in actions(s)}
    assert granted == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "pricing:GetProducts",
        "s3:PutObject",
    }
    (put,) = [s for s in statements if "s3:PutObject" in actions(s)]
    assert json.dumps(put["Resource"]).endswith('"/pricing/*"]]}')


def test_estimates_bucket_is_private_encrypted_and_expires_records(template: dict[str, Any]) -> None:
    buckets = resources(template, "AWS::S3::Bucket")
    (estimates,) = [b for k, b in buckets.items() if k.startswith("EstimatorEstimates")]
    props = estimates["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"
    }
    rules = props["LifecycleConfiguration"]["Rules"]
    assert {"ExpirationInDays": 400, "Prefix": "estimates/", "Status": "Enabled"} in rules
    assert "LoggingConfiguration" in props
    policies = [
        p
        for p in resources(template, "AWS::S3::BucketPolicy").values()
        if "Estimates" in json.dumps(p["Properties"]["Bucket"])
    ]
    assert any('"aws:SecureTransport": "false"' in json.dumps(p) for p in policies)


def test_glue_table_reads_the_records_with_partition_projection(template: dict[str, Any]) -> None:
    (table,) = [
        t
        for t in resources(template, "AWS::Glue::Table").values()
        if t["Properties"]["TableInput"]["Name"] == "bedrock_estimates"
    ]
    props = table["Properties"]
    assert props["DatabaseName"] == "bedrock_cost"  # the CUR database
    table_input = props["TableInput"]
    assert [c["Name"] for c in table_input["PartitionKeys"]] == ["dt", "region"]
    params = table_input["Parameters"]
    assert params["projection.enabled"] == "true"
    assert params["projection.region.values"] == "us-east-1,eu-west-1"
    assert params["projection.dt.format"] == "yyyy-MM-dd"
    assert "dt=${!dt}/region=${!region}/" in json.dumps(params["storage.location.template"])
    sd = table_input["StorageDescriptor"]
    assert sd["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    assert [(c["Name"], c["Type"]) for c in sd["Columns"]] == list(ESTIMATE_COLUMNS)


def test_glue_columns_match_the_records_the_estimator_writes() -> None:
    hour = datetime(2026, 11, 24, 10, tzinfo=UTC)
    model = ResolvedModel("amazon.nova-pro-v1:0", "Nova Pro", "Amazon", known=True, scope="regional", id_kind="model")
    (record,) = hour_records(
        region="us-east-1",
        hour=hour,
        covered_until=hour.replace(minute=5),
        usage={model.model_id: {hour: Counts(input=5)}},
        resolved={model.model_id: model},
        catalog=PriceCatalog(bundled=load_bundled_layer()),
        generated_at=hour,
    )
    assert set(record) - {"region"} == {name for name, _ in ESTIMATE_COLUMNS}
