"""``bedrock-cost budget unblock --user U`` (and ``budget blocks``): lift a per-user deny.

Enforced per-user budgets (``request_logs.budgets`` with ``enforce``) deny
``bedrock:InvokeModel*`` to one principal until the period resets. This command lifts the
deny early: it removes the inline policy, alerts through the stack's topic (once per user
and period) and records the hand-lift so the next batch does not re-block the user before
the period resets. Uses the standard AWS credential chain; ``--table`` and ``--topic-arn``
are the stack's state table and alert topic (outputs of the deployed stack).

Exit codes: 0 done, 2 bad input (the user is not blocked, bad ARN), 1 an AWS call failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from bedrock_cost.adapters.alert_publisher import AlertPublisher
from bedrock_cost.adapters.aws_errors import translate_client_error
from bedrock_cost.adapters.request_ledger_store import LedgerStore, PrincipalDeny
from bedrock_cost.domain.pricing import PriceCatalog, load_bundled_layer
from bedrock_cost.errors import BedrockCostError, UserError

TABLE_ENV = "BEDROCK_COST_STATE_TABLE"
TOPIC_ENV = "BEDROCK_COST_ALERT_TOPIC_ARN"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("budget", help="per-user budget enforcement of the request ledger")
    sub = parser.add_subparsers(dest="budget_command", required=True)
    for name, help_text in (
        ("unblock", "lift the Bedrock deny on one user until the budget period resets"),
        ("blocks", "list users denied (or lifted by hand) in the current period"),
    ):
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        if name == "unblock":
            cmd.add_argument("--user", required=True, help="the user as reports name it (e.g. ana@example.com)")
        cmd.add_argument("--table", default=os.environ.get(TABLE_ENV), help=f"state table (default: ${TABLE_ENV})")
        cmd.add_argument(
            "--topic-arn", default=os.environ.get(TOPIC_ENV), help=f"alert topic ARN (default: ${TOPIC_ENV})"
        )
        cmd.add_argument("--region", help="AWS region of the stack (default: the credential chain's)")
        cmd.set_defaults(func=run_unblock if name == "unblock" else run_blocks)


def _deps(args: argparse.Namespace, *, need_topic: bool) -> Any:
    from bedrock_cost.handlers.request_ingest import Adapters

    if not args.table:
        raise UserError(f"--table: the stack's state table is required (or set {TABLE_ENV})")
    if need_topic and not (args.topic_arn or "").startswith("arn:aws"):
        raise UserError(f"--topic-arn: the stack's alert topic ARN is required (or set {TOPIC_ENV})")
    config = BotoConfig(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=3, read_timeout=10)
    try:
        session = boto3.session.Session(region_name=args.region)
        dynamodb = session.client("dynamodb", config=config)
        return Adapters(
            store=LedgerStore(dynamodb, args.table),
            publisher=AlertPublisher(session.client("sns", config=config), args.topic_arn or "", dynamodb, args.table),
            deny=PrincipalDeny(session.client("iam", config=config)),
            s3=session.client("s3", config=config),
            catalog=PriceCatalog(bundled=load_bundled_layer()),
        )
    except BotoCoreError as exc:
        raise UserError(f"cannot create AWS clients: {exc}") from None


def _aws(call: Any, what: str) -> Any:
    try:
        return call()
    except ClientError as exc:
        raise translate_client_error(exc, what) from exc
    except BotoCoreError as exc:
        raise BedrockCostError(f"{what}: {exc}") from exc


def run_unblock(args: argparse.Namespace) -> int:
    from bedrock_cost.handlers.request_ingest import lift_block

    deps = _deps(args, need_topic=True)
    blocks = _aws(deps.store.blocks, f"reading blocks from {args.table}")
    current = next((b for b in blocks if b["user"] == args.user), None)
    if current is None or current["state"] != "blocked":
        names = ", ".join(sorted(b["user"] for b in blocks if b["state"] == "blocked")) or "none"
        raise UserError(f"--user: {args.user!r} is not blocked (blocked now: {names})")
    _aws(lambda: lift_block(deps, args.user, reason="manual"), f"unblocking {args.user}")
    sys.stdout.write(f"unblocked {args.user} (period {current['period']}); stays unblocked until the period resets\n")
    return 0


def run_blocks(args: argparse.Namespace) -> int:
    deps = _deps(args, need_topic=False)
    blocks = _aws(deps.store.blocks, f"reading blocks from {args.table}")
    sys.stdout.write(json.dumps(sorted(blocks, key=lambda b: b["user"]), indent=2) + "\n")
    return 0
