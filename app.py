#!/usr/bin/env python3
"""CDK entry point: validate the config, build the stack, check it with cdk-nag, synth.

``python app.py`` (``make synth``) and ``cdk synth`` both write
``cdk.out/BedrockCostTracker.template.json``. Nothing here calls AWS (no STS lookups, no
``env`` with an account) or git, so synth works on any machine without credentials.
A bad config stops synth with one line naming the field, and exit code 2.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent
_LAMBDAS = str(REPO_ROOT / "lambdas")
if _LAMBDAS not in sys.path:
    sys.path.insert(0, _LAMBDAS)

import aws_cdk as cdk  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from bedrock_cost.config import CONTEXT_KEY, Config  # noqa: E402
from bedrock_cost.config_loader import load_from_context  # noqa: E402
from bedrock_cost.errors import ConfigError  # noqa: E402
from infra.org_central import OrganizationHub, central_bus_arn  # noqa: E402
from infra.org_collector import (  # noqa: E402
    COLLECTOR_STACK_NAME,
    FORWARDER_STACK_NAME,
    CollectorStack,
    ForwarderStack,
    RegionForwarderStack,
)
from infra.stack import BedrockCostTrackerStack  # noqa: E402

STACK_NAME = "BedrockCostTracker"
MEMBERS_DIR = "organization-members"
"""Sub-folder of the cloud assembly holding the member templates (deployed by StackSets, not by cdk)."""
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
CLOUDFORMATION_RESOURCE_LIMIT = 500
"""Resources one CloudFormation stack may hold; one is kept for CDK's own metadata."""


def check_resource_count(stack: cdk.Stack) -> int:
    """The stack's resource count; ``ConfigError`` (with the count) when CloudFormation would refuse it.

    Counted on the construct tree before synth, so a config with hundreds of per-tag
    budgets fails in a second with the number instead of at deploy time.
    """
    count = sum(1 for node in stack.node.find_all() if isinstance(node, cdk.CfnResource))
    if count + 1 > CLOUDFORMATION_RESOURCE_LIMIT:
        raise ConfigError(
            f"the config needs {count} CloudFormation resources (plus CDK metadata), more than the "
            f"{CLOUDFORMATION_RESOURCE_LIMIT} one stack may hold: reduce budgets.per_tag (each value adds one "
            "budget per period) or drop daily_usd budgets"
        )
    return count


def cdk_json_context() -> dict[str, Any]:
    """The ``context`` of ``cdk.json``; the CDK CLI passes it itself, plain ``python`` does not."""
    path = REPO_ROOT / "cdk.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    context = data.get("context", {})
    if not isinstance(context, dict):
        raise ConfigError(f"{path}: 'context' must be an object")
    return context


def build_app(context: dict[str, Any] | None = None, outdir: str | None = None) -> cdk.App:
    """Build the app (not yet synthesized); ``context`` overrides ``cdk.json`` keys.

    Raises ``ConfigError`` when the config is invalid.
    """
    merged = {**cdk_json_context(), **(context or {})}
    if outdir is None and "CDK_OUTDIR" not in os.environ:
        outdir = str(REPO_ROOT / "cdk.out")
    app = cdk.App(context=merged, outdir=outdir)
    config = load_from_context(app.node.try_get_context(CONTEXT_KEY), REPO_ROOT)
    if config.organization is None:
        stack = BedrockCostTrackerStack(app, STACK_NAME, stack_name=STACK_NAME, config=config)
        check_resource_count(stack)
    else:
        _organization_stacks(app, config, Path(app.outdir))
    # cdk-nag 3 is a validation plugin: any unacknowledged finding fails synth. The
    # acknowledgements (with reasons) are also written into the template's Metadata.
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True))
    return app


def member_templates(config: Config, outdir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Synthesize the member collector and forwarder templates (cdk-nag on) into ``outdir``.

    They live in an app of their own: ``cdk deploy --all`` must not deploy them to the
    central account; the central stack's StackSets carry them to the members.
    """
    members = cdk.App(outdir=str(outdir))
    CollectorStack(members, COLLECTOR_STACK_NAME, config=config)
    ForwarderStack(members, FORWARDER_STACK_NAME)
    cdk.Validations.of(members).add_plugins(AwsSolutionsChecks(members, write_suppressions_to_cloud_formation=True))
    assembly = members.synth()
    return (
        assembly.get_stack_by_name(COLLECTOR_STACK_NAME).template,
        assembly.get_stack_by_name(FORWARDER_STACK_NAME).template,
    )


def _organization_stacks(app: cdk.App, config: Config, outdir: Path) -> None:
    """Central stack (single-account stack + OrganizationHub) and this account's region forwarders."""
    organization = config.organization
    assert organization is not None
    home = organization.home_region
    collector, forwarder = member_templates(config, outdir / MEMBERS_DIR)
    central = BedrockCostTrackerStack(
        app, STACK_NAME, stack_name=STACK_NAME, config=config, env=cdk.Environment(region=home)
    )
    OrganizationHub(
        central,
        "Organization",
        config=config,
        tracker=central,
        collector_template=collector,
        forwarder_template=forwarder,
    )
    check_resource_count(central)
    for region in config.regions:
        if region != home:
            RegionForwarderStack(
                app,
                f"{STACK_NAME}Forwarder-{region}",
                target_bus_arn=central_bus_arn(home),
                env=cdk.Environment(region=region),
            )


def main() -> int:
    try:
        app = build_app()
    except RuntimeError as exc:
        if "Failed to bundle asset" not in str(exc):
            raise
        # pip's own reason is in the message (no network, no wheel for the platform, ...)
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except json.JSONDecodeError as exc:
        print(f"error: context '{CONTEXT_KEY}' is not valid JSON: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        app.synth()
    except RuntimeError as exc:
        if "ValidationFailed" not in str(exc):
            raise
        print(f"error: cdk-nag found unacknowledged issues: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    return 0


if __name__ == "__main__":
    sys.exit(main())
