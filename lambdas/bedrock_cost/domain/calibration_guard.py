"""Refuse to calibrate the estimator from a CUR unit price far from the catalog's.

The estimator prefers the effective unit price observed in CUR (``bedrock_unit_prices``)
to list prices: that is what a customer with private pricing pays. But a CUR price is only
as good as the unit normalisation behind it: a Marketplace row read as single tokens
instead of millions puts Claude Sonnet input at $2,750,000 per 1M tokens, and calibrating
from that would multiply every estimate by a million. Real discounts and surcharges move a
price by tens of percent, never by 10x, so a CUR price more than ``GUARD_FACTOR`` times
above or below the catalog's price for the same model and kind is refused: the estimator
keeps the catalog's price, and the refusal is logged and shown in the report.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final

GUARD_FACTOR: Final = Decimal(10)


@dataclass(frozen=True)
class RefusedPrice:
    """One CUR unit price the guard kept out of the calibration, and why."""

    model: str
    usage_kind: str
    scope: str
    tier: str
    cur_usd_per_million: Decimal
    catalog_usd_per_million: Decimal

    @property
    def ratio(self) -> Decimal:
        return self.cur_usd_per_million / self.catalog_usd_per_million

    def message(self) -> str:
        return (
            f"CUR unit price of {self.model} {self.usage_kind} ({self.scope}, {self.tier}) is "
            f"${self.cur_usd_per_million:f} per 1M tokens, {self.ratio:.3g}x the catalog's "
            f"${self.catalog_usd_per_million:f}: not used to calibrate the estimator (more than "
            f"{GUARD_FACTOR}x away; check the export's units)"
        )


def _decimal(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def catalog_price(
    catalog: Mapping[tuple[str, str, str, str], Decimal], model: str, kind: str, scope: str, tier: str
) -> Decimal | None:
    """The catalog's price for the same key, else for the same model and kind on any scope
    and tier (the guard judges orders of magnitude, which scope and tier do not change)."""
    exact = catalog.get((model, kind, scope, tier))
    if exact is not None:
        return exact
    near = [price for (m, k, _, _), price in catalog.items() if m == model and k == kind]
    return min(near) if near else None


def guard_unit_prices(
    rows: Iterable[Mapping[str, Any]], catalog: Mapping[tuple[str, str, str, str], Decimal]
) -> tuple[list[Mapping[str, Any]], list[RefusedPrice]]:
    """Split ``bedrock_unit_prices`` rows into those fit to calibrate from and those refused.

    A row without a catalog price to compare with is kept (nothing to judge it by); so is a
    row without a price (the caller skips it anyway).
    """
    kept: list[Mapping[str, Any]] = []
    refused: list[RefusedPrice] = []
    for row in rows:
        model, kind = str(row.get("model") or ""), str(row.get("usage_kind") or "")
        scope, tier = str(row.get("scope") or ""), str(row.get("tier") or "")
        price = _decimal(row.get("usd_per_million"))
        reference = catalog_price(catalog, model, kind, scope, tier)
        if price is None or reference is None or reference <= 0:
            kept.append(row)
            continue
        if price > reference * GUARD_FACTOR or price * GUARD_FACTOR < reference:
            refused.append(RefusedPrice(model, kind, scope, tier, price, reference))
        else:
            kept.append(row)
    return kept, refused
