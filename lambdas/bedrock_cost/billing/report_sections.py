"""The table report's extra sections: per model, account, user and region, and unmapped models.

A reader of ``report --format table`` wants the whole picture of a period on one screen,
whatever ``--by`` they chose: the per-model table (with tokens), spend by account, by the
person or workload behind the calls, by region, and the models the alias table does not
know (billed, kept under their billing name, but unpriced for the estimator). CSV and JSON
stay one table each (the output contract).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bedrock_cost.billing.engine import QueryEngine
from bedrock_cost.billing.report_format import to_table
from bedrock_cost.billing.reporting import CostReport, build_cost_report, report_fragments
from bedrock_cost.billing.sql import render
from bedrock_cost.money import CENT, decimal_usd

SECTION_KEYS = ("model", "account", "user", "region")


@dataclass(frozen=True)
class UnmappedModel:
    model: str
    cost_usd: Decimal
    tokens: int


def unmapped_models(engine: QueryEngine, period: str) -> list[UnmappedModel]:
    rows = engine.query(render("reports/unmapped_models", report_fragments(engine), {"period": period}))
    return [UnmappedModel(str(r["model"]), Decimal(str(r["cost_usd"] or 0)), int(r["tokens"] or 0)) for r in rows]


def sections(engine: QueryEngine, period: str, main_key: str) -> list[CostReport]:
    """One report per section key, leaving out the one the main table already shows."""
    return [build_cost_report(engine, period, key, with_adjustments=False) for key in SECTION_KEYS if key != main_key]


def render_sections(reports: list[CostReport], unmapped: list[UnmappedModel]) -> str:
    out: list[str] = []
    for report in reports:
        out.append("")
        out.append(to_table(report).rstrip("\n"))
    out.append("")
    if unmapped:
        out.append(
            "Unmapped models (billed under a name the model table does not know; the estimator cannot price them):"
        )
        out.extend(f"  {u.model}: {decimal_usd(u.cost_usd, CENT)}, {u.tokens:,} tokens" for u in unmapped)
    else:
        out.append("Unmapped models: none")
    return "\n".join(out) + "\n"
