"""Reconciliation: how far the near-real-time estimate is from the bill.

The estimate (CloudWatch tokens x catalog price) and the billed cost (CUR) are two clocks
of the same spend. Their drift over a fully billed day says whether the catalog still
matches what the customer pays: a large drift means private pricing, a missing model
or a pricing change, and is alerted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from bedrock_cost.domain.alerts import Alert

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Drift:
    day: date
    estimated_usd: Decimal
    billed_usd: Decimal
    pct: Decimal | None
    """(estimated - billed) / billed x 100, rounded to 0.01; None when nothing was billed."""


def drift(day: date, estimated_usd: Decimal, billed_usd: Decimal) -> Drift:
    """Signed drift of the estimate against the bill for one day."""
    if billed_usd == 0:
        return Drift(day, estimated_usd, billed_usd, None)
    pct = ((estimated_usd - billed_usd) / billed_usd * HUNDRED).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    return Drift(day, estimated_usd, billed_usd, pct)


def drift_alert(result: Drift, threshold_pct: Decimal) -> Alert | None:
    """An ``estimate_drift`` alert when |drift| exceeds the threshold (once per day)."""
    if result.pct is None or abs(result.pct) <= threshold_pct:
        return None
    direction = "over" if result.pct > 0 else "under"
    return Alert(
        kind="estimate_drift",
        dedupe_key=f"estimate_drift:{result.day.isoformat()}",
        title=f"Estimate {direction}-shoots the bill by {abs(result.pct)}% on {result.day.isoformat()}",
        severity="warning",
        period=result.day.isoformat(),
        figures={
            "estimated_usd": f"{result.estimated_usd.quantize(Decimal('0.01'))}",
            "billed_usd": f"{result.billed_usd.quantize(Decimal('0.01'))}",
            "drift_pct": f"{result.pct}",
            "threshold_pct": f"{threshold_pct}",
        },
        details=[
            "The estimate prices CloudWatch token counts with the catalog; CUR is the bill.",
            "A lasting drift usually means private pricing or a model missing from the catalog: "
            "the estimator calibrates from CUR unit prices after each daily report.",
        ],
    )
