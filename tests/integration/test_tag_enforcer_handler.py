"""Spec of the tag-enforcer Lambda, run for real against moto.

moto serves SNS, SQS, DynamoDB and, for Bedrock, custom models plus bedrock-agent
agents and knowledge bases (with tags). Inference profiles, provisioned throughput,
guardrails, flows and prompts are not in moto: they live in ``InMemoryBedrockResources``
behind the same interface (the adapter's real boto3 code for them is covered with
botocore's Stubber in test_tag_enforcer_adapter.py).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bedrock_cost.adapters.alert_publisher import AlertPublisher
from bedrock_cost.adapters.bedrock_resources import (
    BedrockResources,
    CombinedResources,
    DynamoViolationStore,
    InMemoryBedrockResources,
)
from bedrock_cost.config import AllowedValues, TagPolicy
from bedrock_cost.demo.state_table import create_state_table
from bedrock_cost.domain.alerts import Alert
from bedrock_cost.domain.tag_rules import TaggedResource
from bedrock_cost.errors import BedrockCostError, Throttled
from bedrock_cost.handlers import tag_enforcer
from tests.support.alert_inbox import AlertInbox
from tests.support.events import scheduled_event
from tests.support.lambda_context import lambda_context

pytestmark = pytest.mark.integration

REGION = "us-east-1"
ACCOUNT = "123456789012"
MOTO_TYPES = ["custom-model", "agent", "knowledge-base"]
FAKE_TYPES = [
    "application-inference-profile",
    "provisioned-model",
    "imported-model",
    "custom-model-deployment",
    "prompt-router",
    "guardrail",
    "flow",
    "prompt",
]
DAILY = datetime(2026, 11, 3, 6, tzinfo=UTC)
"""When the daily schedule fires."""
POLICY = TagPolicy(
    required_keys=["team", "environment"],
    allowed_values={"environment": AllowedValues(values=["prod", "staging", "dev"])},
    defaults={"environment": "dev"},
)


@dataclass
class World:
    """The emulated account: AWS clients, the fake source and the wiring."""

    fake: InMemoryBedrockResources
    bedrock: Any
    agent: Any
    inbox: AlertInbox
    sns: Any
    dynamodb: Any
    topic_arn: str
    table: str

    def wire(self, policy: TagPolicy = POLICY, source: CombinedResources | None = None) -> None:
        """Configure the handler; by default its source is moto's Bedrock plus the fake."""
        if source is None:
            source = CombinedResources(
                REGION,
                [BedrockResources(REGION, ACCOUNT, self.bedrock, self.agent, resource_types=MOTO_TYPES), self.fake],
            )
        tag_enforcer.configure(
            tag_enforcer.Dependencies(
                policy=policy,
                regions=[REGION],
                sources={REGION: source},
                store=DynamoViolationStore(self.dynamodb, self.table),
                sink=AlertPublisher(self.sns, self.topic_arn, self.dynamodb, self.table),
            )
        )

    def alerts(self) -> list[Alert]:
        """Drain the queue subscribed to the alert topic."""
        return self.inbox.alerts()

    def profile(self, name: str, tags: dict[str, str], resource_type: str = "application-inference-profile") -> str:
        arn = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:{resource_type}/{name}"
        self.fake.register(TaggedResource(arn, resource_type, REGION, name, tags))
        return arn

    def custom_model(self, name: str, tags: dict[str, str]) -> str:
        self.bedrock.create_model_customization_job(
            jobName=f"job-{name}",
            customModelName=name,
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/bedrock-customization",
            baseModelIdentifier="amazon.titan-text-express-v1",
            trainingDataConfig={"s3Uri": "s3://training/data.jsonl"},
            outputDataConfig={"s3Uri": "s3://training/out/"},
            hyperParameters={"epochCount": "1"},
            customModelTags=[{"key": k, "value": v} for k, v in tags.items()],
        )
        return str(self.bedrock.get_custom_model(modelIdentifier=name)["modelArn"])

    def agent_resource(self, name: str, tags: dict[str, str]) -> str:
        kwargs: dict[str, Any] = {
            "agentName": name,
            "agentResourceRoleArn": f"arn:aws:iam::{ACCOUNT}:role/agent",
            "foundationModel": "anthropic.claude-sonnet-4-6",
        }
        if tags:
            kwargs["tags"] = tags
        return str(self.agent.create_agent(**kwargs)["agent"]["agentArn"])

    def knowledge_base(self, name: str, tags: dict[str, str]) -> str:
        response = self.agent.create_knowledge_base(
            name=name,
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/kb",
            knowledgeBaseConfiguration={
                "type": "VECTOR",
                "vectorKnowledgeBaseConfiguration": {
                    "embeddingModelArn": f"arn:aws:bedrock:{REGION}::foundation-model/amazon.titan-embed-text-v2:0"
                },
            },
            storageConfiguration={
                "type": "OPENSEARCH_SERVERLESS",
                "opensearchServerlessConfiguration": {
                    "collectionArn": f"arn:aws:aoss:{REGION}:{ACCOUNT}:collection/abc",
                    "vectorIndexName": "index",
                    "fieldMapping": {"vectorField": "v", "textField": "t", "metadataField": "m"},
                },
            },
            tags=tags,
        )
        return str(response["knowledgeBase"]["knowledgeBaseArn"])


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "BedrockCostTracker")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "tag-enforcer")  # as the function sets it
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        table = "state"
        create_state_table(dynamodb, table)
        sns = boto3.client("sns", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        inbox = AlertInbox.subscribe(sns, sqs)
        w = World(
            fake=InMemoryBedrockResources(REGION, FAKE_TYPES),
            bedrock=boto3.client("bedrock", region_name=REGION),
            agent=boto3.client("bedrock-agent", region_name=REGION),
            inbox=inbox,
            sns=sns,
            dynamodb=dynamodb,
            topic_arn=inbox.topic_arn,
            table=table,
        )
        w.wire()
        yield w


def cloudtrail_event(
    event_name: str, request: dict[str, Any] | None, response: dict[str, Any] | None, error_code: str | None = None
) -> dict[str, Any]:
    """An ``AWS API Call via CloudTrail`` event as EventBridge delivers it from aws.bedrock."""
    detail: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLEID:alice",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Developer/alice",
            "accountId": ACCOUNT,
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": f"arn:aws:iam::{ACCOUNT}:role/Developer"}},
        },
        "eventTime": "2026-11-03T09:12:44Z",
        "eventSource": "bedrock.amazonaws.com",
        "eventName": event_name,
        "awsRegion": REGION,
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "Boto3/1.44.5 md/Botocore#1.44.5 ua/2.1 os/linux",
        "requestParameters": request,
        "responseElements": response,
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    if error_code:
        detail["errorCode"] = error_code
        detail["errorMessage"] = "User is not authorized"
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.bedrock",
        "account": ACCOUNT,
        "time": "2026-11-03T09:12:44Z",
        "region": REGION,
        "resources": [],
        "detail": detail,
    }


def emf_metrics(output: str) -> list[tuple[str, dict[str, str], float]]:
    """(name, dimensions, value) of every EMF metric printed to stdout."""
    found = []
    for line in output.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        blob = json.loads(line)
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            assert directive["Namespace"] == "BedrockCostTracker"
            dims = {d: blob[d] for dset in directive["Dimensions"] for d in dset}
            for metric in directive["Metrics"]:
                value = blob[metric["Name"]]
                found.append((metric["Name"], dims, float(value[0] if isinstance(value, list) else value)))
    return found


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    return tag_enforcer.handler(event, lambda_context("tag-enforcer", memory_limit_in_mb=256))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- daily scan


def test_daily_scan_alerts_once_per_violation_and_publishes_compliance(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given five resources across both tagging APIs, three of them non-compliant
    good_profile = world.profile("chat-prod", {"team": "ml", "environment": "prod"})
    bad_profile = world.profile("chat-scratch", {"team": "ml"})
    bad_model = world.custom_model("support-model", {"team": "ml", "environment": "production"})
    bad_agent = world.agent_resource("helpdesk", {})
    world.knowledge_base("docs", {"team": "search", "environment": "dev"})
    capsys.readouterr()

    # When the daily schedule fires
    summary = invoke(scheduled_event("tag-enforcer-daily", DAILY))

    # Then one alert per non-compliant resource reaches the topic
    alerts = world.alerts()
    assert sorted(a.subject["resource_arn"] for a in alerts) == sorted([bad_profile, bad_model, bad_agent])
    assert good_profile not in {a.subject["resource_arn"] for a in alerts}
    by_arn = {a.subject["resource_arn"]: a for a in alerts}
    assert by_arn[bad_model].details == [
        "tag 'environment' = 'production' is not allowed (expected one of prod, staging, dev)"
    ]
    assert {a.kind for a in alerts} == {"tag_violation"}
    assert summary["resources"] == 5
    assert summary["non_compliant"] == 3
    assert summary["alerts_sent"] == 3

    # And compliance metrics: overall without dimension, and per resource type
    metrics = emf_metrics(capsys.readouterr().out)
    assert ("TagCompliancePct", {}, 40.0) in metrics
    assert ("TagCompliancePct", {"ResourceType": "application-inference-profile"}, 50.0) in metrics
    assert ("TagCompliancePct", {"ResourceType": "knowledge-base"}, 100.0) in metrics
    assert ("NonCompliantResources", {"ResourceType": "agent"}, 1.0) in metrics
    assert ("NonCompliantResources", {"ResourceType": "custom-model"}, 1.0) in metrics
    assert ("NonCompliantResources", {"ResourceType": "guardrail"}, 0.0) in metrics
    assert not any(name == "TagCompliancePct" and dims == {"ResourceType": "guardrail"} for name, dims, _ in metrics)


def test_unchanged_violation_alerts_once(world: World) -> None:
    # Given a non-compliant profile already reported
    world.profile("chat-scratch", {"team": "ml"})
    invoke(scheduled_event("tag-enforcer-daily", DAILY))
    assert len(world.alerts()) == 1
    # When the next daily runs see the same violation
    invoke(scheduled_event("tag-enforcer-daily", DAILY))
    invoke(scheduled_event("tag-enforcer-daily", DAILY))
    # Then nothing is re-sent
    assert world.alerts() == []


def test_changed_violation_alerts_again(world: World) -> None:
    # Given a reported violation (missing environment)
    arn = world.profile("chat", {"team": "ml"})
    invoke(scheduled_event("tag-enforcer-daily", DAILY))
    world.alerts()
    # When the problem changes (now an invalid value instead)
    world.fake.register(
        TaggedResource(arn, "application-inference-profile", REGION, "chat", {"team": "ml", "environment": "qa"})
    )
    invoke(scheduled_event("tag-enforcer-daily", DAILY))
    # Then the new problem is alerted
    (alert,) = world.alerts()
    assert "'qa' is not allowed" in alert.details[0]


def test_fixed_then_broken_resource_alerts_again(world: World) -> None:
    # Given an agent without tags, reported once
    arn = world.agent_resource("helpdesk", {})
    invoke(scheduled_event("tag-enforcer-daily", DAILY))
    assert len(world.alerts()) == 1
    # When it is fixed, the violation state is cleared and nothing is sent
    world.agent.tag_resource(resourceArn=arn, tags={"team": "ml", "environment": "dev"})
    invoke(scheduled_event("tag-enforcer-daily", DAILY))
    assert world.alerts() == []
    assert "Item" not in world.dynamodb.get_item(
        TableName=world.table, Key={"pk": {"S": f"violation#{arn}"}, "sk": {"S": "state"}}
    )
    # And when it is broken the same way again, it alerts again
    world.agent.untag_resource(resourceArn=arn, tagKeys=["team", "environment"])
    invoke(scheduled_event("tag-enforcer-daily", DAILY))
    (again,) = world.alerts()
    assert again.subject["resource_arn"] == arn


def test_alert_that_failed_to_publish_is_sent_by_the_next_run(world: World) -> None:
    # Given the alert topic is unavailable during a run
    world.profile("chat-scratch", {"team": "ml"})
    real_topic = world.topic_arn
    world.topic_arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:missing"
    world.wire()
    with pytest.raises(BedrockCostError, match="tag enforcement incomplete"):
        invoke(scheduled_event("tag-enforcer-daily", DAILY))
    assert world.alerts() == []
    # When the next run has a working topic
    world.topic_arn = real_topic
    world.wire()
    invoke(scheduled_event("tag-enforcer-daily", DAILY))
    # Then the violation is alerted exactly once
    assert len(world.alerts()) == 1
    invoke(scheduled_event("tag-enforcer-daily", DAILY))
    assert world.alerts() == []


# --------------------------------------------------------------------------- remediation


def test_remediate_mode_adds_defaults_and_never_overwrites(world: World, caplog: pytest.LogCaptureFixture) -> None:
    # Given remediate mode, a custom model missing 'environment' and a profile with an invalid one
    world.wire(POLICY.model_copy(update={"mode": "remediate"}))
    model = world.custom_model("support-model", {"team": "ml"})
    profile = world.profile("chat", {"team": "ml", "environment": "Production!"})

    # When the daily scan runs
    invoke(scheduled_event("tag-enforcer-daily", DAILY))

    # Then the missing key got its default, in AWS
    tags = {t["key"]: t["value"] for t in world.bedrock.list_tags_for_resource(resourceARN=model)["tags"]}
    assert tags == {"team": "ml", "environment": "dev"}
    # And the invalid value was left exactly as it was
    assert world.fake.get_resource(profile).tags == {"team": "ml", "environment": "Production!"}  # type: ignore[union-attr]
    assert all(arn != profile for arn, _ in world.fake.tag_calls)
    # And the change is in the alert and in the log
    alerts = {a.subject["resource_arn"]: a for a in world.alerts()}
    assert "added tag environment=dev (remediate mode)" in alerts[model].details
    assert alerts[model].severity == "info"
    assert alerts[model].figures["remaining_violations"] == "0"
    assert alerts[profile].severity == "warning"
    changes = [r for r in caplog.records if r.getMessage() == "tags added"]
    assert [(r.resource_arn, r.added) for r in changes] == [(model, {"environment": "dev"})]

    # And the remediated model is compliant on the next run: no alert, no tag call
    invoke(scheduled_event("tag-enforcer-daily", DAILY))
    assert world.alerts() == []


# --------------------------------------------------------------------------- CloudTrail events


def test_each_cloudtrail_event_checks_its_resource(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    # Given one non-compliant resource per kind of event
    untagged: dict[str, str] = {}
    profile = world.profile("p1", {})
    provisioned = world.profile("abcdefabcdef", {}, "provisioned-model")
    guardrail = world.profile("g1", {}, "guardrail")
    router = world.profile("r1", {}, "prompt-router")
    flow = world.profile("FLOW123456", {}, "flow")
    prompt = world.profile("PROMPT1234", {}, "prompt")
    deployment = world.profile("d1", {}, "custom-model-deployment")
    model = world.custom_model("m1", untagged)
    agent = world.agent_resource("a1", untagged)
    kb = world.knowledge_base("kb1", {})
    job = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:model-customization-job/amazon.titan/abcdefabcdef"
    events = {
        profile: cloudtrail_event(
            "CreateInferenceProfile",
            {
                "inferenceProfileName": "p1",
                "modelSource": {"copyFrom": "arn:aws:bedrock:us-east-1::foundation-model/x"},
            },
            {"inferenceProfileArn": profile, "status": "ACTIVE"},
        ),
        provisioned: cloudtrail_event(
            "CreateProvisionedModelThroughput",
            {"modelUnits": 1, "provisionedModelName": "pt", "modelId": "amazon.titan-text-express-v1"},
            {"provisionedModelArn": provisioned},
        ),
        guardrail: cloudtrail_event(
            "CreateGuardrail", {"name": "g1"}, {"guardrailId": "g1", "guardrailArn": guardrail, "version": "DRAFT"}
        ),
        router: cloudtrail_event("CreatePromptRouter", {"promptRouterName": "r1"}, {"promptRouterArn": router}),
        flow: cloudtrail_event("CreateFlow", {"name": "f"}, {"id": "FLOW123456", "arn": flow, "name": "f"}),
        prompt: cloudtrail_event("CreatePrompt", {"name": "p"}, {"id": "PROMPT1234", "arn": prompt}),
        deployment: cloudtrail_event(
            "CreateCustomModelDeployment", {"modelDeploymentName": "d1"}, {"customModelDeploymentArn": deployment}
        ),
        model: cloudtrail_event("CreateCustomModel", {"modelName": "m1"}, {"modelArn": model}),
        agent: cloudtrail_event("CreateAgent", {"agentName": "a1"}, {"agent": {"agentArn": agent, "agentName": "a1"}}),
        kb: cloudtrail_event(
            "CreateKnowledgeBase", {"name": "kb1"}, {"knowledgeBase": {"knowledgeBaseArn": kb, "name": "kb1"}}
        ),
        job: cloudtrail_event(
            "CreateModelCustomizationJob",
            {"jobName": "j", "customModelName": "future-model", "customModelTags": [{"key": "team", "value": "ml"}]},
            {"jobArn": job},
        ),
    }
    capsys.readouterr()
    for arn, event in events.items():
        # When the event arrives
        summary = invoke(event)
        # Then exactly that resource is checked and alerted
        (alert,) = world.alerts()
        assert alert.subject["resource_arn"] == arn, event["detail"]["eventName"]
        assert summary["resources"] == 1
    # And event-driven runs publish no compliance percentage (they see one resource)
    assert not [m for m in emf_metrics(capsys.readouterr().out) if m[0] == "TagCompliancePct"]


def test_untag_event_on_agent_alerts_within_the_same_invocation(world: World) -> None:
    # Given a compliant agent
    arn = world.agent_resource("a1", {"team": "ml", "environment": "prod"})
    invoke(cloudtrail_event("CreateAgent", {"agentName": "a1"}, {"agent": {"agentArn": arn}}))
    assert world.alerts() == []
    # When someone removes a required tag
    world.agent.untag_resource(resourceArn=arn, tagKeys=["environment"])
    invoke(cloudtrail_event("UntagResource", {"resourceArn": arn, "tagKeys": ["environment"]}, None))
    # Then the violation is alerted
    (alert,) = world.alerts()
    assert alert.details == ["missing required tag 'environment'"]


def test_tag_event_that_fixes_a_resource_sends_nothing(world: World) -> None:
    arn = world.profile("p1", {"team": "ml"})
    invoke(cloudtrail_event("CreateInferenceProfile", {}, {"inferenceProfileArn": arn}))
    assert len(world.alerts()) == 1
    world.fake.register(
        TaggedResource(arn, "application-inference-profile", REGION, "p1", {"team": "ml", "environment": "dev"})
    )
    invoke(
        cloudtrail_event("TagResource", {"resourceARN": arn, "tags": [{"key": "environment", "value": "dev"}]}, None)
    )
    assert world.alerts() == []


def test_failed_api_call_and_deleted_resource_are_no_ops(world: World) -> None:
    # A call that failed created nothing
    summary = invoke(cloudtrail_event("CreateInferenceProfile", {"inferenceProfileName": "x"}, None, "AccessDenied"))
    assert summary["resources"] == 0
    # A resource deleted before we look is skipped
    gone = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:application-inference-profile/gone"
    summary = invoke(cloudtrail_event("TagResource", {"resourceARN": gone}, None))
    assert summary["resources"] == 0
    assert world.alerts() == []


# --------------------------------------------------------------------------- bad input and outages


def test_malformed_events_fail_with_a_clear_message(world: World) -> None:
    with pytest.raises(ValueError, match="unsupported event detail-type"):
        invoke({"detail-type": "Object Created", "source": "aws.s3"})
    broken = cloudtrail_event("CreateAgent", {}, {})
    del broken["detail"]["eventName"]
    with pytest.raises(ValueError, match="eventName"):
        invoke(broken)


def test_throttled_listing_fails_the_run_after_checking_the_rest(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given one resource type whose listing keeps being throttled
    bad = world.profile("chat-scratch", {"team": "ml"})

    class ThrottledAgents(InMemoryBedrockResources):
        def list_resources(self, resource_types: Any = None) -> Iterator[TaggedResource]:
            raise Throttled("listing Bedrock agent resources in us-east-1: ThrottlingException: Rate exceeded")

    world.wire(source=CombinedResources(REGION, [world.fake, ThrottledAgents(REGION, ["agent"])]))
    capsys.readouterr()
    # When the daily scan runs, Then the invocation fails (Lambda retries it) naming the cause
    with pytest.raises(BedrockCostError, match="ThrottlingException"):
        invoke(scheduled_event("tag-enforcer-daily", DAILY))
    # And the other types were still checked and alerted
    assert [a.subject["resource_arn"] for a in world.alerts()] == [bad]
    # And no compliance figure is published for the type that could not be read
    metrics = emf_metrics(capsys.readouterr().out)
    assert not [m for m in metrics if m[1] == {"ResourceType": "agent"}]


def test_environment_is_validated_at_cold_start(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a missing variable, the cold start fails loudly naming it
    monkeypatch.setenv("STATE_TABLE", "state")
    monkeypatch.setenv("ALERT_TOPIC_ARN", f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts")
    monkeypatch.setenv("ACCOUNT_ID", ACCOUNT)
    monkeypatch.delenv("REGIONS", raising=False)
    monkeypatch.setenv("TAG_POLICY", POLICY.model_dump_json())
    with pytest.raises(RuntimeError, match="REGIONS"):
        tag_enforcer.load_environment()
    # And a complete environment parses into typed values
    monkeypatch.setenv("REGIONS", "us-east-1, eu-west-1")
    env = tag_enforcer.load_environment()
    assert env.regions == ["us-east-1", "eu-west-1"]
    assert env.tag_policy == POLICY
