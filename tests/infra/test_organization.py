"""Organisation mode: the central template and the member templates the StackSets carry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from aws_cdk.assertions import Match, Template
from cfnlint.api import ManualArgs, lint_file  # type: ignore[import-untyped]

from app import MEMBERS_DIR, STACK_NAME, build_app
from bedrock_cost.config import CONTEXT_KEY
from infra.estimator import ESTIMATE_COLUMNS
from infra.org_central import CENTRAL_BUS_NAME, ORG_ESTIMATES_TABLE, STACKSET_TEMPLATE_LIMIT
from infra.org_collector import COLLECTOR_STACK_NAME, ESTIMATOR_ROLE, FORWARDER_STACK_NAME, TAG_ENFORCER_ROLE
from tests.infra.synth_support import SKIP_BUNDLING

pytestmark = pytest.mark.infra

REPO = Path(__file__).resolve().parents[2]
ORG_CONFIG: dict[str, Any] = yaml.safe_load((REPO / "config" / "example-organization.yaml").read_text())
DEFAULT_CONFIG: dict[str, Any] = yaml.safe_load((REPO / "config" / "example.yaml").read_text())
ORG_ID = ORG_CONFIG["organization"]["organization_id"]
OUS = ORG_CONFIG["organization"]["organizational_unit_ids"]


def _synth(config: dict[str, Any], outdir: Path) -> Path:
    build_app(context={CONTEXT_KEY: config, **SKIP_BUNDLING}, outdir=str(outdir)).synth()
    return outdir


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


@pytest.fixture(scope="module")
def org_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _synth(ORG_CONFIG, tmp_path_factory.mktemp("organization"))


@pytest.fixture(scope="module")
def central(org_out: Path) -> Template:
    return Template.from_json(_load(org_out / f"{STACK_NAME}.template.json"))


@pytest.fixture(scope="module")
def collector(org_out: Path) -> Template:
    return Template.from_json(_load(org_out / MEMBERS_DIR / f"{COLLECTOR_STACK_NAME}.template.json"))


def _stack_set(central: Template, name: str) -> dict[str, Any]:
    (found,) = central.find_resources("AWS::CloudFormation::StackSet", {"Properties": {"StackSetName": name}}).values()
    return found


def test_collector_stack_set_is_service_managed_with_auto_deployment_to_the_ous(central: Template) -> None:
    # Given the organisation example, when synthesized, then the collector StackSet targets the OUs
    props = _stack_set(central, COLLECTOR_STACK_NAME)["Properties"]
    assert props["PermissionModel"] == "SERVICE_MANAGED"
    assert props["AutoDeployment"] == {"Enabled": True, "RetainStacksOnAccountRemoval": False}
    assert props["ManagedExecution"] == {"Active": True}
    assert props["CallAs"] == "SELF"
    (group,) = props["StackInstancesGroup"]
    assert group["DeploymentTargets"]["OrganizationalUnitIds"] == OUS
    assert group["Regions"] == [ORG_CONFIG["organization"]["home_region"]]
    assert props["OperationPreferences"]["FailureTolerancePercentage"] <= 25
    # And its body is the member collector template, within CloudFormation's size limit
    body = json.loads(props["TemplateBody"])
    assert "AWS::Oam::Link" in {r["Type"] for r in body["Resources"].values()}
    assert len(props["TemplateBody"].encode()) <= STACKSET_TEMPLATE_LIMIT
    # And every parameter the collector declares is passed
    passed = {p["ParameterKey"] for p in props["Parameters"]}
    assert passed == set(body["Parameters"])


def test_forwarder_stack_set_covers_every_other_configured_region(central: Template) -> None:
    props = _stack_set(central, FORWARDER_STACK_NAME)["Properties"]
    (group,) = props["StackInstancesGroup"]
    home = ORG_CONFIG["organization"]["home_region"]
    assert group["Regions"] == [r for r in ORG_CONFIG["regions"] if r != home]
    assert props["Parameters"] == [{"ParameterKey": "HomeRegion", "ParameterValue": home}]


def test_oam_sink_lets_only_the_organisation_link_metrics_and_logs(central: Template) -> None:
    (sink,) = central.find_resources("AWS::Oam::Sink").values()
    (statement,) = sink["Properties"]["Policy"]["Statement"]
    assert sorted(statement["Action"]) == ["oam:CreateLink", "oam:UpdateLink"]
    assert statement["Condition"]["StringEquals"] == {"aws:PrincipalOrgID": ORG_ID}
    assert sorted(statement["Condition"]["ForAllValues:StringEquals"]["oam:ResourceTypes"]) == [
        "AWS::CloudWatch::Metric",
        "AWS::Logs::LogGroup",
    ]


def _policy_statements(central: Template, bucket_prefix: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = []
    for policy in central.find_resources("AWS::S3::BucketPolicy").values():
        if policy["Properties"]["Bucket"]["Ref"].startswith(bucket_prefix):
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def test_central_records_bucket_accepts_writes_only_from_org_collectors_under_their_account(
    central: Template,
) -> None:
    (put,) = [s for s in _policy_statements(central, "OrganizationRecords") if s["Action"] == "s3:PutObject"]
    assert put["Principal"] == {"AWS": "*"}
    assert put["Condition"]["StringEquals"] == {"aws:PrincipalOrgID": ORG_ID}
    assert put["Condition"]["ArnLike"]["aws:PrincipalArn"]["Fn::Join"][1][-1] == ":iam::*:role/BedrockCostCollector-*"
    resources = json.dumps(put["Resource"])
    assert "estimates/account=${aws:PrincipalAccount}/*" in resources
    assert "requests/account=${aws:PrincipalAccount}/*" in resources
    # And objects belong to the central account (no ACLs to get wrong)
    central.has_resource_properties(
        "AWS::S3::Bucket",
        {"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}},
    )


def test_collector_code_is_readable_by_the_organisation_and_copied_from_the_stack_asset(
    central: Template, org_out: Path
) -> None:
    (read,) = [s for s in _policy_statements(central, "OrganizationArtifacts") if s["Action"] == "s3:GetObject"]
    assert read["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}
    (copy,) = central.find_resources("Custom::AWS").values()
    create = json.dumps(copy["Properties"]["Create"])
    assert "copyObject" in create
    key = _stack_set(central, COLLECTOR_STACK_NAME)["Properties"]["Parameters"]
    code_key = next(p["ParameterValue"] for p in key if p["ParameterKey"] == "CodeKey")
    # The key is the stack's own code asset, so a code change publishes a new object
    assets = _load(org_out / f"{STACK_NAME}.assets.json")["files"]
    assert code_key.removeprefix("collector/").removesuffix(".zip") in assets


def test_members_estimate_records_are_one_athena_table_over_the_records_bucket(central: Template) -> None:
    (table,) = central.find_resources(
        "AWS::Glue::Table", {"Properties": {"TableInput": {"Name": ORG_ESTIMATES_TABLE}}}
    ).values()
    descriptor = table["Properties"]["TableInput"]["StorageDescriptor"]
    # Every member's records (estimates/account=<id>/...), read with the records' own columns
    location = json.dumps(descriptor["Location"])
    assert "OrganizationRecords" in location
    assert location.endswith('"/estimates/"]]}')
    assert [c["Name"] for c in descriptor["Columns"]] == [name for name, _ in ESTIMATE_COLUMNS]
    assert "PartitionKeys" not in table["Properties"]["TableInput"]
    assert descriptor["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"


def test_central_bus_admits_the_organisation_and_routes_tag_and_alert_events(central: Template) -> None:
    central.has_resource_properties("AWS::Events::EventBus", {"Name": CENTRAL_BUS_NAME})
    central.has_resource_properties(
        "AWS::Events::EventBusPolicy",
        {
            "Statement": Match.object_like(
                {"Action": "events:PutEvents", "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}}
            )
        },
    )
    rules = [
        r["Properties"]
        for r in central.find_resources("AWS::Events::Rule").values()
        if "EventBusName" in r["Properties"]
    ]
    patterns = {json.dumps(r["EventPattern"]["source"]): r for r in rules}
    tag_rule = patterns['["aws.bedrock"]']
    assert "TagEnforcerFunction" in json.dumps(tag_rule["Targets"][0]["Arn"])
    alert_rule = patterns['["bedrock-cost-tracker", "aws.cloudwatch"]']
    assert "AlertsTopic" in json.dumps(alert_rule["Targets"][0]["Arn"])


def test_alert_topic_accepts_member_tag_enforcers_only(central: Template) -> None:
    (policy,) = central.find_resources("AWS::SNS::TopicPolicy").values()
    (member,) = [
        s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s.get("Sid") == "CollectorTagEnforcersPublish"
    ]
    assert member["Condition"]["StringEquals"] == {"aws:PrincipalOrgID": ORG_ID}
    assert member["Condition"]["ArnLike"]["aws:PrincipalArn"]["Fn::Join"][1][-1] == f":iam::*:role/{TAG_ENFORCER_ROLE}"


def test_member_collector_holds_estimator_enforcer_link_and_no_cdk_assets(collector: Template, org_out: Path) -> None:
    collector.resource_count_is("AWS::Oam::Link", 1)
    collector.has_resource_properties("AWS::IAM::Role", {"RoleName": ESTIMATOR_ROLE})
    collector.has_resource_properties("AWS::IAM::Role", {"RoleName": TAG_ENFORCER_ROLE})
    functions = collector.find_resources("AWS::Lambda::Function")
    handlers = sorted(f["Properties"]["Handler"] for f in functions.values())
    assert handlers == ["bedrock_cost.handlers.estimator.handler", "bedrock_cost.handlers.tag_enforcer.handler"]
    for function in functions.values():
        assert function["Properties"]["Code"] == {"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "CodeKey"}}
    # The estimator writes to the central bucket under its account and publishes the total only
    (estimator,) = [f for f in functions.values() if "estimator" in f["Properties"]["Handler"]]
    env = estimator["Properties"]["Environment"]["Variables"]
    assert env["ESTIMATES_BUCKET"] == {"Ref": "RecordsBucket"}
    assert json.loads(env["ESTIMATOR_CONFIG"])["pinned_tag_values"] == {}
    assert json.loads(env["ESTIMATOR_CONFIG"])["estimator"]["schedule_minutes"] == 60
    # And nothing needs a CDK bootstrap
    text = (org_out / MEMBERS_DIR / f"{COLLECTOR_STACK_NAME}.template.json").read_text()
    for marker in ("hnb659fds", "BootstrapVersion", "AssetParameters"):
        assert marker not in text


def test_member_forwarder_sends_bedrock_tag_events_to_the_home_region_bus(org_out: Path) -> None:
    template = Template.from_json(_load(org_out / MEMBERS_DIR / f"{FORWARDER_STACK_NAME}.template.json"))
    (rule,) = template.find_resources("AWS::Events::Rule").values()
    assert rule["Properties"]["EventPattern"]["source"] == ["aws.bedrock"]
    target = json.dumps(rule["Properties"]["Targets"][0]["Arn"])
    assert '{"Ref": "HomeRegion"}' in target
    assert "event-bus/default" in target
    assert "hnb659fds" not in json.dumps(template.to_json())


def test_central_account_other_regions_forward_to_the_central_bus(org_out: Path) -> None:
    template = _load(org_out / f"{STACK_NAME}Forwarder-us-west-2.template.json")
    (rule,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    assert f"event-bus/{CENTRAL_BUS_NAME}" in json.dumps(rule["Properties"]["Targets"][0]["Arn"])


@pytest.mark.parametrize(
    "template",
    [
        f"{STACK_NAME}.template.json",
        f"{STACK_NAME}Forwarder-us-west-2.template.json",
        f"{MEMBERS_DIR}/{COLLECTOR_STACK_NAME}.template.json",
        f"{MEMBERS_DIR}/{FORWARDER_STACK_NAME}.template.json",
    ],
)
def test_every_template_is_cfn_lint_and_cdk_nag_clean(org_out: Path, template: str) -> None:
    path = org_out / template
    matches = lint_file(path, ManualArgs(regions=["us-east-1", "us-west-2"], ignore_checks=["W3005"]))
    assert [f"{m.rule.id} {m.message}" for m in matches] == []
    report = _load(path.parent / "validation-report.json")
    assert [v for plugin in report["pluginReports"] for v in plugin.get("violations", [])] == []
    for logical_id, resource in _load(path)["Resources"].items():
        for ack in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
            assert len(ack.get("reason", "").split()) >= 8, f"{template} {logical_id} {ack['id']}"


def test_the_default_config_stays_one_stack_without_organisation_resources(tmp_path: Path) -> None:
    # Given config/example.yaml (no organization section)
    out = _synth(DEFAULT_CONFIG, tmp_path)
    # Then the assembly holds exactly one stack and no member templates
    manifest = _load(out / "manifest.json")
    stacks = [a for a in manifest["artifacts"].values() if a["type"] == "aws:cloudformation:stack"]
    assert len(stacks) == 1
    assert not (out / MEMBERS_DIR).exists()
    # And no StackSet, OAM or organisation bus resources
    types = {r["Type"] for r in _load(out / f"{STACK_NAME}.template.json")["Resources"].values()}
    assert not types & {"AWS::CloudFormation::StackSet", "AWS::Oam::Sink", "AWS::Oam::Link", "AWS::Events::EventBus"}
