"""Flags several ``bedrock-cost`` sub-commands share, declared once so they read alike.

A sub-command module's ``register(subparsers)`` starts with ``add_command`` (its parser,
dispatching to its ``run``) and adds its own flags; the flags of the same meaning
(the invocation logs and their profiles, the rows output) come from here, so their
names, types and defaults cannot drift apart between commands.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bedrock_cost.cli.rows_output import FORMATS

PROFILES_HELP = "with --logs: `aws bedrock list-inference-profiles --type-equals APPLICATION` JSON"


def add_command(
    subparsers: Any, name: str, run: Callable[[argparse.Namespace], int], *, help: str, description: str
) -> argparse.ArgumentParser:
    """The sub-command's parser; ``main`` calls ``run(args)`` when it is chosen."""
    parser: argparse.ArgumentParser = subparsers.add_parser(name, help=help, description=description)
    parser.set_defaults(func=run)
    return parser


def add_request_logs(parser: argparse.ArgumentParser, logs_help: str, profiles_help: str = PROFILES_HELP) -> None:
    """``--logs`` (a folder of invocation logs) and the ``--profiles`` that name their inference profiles."""
    parser.add_argument("--logs", type=Path, help=logs_help)
    parser.add_argument("--profiles", type=Path, help=profiles_help)


def add_rows_output(parser: argparse.ArgumentParser) -> None:
    """``--format`` (the ``rows_output`` formats) and ``--out`` (a file instead of standard output)."""
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.add_argument("--out", type=Path, help="write to this file instead of standard output")
