"""The CLI imports only what the invoked command needs: start-up time is report time."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bedrock_cost.cli.main import COMMAND_MODULES, COMMAND_NAMES, build_parser

pytestmark = pytest.mark.unit


def test_every_command_module_has_a_name():
    assert sorted(COMMAND_NAMES.values()) == sorted(COMMAND_MODULES)


def test_help_lists_every_command():
    text = build_parser([]).format_help()
    assert all(name in text for name in COMMAND_NAMES)


def test_report_does_not_import_the_emulator_the_sdk_or_the_tracer():
    # Given a fresh interpreter, When the parser for `report` is built
    code = (
        "import sys; from bedrock_cost.cli.main import build_parser; "
        "build_parser(['report', '--cur', 'x']); "
        "print(','.join(m for m in ('moto', 'numpy', 'aws_xray_sdk', 'boto3') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    # Then none of the heavy modules of other commands were loaded
    assert out == ""
