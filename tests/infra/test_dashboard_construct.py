"""Spec of the CostDashboard construct: what CloudFormation receives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from bedrock_cost.config_loader import load_config_file
from infra.dashboard import CostDashboard
from tests.infra.synth_support import Synth
from tests.unit.test_dashboard_schema import validate_dashboard_body

pytestmark = pytest.mark.infra

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "example.yaml"
REGION = "eu-central-1"


def _resolve(value: Any, refs: dict[str, str]) -> str:
    """Flatten the Fn::Join CloudFormation builds for the body, the way CloudFormation would."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        delimiter, parts = value["Fn::Join"]
        return str(delimiter).join(_resolve(part, refs) for part in parts)
    if "Ref" in value:
        return refs.get(value["Ref"], f"<{value['Ref']}>")
    if "Fn::GetAtt" in value:
        return "<{}.{}>".format(*value["Fn::GetAtt"])
    raise AssertionError(f"unexpected intrinsic in dashboard body: {value}")


@pytest.fixture(scope="module")
def template() -> Template:
    app = App()
    stack = Stack(app, "DashboardUnderTest")
    topic = sns.Topic(stack, "Alerts")
    CostDashboard(
        stack,
        "Dashboard",
        config=load_config_file(EXAMPLE),
        workgroup_name="bct-workgroup",
        database_name="bedrock_cost",
        alert_topic_arn=topic.topic_arn,
    )
    return Template.from_stack(stack)


@pytest.fixture(scope="module")
def body(template: Template) -> dict[str, Any]:
    (resource,) = template.find_resources("AWS::CloudWatch::Dashboard").values()
    text = _resolve(resource["Properties"]["DashboardBody"], {"AWS::Region": REGION})
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def test_one_dashboard_with_a_generated_name(template: Template) -> None:
    # Given the construct in a stack
    # Then there is exactly one dashboard, and no fixed DashboardName (two stacks can coexist)
    template.resource_count_is("AWS::CloudWatch::Dashboard", 1)
    template.has_resource_properties("AWS::CloudWatch::Dashboard", {"DashboardName": Match.absent()})
    # And its console URL is an output
    outputs = template.find_outputs("*")
    assert any("DashboardUrl" in name for name in outputs)


def test_body_resolves_to_a_valid_dashboard_with_gauges_and_latency_percentiles(body: dict[str, Any]) -> None:
    # Given the body CloudFormation will send, with the stack region resolved
    # Then it follows the documented structure
    assert validate_dashboard_body(body) == []
    metric_widgets = [w["properties"] for w in body["widgets"] if w["type"] == "metric"]
    # And the month-to-date gauges read the stack region's metrics against the $130,000 budget
    gauges = [p for p in metric_widgets if p.get("view") == "gauge"]
    assert len(gauges) == 3
    assert {p["region"] for p in gauges} == {REGION}
    assert {p["yAxis"]["left"]["max"] for p in gauges} == {130_000, 5_000}
    # And latency is shown at p50, p90 and p99 in both configured regions
    latency = {(p["region"], p["stat"]) for p in metric_widgets if p["title"].startswith("InvocationLatency")}
    assert latency == {(r, s) for r in ("us-east-1", "us-west-2") for s in ("p50", "p90", "p99")}


def test_header_links_resolve_to_the_stack_resources(body: dict[str, Any]) -> None:
    markdown = body["widgets"][0]["properties"]["markdown"]
    # The topic ARN is a reference to the topic in the same stack, resolved by CloudFormation
    assert "#/topic/<Alerts" in markdown
    assert f"https://{REGION}.console.aws.amazon.com/athena/home?region={REGION}" in markdown
    assert "workgroup `bct-workgroup`" in markdown


def test_the_stack_deploys_the_dashboard_linked_to_its_workgroup(created: Synth) -> None:
    # Given the real app synthesized with cdk-nag (shared session fixture)
    (resource,) = [r for r in created.template_json["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    workgroup_id = next(
        name for name, r in created.template_json["Resources"].items() if r["Type"] == "AWS::Athena::WorkGroup"
    )
    body = json.loads(_resolve(resource["Properties"]["DashboardBody"], {"AWS::Region": REGION}))
    # Then its body is valid and the header names the stack's own workgroup
    assert validate_dashboard_body(body) == []
    assert f"workgroup `<{workgroup_id}>`" in body["widgets"][0]["properties"]["markdown"]
    assert "DashboardDashboardUrl" in "".join(created.template_json["Outputs"])
    # And links the stack's alert topic
    topic_id = next(name for name, r in created.template_json["Resources"].items() if r["Type"] == "AWS::SNS::Topic")
    assert f"#/topic/<{topic_id}>" in body["widgets"][0]["properties"]["markdown"]
