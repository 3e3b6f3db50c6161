"""Why an estimate drifts from the bill: a pure classifier over effective vs catalog prices.

Used by ``domain.reconcile`` per model; the drift alert and ``bedrock-cost reconcile`` print
its one-line explanation."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, cast

from bedrock_cost.domain.pricing import ON_DEMAND, TOKEN_KINDS, PriceCatalog, Scope, cost_usd

if TYPE_CHECKING:
    from bedrock_cost.domain.reconcile import BilledLine

HUNDRED = Decimal(100)
Cause = Literal["none", "negotiated discount", "price change", "tier", "unpriced model", "regional premium"]

TIER_SHARE = Decimal("0.02")
"""Share of a model's billed token dollars in a dearer/cheaper tier that names the tier as cause."""
RATIO_TOLERANCE = Decimal("0.01")


def classify_drift(
    model: str, billed: Sequence[BilledLine], catalog: PriceCatalog, *, unpriced: bool = False
) -> tuple[Cause, str]:
    """The likely cause of a model's drift, from its effective vs catalog unit prices.

    Pure: looks at the billed token rows of the model (comparable tiers) and the catalog's
    on-demand prices. Order matters: an unpriced model explains everything; then a tier
    (long-context, flex, priority...) carrying a visible share of the dollars; then the
    ratio of effective to list price on on-demand rows: uniformly below 1 is a negotiated
    discount, a regional row dearer than its global list price is the regional premium,
    anything else a price change the catalog has not caught up with."""
    if unpriced:
        return "unpriced model", f"{model} has no catalog price: its tokens are unpriced, never $0"
    total = sum((b.cost_usd for b in billed), Decimal(0))
    if total <= 0:
        return "none", "nothing billed to compare"
    tiers: dict[str, Decimal] = defaultdict(Decimal)
    for line in billed:
        if line.tier != ON_DEMAND:
            tiers[line.tier] += line.cost_usd
    cost, listed = Decimal(0), Decimal(0)
    regional_over: list[Decimal] = []
    for line in billed:
        if line.tier != ON_DEMAND or line.tokens <= 0 or line.usage_kind not in TOKEN_KINDS:
            continue
        kind = line.usage_kind
        scope = cast(Scope, line.scope if line.scope in ("global", "regional") else "regional")
        price = catalog.price(model, kind, scope)
        if price is None:
            return "unpriced model", f"{model} {line.usage_kind} ({line.scope}) has no catalog price"
        cost += line.cost_usd
        listed += cost_usd(line.tokens, price.usd_per_million)
        if scope == "regional":
            global_price = catalog.price(model, kind, "global")
            if global_price is not None and global_price.usd_per_million == price.usd_per_million:
                regional_over.append(line.cost_usd)
    ratio = cost / listed if listed else Decimal(1)
    if tiers:
        tier, usd = max(tiers.items(), key=lambda kv: kv[1])
        if usd / total >= TIER_SHARE:
            why = f"{(usd / total * HUNDRED).quantize(Decimal('0.1'))} % of {model}'s billed token dollars are {tier}"
            if ratio < 1 - RATIO_TOLERANCE:
                why += f", and on-demand tokens bill {((1 - ratio) * HUNDRED).quantize(Decimal('0.1'))} % below list"
            return "tier", why
    if abs(ratio - 1) <= RATIO_TOLERANCE:
        return "none", f"{model} bills at catalog prices"
    if ratio < 1:
        off = ((1 - ratio) * HUNDRED).quantize(Decimal("0.1"))
        return "negotiated discount", f"{model} bills {off} % below list on on-demand tokens"
    if regional_over:
        return "regional premium", f"{model}'s regional endpoints bill above the catalog's (global) price"
    up = ((ratio - 1) * HUNDRED).quantize(Decimal("0.1"))
    return "price change", f"{model} bills {up} % above the catalog: the price list has moved"
