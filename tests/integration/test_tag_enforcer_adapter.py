"""Spec of the Bedrock resource adapter for the APIs moto lacks, with botocore's Stubber.

Stubber checks every request and canned response against the real service model, so
these tests fail if the adapter calls an operation with the wrong parameter names or
reads a field the API does not return.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from bedrock_cost.adapters.bedrock_resources import (
    BedrockResources,
    CombinedResources,
    DynamoViolationStore,
    InMemoryBedrockResources,
)
from bedrock_cost.demo.state_table import create_state_table
from bedrock_cost.domain.tag_enforcement import ViolationRecord
from bedrock_cost.domain.tag_rules import TaggedResource
from bedrock_cost.errors import BedrockCostError, Throttled

pytestmark = pytest.mark.integration

REGION = "us-east-1"
ACCOUNT = "123456789012"
PROFILE = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:application-inference-profile/a1b2c3d4e5f6"
PROVISIONED = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:provisioned-model/a1b2c3d4e5f6"
GUARDRAIL = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:guardrail/abc123xyz"
FLOW = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:flow/ABCDEFGHIJ"
NOW = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def clients() -> Iterator[tuple[Any, Any, Stubber, Stubber]]:
    bedrock = boto3.client("bedrock", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y")
    agent = boto3.client("bedrock-agent", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(bedrock) as b, Stubber(agent) as a:
        yield bedrock, agent, b, a
        b.assert_no_pending_responses()
        a.assert_no_pending_responses()


def test_lists_application_inference_profiles_with_their_tags(clients: tuple[Any, Any, Stubber, Stubber]) -> None:
    bedrock, agent, stub, _ = clients
    # Given one application profile (two pages of listing) and its tags
    stub.add_response(
        "list_inference_profiles",
        {
            "inferenceProfileSummaries": [
                {
                    "inferenceProfileName": "chatbot-prod",
                    "inferenceProfileArn": PROFILE,
                    "inferenceProfileId": "a1b2c3d4e5f6",
                    "models": [{"modelArn": "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-6"}],
                    "status": "ACTIVE",
                    "type": "APPLICATION",
                }
            ],
            "nextToken": "page2",
        },
        {"typeEquals": "APPLICATION"},
    )
    stub.add_response(
        "list_inference_profiles",
        {"inferenceProfileSummaries": []},
        {"typeEquals": "APPLICATION", "nextToken": "page2"},
    )
    stub.add_response(
        "list_tags_for_resource",
        {"tags": [{"key": "team", "value": "ml"}, {"key": "environment", "value": "prod"}]},
        {"resourceARN": PROFILE},
    )
    source = BedrockResources(REGION, ACCOUNT, bedrock, agent, ["application-inference-profile"])
    # When listing / Then the profile comes back typed, named and tagged
    (resource,) = list(source.list_resources())
    assert resource == TaggedResource(
        PROFILE, "application-inference-profile", REGION, "chatbot-prod", {"team": "ml", "environment": "prod"}
    )


def test_lists_provisioned_throughput_and_guardrails(clients: tuple[Any, Any, Stubber, Stubber]) -> None:
    bedrock, agent, stub, _ = clients
    when = datetime(2026, 10, 1, tzinfo=UTC)
    stub.add_response(
        "list_provisioned_model_throughputs",
        {
            "provisionedModelSummaries": [
                {
                    "provisionedModelName": "claims-pt",
                    "provisionedModelArn": PROVISIONED,
                    "modelArn": "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0",
                    "desiredModelArn": "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0",
                    "foundationModelArn": "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0",
                    "modelUnits": 1,
                    "desiredModelUnits": 1,
                    "status": "InService",
                    "creationTime": when,
                    "lastModifiedTime": when,
                }
            ]
        },
        {},
    )
    stub.add_response("list_tags_for_resource", {"tags": []}, {"resourceARN": PROVISIONED})
    stub.add_response(
        "list_guardrails",
        {
            "guardrails": [
                {
                    "id": "abc123xyz",
                    "arn": GUARDRAIL,
                    "status": "READY",
                    "name": "pii-filter",
                    "version": "DRAFT",
                    "createdAt": when,
                    "updatedAt": when,
                }
            ]
        },
        {},
    )
    stub.add_response("list_tags_for_resource", {"tags": [{"key": "team", "value": "sec"}]}, {"resourceARN": GUARDRAIL})
    source = BedrockResources(REGION, ACCOUNT, bedrock, agent, ["provisioned-model", "guardrail"])
    found = {r.arn: (r.resource_type, r.name, dict(r.tags)) for r in source.list_resources()}
    assert found == {
        PROVISIONED: ("provisioned-model", "claims-pt", {}),
        GUARDRAIL: ("guardrail", "pii-filter", {"team": "sec"}),
    }


def test_get_resource_reads_name_and_tags_and_handles_deletion(clients: tuple[Any, Any, Stubber, Stubber]) -> None:
    bedrock, agent, stub, astub = clients
    source = BedrockResources(REGION, ACCOUNT, bedrock, agent)
    # Given an existing flow (bedrock-agent API: tags as a map)
    when = datetime(2026, 10, 1, tzinfo=UTC)
    astub.add_response(
        "get_flow",
        {
            "name": "triage",
            "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/flow",
            "status": "Prepared",
            "createdAt": when,
            "updatedAt": when,
            "id": "ABCDEFGHIJ",
            "arn": FLOW,
            "version": "DRAFT",
        },
        {"flowIdentifier": "ABCDEFGHIJ"},
    )
    astub.add_response("list_tags_for_resource", {"tags": {"team": "ops"}}, {"resourceArn": FLOW})
    assert source.get_resource(FLOW) == TaggedResource(FLOW, "flow", REGION, "triage", {"team": "ops"})
    # And a profile deleted before we look: None, not an error
    stub.add_client_error(
        "get_inference_profile", "ResourceNotFoundException", "not found", 404, {"inferenceProfileIdentifier": PROFILE}
    )
    assert source.get_resource(PROFILE) is None
    # And ARNs of untracked types are ignored
    assert source.get_resource(f"arn:aws:bedrock:{REGION}:{ACCOUNT}:model-invocation-job/abcdefabcdef") is None


def test_add_tags_uses_each_api_shape(clients: tuple[Any, Any, Stubber, Stubber]) -> None:
    bedrock, agent, stub, astub = clients
    source = BedrockResources(REGION, ACCOUNT, bedrock, agent)
    stub.add_response("tag_resource", {}, {"resourceARN": PROFILE, "tags": [{"key": "environment", "value": "dev"}]})
    astub.add_response("tag_resource", {}, {"resourceArn": FLOW, "tags": {"environment": "dev"}})
    source.add_tags(TaggedResource(PROFILE, "application-inference-profile", REGION, "p", {}), {"environment": "dev"})
    source.add_tags(TaggedResource(FLOW, "flow", REGION, "f", {}), {"environment": "dev"})


def test_throttling_and_access_errors_are_translated(clients: tuple[Any, Any, Stubber, Stubber]) -> None:
    bedrock, agent, stub, _ = clients
    source = BedrockResources(REGION, ACCOUNT, bedrock, agent, ["prompt-router"])
    stub.add_client_error("list_prompt_routers", "ThrottlingException", "Rate exceeded", 429, {"type": "custom"})
    with pytest.raises(Throttled, match="prompt-router"):
        list(source.list_resources())
    stub.add_client_error(
        "tag_resource",
        "AccessDeniedException",
        "not authorized to perform bedrock:TagResource",
        403,
        {"resourceARN": PROFILE, "tags": [{"key": "team", "value": "ml"}]},
    )
    with pytest.raises(BedrockCostError, match="AccessDeniedException"):
        source.add_tags(TaggedResource(PROFILE, "application-inference-profile", REGION, "p", {}), {"team": "ml"})


def test_unknown_resource_type_is_rejected(clients: tuple[Any, Any, Stubber, Stubber]) -> None:
    bedrock, agent, _, _ = clients
    with pytest.raises(BedrockCostError, match="unknown Bedrock resource types"):
        BedrockResources(REGION, ACCOUNT, bedrock, agent, ["batch-job"])


def test_combined_source_routes_by_type() -> None:
    profiles = InMemoryBedrockResources(REGION, ["application-inference-profile"])
    flows = InMemoryBedrockResources(REGION, ["flow"])
    profiles.register(TaggedResource(PROFILE, "application-inference-profile", REGION, "p", {}))
    flows.register(TaggedResource(FLOW, "flow", REGION, "f", {}))
    combined = CombinedResources(REGION, [profiles, flows])
    assert {r.arn for r in combined.list_resources()} == {PROFILE, FLOW}
    combined.add_tags(TaggedResource(FLOW, "flow", REGION, "f", {}), {"team": "ops"})
    assert flows.tag_calls == [(FLOW, {"team": "ops"})]
    assert profiles.tag_calls == []
    with pytest.raises(ValueError, match="two sources"):
        CombinedResources(REGION, [profiles, InMemoryBedrockResources(REGION, ["application-inference-profile"])])


def test_violation_store_is_conditional() -> None:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y")
        create_state_table(dynamodb, "state")
        store = DynamoViolationStore(dynamodb, "state")
        record = ViolationRecord(PROFILE, "fp1", NOW, pending_alert='{"x":1}')
        # A first write needs no record; a second "first" write loses the race
        assert store.put(record, None)
        assert not store.put(record, None)
        assert store.get(PROFILE) == record
        # An update must name the fingerprint it read
        assert not store.put(ViolationRecord(PROFILE, "fp2", NOW), "other")
        assert store.put(ViolationRecord(PROFILE, "fp2", NOW), "fp1")
        stored = dynamodb.get_item(TableName="state", Key={"pk": {"S": f"violation#{PROFILE}"}, "sk": {"S": "state"}})
        assert int(stored["Item"]["expires_at"]["N"]) > NOW.timestamp()
        assert store.get(PROFILE) == ViolationRecord(PROFILE, "fp2", NOW)
        store.clear(PROFILE)
        assert store.get(PROFILE) is None
