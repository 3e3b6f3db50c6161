"""Reconciliation: the estimate against the bill, like for like.

The estimate (CloudWatch tokens x catalog price, or per-request log costs) and the billed
cost (CUR) are two clocks of the same spend, but they do not see the same things: the
metrics clock sees one collector's accounts and regions and only on-demand-style token
usage; the bill also carries provisioned throughput, AgentCore, images, the mantle
endpoint, batch jobs and every account without a collector. Comparing the estimate with
the whole bill is biased even with perfect prices, so ``reconcile`` compares only what
both clocks see — the same days, accounts, regions, token kinds and tiers — per day,
model, account and region, and reports the rest apart, in dollars, as *not estimated*.

Two estimated figures per row: *uncalibrated* (tokens x the catalog's list prices) and
*calibrated* (tokens x the effective unit price the same account and region paid in the
days before, as CUR shows it). The first shows a negotiated discount, a regional premium
or a long-context tier as drift; the second should sit within about 1 % when prices are
stable: the calibration proves itself out of sample, never on the day it is judged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Literal, cast

from bedrock_cost.domain.alerts import Alert
from bedrock_cost.domain.drift_causes import Cause, classify_drift
from bedrock_cost.domain.pricing import ON_DEMAND, TOKEN_KINDS, PriceCatalog, Scope, UsageKind, cost_usd

HUNDRED = Decimal(100)
ONE_MILLION = Decimal(1_000_000)
PCT = Decimal("0.01")

COMPARABLE_TIERS = frozenset({"on-demand", "long-context", "flex", "priority", "latency-optimized"})
"""Billed token tiers whose tokens CloudWatch counts in ``InputTokenCount`` and friends.
Batch jobs and provisioned throughput are not in the per-minute metrics."""
CALIBRATION_DAYS = 7
"""Trailing days (before the day judged) whose effective prices calibrate that day."""
MIN_CALIBRATION_TOKENS = 10_000
MAX_DRIFT_MODELS = 10
"""Per-model ``EstimateDriftPct`` series published per day at most (each series costs
$0.30 a month): the models with the largest billed cost keep their own, the rest only
count in the total."""

Clock = Literal["metrics", "request-logs"]


@dataclass(frozen=True)
class EstimateLine:
    """Estimated tokens of one day, model, account, region, kind, scope and tier (metrics clock).

    ``cost_usd`` is what the estimator priced live (``None`` when unpriced)."""

    day: date
    model: str
    account_id: str
    region: str
    usage_kind: UsageKind
    scope: Scope
    tokens: int
    cost_usd: Decimal | None
    tier: str = ON_DEMAND
    model_known: bool = True


@dataclass(frozen=True)
class EstimatedSpend:
    """Estimated dollars of one day, model, account and region from any source.

    The interface of the request-log clock (and of any other estimate): it carries no
    tokens, so it is compared as given and never re-priced."""

    day: date
    model: str
    account_id: str
    region: str
    cost_usd: Decimal | None
    """``None`` when some request of the key could not be priced (unknown model, unresolved profile)."""
    calibrated: bool
    clock: Clock = "request-logs"


@dataclass(frozen=True)
class BilledLine:
    """One row of ``queries/reports/billed_tokens.sql``."""

    day: date
    model: str
    account_id: str
    region: str
    usage_kind: str
    tier: str
    scope: str
    line_class: str
    tokens: int
    cost_usd: Decimal

    @property
    def comparable(self) -> bool:
        return self.line_class == "token" and self.tier in COMPARABLE_TIERS and self.usage_kind in TOKEN_KINDS


@dataclass(frozen=True)
class ReconcileRow:
    day: date
    model: str
    account_id: str
    region: str
    clock: Clock
    calibrated: bool
    estimated_usd: Decimal | None
    """``None`` when the estimate could not price the model (never a misleading 0)."""
    billed_usd: Decimal

    @property
    def drift_pct(self) -> Decimal | None:
        return pct(self.estimated_usd, self.billed_usd)


@dataclass(frozen=True)
class NotEstimated:
    """Billed dollars the estimate cannot see, by reason (``provisioned``, ``no collector``...)."""

    reason: str
    model: str
    account_id: str
    region: str
    billed_usd: Decimal


@dataclass(frozen=True)
class ModelDrift:
    model: str
    estimated_usd: Decimal | None
    calibrated_usd: Decimal | None
    billed_usd: Decimal
    cause: Cause
    explanation: str

    @property
    def drift_pct(self) -> Decimal | None:
        return pct(self.estimated_usd, self.billed_usd)

    @property
    def calibrated_drift_pct(self) -> Decimal | None:
        return pct(self.calibrated_usd, self.billed_usd)


@dataclass
class Reconciliation:
    days: list[date]
    rows: list[ReconcileRow] = field(default_factory=list)
    not_estimated: list[NotEstimated] = field(default_factory=list)
    models: list[ModelDrift] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def total(self, calibrated: bool, clock: Clock = "metrics") -> tuple[Decimal | None, Decimal]:
        rows = [r for r in self.rows if r.calibrated == calibrated and r.clock == clock]
        billed = sum((r.billed_usd for r in rows), Decimal(0))
        priced = [r.estimated_usd for r in rows if r.estimated_usd is not None]
        return (sum(priced, Decimal(0)) if priced else None), billed

    def total_drift_pct(self, calibrated: bool, clock: Clock = "metrics") -> Decimal | None:
        return pct(*self.total(calibrated, clock))

    @property
    def not_estimated_usd(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = defaultdict(Decimal)
        for item in self.not_estimated:
            out[item.reason] += item.billed_usd
        return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))

    def drift_models(self, cap: int = MAX_DRIFT_MODELS) -> list[ModelDrift]:
        """The models that get their own ``EstimateDriftPct`` series: the ``cap`` costliest."""
        ranked = sorted(self.models, key=lambda m: (-m.billed_usd, m.model))
        return [m for m in ranked if m.drift_pct is not None][:cap]


def pct(estimated: Decimal | None, billed: Decimal) -> Decimal | None:
    """(estimated - billed) / billed x 100 rounded to 0.01; None when unpriced or nothing billed."""
    if estimated is None or billed == 0:
        return None
    return ((estimated - billed) / billed * HUNDRED).quantize(PCT, ROUND_HALF_EVEN)


# --- inputs -----------------------------------------------------------------------------


def estimate_lines(records: Iterable[Mapping[str, Any]], account_id: str) -> list[EstimateLine]:
    """``EstimateLine`` s from the estimator's S3 hour records (``domain.estimate.hour_records``).

    Records of one collector carry no account id (the collector runs in one account):
    ``account_id`` says which it is; a record's own ``account_id`` wins when present."""
    sums: dict[tuple[Any, ...], list[Any]] = {}
    for record in records:
        kind = record["usage_kind"]
        if kind not in TOKEN_KINDS:
            raise ValueError(f"estimate record has unknown usage_kind {kind!r}")
        key = (
            date.fromisoformat(str(record["usage_date"])),
            str(record["model"]),
            str(record.get("account_id") or account_id),
            str(record["region"]),
            kind,
            str(record.get("scope") or "regional"),
            str(record.get("tier") or ON_DEMAND),
            bool(record.get("model_known", True)),
        )
        entry = sums.setdefault(key, [0, None])
        entry[0] += int(record["tokens"])
        if record.get("priced") and record.get("cost_usd") is not None:
            entry[1] = (entry[1] or Decimal(0)) + Decimal(str(record["cost_usd"]))
    return [
        EstimateLine(
            day=k[0],
            model=k[1],
            account_id=k[2],
            region=k[3],
            usage_kind=cast(UsageKind, k[4]),
            scope=cast(Scope, k[5]),
            tier=k[6],
            model_known=k[7],
            tokens=v[0],
            cost_usd=v[1],
        )
        for k, v in sorted(sums.items())
    ]


def billed_lines(rows: Iterable[Mapping[str, Any]]) -> list[BilledLine]:
    """``BilledLine`` s from the rows of ``reports/billed_tokens``."""
    out = []
    for row in rows:
        day = row["usage_date"]
        out.append(
            BilledLine(
                day=day if isinstance(day, date) else date.fromisoformat(str(day)[:10]),
                model=str(row["model"]),
                account_id=str(row["account_id"]),
                region=str(row["region"]),
                usage_kind=str(row["usage_kind"]),
                tier=str(row["tier"]),
                scope=str(row["scope"]),
                line_class=str(row["line_class"]),
                tokens=int(row["tokens"] or 0),
                cost_usd=Decimal(str(row["cost_usd"])),
            )
        )
    return out


# --- calibration ------------------------------------------------------------------------

PriceKey4 = tuple[str, str, str, str, str]
"""(account, region, model, usage kind, scope)"""


class Calibration:
    """Effective unit prices per account, region, model, kind and scope, by day.

    ``price(line)`` is what the line's account and region paid per 1M comparable tokens over
    the ``CALIBRATION_DAYS`` days before ``day`` — what a collector calibrated that morning
    would have used. Falls back to ``fallback`` (the period-wide CUR layer and the list
    prices of the catalog) when the account has no history for the key."""

    def __init__(self, billed: Sequence[BilledLine], fallback: PriceCatalog) -> None:
        self._daily: dict[PriceKey4, dict[date, tuple[int, Decimal]]] = defaultdict(dict)
        for line in billed:
            if not line.comparable:
                continue
            key = (line.account_id, line.region, line.model, line.usage_kind, line.scope)
            tokens, cost = self._daily[key].get(line.day, (0, Decimal(0)))
            self._daily[key][line.day] = (tokens + line.tokens, cost + line.cost_usd)
        self._fallback = fallback

    def price(self, line: EstimateLine) -> Decimal | None:
        day, model, kind, scope = line.day, line.model, line.usage_kind, line.scope
        history = self._daily.get((line.account_id, line.region, model, kind, scope), {})
        start = day - timedelta(days=CALIBRATION_DAYS)
        tokens = sum(t for d, (t, _) in history.items() if start <= d < day)
        if tokens >= MIN_CALIBRATION_TOKENS:
            cost = sum((c for d, (_, c) in history.items() if start <= d < day), Decimal(0))
            return cost * ONE_MILLION / tokens
        fallback = self._fallback.price(model, kind, scope)
        return None if fallback is None else fallback.usd_per_million


# --- the reconciliation -------------------------------------------------------------------


def _reprice(line: EstimateLine, price: Decimal | None) -> Decimal | None:
    return None if price is None else cost_usd(line.tokens, price)


def reconcile(
    estimates: Sequence[EstimateLine],
    billed: Sequence[BilledLine],
    *,
    list_prices: PriceCatalog,
    calibration_fallback: PriceCatalog | None = None,
    other_estimates: Iterable[EstimatedSpend] = (),
    days: Iterable[date] | None = None,
) -> Reconciliation:
    """Compare estimate and bill on the days both clocks cover (or ``days``).

    ``list_prices``: the catalog without CUR prices (uncalibrated); ``calibration_fallback``:
    the catalog the estimator calibrates with (list prices + period CUR layer), used where an
    account has no price history. Collectors are the (account, region) pairs the estimate
    has lines for; billed dollars elsewhere are *not estimated: no collector*."""
    extra = list(other_estimates)
    estimated_days = {line.day for line in estimates} | {s.day for s in extra}
    billed_days = {line.day for line in billed}
    overlap = sorted(set(days) if days is not None else estimated_days & billed_days)
    result = Reconciliation(days=overlap)
    if not overlap:
        result.notes.append("no day is covered by both the estimate and the bill")
        return result
    in_window = set(overlap)
    collectors = {(e.account_id, e.region) for e in estimates} | {(s.account_id, s.region) for s in extra}
    calibration = Calibration(billed, calibration_fallback or list_prices)

    billed_by: dict[tuple[date, str, str, str], Decimal] = defaultdict(Decimal)
    billed_by_model: dict[str, list[BilledLine]] = defaultdict(list)
    apart: dict[tuple[str, str, str, str], Decimal] = defaultdict(Decimal)
    for line in billed:
        if line.day not in in_window:
            continue
        if (line.account_id, line.region) not in collectors:
            reason = "no collector"
        elif line.line_class != "token":
            reason = line.line_class
        elif not line.comparable:
            reason = f"{line.tier} tier"
        else:
            billed_by[(line.day, line.model, line.account_id, line.region)] += line.cost_usd
            billed_by_model[line.model].append(line)
            continue
        apart[(reason, line.model, line.account_id, line.region)] += line.cost_usd
    result.not_estimated = [NotEstimated(r, m, a, g, usd) for (r, m, a, g), usd in sorted(apart.items()) if usd]

    plain: dict[tuple[date, str, str, str], Decimal | None] = {}
    tuned: dict[tuple[date, str, str, str], Decimal | None] = {}
    unpriced_models: set[str] = set()
    for item in estimates:
        if item.day not in in_window:
            continue
        key = (item.day, item.model, item.account_id, item.region)
        list_cost = _reprice(item, _list_price(list_prices, item))
        cal_cost = _reprice(item, calibration.price(item))
        if list_cost is None:
            unpriced_models.add(item.model)
        plain[key] = _add(plain.get(key, Decimal(0)), list_cost)
        tuned[key] = _add(tuned.get(key, Decimal(0)), cal_cost)

    # Billed token usage of a metrics collector's account-region is compared even for a
    # model the estimate never saw (its estimate is then 0: a model the collector missed).
    # Only on the days the metrics clock covers: another clock's extra days are not a miss.
    metric_collectors = {(e.account_id, e.region) for e in estimates}
    metric_days = {e.day for e in estimates}
    keys = sorted(set(plain) | {k for k in billed_by if (k[2], k[3]) in metric_collectors and k[0] in metric_days})
    for key in keys:
        billed_usd = billed_by.get(key, Decimal(0))
        for calibrated, figures in ((False, plain), (True, tuned)):
            result.rows.append(ReconcileRow(*key, "metrics", calibrated, figures.get(key, Decimal(0)), billed_usd))
    for spend in sorted(extra, key=lambda s: (s.day, s.model, s.account_id, s.region)):
        if spend.day in in_window:
            key = (spend.day, spend.model, spend.account_id, spend.region)
            result.rows.append(
                ReconcileRow(*key, spend.clock, spend.calibrated, spend.cost_usd, billed_by.get(key, Decimal(0)))
            )
    result.models = _per_model(result.rows, billed_by_model, list_prices, unpriced_models)
    return result


def _list_price(catalog: PriceCatalog, line: EstimateLine) -> Decimal | None:
    price = catalog.price(line.model, line.usage_kind, line.scope, line.tier)
    return None if price is None else price.usd_per_million


def _add(total: Decimal | None, value: Decimal | None) -> Decimal | None:
    return None if total is None or value is None else total + value


def _per_model(
    rows: Sequence[ReconcileRow],
    billed: Mapping[str, list[BilledLine]],
    list_prices: PriceCatalog,
    unpriced: set[str],
) -> list[ModelDrift]:
    models = sorted({r.model for r in rows if r.clock == "metrics"})
    out = []
    for model in models:
        mine = [r for r in rows if r.model == model and r.clock == "metrics"]
        billed_usd = sum((r.billed_usd for r in mine if not r.calibrated), Decimal(0))
        plain = _sum_or_none([r.estimated_usd for r in mine if not r.calibrated])
        tuned = _sum_or_none([r.estimated_usd for r in mine if r.calibrated])
        cause, why = classify_drift(model, billed.get(model, []), list_prices, unpriced=model in unpriced)
        out.append(ModelDrift(model, plain, tuned, billed_usd, cause, why))
    return out


def _sum_or_none(values: Sequence[Decimal | None]) -> Decimal | None:
    if any(v is None for v in values):
        return None
    return sum((v for v in values if v is not None), Decimal(0))


# --- the daily figure and its alert -----------------------------------------------------


@dataclass(frozen=True)
class Drift:
    day: date
    estimated_usd: Decimal
    billed_usd: Decimal
    pct: Decimal | None
    """(estimated - billed) / billed x 100, rounded to 0.01; None when nothing was billed."""
    models: tuple[ModelDrift, ...] = ()
    """Per-model drift (like for like) when the estimate's records were available."""


def drift(day: date, estimated_usd: Decimal, billed_usd: Decimal, models: Sequence[ModelDrift] = ()) -> Drift:
    """Signed drift of the estimate against the bill for one day."""
    return Drift(day, estimated_usd, billed_usd, pct(estimated_usd, billed_usd), tuple(models))


def drift_alert(result: Drift, threshold_pct: Decimal) -> Alert | None:
    """An ``estimate_drift`` alert when |drift| exceeds the threshold (once per day), naming the
    drifting models and the likely cause of each."""
    if result.pct is None or abs(result.pct) <= threshold_pct:
        return None
    direction = "over" if result.pct > 0 else "under"
    drifting = [m for m in result.models if m.drift_pct is not None and abs(m.drift_pct) > threshold_pct]
    drifting += [m for m in result.models if m.drift_pct is None and m.cause == "unpriced model"]
    figures = {
        "estimated_usd": f"{result.estimated_usd.quantize(PCT)}",
        "billed_usd": f"{result.billed_usd.quantize(PCT)}",
        "drift_pct": f"{result.pct}",
        "threshold_pct": f"{threshold_pct}",
    }
    if drifting:
        figures["drifting_models"] = ", ".join(m.model for m in drifting)
    details = [
        f"{m.model}: {'unpriced' if m.drift_pct is None else f'{m.drift_pct:+} %'} — likely {m.cause}: {m.explanation}"
        for m in drifting
    ] or ["The estimate prices CloudWatch token counts with the catalog; CUR is the bill."]
    details.append(
        "Compared like for like (same accounts, regions, token kinds and tiers); the estimator "
        "calibrates from CUR unit prices after each daily report."
    )
    return Alert(
        kind="estimate_drift",
        dedupe_key=f"estimate_drift:{result.day.isoformat()}",
        title=f"Estimate {direction}-shoots the bill by {abs(result.pct)}% on {result.day.isoformat()}"
        + (f" ({', '.join(m.model for m in drifting[:3])})" if drifting else ""),
        severity="warning",
        period=result.day.isoformat(),
        figures=figures,
        details=details,
    )
