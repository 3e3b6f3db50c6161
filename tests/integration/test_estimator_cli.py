"""``bedrock-cost estimate`` (against moto's CloudWatch) and ``bedrock-cost pricing``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import boto3
import pytest
import yaml
from moto import mock_aws

from bedrock_cost.cli.main import main
from bedrock_cost.domain.pricing import catalog_document, load_bundled_layer, parse_catalog_document

pytestmark = pytest.mark.integration

REGION = "us-west-2"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)  # no cdk.json here: defaults unless --config
    with mock_aws():
        yield


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project folder as the working directory: no cdk.json, so defaults unless a test writes one."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def put(model_id: str, minute: datetime, input_tokens: int, output_tokens: int) -> None:
    boto3.client("cloudwatch", region_name=REGION).put_metric_data(
        Namespace="AWS/Bedrock",
        MetricData=[
            {
                "MetricName": name,
                "Dimensions": [{"Name": "ModelId", "Value": model_id}],
                "Timestamp": minute,
                "Value": value,
            }
            for name, value in (
                ("InputTokenCount", input_tokens),
                ("OutputTokenCount", output_tokens),
                ("Invocations", 1),
            )
        ],
    )


def test_estimate_prints_per_model_and_per_tag_from_live_metrics(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    # Given 20 minutes of traffic on two models in the region
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    for i in range(20):
        minute = now - timedelta(minutes=30 - i)
        put("amazon.nova-pro-v1:0", minute, 1_000_000, 100_000)
        put("us.anthropic.claude-sonnet-4-6", minute, 10_000, 1_000)
    # When the estimate of the last hour is printed as JSON
    code = main(["estimate", "--region", REGION, "--since", "-1h", "--format", "json"])
    # Then it is the catalog price x tokens, per model and per tag, read-only
    assert code == 0
    output = json.loads(capsys.readouterr().out)
    by_model = {row["model"]: row for row in output["by_model"]}
    assert Decimal(by_model["Nova Pro"]["cost_usd"]) == 20 * (Decimal("0.80") + Decimal("0.32"))
    assert Decimal(by_model["Claude Sonnet 4.6"]["cost_usd"]) == 20 * (Decimal("0.033") + Decimal("0.0165"))
    assert output["by_tag"]["team"][0]["tag_value"] == "(untagged)"
    assert output["clock"] == "estimate"
    assert output["region"] == REGION
    assert "invocations" not in output["total"]  # not read: it is not part of the price


def test_estimate_table_flags_unpriced_models(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    minute = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=10)
    put("acme.mystery-model-v1", minute, 5_000, 500)
    assert main(["estimate", "--region", REGION, "--since", "-30m"]) == 0
    out = capsys.readouterr().out
    assert "acme.mystery-model-v1" in out
    assert "unpriced" in out
    assert "WARNING: unpriced tokens" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday"], "--since: 'yesterday' is not a time"),
        (["--since", "-20d"], "15 days"),
        (["--since", "-1h", "--until", "-2h"], "must be before --until"),
        (["--since=-1h", "--until=2020-01-01T00:00Z"], "must be before --until"),
    ],
)
def test_estimate_rejects_bad_windows_with_exit_2(
    args: list[str], message: str, aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["estimate", "--region", REGION, *args]) == 2
    assert message in capsys.readouterr().err


def test_estimate_without_credentials_is_a_user_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.chdir(tmp_path)
    assert main(["estimate", "--region", REGION]) == 2
    assert "no AWS credentials found" in capsys.readouterr().err


def test_pricing_shows_every_kind_scope_and_tier_with_its_source(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pricing", "--model", "anthropic.claude-sonnet-4-6", "--format", "json"]) == 0
    entries = json.loads(capsys.readouterr().out)["models"]["Claude Sonnet 4.6"]
    keys = {(e["usage_kind"], e["scope"], e["tier"]) for e in entries}
    assert len(keys) == 16  # 4 kinds x 2 scopes x 2 tiers
    regional_in = next(
        e for e in entries if (e["usage_kind"], e["scope"], e["tier"]) == ("input", "regional", "on-demand")
    )
    assert (regional_in["usd_per_million"], regional_in["source"]) == ("3.3", "bundled")


def test_pricing_shows_overrides_and_discount_from_the_config(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = project / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "cur": {"create_export": True},
                "pricing": {
                    "discount_pct": 10,
                    "overrides": [
                        {"model": "Nova Pro", "usage_kind": "input", "usd_per_million": 0.7, "scope": "regional"}
                    ],
                },
            }
        )
    )
    refreshed = project / "refreshed.json"
    document = catalog_document(load_bundled_layer(), "test")
    document["entries"] = [e for e in document["entries"] if e["model"] == "Nova Pro" and e["tier"] == "on-demand"]
    for entry in document["entries"]:
        entry["usd_per_million"] = {"output": "3.0"}
    refreshed.write_text(json.dumps(document))
    parse_catalog_document(json.loads(refreshed.read_text()), "refresh")
    assert (
        main(
            [
                "pricing",
                "--model",
                "nova pro",
                "--config",
                str(config),
                "--refreshed",
                str(refreshed),
                "--format",
                "json",
            ]
        )
        == 0
    )
    entries = {
        (e["usage_kind"], e["scope"], e["tier"]): e for e in json.loads(capsys.readouterr().out)["models"]["Nova Pro"]
    }
    override = entries[("input", "regional", "on-demand")]
    assert (override["source"], override["usd_per_million"]) == ("override", "0.7")
    assert [s["source"] for s in override["shadowed"]] == ["bundled"]
    # list prices carry the 10 % discount; the refresh beats the bundle
    assert entries[("input", "global", "on-demand")]["usd_per_million"] == "0.72"
    output = entries[("output", "regional", "on-demand")]
    assert (output["source"], output["usd_per_million"], output["list_price"]) == ("refresh", "2.7", "3")


def test_pricing_unknown_model_lists_close_matches(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pricing", "--model", "claude sonet 4.6"]) == 2
    err = capsys.readouterr().err
    assert "no price for 'claude sonet 4.6'" in err
    assert "Claude Sonnet 4.6" in err


def test_pricing_table_summarises_every_model(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pricing"]) == 0
    out = capsys.readouterr().out
    assert "Claude Sonnet 4.6" in out
    assert "Llama 3.3 70B" in out
    assert "bundled" in out


def test_pricing_reads_the_config_cdk_json_names(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a project folder whose cdk.json points at a config with an override
    (project / "config.yaml").write_text(
        yaml.safe_dump(
            {
                "cur": {"create_export": True},
                "pricing": {"overrides": [{"model": "Nova Lite", "usage_kind": "output", "usd_per_million": 0.2}]},
            }
        )
    )
    (project / "cdk.json").write_text(json.dumps({"context": {"bedrock-cost-tracker": {"config_file": "config.yaml"}}}))
    # When the table for the model is printed
    assert main(["pricing", "--model", "Nova Lite"]) == 0
    out = capsys.readouterr().out
    # Then the override is the price in force and the bundled one is shown as shadowed
    line = next(
        row for row in out.splitlines() if row.startswith("output") and "regional" in row and "on-demand" in row
    )
    assert "0.2" in line
    assert "override" in line
    assert "bundled 0.24" in line
    assert "config.pricing.overrides[0]" in out


def test_pricing_calibrates_from_a_local_cur_export(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bedrock_cost.sample_data.cur_generator import generate_cur

    generate_cur(project / "cur", "2026-10", rows=3000, seed=11)
    assert main(["pricing", "--model", "Nova Pro", "--cur", str(project / "cur"), "--format", "json"]) == 0
    entries = json.loads(capsys.readouterr().out)["models"]["Nova Pro"]
    sources = {e["source"] for e in entries}
    assert "cur" in sources
    cur_entry = next(e for e in entries if e["source"] == "cur")
    assert cur_entry["as_of"] == "2026-10"
    assert main(["pricing", "--cur", str(project / "cur"), "--period", "2031-01"]) == 2
    assert "no data for 2031-01" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--refreshed", "missing.json"], "--refreshed: cannot read"),
        (["--cur", "missing-dir"], "--cur: missing-dir does not exist"),
        (["--config", "missing.yaml"], "cannot read config file"),
    ],
)
def test_pricing_bad_inputs_exit_2(
    args: list[str], message: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pricing", *args]) == 2
    assert message in capsys.readouterr().err


def test_pricing_rejects_a_file_that_is_not_a_catalog(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "bad.json").write_text(json.dumps({"format": 1, "version": "x", "entries": [{"model": "M"}]}))
    assert main(["pricing", "--refreshed", "bad.json"]) == 2
    assert "is not a price catalog" in capsys.readouterr().err
