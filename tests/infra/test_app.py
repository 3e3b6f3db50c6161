"""Spec of the CDK entry point: config validation, exit codes, offline synth."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app import REPO_ROOT, STACK_NAME, build_app
from bedrock_cost.config import CONTEXT_KEY
from bedrock_cost.errors import ConfigError

pytestmark = pytest.mark.infra

VALID_CUR = {"bucket": "acme-billing-exports"}


def _offline_env(context: dict[str, Any], outdir: Path) -> dict[str, str]:
    """The environment of a machine with no AWS credentials at all."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        {
            "AWS_CONFIG_FILE": "/nonexistent/config",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
            "AWS_EC2_METADATA_DISABLED": "true",
            "CDK_CONTEXT_JSON": json.dumps(context),
            "CDK_OUTDIR": str(outdir),
        }
    )
    return env


def _run_app(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "app.py")],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"regions": ["us-east-one"], "cur": VALID_CUR}, "regions"),
        ({"cur": VALID_CUR, "athena": {"bytes_scaned_cutoff_mb": 100}}, "athena.bytes_scaned_cutoff_mb"),
        ({"cur": {"prefix": "cur"}}, "cur"),
        ({"cur": VALID_CUR, "athena": {"database": "Bad-Name"}}, "athena.database"),
    ],
)
def test_invalid_config_is_rejected_naming_the_field(config: dict[str, Any], field: str, tmp_path: Path) -> None:
    # When the app is built from an invalid config
    with pytest.raises(ConfigError) as raised:
        build_app(context={CONTEXT_KEY: config}, outdir=str(tmp_path))
    # Then the message names the offending field
    assert f"{field}:" in str(raised.value)


def test_invalid_config_exits_2_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    # Given the CLI passes a config with a bad region
    env = _offline_env({CONTEXT_KEY: {"regions": ["mars-1"], "cur": VALID_CUR}}, tmp_path)
    # When synth runs
    result = _run_app(env)
    # Then it fails with exit code 2 and one line naming the field
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip() and "node" not in line.lower()]
    assert len(lines) == 1, result.stderr
    assert "regions:" in lines[0]
    assert "mars-1" in lines[0]
    assert not (tmp_path / f"{STACK_NAME}.template.json").exists()


def test_python_app_synthesizes_without_aws_credentials(tmp_path: Path) -> None:
    # Given no AWS credentials and cdk.json's own config (bundling skipped to stay offline)
    env = _offline_env({"aws:cdk:bundling-stacks": []}, tmp_path)
    # When `python app.py` runs
    result = _run_app(env)
    # Then the template is written
    assert result.returncode == 0, result.stderr[-3000:]
    template = json.loads((tmp_path / f"{STACK_NAME}.template.json").read_text())
    types = {r["Type"] for r in template["Resources"].values()}
    assert {"AWS::Athena::WorkGroup", "AWS::Glue::Table", "Custom::AthenaViews"} <= types
    # And the stack is environment-agnostic (no account or region baked in)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["artifacts"][STACK_NAME]["environment"] == "aws://unknown-account/unknown-region"
