"""Demo step: the billed truth from the generated CUR, on DuckDB.

Opens the local engine over the generated export (later steps reuse it through
``ctx.results["engine"]``), writes the CSV reports and records billed totals in
``ctx.results["billed"]`` so the estimate and alert steps can stand beside them.
"""

from __future__ import annotations

from decimal import Decimal

from bedrock_cost.adapters.duckdb_engine import DuckDBEngine
from bedrock_cost.billing.report_format import to_csv
from bedrock_cost.billing.reporting import CostReport, build_cost_report
from bedrock_cost.demo.context import DemoContext
from bedrock_cost.money import CENT, decimal_usd

SUMMARY_ROWS = 6


def _write(ctx: DemoContext, report: CostReport, name: str) -> None:
    (ctx.out_dir / name).write_text(to_csv(report), encoding="utf-8")


def _summary(title: str, report: CostReport) -> list[str]:
    lines = [f"  {title}:"]
    for row in report.rows[:SUMMARY_ROWS]:
        lines.append(f"    {row.group:<28} ${decimal_usd(row.cost_usd, CENT):>12}")
    if len(report.rows) > SUMMARY_ROWS:
        rest = sum((r.cost_usd for r in report.rows[SUMMARY_ROWS:]), Decimal(0))
        lines.append(f"    {f'({len(report.rows) - SUMMARY_ROWS} more)':<28} ${decimal_usd(rest, CENT):>12}")
    return lines


def run(ctx: DemoContext) -> None:
    engine = DuckDBEngine.open(ctx.cur_dir, ctx.config.report_tag_keys)
    ctx.results["engine"] = engine
    by_model = build_cost_report(engine, ctx.period, "model")
    _write(ctx, by_model, "cost_by_model.csv")
    by_tag: dict[str, dict[str, Decimal]] = {}
    tag_reports = {}
    for key in ctx.config.report_tag_keys:
        report = build_cost_report(engine, ctx.period, f"tag:{key}")
        _write(ctx, report, f"cost_by_{key}.csv")
        by_tag[key] = {row.group: row.cost_usd for row in report.rows}
        tag_reports[key] = report
    for by in ("account", "usage-kind", "principal", "day", "region"):
        _write(ctx, build_cost_report(engine, ctx.period, by), f"cost_by_{by.replace('-', '_')}.csv")
    adjustments = "line_item_type,cost_usd\n" + "".join(
        f"{kind},{decimal_usd(amount)}\n" for kind, amount in sorted(by_model.adjustments.items())
    )
    (ctx.out_dir / "adjustments.csv").write_text(adjustments, encoding="utf-8")
    ctx.results["billed"] = {
        "period": ctx.period,
        "total_usd": by_model.total_usd,
        "by_model": {row.group: row.cost_usd for row in by_model.rows},
        "by_tag": by_tag,
        "adjustments": dict(by_model.adjustments),
    }
    apart = ", ".join(f"{k} ${decimal_usd(v, CENT)}" for k, v in sorted(by_model.adjustments.items()))
    ctx.summary.append(
        f"Billed (CUR, {ctx.period}): ${decimal_usd(by_model.total_usd, CENT)} Bedrock usage "
        f"(credits/refunds/tax apart: {apart})"
    )
    ctx.summary.extend(_summary("cost per model", by_model))
    first_key = ctx.config.report_tag_keys[0] if ctx.config.report_tag_keys else None
    if first_key:
        ctx.summary.extend(_summary(f"cost per {first_key}", tag_reports[first_key]))
