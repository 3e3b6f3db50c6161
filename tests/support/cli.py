"""Run a ``bedrock-cost`` command in-process and keep what it printed."""

from __future__ import annotations

import contextlib
import io

from bedrock_cost.cli.main import main


def run_cli(*argv: str) -> tuple[int, str]:
    """The exit code and standard output of ``bedrock-cost <argv>``."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(list(argv))
    return code, buffer.getvalue()
