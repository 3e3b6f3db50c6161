"""Report sections on the three clocks: reconciliation, forecast, recommendations.

Plain HTML fragments (escaped, no external resources) for ``render_page``: the figures are
the same objects the ``reconcile``, ``forecast`` and ``recommend`` commands print."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from html import escape

from bedrock_cost.billing.engine import QueryEngine
from bedrock_cost.config import Config
from bedrock_cost.domain.budget_forecast import BudgetForecast
from bedrock_cost.domain.recommendations import Recommendation
from bedrock_cost.domain.reconcile import Reconciliation
from bedrock_cost.money import decimal_usd

CENT = Decimal("0.01")


def _money(value: Decimal | None) -> str:
    return "unpriced" if value is None else f"${decimal_usd(value, CENT)}"


def _pct(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{value:+} %"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def reconciliation_section(result: Reconciliation) -> str:
    if not result.days:
        return ""
    rows = [
        [m.model, _money(m.estimated_usd), _money(m.calibrated_usd), _money(m.billed_usd), _pct(m.drift_pct),
         _pct(m.calibrated_drift_pct), f"{m.cause}: {m.explanation}"]
        for m in sorted(result.models, key=lambda m: (-m.billed_usd, m.model))
    ]  # fmt: skip
    totals = []
    for calibrated in (False, True):
        estimated, billed = result.total(calibrated)
        label = "calibrated" if calibrated else "uncalibrated"
        totals.append(
            f"{label} {_money(estimated)} vs billed {_money(billed)} ({_pct(result.total_drift_pct(calibrated))})"
        )
    apart = result.not_estimated_usd
    apart_text = ", ".join(f"{escape(k)} {_money(v)}" for k, v in apart.items()) or "nothing"
    return (
        '<section id="reconciliation"><h2>Reconciliation: estimate against bill, like for like</h2>'
        f'<p class="note">{escape(str(result.days[0]))} to {escape(str(result.days[-1]))}: the estimate (metrics '
        "clock) against billed token usage of the same accounts, regions, token kinds and tiers. Uncalibrated = "
        "catalog prices; calibrated = the effective prices the account paid in the days before.</p>"
        + _table(["model", "estimated", "calibrated", "billed", "drift", "calibrated drift", "likely cause"], rows)
        + f"<p>Total: {escape('; '.join(totals))}.</p>"
        f"<p>Not estimated (billed, no estimate can see it): {apart_text}.</p></section>"
    )


def forecast_section(items: Sequence[BudgetForecast]) -> str:
    if not items:
        return ""
    shown = [f for f in items if f.budget_usd is not None] or list(items[:1])
    rows = [
        [f.budget, _money(f.budget_usd) if f.budget_usd is not None else "", _money(f.actual_usd),
         _money(f.projected_usd), "" if f.crosses_on is None else f.crosses_on.isoformat(), f.status]
        for f in shown
    ]  # fmt: skip
    return (
        '<section id="forecast"><h2>Forecast to month end</h2>'
        f'<p class="note">Billed spend projected from the complete days of {escape(items[0].period)} '
        f"({escape(items[0].method)}); crosses on = the day cumulative spend reaches the budget.</p>"
        + _table(["budget", "budget USD", "actual", "projected", "crosses on", "status"], rows)
        + "</section>"
    )


def recommendations_section(items: Sequence[Recommendation], spend_usd: Decimal) -> str:
    if not items:
        return ""
    total = sum((r.saving_usd_month for r in items), Decimal(0))
    rows = [[r.kind, r.subject, _money(r.saving_usd_month), r.confidence, r.evidence] for r in items]
    return (
        '<section id="recommendations"><h2>Recommendations</h2>'
        f'<p class="note">{len(items)} saving(s) worth {_money(total)} a month together, against '
        f"{_money(spend_usd)} of monthly usage; each from the effective prices in this bill.</p>"
        + _table(["kind", "subject", "saving / month", "confidence", "evidence"], rows)
        + "</section>"
    )


def cur_sections(engine: QueryEngine, period: str, config: Config | None, as_of: date | None = None) -> list[str]:
    """Forecast and recommendation sections from CUR alone (what ``report --format html`` adds)."""
    from bedrock_cost.billing.advice import recommendations
    from bedrock_cost.billing.forecasting import forecasts
    from bedrock_cost.domain.pricing import PriceCatalog, load_bundled_layer

    tag_keys = list(config.report_tag_keys) if config else []
    items = forecasts(engine, period, tag_keys, config.budgets if config else None, as_of)
    advice, spend = recommendations(engine, period, PriceCatalog(bundled=load_bundled_layer()))
    return [forecast_section(items), recommendations_section(advice, spend)]
