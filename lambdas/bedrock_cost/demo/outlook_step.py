"""Demo step: the forecast and the savings advice, as of the demo's now.

``forecast.csv`` (``bedrock-cost forecast``'s rows: total and every tag value against the
config's budgets, with the crossing day) and ``recommendations.csv`` (``bedrock-cost
recommend``'s rows). Provisioned-throughput utilisation needs the tokens the provisioned
endpoint served (metrics clock): the scenario states them."""

from __future__ import annotations

from decimal import Decimal

from bedrock_cost.adapters.price_list import assemble_catalog
from bedrock_cost.billing import advice, forecasting
from bedrock_cost.cli.rows_output import to_csv
from bedrock_cost.demo.context import DemoContext
from bedrock_cost.money import CENT, decimal_usd
from bedrock_cost.sample_data import demo_scenario


def run(ctx: DemoContext) -> None:
    engine = ctx.results["engine"]
    as_of = ctx.now.date() if ctx.now else None
    items = forecasting.forecasts(engine, ctx.period, list(ctx.config.report_tag_keys), ctx.config.budgets, as_of)
    rows = forecasting.contract_rows(items)
    (ctx.out_dir / "forecast.csv").write_text(to_csv(rows, (*forecasting.FORECAST_COLUMNS, "status")), encoding="utf-8")
    ctx.results["forecast"] = items
    ctx.summary.append(f"Forecast as of {as_of} ({items[0].method}) -> forecast.csv:")
    for f in items:
        if f.budget_usd is None and f.budget != "total":
            continue
        budget = f"budget ${decimal_usd(f.budget_usd, CENT)}" if f.budget_usd is not None else "no budget"
        verb = "crossed" if f.status == "over" else "crosses"
        crosses = f", {verb} on {f.crosses_on}" if f.crosses_on else ", never crosses"
        ctx.summary.append(
            f"  {f.budget:<22} actual ${decimal_usd(f.actual_usd, CENT):>10}  projected "
            f"${decimal_usd(f.projected_usd, CENT):>10}  {budget} ({f.status}{crosses if f.budget_usd else ''})"
        )

    served = demo_scenario.provisioned_tokens_served()
    found, spend = advice.recommendations(engine, ctx.period, assemble_catalog(ctx.config.pricing), served)
    (ctx.out_dir / "recommendations.csv").write_text(
        to_csv(advice.contract_rows(found), advice.RECOMMEND_COLUMNS), encoding="utf-8"
    )
    ctx.results["recommendations"] = (found, spend)
    total = sum((r.saving_usd_month for r in found), Decimal(0))
    kinds = sorted({r.kind for r in found})
    ctx.summary.append(
        f"Recommendations -> recommendations.csv: {len(found)} of {len(kinds)} kinds ({', '.join(kinds)}): "
        f"${decimal_usd(total, CENT)} a month together against ${decimal_usd(spend, CENT)} of monthly usage"
    )
    for rec in found[:6]:
        ctx.summary.append(
            f"  {rec.kind:<24} {rec.subject:<28} ${decimal_usd(rec.saving_usd_month, CENT):>9}  {rec.evidence}"
        )
