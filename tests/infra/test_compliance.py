"""cfn-lint and cdk-nag on the synthesized template: clean, and every exception explained."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk import aws_s3 as s3
from cfnlint.api import ManualArgs, lint_file  # type: ignore[import-untyped]

from tests.infra.synth_support import CREATED_EXPORT_CONFIG, Synth, synthesize

pytestmark = pytest.mark.infra

# CDK writes DependsOn next to Ref/GetAtt on purpose (e.g. a function on its role's
# policy); cfn-lint calls that redundant. Nothing else is ignored.
IGNORED_CHECKS = ["W3005"]

# The only rule families the stack acknowledges, each finding with its own reason.
# S1: the access-log bucket itself; IAM5: one wildcard resource at a time; SQS3: the
# notifier's dead-letter queue is itself the last stop and has no DLQ of its own.
ACKNOWLEDGED_FAMILIES = {"AwsSolutions-S1", "AwsSolutions-IAM5", "AwsSolutions-SQS3"}


def _lint(synth: Synth, regions: list[str]) -> list[str]:
    matches = lint_file(synth.template_path, ManualArgs(regions=regions, ignore_checks=IGNORED_CHECKS))
    return [f"{m.rule.id} {m.message} ({'/'.join(str(p) for p in m.path)})" for m in matches]


def test_cfn_lint_finds_nothing_when_the_stack_creates_the_export(created: Synth) -> None:
    # Data Exports exists only in us-east-1 (the template's Rule enforces it)
    assert _lint(created, ["us-east-1"]) == []


def test_cfn_lint_finds_nothing_when_reading_an_existing_export(existing: Synth) -> None:
    assert _lint(existing, ["us-east-1", "eu-west-1", "us-west-2"]) == []


def test_cdk_nag_reports_no_violation(any_synth: Synth) -> None:
    # Given a synth that passed (an unacknowledged finding would have raised)
    report = json.loads((any_synth.outdir / "validation-report.json").read_text())
    # Then no plugin reported a violation
    violations = [v for plugin in report["pluginReports"] for v in plugin.get("violations", [])]
    assert violations == []


def _acknowledgements(template: dict[str, Any]) -> list[tuple[str, str, str]]:
    found = []
    for logical_id, resource in template["Resources"].items():
        for ack in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
            found.append((logical_id, ack["id"], ack.get("reason", "")))
    return found


def test_every_acknowledgement_has_a_specific_reason(any_synth: Synth) -> None:
    acks = _acknowledgements(any_synth.template_json)
    assert acks, "expected the audit trail of acknowledgements in the template metadata"
    for logical_id, rule, reason in acks:
        assert len(reason.split()) >= 8, f"{logical_id} {rule}: reason too thin: {reason!r}"
        family = rule.split("[", 1)[0]
        assert family in ACKNOWLEDGED_FAMILIES, f"{logical_id}: unexpected acknowledgement {rule}"
        # IAM5 is acknowledged one wildcard at a time, never as a whole rule
        if family == "AwsSolutions-IAM5":
            assert rule.startswith("AwsSolutions-IAM5[Resource::"), rule


def test_unacknowledged_findings_fail_synth(tmp_path: Path) -> None:
    # Given the real app plus a bucket that breaks AwsSolutions rules (no SSL, no logs)
    def add_sloppy_bucket(stack: Stack) -> None:
        s3.Bucket(stack, "SloppyBucket")

    # When it is synthesized
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        synthesize(CREATED_EXPORT_CONFIG, tmp_path, add_sloppy_bucket)
    # Then the report names the bucket and the rules
    report = json.loads((tmp_path / "validation-report.json").read_text())
    violations = {
        (v["ruleName"], c["constructPath"])
        for plugin in report["pluginReports"]
        for v in plugin["violations"]
        for c in v["violatingConstructs"]
    }
    assert ("AwsSolutions-S10", "BedrockCostTracker/SloppyBucket/Resource") in violations
    assert ("AwsSolutions-S1", "BedrockCostTracker/SloppyBucket/Resource") in violations
    # And nothing of the product itself is reported
    assert all(path.startswith("BedrockCostTracker/SloppyBucket") for _, path in violations)
