"""Spec of the TagEnforcer construct: triggers, permissions per mode, cdk-nag clean."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App, Stack, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks

import tests.infra.synth_support  # noqa: F401 - puts the project's Node.js on PATH for jsii
from bedrock_cost.config_loader import parse_config
from bedrock_cost.domain.tag_events import TRACKED_EVENT_NAMES
from infra.tag_enforcer import HANDLER, LIST_ACTIONS, TagEnforcer
from tests.infra.policy_statements import actions, policy_statements

pytestmark = pytest.mark.infra

BASE: dict[str, Any] = {
    "regions": ["us-east-1", "eu-west-1"],
    "cur": {"create_export": True},
    "tag_policy": {
        "required_keys": ["team", "environment"],
        "allowed_values": {"environment": {"values": ["prod", "dev"]}},
        "defaults": {"environment": "dev"},
    },
}


def synth(mode: str) -> dict[str, Any]:
    config = parse_config({**BASE, "tag_policy": {**BASE["tag_policy"], "mode": mode}})
    app = App(context={"aws:cdk:bundling-stacks": []})
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    stack = Stack(app, "TagEnforcerSpec")
    key = kms.Key(stack, "AlertKey", enable_key_rotation=True)
    topic = sns.Topic(stack, "Alerts", master_key=key, enforce_ssl=True)
    table = dynamodb.TableV2(
        stack,
        "State",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
        time_to_live_attribute="expires_at",
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
    )
    TagEnforcer(stack, "TagEnforcer", config=config, alert_topic=topic, state_table=table)
    # cdk-nag runs as a validation plugin: an unacknowledged finding fails synth here
    assembly = app.synth()
    template: dict[str, Any] = assembly.get_stack_by_name("TagEnforcerSpec").template
    return template


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return synth("report")


@pytest.fixture(scope="module")
def remediate() -> dict[str, Any]:
    return synth("remediate")


def test_function_gets_policy_regions_and_state_from_the_config(report: dict[str, Any]) -> None:
    template = Template.from_json(report)
    (function,) = [
        r
        for r in report["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"]["Handler"] == HANDLER
    ]
    env = function["Properties"]["Environment"]["Variables"]
    assert env["REGIONS"] == "us-east-1,eu-west-1"
    assert json.loads(env["TAG_POLICY"])["required_keys"] == ["team", "environment"]
    assert {"STATE_TABLE", "ALERT_TOPIC_ARN", "ACCOUNT_ID"} <= set(env)
    template.has_resource_properties("AWS::Lambda::EventInvokeConfig", {"MaximumRetryAttempts": 2})


def test_daily_schedule_and_cloudtrail_rule(report: dict[str, Any]) -> None:
    rules = [r["Properties"] for r in report["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    assert any(r.get("ScheduleExpression") == "cron(15 6 * * ? *)" for r in rules)
    (pattern,) = [r["EventPattern"] for r in rules if "EventPattern" in r]
    assert pattern["source"] == ["aws.bedrock"]
    assert pattern["detail-type"] == ["AWS API Call via CloudTrail"]
    assert pattern["detail"]["eventSource"] == ["bedrock.amazonaws.com"]
    assert set(pattern["detail"]["eventName"]) == set(TRACKED_EVENT_NAMES)
    assert {"CreateInferenceProfile", "TagResource", "UntagResource", "CreateAgent", "CreateGuardrail"} <= set(
        pattern["detail"]["eventName"]
    )
    # Every target retries and keeps what it cannot deliver
    for rule in rules:
        (target,) = rule["Targets"]
        assert target["RetryPolicy"]["MaximumRetryAttempts"] == 4
        assert "DeadLetterConfig" in target


def test_report_mode_cannot_tag(report: dict[str, Any]) -> None:
    all_actions = {a for s in policy_statements(report) for a in actions(s)}
    assert "bedrock:TagResource" not in all_actions
    assert not any(a.startswith("bedrock:") and ("Create" in a or "Delete" in a or "Update" in a) for a in all_actions)


def test_remediate_mode_tags_only_own_bedrock_arns_with_default_keys(remediate: dict[str, Any]) -> None:
    (tag,) = [s for s in policy_statements(remediate) if "bedrock:TagResource" in actions(s)]
    assert actions(tag) == ["bedrock:TagResource"]
    assert tag["Condition"] == {"ForAllValues:StringEquals": {"aws:TagKeys": ["environment"]}}
    resources = json.dumps(tag["Resource"])
    assert "*" not in json.dumps([r for r in tag["Resource"] if "bedrock" not in json.dumps(r)])
    assert "application-inference-profile/*" in resources
    assert "AWS::AccountId" in resources
    assert '"Resource": "*"' not in json.dumps(tag)


def test_reads_are_scoped_and_only_listing_uses_star(report: dict[str, Any]) -> None:
    for statement in policy_statements(report):
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if "*" in resources:
            assert set(actions(statement)) <= set(LIST_ACTIONS) | {
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
            }
    (read,) = [s for s in policy_statements(report) if "bedrock:ListTagsForResource" in actions(s)]
    text = json.dumps(read["Resource"])
    assert "us-east-1" in text
    assert "eu-west-1" in text
    assert "agent/*" in text


def test_state_access_is_limited_to_own_key_prefixes(report: dict[str, Any]) -> None:
    (state,) = [s for s in policy_statements(report) if "dynamodb:PutItem" in actions(s)]
    assert state["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["violation#*", "alert#*"]}}
    assert not any(a in {"dynamodb:Scan", "dynamodb:Query", "dynamodb:*"} for a in actions(state))


def test_alert_topic_publish_and_encrypted_dead_letters(report: dict[str, Any]) -> None:
    template = Template.from_json(report)
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {"PolicyDocument": {"Statement": Match.array_with([Match.object_like({"Action": "sns:Publish"})])}},
    )
    template.has_resource_properties("AWS::SQS::Queue", {"SqsManagedSseEnabled": True})
