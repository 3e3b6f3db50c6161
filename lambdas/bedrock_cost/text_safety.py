"""Text that came from data, made safe for spreadsheets and terminals (pure, no I/O).

Shared by the CLI (``cli/safe_output.py`` re-exports these) and by report formatting in
``billing/``: tag values, model names and CUR text are attacker-controlled in a real
account, so a CSV cell must not become a formula and a table cell must not move the
cursor or recolour the terminal.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def neutralise_csv_cell(value: Any) -> Any:
    """``'`` before a text cell a spreadsheet would run as a formula; numbers untouched."""
    if not isinstance(value, str) or not value.startswith(_FORMULA_PREFIXES):
        return value
    if _NUMBER.match(value):
        return value  # "-12.5" is a number in a numeric column, not a formula
    return "'" + value


def neutralise_csv_row(row: Sequence[Any]) -> list[Any]:
    return [neutralise_csv_cell(value) for value in row]


def terminal_safe(text: str) -> str:
    """``text`` without ANSI escape sequences or control characters (newlines kept)."""
    return _CONTROL.sub("", _ANSI.sub("", text))


def one_line(message: str) -> str:
    """A message on one line: newlines become ``; ``, control characters go."""
    parts = [part.strip() for part in str(message).splitlines() if part.strip()]
    return terminal_safe("; ".join(parts)) if parts else ""
