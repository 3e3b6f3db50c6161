"""The shared output and pattern guards: formulas, escapes, atomic writes, bounded matching."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bedrock_cost.cli.safe_output import (
    check_output_path,
    neutralise_csv_row,
    one_line,
    terminal_safe,
    write_text_atomic,
)
from bedrock_cost.config import AllowedValues
from bedrock_cost.domain.tag_rules import value_allowed
from bedrock_cost.errors import UserError
from bedrock_cost.safe_regex import MAX_VALUE_LENGTH, bounded_fullmatch

pytestmark = pytest.mark.unit


def test_text_cells_that_spreadsheets_would_run_are_neutralised_numbers_are_not() -> None:
    row = ['=HYPERLINK("http://x")', "+1+2", "-cmd", "@SUM(A1)", "\tx", "\rx", "-12.5", "+3", "1e-5", "ml", 7]
    assert neutralise_csv_row(row) == [
        '\'=HYPERLINK("http://x")',
        "'+1+2",
        "'-cmd",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        "-12.5",
        "+3",
        "1e-5",
        "ml",
        7,
    ]


def test_escape_sequences_and_control_characters_never_reach_the_terminal() -> None:
    hostile = "team-\x1b[2J\x1b[31mred\x1b[0m\x1b]0;title\x07\x08\x00ok\nnext"
    assert terminal_safe(hostile) == "team-redok\nnext"
    assert one_line("first\nsecond\r\n\x1b[1mthird") == "first; second; third"


def test_an_atomic_write_replaces_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "report.csv"
    target.write_text("old\n", encoding="utf-8")
    write_text_atomic(target, "new\n")
    assert target.read_text(encoding="utf-8") == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.csv"]  # no temporary left behind
    with pytest.raises(UserError, match="input"):
        write_text_atomic(target, "clobber\n", inputs=[target])
    assert target.read_text(encoding="utf-8") == "new\n"


def test_output_paths_inside_inputs_or_under_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "cur").mkdir()
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(UserError, match="inside"):
        check_output_path(tmp_path / "cur" / "out.csv", inputs=[tmp_path / "cur"])
    with pytest.raises(UserError, match="is a file"):
        check_output_path(tmp_path / "file" / "out.csv")
    link = tmp_path / "link.csv"
    link.symlink_to(tmp_path / "file")
    with pytest.raises(UserError, match="input"):
        check_output_path(link, inputs=[tmp_path / "file"])


def test_tag_values_are_matched_with_bounded_input() -> None:
    # A pattern that would backtrack badly is refused by the config; at match time the
    # input is capped at AWS's 256-character tag value limit whatever the pattern.
    rule = AllowedValues(pattern="^[a-z]+(-[a-z]+)?$")
    started = time.monotonic()
    assert value_allowed("a" * MAX_VALUE_LENGTH, rule, case_sensitive=True)
    assert not value_allowed("a" * (MAX_VALUE_LENGTH + 1), rule, case_sensitive=True)
    assert not bounded_fullmatch("^(a|aa)+$", "a" * 10_000 + "!")
    assert time.monotonic() - started < 1.0
    with pytest.raises(ValueError, match="nested quantifier"):
        AllowedValues(pattern="^(a+)+$")
