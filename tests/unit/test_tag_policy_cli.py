"""Spec of ``bedrock-cost tag-policy``: the AWS Organizations tag policy document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bedrock_cost.cli import main as cli
from bedrock_cost.config import AllowedValues, TagPolicy
from bedrock_cost.domain.tag_policy_document import organizations_resource_types, organizations_tag_policy

pytestmark = pytest.mark.unit

CONFIG = """
regions: [us-east-1]
cur: {create_export: true}
tag_policy:
  required_keys: [Team, environment]
  allowed_values:
    environment: {values: [prod, dev]}
    Team: {pattern: "^[a-z]+$"}
    cost-center: {values: ["100", "200"]}
"""


@pytest.fixture(autouse=True)
def only_tag_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("bedrock_cost.cli.tag_policy_cmd", "bedrock_cost.cli.tags_cmd"))


def test_document_assigns_keys_values_and_bedrock_types(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a config with required keys, a value list and a pattern
    config = tmp_path / "c.yaml"
    config.write_text(CONFIG)
    # When the policy is generated
    assert cli.main(["tag-policy", "--config", str(config)]) == 0
    out, err = capsys.readouterr()
    tags = json.loads(out)["tags"]
    # Then each key keeps its capitalization under a lower-case policy key
    assert set(tags) == {"team", "environment", "cost-center"}
    assert tags["team"]["tag_key"] == {"@@assign": "Team"}
    # And listed values are assigned; a pattern is not turned into a wrong list
    assert tags["environment"]["tag_value"] == {"@@assign": ["prod", "dev"]}
    assert "tag_value" not in tags["team"]
    assert "pattern" in err
    # And enforcement covers the Bedrock types Organizations supports, required keys are reported
    types = tags["environment"]["enforced_for"]["@@assign"]
    assert "bedrock:application-inference-profile" in types
    assert all(t.startswith("bedrock:") for t in types)
    assert tags["environment"]["report_required_tag_for"] == {"@@assign": types}
    assert "report_required_tag_for" not in tags["cost-center"]


def test_report_only_omits_enforcement(tmp_path: Path) -> None:
    out = tmp_path / "policy.json"
    config = tmp_path / "c.yaml"
    config.write_text(CONFIG)
    assert cli.main(["tag-policy", "--config", str(config), "--report-only", "--out", str(out)]) == 0
    tags = json.loads(out.read_text())["tags"]
    assert all("enforced_for" not in entry for entry in tags.values())
    assert "report_required_tag_for" in tags["environment"]


def test_config_from_cdk_json_in_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a project folder whose cdk.json names the config file
    (tmp_path / "conf.yaml").write_text(CONFIG)
    (tmp_path / "cdk.json").write_text(json.dumps({"context": {"bedrock-cost-tracker": {"config_file": "conf.yaml"}}}))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["tag-policy", "--out", str(tmp_path / "p.json")]) == 0
    assert "environment" in json.loads((tmp_path / "p.json").read_text())["tags"]


def test_missing_or_bad_config_is_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["tag-policy"]) == 2
    assert "no cdk.json" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("cur: {create_export: true}\ntag_policy: {mode: enforce}\n")
    assert cli.main(["tag-policy", "--config", str(bad)]) == 2
    assert "tag_policy.mode" in capsys.readouterr().err
    empty = tmp_path / "empty.yaml"
    empty.write_text("cur: {create_export: true}\n")
    assert cli.main(["tag-policy", "--config", str(empty)]) == 2


def test_organizations_types_are_the_confirmed_bedrock_types() -> None:
    assert organizations_resource_types() == [
        "bedrock:agent",
        "bedrock:application-inference-profile",
        "bedrock:flow",
        "bedrock:guardrail",
        "bedrock:knowledge-base",
        "bedrock:prompt",
    ]


def test_case_insensitive_policy_warns_about_organizations_case_rule() -> None:
    _, warnings = organizations_tag_policy(TagPolicy(required_keys=["team"]))
    assert any("case-sensitively" in w for w in warnings)
    _, warnings = organizations_tag_policy(TagPolicy(required_keys=["team"], case_sensitive=True))
    assert warnings == []
    _doc, warnings = organizations_tag_policy(
        TagPolicy(
            allowed_values={f"k{i}": AllowedValues(values=["v" * 200] * 3) for i in range(20)}, case_sensitive=True
        )
    )
    assert any("at most 10000" in w for w in warnings)
