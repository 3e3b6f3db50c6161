"""Entry point of the ``bedrock-cost`` command.

Each sub-command lives in its own module exposing ``register(subparsers)``; this module
only dispatches and maps errors to exit codes: 0 ok, 2 bad input (one line naming the
field or file), 1 anything else. Users never see a traceback for their own mistakes.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from bedrock_cost import __version__
from bedrock_cost.errors import BedrockCostError, UserError

COMMAND_MODULES: tuple[str, ...] = (
    "bedrock_cost.cli.report_cmd",
    "bedrock_cost.cli.generate_cur_cmd",
    "bedrock_cost.cli.demo_cmd",
    "bedrock_cost.cli.tags_cmd",
    "bedrock_cost.cli.tag_policy_cmd",
    "bedrock_cost.cli.estimate_cmd",
    "bedrock_cost.cli.pricing_cmd",
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


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad flags already; keep its message to one line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"bedrock-cost: error: {message}\n")


def _modules_for(argv: Sequence[str] | None) -> tuple[str, ...]:
    """The module of the requested command, or all of them (help, unknown command)."""
    first = next((arg for arg in (argv or []) if not arg.startswith("-")), None)
    module = COMMAND_NAMES.get(first or "")
    return (module,) if module in COMMAND_MODULES else COMMAND_MODULES


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    parser = _Parser(prog="bedrock-cost", description="Cost tracking for Amazon Bedrock.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for module_name in _modules_for(argv):
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(arguments)
    args = parser.parse_args(arguments)
    try:
        result: int = args.func(args)
    except UserError as exc:
        print(f"bedrock-cost: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BedrockCostError as exc:
        print(f"bedrock-cost: failed: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
    return result


if __name__ == "__main__":
    sys.exit(main())
