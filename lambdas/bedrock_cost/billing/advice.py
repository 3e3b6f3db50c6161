"""Recommendations from a query engine: ``recommendation_inputs.sql`` rows into the pure
``domain.recommendations`` rules, scaled to a month from the days billed."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from decimal import Decimal

from bedrock_cost.billing.engine import QueryEngine
from bedrock_cost.billing.reporting import report_fragments
from bedrock_cost.billing.sql import render
from bedrock_cost.domain.pricing import PriceCatalog
from bedrock_cost.domain.recommendations import ProvisionedUse, Recommendation, UsageLine, recommend
from bedrock_cost.domain.request_recommendations import CallerPrompts, caching_by_caller
from bedrock_cost.money import decimal_usd

RECOMMEND_COLUMNS = ("kind", "subject", "saving_usd_month", "confidence", "evidence")


def usage_lines(engine: QueryEngine, period: str) -> tuple[list[UsageLine], int, dict[str, Decimal]]:
    """Usage lines, the number of days billed, and provisioned-throughput cost per model."""
    rows = engine.query(render("reports/recommendation_inputs", report_fragments(engine), {"period": period}))
    lines, days = [], 0
    provisioned: dict[str, Decimal] = {}
    for row in rows:
        days = max(days, int(row["days"] or 0))
        cost = Decimal(str(row["cost_usd"]))
        if row["tier"] == "provisioned":
            provisioned[str(row["model"])] = provisioned.get(str(row["model"]), Decimal(0)) + cost
            continue
        if row["usage_kind"] not in {"input", "output", "cache-read", "cache-write"}:
            continue
        lines.append(
            UsageLine(
                model=str(row["model"]),
                principal=row["principal"],
                usage_kind=str(row["usage_kind"]),
                tier=str(row["tier"]),
                scope=str(row["scope"]),
                tokens=int(row["tokens"] or 0),
                cost_usd=cost,
                cache_write_1h=bool(row["cache_write_1h"]),
            )
        )
    return lines, days, provisioned


def recommendations(
    engine: QueryEngine,
    period: str,
    catalog: PriceCatalog,
    tokens_served: dict[str, dict[str, int]] | None = None,
    callers: tuple[Sequence[CallerPrompts], int] | None = None,
) -> tuple[list[Recommendation], Decimal]:
    """The period's recommendations (monthly dollars) and the month-scaled spend they come from.

    ``tokens_served``: model -> kind -> tokens its provisioned throughput served in the
    period (metrics clock); without it provisioned utilisation cannot be judged.
    ``callers``: large-prompt usage per user and model from invocation logs and the days
    they cover; for every model the logs saw, prompt caching is advised per caller instead
    of per model (the same input dollars are never promised twice)."""
    lines, days, provisioned = usage_lines(engine, period)
    year, month = (int(x) for x in period.split("-"))
    factor = Decimal(calendar.monthrange(year, month)[1]) / Decimal(max(days, 1))

    def price(model: str, kind: str, scope: str) -> Decimal | None:
        found = catalog.price(model, kind, scope)  # type: ignore[arg-type]
        return None if found is None else found.usd_per_million

    uses = [
        ProvisionedUse(model, cost, (tokens_served or {})[model])
        for model, cost in sorted(provisioned.items())
        if model in (tokens_served or {})
    ]
    spend = (sum((line.cost_usd for line in lines), Decimal(0)) + sum(provisioned.values(), Decimal(0))) * factor
    items = recommend(lines, month_factor=factor, catalog_price=price, provisioned=uses)
    if callers is not None:
        prompts, logged_days = callers
        seen = {c.model for c in prompts}
        log_factor = Decimal(calendar.monthrange(year, month)[1]) / Decimal(max(logged_days, 1))
        items = [r for r in items if not (r.kind == "prompt-caching" and r.subject in seen)]
        items = sorted(
            [*items, *caching_by_caller(prompts, log_factor)], key=lambda r: (-r.saving_usd_month, r.kind, r.subject)
        )
    return items, spend


def contract_rows(items: Sequence[Recommendation]) -> list[dict[str, str]]:
    return [
        {
            "kind": r.kind,
            "subject": r.subject,
            "saving_usd_month": decimal_usd(r.saving_usd_month, Decimal("0.01")),
            "confidence": r.confidence,
            "evidence": r.evidence,
        }
        for r in items
    ]
