"""Render a ``CostReport`` as table, CSV or JSON (DESIGN §4.2 output contract).

CSV and JSON carry exactly the contract's columns: the key column, ``cost_usd`` as a
decimal string, then the four token columns. Credits, refunds and tax appear only in
the table footer, never among usage rows.
"""

from __future__ import annotations

import csv
import io
import json

from bedrock_cost.billing.reporting import TOKEN_COLUMNS, CostReport
from bedrock_cost.money import CENT, decimal_usd
from bedrock_cost.text_safety import neutralise_csv_cell


def _records(report: CostReport) -> list[dict[str, str | int]]:
    return [
        {
            report.group_by.column: row.group,
            "cost_usd": decimal_usd(row.cost_usd),
            **{column: getattr(row, column) for column in TOKEN_COLUMNS},
        }
        for row in report.rows
    ]


def to_csv(report: CostReport) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[report.group_by.column, "cost_usd", *TOKEN_COLUMNS])
    writer.writeheader()
    # Group values are data (tag values anyone can set): never a spreadsheet formula.
    writer.writerows({key: neutralise_csv_cell(value) for key, value in record.items()} for record in _records(report))
    return buffer.getvalue()


def to_json(report: CostReport) -> str:
    return json.dumps(_records(report), indent=2) + "\n"


def to_table(report: CostReport) -> str:
    header = [report.group_by.column, "cost_usd", *TOKEN_COLUMNS]
    body = [
        [row.group, decimal_usd(row.cost_usd, CENT), *(f"{getattr(row, c):,}" for c in TOKEN_COLUMNS)]
        for row in report.rows
    ]
    body.append(["TOTAL (usage)", decimal_usd(report.total_usd, CENT), *("" for _ in TOKEN_COLUMNS)])
    widths = [max(len(str(x)) for x in column) for column in zip(header, *body, strict=True)]

    def line(cells: list[str]) -> str:
        first, *rest = cells
        return "  ".join([first.ljust(widths[0]), *(c.rjust(w) for c, w in zip(rest, widths[1:], strict=True))])

    out = [
        f"Bedrock billed cost, period {report.period}, by {report.group_by.key} "
        f"(clock: billed, engine: {report.engine})",
        line(header),
        line(["-" * w for w in widths]),
        *(line(r) for r in body),
    ]
    if report.adjustments:
        out.append("")
        out.append("Not included above (credits, refunds, tax):")
        out.extend(f"  {kind}: {decimal_usd(amount, CENT)}" for kind, amount in sorted(report.adjustments.items()))
    return "\n".join(out) + "\n"
