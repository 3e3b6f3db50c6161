"""Reconciliation against a query engine: billed token lines from CUR, estimate records in.

Engine-agnostic glue between ``queries/reports/billed_tokens.sql`` and the pure
``domain.reconcile``: the CLI (DuckDB over a local export), the demo and the daily CUR
reporter (Athena) share it. Prices: the *uncalibrated* estimate uses the catalog without
CUR prices (bundled + config overrides and discount); the calibration falls back, where an
account has no history, to the same catalog with the period's CUR layer — what the
estimator itself uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from bedrock_cost.billing.engine import QueryEngine
from bedrock_cost.billing.reporting import report_fragments
from bedrock_cost.billing.sql import render
from bedrock_cost.domain.pricing import PriceCatalog, PriceLayer
from bedrock_cost.domain.reconcile import (
    BilledLine,
    Clock,
    EstimatedSpend,
    EstimateLine,
    Reconciliation,
    billed_lines,
    estimate_lines,
    reconcile,
)
from bedrock_cost.money import decimal_usd

RECONCILE_COLUMNS = ("day", "model", "account", "region", "estimated_usd", "billed_usd", "drift_pct", "calibrated")
"""DESIGN §4.2; ``clock`` (``metrics`` or ``request-logs``) follows as an extra column."""


def billed_token_lines(engine: QueryEngine, period: str) -> list[BilledLine]:
    rows = engine.query(render("reports/billed_tokens", report_fragments(engine), {"period": period}))
    return billed_lines(rows)


def infer_account(records: Sequence[Mapping[str, Any]], billed: Sequence[BilledLine]) -> str | None:
    """The collector's account when records carry none: the one account billed for token
    usage in the records' regions, or ``None`` when that is ambiguous."""
    regions = {str(r.get("region")) for r in records}
    accounts = {b.account_id for b in billed if b.region in regions and b.line_class == "token"}
    return next(iter(accounts)) if len(accounts) == 1 else None


def reconcile_period(
    engine: QueryEngine,
    period: str,
    records: Sequence[Mapping[str, Any]],
    *,
    account_id: str,
    list_prices: PriceCatalog,
    cur_prices: PriceLayer | None,
    other_estimates: Iterable[EstimatedSpend] = (),
    billed: Sequence[BilledLine] | None = None,
) -> Reconciliation:
    """Reconcile estimate records (and other clocks' spend) with ``period``'s bill."""
    lines: list[EstimateLine] = [e for e in estimate_lines(records, account_id) if f"{e.day:%Y-%m}" == period]
    billed = billed if billed is not None else billed_token_lines(engine, period)
    fallback = replace(list_prices, cur=cur_prices) if cur_prices is not None else list_prices
    return reconcile(
        lines, billed, list_prices=list_prices, calibration_fallback=fallback, other_estimates=other_estimates
    )


def uncalibrated(catalog: PriceCatalog) -> PriceCatalog:
    """The catalog without its CUR layer: list prices, overrides and the configured discount."""
    return replace(catalog, cur=PriceLayer.empty("cur"))


def _usd(value: Decimal | None) -> str:
    return "" if value is None else decimal_usd(value)


def contract_rows(result: Reconciliation) -> list[dict[str, str]]:
    """One row per day, model, account, region, clock and calibration (DESIGN §4.2)."""
    return [
        {
            "day": row.day.isoformat(),
            "model": row.model,
            "account": row.account_id,
            "region": row.region,
            "estimated_usd": "unpriced" if row.estimated_usd is None else _usd(row.estimated_usd),
            "billed_usd": _usd(row.billed_usd),
            "drift_pct": "" if row.drift_pct is None else str(row.drift_pct),
            "calibrated": str(row.calibrated).lower(),
            "clock": row.clock,
        }
        for row in sorted(result.rows, key=lambda r: (r.day, r.model, r.account_id, r.region, r.clock, r.calibrated))
    ]


def summary_lines(result: Reconciliation) -> list[str]:
    """Per-model drift (uncalibrated and calibrated), the totals and what was not estimated."""
    if not result.days:
        return [*result.notes]
    days = f"{result.days[0]} to {result.days[-1]} ({len(result.days)} day(s))"
    lines = [f"Reconciled like for like, {days}: estimate (metrics clock) against billed token usage"]
    if any(r.clock == "request-logs" for r in result.rows):
        lines.append("  request-log clock: invocation logs priced per request (period CUR prices when calibrated)")
    for model in sorted(result.models, key=lambda m: (-m.billed_usd, m.model)):
        plain = "unpriced" if model.drift_pct is None else f"{model.drift_pct:+} %"
        tuned = "unpriced" if model.calibrated_drift_pct is None else f"{model.calibrated_drift_pct:+} %"
        lines.append(
            f"  {model.model:<24} billed ${decimal_usd(model.billed_usd, Decimal('0.01')):>10}  "
            f"uncalibrated {plain:>9}  calibrated {tuned:>8}  ({model.cause}: {model.explanation})"
        )
    clocks: list[Clock] = [c for c in ("metrics", "request-logs") if any(r.clock == c for r in result.rows)]
    for clock, calibrated in ((c, cal) for c in clocks for cal in (False, True)):
        estimated, billed = result.total(calibrated, clock)
        drift = result.total_drift_pct(calibrated, clock)
        label = ("calibrated" if calibrated else "uncalibrated") + ("" if clock == "metrics" else f" ({clock})")
        shown = "unpriced" if estimated is None else decimal_usd(estimated, Decimal("0.01"))
        lines.append(
            f"  total {label}: estimated ${shown} "
            f"vs billed ${decimal_usd(billed, Decimal('0.01'))}: "
            f"{'n/a' if drift is None else f'{drift:+} %'}"
        )
    apart = result.not_estimated_usd
    if apart:
        total = sum(apart.values(), Decimal(0))
        parts = ", ".join(f"{k} ${decimal_usd(v, Decimal('0.01'))}" for k, v in apart.items())
        lines.append(
            f"  not estimated (billed, no estimate can see it): ${decimal_usd(total, Decimal('0.01'))}: {parts}"
        )
    lines += [f"  note: {n}" for n in result.notes]
    return lines
