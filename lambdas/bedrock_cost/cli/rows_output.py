"""Render contract rows (lists of string-valued dicts) as table, CSV, JSON or HTML.

``reconcile``, ``forecast`` and ``recommend`` print rows whose columns DESIGN §4.2 fixes;
one renderer keeps their formats alike: CSV with a header row, JSON as a list of objects
with the same keys, a table with a title and footer notes, a small self-contained HTML page.
"""

from __future__ import annotations

import csv
import html
import io
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from bedrock_cost.errors import UserError

FORMATS = ("table", "csv", "json", "html")


def to_csv(rows: Sequence[Mapping[str, str]], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def to_json(rows: Sequence[Mapping[str, str]], columns: Sequence[str]) -> str:
    return json.dumps([{c: row.get(c, "") for c in columns} for row in rows], indent=2) + "\n"


def to_table(rows: Sequence[Mapping[str, str]], columns: Sequence[str], title: str, notes: Sequence[str] = ()) -> str:
    body = [[str(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(x) for x in column) for column in zip(columns, *body, strict=True)]
    lines = [title, "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip() for cells in body]
    if notes:
        lines.append("")
        lines += list(notes)
    return "\n".join(lines) + "\n"


def to_html(rows: Sequence[Mapping[str, str]], columns: Sequence[str], title: str, notes: Sequence[str] = ()) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(row.get(c, '')))}</td>" for c in columns) + "</tr>" for row in rows
    )
    notes_html = "".join(f"<p>{html.escape(n)}</p>" for n in notes)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}</style></head>"
        f"<body><h1>{html.escape(title)}</h1><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table>{notes_html}</body></html>\n"
    )


def render(
    rows: Sequence[Mapping[str, str]], columns: Sequence[str], fmt: str, title: str, notes: Sequence[str] = ()
) -> str:
    if fmt == "csv":
        return to_csv(rows, columns)
    if fmt == "json":
        return to_json(rows, columns)
    if fmt == "html":
        return to_html(rows, columns, title, notes)
    return to_table(rows, columns, title, notes)


def emit(text: str, out: Path | None) -> None:
    """Standard output, or ``--out FILE`` written whole."""
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
    except OSError as exc:
        raise UserError(f"--out: cannot write {out}: {exc.strerror}") from None
    print(f"wrote {out}", file=sys.stderr)
