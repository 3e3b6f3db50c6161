"""AWS Price List products -> token prices for the catalog's ``refresh`` layer.

The daily price refresh hands in ``GetProducts`` items; this turns the ones it can key
(model, token kind, scope, tier) into ``ListPrice`` rows, and skips the rest for the
caller to count. Classification is the same as CUR's, so both clocks agree on kinds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any

from bedrock_cost.domain.pricing import EXACT_CONTEXT, PriceKey, PriceLayer, Scope, UnitPrice, UsageKind
from bedrock_cost.domain.usage_types import classify_usage_type

_NOT_LIST_PRICED = re.compile(
    r"long-?context|video|audio|speech|mantle|1h(?:our)?[-_]|[-_]1h|write1h",
    re.IGNORECASE,
)
"""Token usage types the catalog does not take from the Price List (tiers it has no key for)."""
_FIRST_PARTY_NAME = re.compile(
    r"^[A-Z0-9]+-(?P<name>.+?)-(?:cache-read-|cache-write-)?(?:input|output)-", re.IGNORECASE
)
_UNIT_TOKENS: dict[str, Decimal] = {
    "1k tokens": Decimal(1_000),
    "1m tokens": Decimal(1),
    "1m units": Decimal(1),
    "units": Decimal(1_000_000),
    "tokens": Decimal(1_000_000),
    "token": Decimal(1_000_000),
}
"""Multiplier turning a price per ``unit`` into a price per million tokens."""


@dataclass(frozen=True)
class ListPrice:
    """One price parsed from an AWS Price List product."""

    key: PriceKey
    usd_per_million: Decimal
    as_of: str
    reference: str


def price_key_parts(usage_type: str) -> tuple[UsageKind, Scope, str] | None:
    """(kind, scope, tier) of a token usage type the catalog prices, or ``None``.

    The classification is the one CUR uses (``usage_types.classify_usage_type``); this only
    narrows it to what the catalog keys: token kinds, not provisioned throughput, not the
    tiers it has no key for (long context, one-hour cache writes, mantle, media).
    """
    if _NOT_LIST_PRICED.search(usage_type):
        return None
    info = classify_usage_type(usage_type)
    if info.kind == "other" or info.tier == "provisioned" or info.long_context or info.cache_ttl == "1h":
        return None
    return info.kind, info.scope, info.tier


def parse_price_list_product(
    product_json: Mapping[str, Any],
    resolve_model: Any,
) -> list[ListPrice]:
    """Parse one ``GetProducts`` PriceList item into zero or more token prices.

    ``resolve_model(name) -> str | None`` turns a model name, billing name or Marketplace
    product name into the catalog's readable model name. Products we cannot classify
    (images, provisioned throughput, unknown models, non-USD, unknown units) yield
    nothing; the caller counts them.
    """
    product = product_json.get("product") or {}
    attributes: Mapping[str, Any] = product.get("attributes") or {}
    usage_type = str(attributes.get("usagetype") or "")
    classified = price_key_parts(usage_type)
    if classified is None:
        return []
    kind, scope, tier = classified
    model = None
    for candidate in (attributes.get("model"), attributes.get("servicename"), attributes.get("titleModel")):
        if candidate:
            model = resolve_model(str(candidate))
            if model:
                break
    if model is None:
        match = _FIRST_PARTY_NAME.match(usage_type)
        if match:
            model = resolve_model(match.group("name"))
    if model is None:
        return []
    results: list[ListPrice] = []
    terms = (product_json.get("terms") or {}).get("OnDemand") or {}
    for term in terms.values():
        as_of = str(term.get("effectiveDate") or product_json.get("publicationDate") or "")[:10]
        for dimension in (term.get("priceDimensions") or {}).values():
            unit = str(dimension.get("unit") or "").strip().lower()
            usd = (dimension.get("pricePerUnit") or {}).get("USD")
            if unit not in _UNIT_TOKENS or usd is None:
                continue
            try:
                per_unit = Decimal(str(usd))
            except InvalidOperation:
                continue
            if not per_unit.is_finite() or per_unit <= 0:
                continue
            with localcontext(EXACT_CONTEXT):
                per_million = per_unit * _UNIT_TOKENS[unit]
            results.append(
                ListPrice(
                    key=PriceKey(model, kind, scope, tier),
                    usd_per_million=per_million.normalize(),
                    as_of=as_of or "unknown",
                    reference=f"AWS Price List {attributes.get('servicecode', '')} {usage_type}".strip(),
                )
            )
    return results


def refresh_layer(prices: Iterable[ListPrice], version: str) -> PriceLayer:
    """Collect parsed list prices into the ``refresh`` layer (first price per key wins)."""
    layer: dict[PriceKey, UnitPrice] = {}
    for item in prices:
        layer.setdefault(
            item.key,
            UnitPrice(
                usd_per_million=item.usd_per_million, source="refresh", as_of=item.as_of, reference=item.reference
            ),
        )
    return PriceLayer(source="refresh", version=version, prices=layer)
