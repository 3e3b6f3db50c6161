"""Without the ``local`` extra, local commands say which extra to install, in one line.

A runtime-only install (``pip install bedrock-cost-tracker``) lacks duckdb, pyarrow,
sqlglot, moto and numpy. Each case hides one of them from a fresh interpreter and runs
the CLI: at parser build time (the command module imports the engine) and at run time
(the command imports it lazily) the answer is exit 2 and one line, never a traceback.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.blocked_imports import with_blocked_imports

pytestmark = pytest.mark.unit

_HIDING = with_blocked_imports("""
block(sys.argv[1].split(","))
from bedrock_cost.cli.main import main
sys.exit(main(sys.argv[2:]))
""")


def _run_without(hidden: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _HIDING, hidden, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    ("hidden", "args", "command", "module"),
    [
        ("numpy", ("generate-cur", "--out", "cur", "--period", "2026-10"), "generate-cur", "numpy"),
        ("moto", ("demo", "--out", "demo-out"), "demo", "moto"),
        ("duckdb", ("report", "--cur", "cur"), "report", "duckdb"),
        ("duckdb,sqlglot", ("pricing", "--model", "Claude Sonnet 4.6", "--cur", "cur"), "pricing", None),
    ],
)
def test_a_command_needing_a_hidden_engine_names_the_extra(
    tmp_path: Path, hidden: str, args: tuple[str, ...], command: str, module: str | None
) -> None:
    # Given a CUR folder (so input checks pass) and an interpreter without the engine
    (tmp_path / "cur").mkdir()
    # When the command runs
    result = _run_without(hidden, *args, cwd=tmp_path)
    # Then exit 2, one line naming the command, the missing module and the extra
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"bedrock-cost {command}: needs the 'local' extra")
    assert line.endswith("pip install 'bedrock-cost-tracker[local]'")
    assert module is None or f"({module} is not installed)" in line
    assert "Traceback" not in result.stderr


def test_help_lists_the_commands_that_need_the_extra(tmp_path: Path) -> None:
    # Given an interpreter without the local engines
    result = _run_without("duckdb,pyarrow,sqlglot,moto,numpy", "--help", cwd=tmp_path)
    # Then help still lists every command, those needing the extra saying so
    assert result.returncode == 0, result.stderr
    for command in ("report", "generate-cur", "demo", "pricing", "tag-policy"):
        assert command in result.stdout
    assert "needs the 'local' extra" in result.stdout


def test_a_missing_module_outside_the_extra_is_not_disguised(tmp_path: Path) -> None:
    # Given a runtime dependency (pydantic) missing: a broken install, not a missing extra
    result = _run_without("pydantic", "tag-policy", "--config", "x.yaml", cwd=tmp_path)
    # Then the error is not reported as the local extra
    assert result.returncode != 0
    assert "local' extra" not in result.stderr
    assert "pydantic" in result.stderr
