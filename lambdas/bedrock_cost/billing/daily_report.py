"""The daily billed-cost report: what the CUR reporter Lambda computes once a day.

Engine-agnostic (Athena in the account, DuckDB in the demo and tests): billed
month-to-date cost per model and per tag value, effective unit prices (the estimator's
calibration), credits apart, and the drift between estimate and bill for the newest
fully billed day. CUR lags 8-24 h and restates the current month, so drift is measured
two days back, never on today.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol

from bedrock_cost.billing.engine import QueryEngine
from bedrock_cost.billing.reporting import build_cost_report, report_fragments
from bedrock_cost.billing.sql import render
from bedrock_cost.billing.untagged_spend import UntaggedSpendReport, rank_untagged_spend
from bedrock_cost.config import TagPolicy
from bedrock_cost.domain.alerts import Alert
from bedrock_cost.domain.pricing import PriceCatalog, cur_layer, load_bundled_layer
from bedrock_cost.domain.recommendations import digest_alert, is_digest_day
from bedrock_cost.domain.reconcile import MAX_DRIFT_MODELS, Drift, drift
from bedrock_cost.money import decimal_usd

RECONCILE_LAG_DAYS = 2
DRIFT_MODEL_CAP = MAX_DRIFT_MODELS
"""Per-model ``EstimateDriftPct`` series at most (the costliest models; documented in the README)."""
MAX_TAG_VALUES_PER_KEY = 50
"""Metric cardinality cap: beyond it values fold into '(other)' (documented in the README)."""


class EstimateSource(Protocol):
    def estimated_usd(self, day: date) -> Decimal | None:
        """Total estimated cost of a UTC day, or None when the estimator has no data for it."""
        ...


class EstimateRecords(Protocol):
    """The estimator's hour records of one UTC day (S3 ``estimates/dt=<day>/``)."""

    account_id: str

    def records(self, day: date) -> list[dict[str, Any]]: ...


def like_for_like_drift(
    engine: QueryEngine, day: date, records: list[dict[str, Any]], account_id: str, unit_prices: list[dict[str, Any]]
) -> Drift | None:
    """Drift of one day compared like for like (same account, region, token kinds and tiers),
    total and per model, at catalog prices: what the alert explains (discount, tier...)."""
    from bedrock_cost.billing.reconciliation import reconcile_period

    period = f"{day:%Y-%m}"
    result = reconcile_period(
        engine,
        period,
        [r for r in records if str(r.get("usage_date")) == day.isoformat()],
        account_id=account_id,
        list_prices=PriceCatalog(bundled=load_bundled_layer()),
        cur_prices=cur_layer(unit_prices, period),
    )
    if day not in result.days:
        return None
    estimated, billed = result.total(calibrated=False)
    if estimated is None:
        return None
    return drift(day, estimated, billed, result.models)


@dataclass(frozen=True)
class DailyReport:
    period: str
    as_of: date
    total_usd: Decimal
    by_model: dict[str, Decimal]
    by_tag: dict[str, dict[str, Decimal]]
    adjustments: dict[str, Decimal]
    unit_prices: list[dict[str, Any]]
    drift: Drift | None
    untagged: UntaggedSpendReport | None = None
    notes: list[str] = field(default_factory=list)
    digest: Alert | None = None
    """The weekly ``recommendations`` digest, on ``domain.recommendations.DIGEST_WEEKDAY``."""

    def to_document(self) -> dict[str, Any]:
        """JSON-ready form (money as decimal strings) for the S3 report."""
        return {
            "clock": "billed",
            "period": self.period,
            "as_of": self.as_of.isoformat(),
            "total_usd": decimal_usd(self.total_usd),
            "by_model": {k: decimal_usd(v) for k, v in self.by_model.items()},
            "by_tag": {k: {v: decimal_usd(c) for v, c in values.items()} for k, values in self.by_tag.items()},
            "adjustments": {k: decimal_usd(v) for k, v in self.adjustments.items()},
            "unit_prices": [
                {k: (f"{v:f}" if isinstance(v, Decimal) else v) for k, v in row.items()} for row in self.unit_prices
            ],
            "drift": None
            if self.drift is None
            else {
                "day": self.drift.day.isoformat(),
                "estimated_usd": decimal_usd(self.drift.estimated_usd),
                "billed_usd": decimal_usd(self.drift.billed_usd),
                "pct": None if self.drift.pct is None else f"{self.drift.pct}",
                "models": [
                    {
                        "model": m.model,
                        "estimated_usd": None if m.estimated_usd is None else decimal_usd(m.estimated_usd),
                        "billed_usd": decimal_usd(m.billed_usd),
                        "pct": None if m.drift_pct is None else f"{m.drift_pct}",
                        "cause": m.cause,
                    }
                    for m in self.drift.models
                ],
            },
            "untagged": None
            if self.untagged is None
            else {
                "untagged_usd": decimal_usd(self.untagged.untagged_cost_usd),
                "non_compliant_usd": decimal_usd(self.untagged.non_compliant_cost_usd),
                "top_untagged_resources": [
                    {"resource": i.name, "cost_usd": decimal_usd(i.cost_usd), "missing": list(i.reasons)}
                    for i in self.untagged.untagged_by_resource[: self.untagged.top_n]
                ],
                "top_untagged_principals": [
                    {"principal": i.name, "cost_usd": decimal_usd(i.cost_usd), "missing": list(i.reasons)}
                    for i in self.untagged.untagged_by_principal[: self.untagged.top_n]
                ],
            },
            "notes": self.notes,
        }


def cap_values(values: dict[str, Decimal], limit: int = MAX_TAG_VALUES_PER_KEY) -> dict[str, Decimal]:
    """Keep the ``limit - 1`` biggest values and fold the rest into '(other)', so metric
    dimensions stay bounded whatever people put in their tags."""
    if len(values) <= limit:
        return dict(values)
    ranked = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))
    kept = dict(ranked[: limit - 1])
    kept["(other)"] = sum((v for _, v in ranked[limit - 1 :]), Decimal(0))
    return kept


def billed_on(engine: QueryEngine, day: date) -> Decimal:
    rows = engine.query(
        render("reports/billed_day", report_fragments(engine), {"period": f"{day:%Y-%m}", "day": day.isoformat()})
    )
    value = rows[0]["cost_usd"] if rows else None
    return Decimal(0) if value is None else Decimal(str(value))


def build_daily_report(
    engine: QueryEngine,
    today: date,
    tag_keys: list[str],
    estimates: EstimateSource | None,
    *,
    tag_policy: TagPolicy | None = None,
    top_n: int = 10,
    estimate_records: EstimateRecords | None = None,
) -> DailyReport:
    """Month-to-date billed report for ``today``'s billing period, with drift."""
    period = f"{today:%Y-%m}"
    notes: list[str] = []
    by_model = build_cost_report(engine, period, "model")
    by_tag = {
        key: cap_values({r.group: r.cost_usd for r in build_cost_report(engine, period, f"tag:{key}").rows})
        for key in tag_keys
    }
    unit_prices = engine.query(render("reports/unit_prices", report_fragments(engine), {"period": period}))
    reconciled: Drift | None = None
    day = today - timedelta(days=RECONCILE_LAG_DAYS)
    records = estimate_records.records(day) if estimate_records is not None else []
    if records and estimate_records is not None:
        reconciled = like_for_like_drift(engine, day, records, estimate_records.account_id, unit_prices)
        if reconciled is None:
            notes.append(f"estimate records of {day.isoformat()} have no billed counterpart yet: drift not computed")
    elif estimates is None:
        notes.append("no estimate source: drift not computed")
    else:
        estimated = estimates.estimated_usd(day)
        if estimated is None:
            notes.append(f"no estimate recorded for {day.isoformat()}: drift not computed")
        else:
            reconciled = drift(day, estimated, billed_on(engine, day))
    digest = None
    if is_digest_day(today):
        from bedrock_cost.billing.advice import recommendations

        advice, spend = recommendations(engine, period, PriceCatalog(bundled=load_bundled_layer()))
        digest = digest_alert(advice, spend, period, today)
    return DailyReport(
        digest=digest,
        period=period,
        as_of=today,
        total_usd=by_model.total_usd,
        by_model={r.group: r.cost_usd for r in by_model.rows},
        by_tag=by_tag,
        adjustments=dict(by_model.adjustments),
        unit_prices=unit_prices,
        drift=reconciled,
        untagged=rank_untagged_spend(engine, period, tag_policy, top_n) if tag_policy is not None else None,
        notes=notes,
    )
