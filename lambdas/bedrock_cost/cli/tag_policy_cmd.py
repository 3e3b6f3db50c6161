"""``bedrock-cost tag-policy``: print an AWS Organizations tag policy for the configured tags.

The management account attaches the document; Organizations then fixes key
capitalization and allowed values (and reports missing required keys) on the Bedrock
resource types it supports, while the tag-enforcer covers the rest within minutes.

Config: ``--config FILE``, else the config ``cdk.json`` names in the current folder (the
one ``cdk deploy`` uses), else an error (exit 2).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bedrock_cost.cli.options import add_command
from bedrock_cost.config import CONTEXT_KEY, Config
from bedrock_cost.config_loader import load_config_file, load_from_context
from bedrock_cost.domain.tag_policy_document import organizations_tag_policy
from bedrock_cost.errors import ConfigError, UserError


def load_cli_config(path: Path | None, cwd: Path | None = None) -> Config:
    """The config a CLI command runs with: ``--config FILE`` or ``./cdk.json``'s."""
    if path is not None:
        return load_config_file(path)
    folder = cwd or Path.cwd()
    cdk_json = folder / "cdk.json"
    if not cdk_json.is_file():
        raise UserError(f"--config: no config given and no cdk.json in {folder}; pass --config FILE (YAML)")
    try:
        context = json.loads(cdk_json.read_text(encoding="utf-8")).get("context", {})
    except (OSError, json.JSONDecodeError, AttributeError) as exc:
        raise ConfigError(f"cannot read {cdk_json}: {exc}") from None
    return load_from_context(context.get(CONTEXT_KEY), folder)


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "tag-policy",
        run,
        help="print an AWS Organizations tag policy (JSON) for the configured tag keys and values",
        description="Generate a tag policy for the management account from tag_policy in the config. "
        "Reads --config FILE, or the config named by ./cdk.json.",
    )
    parser.add_argument("--config", type=Path, help="config YAML (default: the one ./cdk.json names)")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="omit enforced_for: Organizations reports non-compliance but blocks no tagging call",
    )
    parser.add_argument("--out", type=Path, help="write the JSON to this file instead of standard output")


def run(args: argparse.Namespace) -> int:
    from bedrock_cost.cli.safe_output import check_output_path

    if args.out is not None:  # before any warning: a refused --out is the one line printed
        check_output_path(args.out, inputs=[args.config] if args.config else [])
    config = load_cli_config(args.config)
    if not config.tag_policy.required_keys and not config.tag_policy.allowed_values:
        raise UserError("tag_policy: no required_keys or allowed_values configured; nothing to put in a tag policy")
    document, warnings = organizations_tag_policy(config.tag_policy, enforce=not args.report_only)
    text = json.dumps(document, indent=2) + "\n"
    if args.out is not None:
        from bedrock_cost.cli.safe_output import write_text_atomic

        write_text_atomic(args.out, text, inputs=[args.config] if args.config else [])
    else:
        sys.stdout.write(text)
    for warning in warnings:  # after the output: a failed write stays a one-line error
        print(f"bedrock-cost: warning: {warning}", file=sys.stderr)
    return 0
