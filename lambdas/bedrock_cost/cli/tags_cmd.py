"""``bedrock-cost tags check``: the tag-enforcer's evaluation against a live account.

Uses the standard AWS credential chain (environment, profile, SSO, instance role).
Exit codes: 0 every resource complies, 3 violations remain (after ``--fix``), 2 bad
input (config, region, credentials), 1 an AWS call failed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    ProfileNotFound,
)

from bedrock_cost.adapters.aws_errors import translate_client_error
from bedrock_cost.adapters.bedrock_resources import CLIENT_CONFIG, BedrockResources
from bedrock_cost.cli.tag_policy_cmd import load_cli_config
from bedrock_cost.domain.tag_enforcement import ResourceOutcome, ResourceSource, check_resource
from bedrock_cost.domain.tag_rules import RESOURCE_TYPES
from bedrock_cost.errors import BedrockCostError, UserError

EXIT_VIOLATIONS = 3
_REGION_RE = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("tags", help="tag governance for Bedrock resources")
    tags_sub = parser.add_subparsers(dest="tags_command", required=True)
    check = tags_sub.add_parser(
        "check",
        help="check Bedrock resources against the tag policy (exit 3 when violations remain)",
        description="List taggable Bedrock resources in each region, evaluate tag_policy from the config, "
        "and with --fix add the configured defaults for missing keys (existing values are never changed).",
    )
    check.add_argument(
        "--region", action="append", dest="regions", help="region to check (repeatable; default: config)"
    )
    check.add_argument("--fix", action="store_true", help="add tag_policy.defaults for missing required keys")
    check.add_argument("--config", type=Path, help="config YAML (default: the one ./cdk.json names)")
    check.add_argument(
        "--type",
        action="append",
        dest="resource_types",
        choices=sorted(RESOURCE_TYPES),
        help="only this resource type (repeatable; default: all)",
    )
    check.add_argument("--format", choices=["table", "json"], default="table")
    check.set_defaults(func=run)


def _sources(regions: list[str], resource_types: list[str] | None) -> dict[str, ResourceSource]:
    """Real Bedrock sources for each region, on the standard credential chain."""
    try:
        session = boto3.session.Session()
        account = session.client("sts", config=CLIENT_CONFIG).get_caller_identity()["Account"]
    except (NoCredentialsError, ProfileNotFound) as exc:
        raise UserError(f"AWS credentials: {exc} (configure a profile or set AWS_PROFILE)") from None
    except ClientError as exc:
        raise translate_client_error(exc, "identifying the AWS account") from exc
    except EndpointConnectionError as exc:
        raise BedrockCostError(f"identifying the AWS account: {exc}") from None
    except BotoCoreError as exc:
        raise UserError(f"AWS credentials: {exc}") from None
    return {
        region: BedrockResources(
            region,
            account,
            session.client("bedrock", region_name=region, config=CLIENT_CONFIG),
            session.client("bedrock-agent", region_name=region, config=CLIENT_CONFIG),
            resource_types,
        )
        for region in regions
    }


def check_account(
    sources: dict[str, ResourceSource], policy: Any, fix: bool, resource_types: list[str] | None = None
) -> list[ResourceOutcome]:
    """Evaluate (and with ``fix`` remediate) every resource of every region."""
    outcomes = []
    for source in sources.values():
        for resource in source.list_resources(resource_types):
            outcomes.append(check_resource(resource, policy, source, remediate=fix))
    return outcomes


def _table(outcomes: list[ResourceOutcome], fix: bool) -> str:
    rows = [("REGION", "TYPE", "NAME", "VIOLATIONS", "ADDED" if fix else "")]
    for o in sorted(
        outcomes, key=lambda o: (o.compliant, o.resource.region, o.resource.resource_type, o.resource.name)
    ):
        problems = "; ".join(v.describe() for v in o.remaining) or "ok"
        if o.remediation_error:
            problems += f" (fix failed: {o.remediation_error})"
        added = ", ".join(f"{k}={v}" for k, v in sorted(o.added.items())) if fix else ""
        rows.append((o.resource.region, o.resource.resource_type, o.resource.name, problems, added))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) if i < 4 else cell for i, cell in enumerate(row)).rstrip() for row in rows]
    bad = sum(1 for o in outcomes if not o.compliant)
    lines.append(
        f"{len(outcomes)} resources, {bad} non-compliant"
        + (f", {sum(len(o.added) for o in outcomes)} tags added" if fix else "")
    )
    return "\n".join(lines) + "\n"


def _json(outcomes: list[ResourceOutcome]) -> str:
    return (
        json.dumps(
            [
                {
                    "arn": o.resource.arn,
                    "region": o.resource.region,
                    "resource_type": o.resource.resource_type,
                    "name": o.resource.name,
                    "compliant": o.compliant,
                    "violations": [v.describe() for v in o.remaining],
                    "added": dict(o.added),
                    "remediation_error": o.remediation_error,
                }
                for o in outcomes
            ],
            indent=2,
        )
        + "\n"
    )


def run(args: argparse.Namespace) -> int:
    config = load_cli_config(args.config)
    regions = args.regions or list(config.regions)
    for region in regions:
        if not _REGION_RE.match(region):
            raise UserError(f"--region: {region!r} is not an AWS region name like 'us-east-1'")
    if not config.tag_policy.required_keys and not config.tag_policy.allowed_values:
        raise UserError("tag_policy: no required_keys or allowed_values configured; nothing to check")
    sources = _sources(regions, args.resource_types)
    outcomes = check_account(sources, config.tag_policy, args.fix, args.resource_types)
    from bedrock_cost.cli.safe_output import terminal_safe

    sys.stdout.write(_json(outcomes) if args.format == "json" else terminal_safe(_table(outcomes, args.fix)))
    return EXIT_VIOLATIONS if any(not o.compliant for o in outcomes) else 0
