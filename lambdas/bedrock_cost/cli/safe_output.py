"""Safe output for every CLI command: atomic files, CSV without formulas, terminal without escapes.

Use these instead of ``Path.write_text``/``csv.writer``/``print`` for anything built
from data (CUR values, tag values, model names: attacker-controlled in a real account):

* ``check_output_path(out, inputs=...)`` — before any work: refuses (``UserError``, one
  line naming the path) an ``--out`` that is one of the inputs or inside an input
  folder (resolved, symlinks followed), whose parent is a file, or that is not writable.
* ``write_text_atomic(out, text, inputs=...)`` / ``write_bytes_atomic`` / ``atomic_path``
  — write to a temporary file in the same folder, then ``os.replace``: a failed or
  interrupted write leaves the previous file (or nothing), never a partial one.
* ``neutralise_csv_cell(value)`` / ``neutralise_csv_row(row)`` — a text cell starting
  with ``=``, ``+``, ``-``, ``@``, tab or carriage return is prefixed with ``'`` so a
  spreadsheet shows it instead of evaluating it; numbers (and text that is exactly a
  decimal number, such as ``-12.5``) are left as they are.
* ``terminal_safe(text)`` — strips ANSI escape sequences and control characters
  (keeps newlines) before anything reaches a terminal.
* ``one_line(message)`` — collapses a message to one line (the CLI's error contract).

Errors are ``UserError`` (exit 2) naming the path and the reason.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from bedrock_cost.errors import UserError
from bedrock_cost.text_safety import neutralise_csv_cell, neutralise_csv_row, one_line, terminal_safe

__all__ = [
    "atomic_path",
    "check_output_path",
    "neutralise_csv_cell",
    "neutralise_csv_row",
    "one_line",
    "terminal_safe",
    "write_bytes_atomic",
    "write_text_atomic",
]


def _resolved(path: Path) -> Path:
    return Path(os.path.realpath(os.path.abspath(path)))


def check_output_path(out: Path, *, inputs: Iterable[Path] = (), flag: str = "--out", directory: bool = False) -> Path:
    """Refuse an output that would clobber an input or cannot be written; return it resolved."""
    target = _resolved(out)
    for source in inputs:
        src = _resolved(source)
        if target == src or (src.is_dir() and src in target.parents) or (directory and target in src.parents):
            raise UserError(f"{flag}: {out} is (or is inside) the input {source}; choose another path")
    if target.exists() and directory and not target.is_dir():
        raise UserError(f"{flag}: {out} is a file, not a folder")
    if target.is_dir() and not directory:
        raise UserError(f"{flag}: {out} is a folder, not a file")
    parent = target if directory else target.parent
    existing = parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise UserError(f"{flag}: cannot write {out}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"{flag}: cannot write {out}: {existing} is not writable")
    return target


def _ensure_parent(out: Path, flag: str) -> None:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{flag}: cannot create the folder of {out}: {exc.strerror or exc}") from None


@contextlib.contextmanager
def atomic_path(out: Path, *, inputs: Iterable[Path] = (), flag: str = "--out") -> Iterator[Path]:
    """A temporary path next to ``out``; renamed onto ``out`` when the block succeeds, removed if not."""
    check_output_path(out, inputs=inputs, flag=flag)
    _ensure_parent(out, flag)
    try:
        handle, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    except OSError as exc:
        raise UserError(f"{flag}: cannot write {out}: {exc.strerror or exc}") from None
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.replace(temporary, out)
    except OSError as exc:
        raise UserError(f"{flag}: cannot write {out}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def write_bytes_atomic(out: Path, data: bytes, *, inputs: Iterable[Path] = (), flag: str = "--out") -> None:
    with atomic_path(out, inputs=inputs, flag=flag) as temporary:
        temporary.write_bytes(data)


def write_text_atomic(out: Path, text: str, *, inputs: Iterable[Path] = (), flag: str = "--out") -> None:
    write_bytes_atomic(out, text.encode("utf-8"), inputs=inputs, flag=flag)
