"""Price one request (or a group of identical-shape requests) with the estimator's catalog.

There is one price catalog (:class:`~bedrock_cost.domain.pricing.PriceCatalog`: overrides >
CUR-observed > Price List refresh > bundled); this module only decides *which key* of it a
request's tokens are billed at:

* four token kinds, at the scope the model id resolved to (``global.`` profiles and
  application profiles copied from one are ``global``; the rest ``regional``);
* **1-hour cache writes** cost 2x the input price (reference §5: 5-minute writes are the
  catalog's ``cache-write`` key, 1.25x input). A catalog entry under tier
  ``<tier>+cache-1h`` (an override or a CUR price) takes precedence over the multiplier;
* **long context** (input side over 200K tokens): a catalog price under tier
  ``long-context`` wins when present; otherwise the documented multipliers for the models
  that bill it (Sonnet 4 / 4.5: 2x input-side kinds, 1.5x output); other models bill
  their normal price;
* **batch** requests use the catalog's ``batch`` tier.

A kind with tokens and no price makes the whole request unpriced (its cost is ``None``,
never 0): a partial price would understate and look complete.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from bedrock_cost.domain.invocation_log import TokenUsage
from bedrock_cost.domain.model_resolution import ResolvedModel
from bedrock_cost.domain.pricing import PriceCatalog, UsageKind, cost_usd, money_sum

ONE_HOUR_WRITE_VS_INPUT: Final = Decimal(2)
LONG_CONTEXT_MULTIPLIERS: Final[dict[str, tuple[Decimal, Decimal]]] = {
    "Claude Sonnet 4": (Decimal(2), Decimal("1.5")),
    "Claude Sonnet 4.5": (Decimal(2), Decimal("1.5")),
}
"""model -> (input-side multiplier, output multiplier), reference §5."""
MICRO: Final = Decimal("0.000001")


def to_micro_usd(value: Decimal) -> int:
    """Integer micro-dollars, half-even (the unit of DynamoDB totals and oracle checks)."""
    return int((value / MICRO).to_integral_value())


@dataclass(frozen=True, slots=True)
class RequestCost:
    cost: Decimal | None
    """Exact USD, or ``None`` when some token kind has no price."""
    missing: tuple[str, ...] = ()
    """Token kinds that had tokens and no price."""

    @property
    def priced(self) -> bool:
        return self.cost is not None


def _unit(catalog: PriceCatalog, resolved: ResolvedModel, kind: UsageKind, tier: str) -> Decimal | None:
    price = catalog.price(resolved.model, kind, resolved.scope, tier)
    return price.usd_per_million if price is not None else None


def price_usage(
    usage: TokenUsage,
    resolved: ResolvedModel,
    catalog: PriceCatalog,
    *,
    tier: str,
    long_context: bool,
) -> RequestCost:
    """Exact cost of ``usage`` (summed over any number of requests of the same shape)."""
    lines: list[tuple[UsageKind | str, int, Decimal | None]] = []
    base: dict[UsageKind, Decimal | None] = {}
    multipliers = LONG_CONTEXT_MULTIPLIERS.get(resolved.model) if long_context else None
    for kind in ("input", "output", "cache-read", "cache-write"):
        unit = _unit(catalog, resolved, kind, "long-context") if long_context else None
        if unit is None:
            unit = _unit(catalog, resolved, kind, tier)
            if unit is not None and multipliers is not None:
                unit = unit * (multipliers[1] if kind == "output" else multipliers[0])
        base[kind] = unit
    five_minute = usage.cache_write - usage.cache_write_1h
    lines.append(("input", usage.input, base["input"]))
    lines.append(("output", usage.output, base["output"]))
    lines.append(("cache-read", usage.cache_read, base["cache-read"]))
    lines.append(("cache-write", five_minute, base["cache-write"]))
    if usage.cache_write_1h:
        one_hour = _unit(catalog, resolved, "cache-write", f"{tier}+cache-1h")
        if one_hour is None and base["input"] is not None:
            one_hour = base["input"] * ONE_HOUR_WRITE_VS_INPUT
        lines.append(("cache-write-1h", usage.cache_write_1h, one_hour))
    missing = tuple(str(kind) for kind, tokens, unit in lines if tokens > 0 and unit is None)
    if missing:
        return RequestCost(cost=None, missing=missing)
    return RequestCost(
        cost=money_sum(cost_usd(tokens, unit) for _, tokens, unit in lines if unit is not None and tokens)
    )
