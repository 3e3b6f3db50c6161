"""Spec of ``bedrock-cost tags check`` against moto (custom models, agents, STS, Organizations)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from bedrock_cost.cli import main as cli
from bedrock_cost.config_loader import load_config_file
from bedrock_cost.domain.tag_policy_document import organizations_tag_policy

pytestmark = pytest.mark.integration

REGION = "us-east-1"
CONFIG = """
regions: [us-east-1]
cur: {create_export: true}
tag_policy:
  required_keys: [team, environment]
  allowed_values:
    environment: {values: [prod, staging, dev]}
  defaults: {environment: dev}
"""


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("bedrock_cost.cli.tags_cmd", "bedrock_cost.cli.tag_policy_cmd"))
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    with mock_aws():
        bedrock = boto3.client("bedrock", region_name=REGION)
        for name, tags in [
            ("good", {"team": "ml", "environment": "prod"}),
            ("bad", {"team": "ml", "environment": "qa"}),
        ]:
            bedrock.create_model_customization_job(
                jobName=f"job-{name}",
                customModelName=name,
                roleArn="arn:aws:iam::123456789012:role/r",
                baseModelIdentifier="amazon.titan-text-express-v1",
                trainingDataConfig={"s3Uri": "s3://b/train.jsonl"},
                outputDataConfig={"s3Uri": "s3://b/out/"},
                hyperParameters={},
                customModelTags=[{"key": k, "value": v} for k, v in tags.items()],
            )
        boto3.client("bedrock-agent", region_name=REGION).create_agent(
            agentName="helpdesk", agentResourceRoleArn="arn:aws:iam::123456789012:role/a", tags={"team": "ml"}
        )
        yield config


def test_check_reports_violations_and_exits_3(account: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # When checking custom models and agents
    code = cli.main(["tags", "check", "--config", str(account), "--type", "custom-model", "--type", "agent"])
    out = capsys.readouterr().out
    # Then the table lists each resource and its problems, and the exit code says "violations"
    assert code == 3
    assert "tag 'environment' = 'qa' is not allowed" in out
    assert "missing required tag 'environment'" in out
    assert "3 resources, 2 non-compliant" in out


def test_fix_adds_defaults_only_where_missing(account: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # When fixing
    code = cli.main(["tags", "check", "--config", str(account), "--type", "agent", "--fix", "--format", "json"])
    (agent,) = json.loads(capsys.readouterr().out)
    # Then the agent got environment=dev and complies now
    assert code == 0
    assert agent["added"] == {"environment": "dev"}
    assert agent["compliant"] is True
    arn = agent["arn"]
    assert boto3.client("bedrock-agent", region_name=REGION).list_tags_for_resource(resourceArn=arn)["tags"] == {
        "team": "ml",
        "environment": "dev",
    }
    # And the custom model with an invalid value is left as it is
    code = cli.main(["tags", "check", "--config", str(account), "--type", "custom-model", "--fix", "--format", "json"])
    models = {m["name"]: m for m in json.loads(capsys.readouterr().out)}
    assert code == 3
    assert models["bad"]["added"] == {}
    assert models["bad"]["compliant"] is False


def test_bad_region_is_bad_input(account: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["tags", "check", "--config", str(account), "--region", "moon-1"]) == 2
    assert "--region" in capsys.readouterr().err


def test_generated_document_is_accepted_as_a_tag_policy(account: Path) -> None:
    # Given the document for the config, When the management account creates and attaches it
    document, _ = organizations_tag_policy(load_config_file(account).tag_policy)
    org = boto3.client("organizations", region_name=REGION)
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    org.enable_policy_type(RootId=root, PolicyType="TAG_POLICY")
    policy = org.create_policy(
        Content=json.dumps(document), Description="Bedrock tags", Name="bedrock-tags", Type="TAG_POLICY"
    )["Policy"]
    org.attach_policy(PolicyId=policy["PolicySummary"]["Id"], TargetId=root)
    # Then it is stored as a tag policy with our content
    stored = org.describe_policy(PolicyId=policy["PolicySummary"]["Id"])["Policy"]
    assert json.loads(stored["Content"]) == document
    assert stored["PolicySummary"]["Type"] == "TAG_POLICY"
