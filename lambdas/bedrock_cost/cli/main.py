"""Entry point of the ``bedrock-cost`` command.

Each sub-command lives in its own module exposing ``register(subparsers)``; this module
only dispatches and maps errors to exit codes: 0 ok, 2 bad input (one line naming the
field or file), 1 anything else. Users never see a traceback for their own mistakes.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

from bedrock_cost import __version__
from bedrock_cost.errors import BedrockCostError

COMMAND_MODULES: tuple[str, ...] = (
    "bedrock_cost.cli.report_cmd",
    "bedrock_cost.cli.generate_cur_cmd",
    "bedrock_cost.cli.demo_cmd",
    "bedrock_cost.cli.tags_cmd",
    "bedrock_cost.cli.tag_policy_cmd",
    "bedrock_cost.cli.estimate_cmd",
    "bedrock_cost.cli.pricing_cmd",
    "bedrock_cost.cli.doctor_cmd",
    "bedrock_cost.cli.reconcile_cmd",
    "bedrock_cost.cli.forecast_cmd",
    "bedrock_cost.cli.recommend_cmd",
    "bedrock_cost.cli.requests_cmd",
    "bedrock_cost.cli.generate_logs_cmd",
    "bedrock_cost.cli.budget_cmd",
)

COMMAND_NAMES: dict[str, str] = {
    "report": "bedrock_cost.cli.report_cmd",
    "generate-cur": "bedrock_cost.cli.generate_cur_cmd",
    "demo": "bedrock_cost.cli.demo_cmd",
    "tags": "bedrock_cost.cli.tags_cmd",
    "tag-policy": "bedrock_cost.cli.tag_policy_cmd",
    "estimate": "bedrock_cost.cli.estimate_cmd",
    "pricing": "bedrock_cost.cli.pricing_cmd",
    "doctor": "bedrock_cost.cli.doctor_cmd",
    "reconcile": "bedrock_cost.cli.reconcile_cmd",
    "forecast": "bedrock_cost.cli.forecast_cmd",
    "recommend": "bedrock_cost.cli.recommend_cmd",
    "requests": "bedrock_cost.cli.requests_cmd",
    "generate-logs": "bedrock_cost.cli.generate_logs_cmd",
    "budget": "bedrock_cost.cli.budget_cmd",
}
"""Which module registers which sub-command, so a run imports only the one it needs
(the demo pulls in the AWS emulator, the estimator boto3 and X-Ray: none of that
belongs in the start-up time of ``report``)."""

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2

LOCAL_EXTRA_MODULES = frozenset({"duckdb", "pyarrow", "sqlglot", "moto", "numpy"})
"""Third-party modules of the ``local`` extra. The runtime install (what Lambda runs) lacks
them, so a command needing one says which extra to install instead of a traceback."""
LOCAL_EXTRA_HINT = "pip install 'bedrock-cost-tracker[local]'"


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad flags already; keep its message to one line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"bedrock-cost: error: {message}\n")


def _command_word(argv: Sequence[str] | None) -> str:
    return next((arg for arg in (argv or []) if not arg.startswith("-")), "")


def _modules_for(argv: Sequence[str] | None) -> tuple[str, ...]:
    """The module of the requested command, or all of them (help, unknown command)."""
    module = COMMAND_NAMES.get(_command_word(argv))
    return (module,) if module in COMMAND_MODULES else COMMAND_MODULES


def missing_local_module(exc: ModuleNotFoundError) -> str | None:
    """The ``local`` extra's module whose absence ``exc`` reports, else ``None``."""
    root = (exc.name or "").split(".")[0]
    return root if root in LOCAL_EXTRA_MODULES else None


def _needs_local_extra(command: str, module: str) -> str:
    prog = f"bedrock-cost {command}" if command else "bedrock-cost"
    return f"{prog}: needs the 'local' extra ({module} is not installed): {LOCAL_EXTRA_HINT}"


def _register_unavailable(subparsers: Any, module_name: str, missing: str) -> None:
    """List a command whose module cannot load in ``--help``, saying what it needs."""
    for command in (name for name, module in COMMAND_NAMES.items() if module == module_name):
        stub = subparsers.add_parser(command, help=f"needs the 'local' extra: {LOCAL_EXTRA_HINT}")
        stub.set_defaults(func=lambda _args, c=command: _report_missing(c, missing))


def _report_missing(command: str, module: str) -> int:
    print(_needs_local_extra(command, module), file=sys.stderr)
    return EXIT_BAD_INPUT


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    parser = _Parser(prog="bedrock-cost", description="Cost tracking for Amazon Bedrock.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    module_names = _modules_for(argv)
    for module_name in module_names:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            missing = missing_local_module(exc)
            if missing is None or len(module_names) == 1:
                raise  # the requested command itself: main() turns it into one line
            _register_unavailable(subparsers, module_name, missing)
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        return _run(arguments)
    except ModuleNotFoundError as exc:
        # Runtime-only install (no 'local' extra): the engines of local commands are absent.
        missing = missing_local_module(exc)
        if missing is None:
            raise
        return _report_missing(_command_word(arguments), missing)


def _run(arguments: list[str]) -> int:
    parser = build_parser(arguments)
    args = parser.parse_args(arguments)
    try:
        result: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    except ModuleNotFoundError as exc:
        if missing_local_module(exc) is not None:
            raise  # main() names the extra to install
        return _failure(exc)
    except Exception as exc:
        return _failure(exc)
    return result


def _failure(exc: Exception) -> int:
    """Exit code and one stderr line for ``exc`` (``cli/exit_codes.py``); no traceback."""
    from bedrock_cost.cli.exit_codes import describe_failure

    if os.environ.get("BEDROCK_COST_DEBUG") == "1" and not isinstance(exc, BedrockCostError):
        raise exc
    code, line = describe_failure(exc)
    print(line, file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
