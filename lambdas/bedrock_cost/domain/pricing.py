"""The price catalog: what one million tokens of a model cost, and who said so.

Four sources feed it, highest precedence first:

1. ``override``  — ``config.pricing.overrides`` (what the customer says they pay);
2. ``cur``       — effective unit prices observed in CUR (view ``bedrock_unit_prices``):
   private pricing and credits already applied, so this is the closest to the bill;
3. ``refresh``   — list prices from the AWS Price List API, refreshed on a schedule;
4. ``bundled``   — ``data/prices.json``, shipped with the code.

The negotiated discount (``config.pricing.discount_pct``) applies to list prices only
(``refresh`` and ``bundled``): CUR prices already include it and overrides are what the
customer pays. Money is ``Decimal`` end to end and the cost maths runs in a context
that *traps* inexact results, so ``cost = tokens × price / 1e6`` is exact or fails
loudly. A model with no price is reported as unpriced, never priced at 0.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Context, Decimal, Inexact, InvalidOperation, localcontext
from functools import lru_cache
from importlib import resources
from typing import Any, Literal, cast, get_args

UsageKind = Literal["input", "output", "cache-read", "cache-write"]
Scope = Literal["global", "regional"]
PriceSource = Literal["override", "cur", "refresh", "bundled"]

TOKEN_KINDS: tuple[UsageKind, ...] = get_args(UsageKind)
SCOPES: tuple[Scope, ...] = get_args(Scope)
SOURCE_PRECEDENCE: tuple[PriceSource, ...] = get_args(PriceSource)
"""Highest precedence first."""
LIST_PRICE_SOURCES: frozenset[PriceSource] = frozenset({"refresh", "bundled"})
"""Sources the negotiated discount applies to."""

ON_DEMAND = "on-demand"
TIERS: tuple[str, ...] = ("on-demand", "batch", "flex", "priority", "latency-optimized", "provisioned")

CATALOG_FORMAT = 1
ONE_MILLION = Decimal(1_000_000)

EXACT_CONTEXT = Context(prec=120, traps=[Inexact, InvalidOperation])
"""Decimal context for money maths: 120 digits and a trap on any rounding."""


class CatalogError(ValueError):
    """A catalog document is malformed; the message names the entry and field."""


@dataclass(frozen=True, order=True)
class PriceKey:
    model: str
    usage_kind: UsageKind
    scope: Scope
    tier: str


@dataclass(frozen=True)
class UnitPrice:
    """A price per million tokens and its provenance (shown in records and the CLI)."""

    usd_per_million: Decimal
    source: PriceSource
    as_of: str
    """Date or billing period the price was observed/published."""
    reference: str = ""
    """Where it came from: a URL, ``config.pricing.overrides[2]``, ``CUR 2026-10``..."""


def cost_usd(tokens: int, usd_per_million: Decimal) -> Decimal:
    """``tokens × usd_per_million / 1e6`` exactly (raises if it could not be exact)."""
    if tokens < 0:
        raise ValueError(f"token count cannot be negative: {tokens}")
    with localcontext(EXACT_CONTEXT):
        return Decimal(tokens) * usd_per_million / ONE_MILLION


def apply_discount(usd_per_million: Decimal, discount_pct: Decimal) -> Decimal:
    """List price after a negotiated discount of ``discount_pct`` percent, exactly."""
    if not Decimal(0) <= discount_pct < Decimal(100):
        raise ValueError(f"discount must be in [0, 100): {discount_pct}")
    with localcontext(EXACT_CONTEXT):
        return usd_per_million * (Decimal(100) - discount_pct) / Decimal(100)


def money_sum(values: Iterable[Decimal]) -> Decimal:
    """Exact sum of Decimals (no float ever enters a money total)."""
    with localcontext(EXACT_CONTEXT):
        total = Decimal(0)
        for value in values:
            total += value
        return total


def decimal_text(value: Decimal) -> str:
    """Plain (never scientific) text for a Decimal, for JSON, CSV and tables."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


@dataclass(frozen=True)
class PriceLayer:
    """All prices from one source, keyed exactly."""

    source: PriceSource
    version: str
    prices: Mapping[PriceKey, UnitPrice]

    @classmethod
    def empty(cls, source: PriceSource) -> PriceLayer:
        return cls(source=source, version="", prices={})


@dataclass(frozen=True)
class OverrideRule:
    """One ``config.pricing.overrides`` entry; ``None`` scope/tier match every scope/tier."""

    model: str
    usage_kind: UsageKind
    usd_per_million: Decimal
    scope: Scope | None
    tier: str | None
    position: int

    def matches(self, key: PriceKey) -> bool:
        return (
            self.model == key.model
            and self.usage_kind == key.usage_kind
            and (self.scope is None or self.scope == key.scope)
            and (self.tier is None or self.tier == key.tier)
        )

    @property
    def specificity(self) -> int:
        return (self.scope is not None) + (self.tier is not None)


@dataclass(frozen=True)
class PricedEntry:
    """The price in force for one key, with the prices it shadows (for ``bedrock-cost pricing``)."""

    key: PriceKey
    price: UnitPrice
    list_price: Decimal | None
    """Undiscounted price when the source is a list price and a discount applies."""
    shadowed: tuple[UnitPrice, ...] = ()


@dataclass(frozen=True)
class PriceCatalog:
    """Layers of prices resolved by precedence, plus the discount on list prices."""

    bundled: PriceLayer
    refresh: PriceLayer = field(default_factory=lambda: PriceLayer.empty("refresh"))
    cur: PriceLayer = field(default_factory=lambda: PriceLayer.empty("cur"))
    overrides: tuple[OverrideRule, ...] = ()
    discount_pct: Decimal = Decimal(0)

    @property
    def version(self) -> str:
        """Identifies the exact price set an estimate used (recorded with every row)."""
        parts = [f"bundled:{self.bundled.version}"]
        if self.refresh.prices:
            parts.append(f"refresh:{self.refresh.version}")
        if self.cur.prices:
            parts.append(f"cur:{self.cur.version}")
        if self.overrides:
            parts.append(f"overrides:{len(self.overrides)}")
        if self.discount_pct:
            parts.append(f"discount:{decimal_text(self.discount_pct)}%")
        return ";".join(parts)

    @property
    def calibrated(self) -> bool:
        """True when effective CUR prices were loaded."""
        return bool(self.cur.prices)

    def price(self, model: str, usage_kind: UsageKind, scope: Scope, tier: str = ON_DEMAND) -> UnitPrice | None:
        """The effective price in force, or ``None`` when no source prices this key."""
        found = self._candidates(PriceKey(model, usage_kind, scope, tier))
        return found[0] if found else None

    def entry(self, key: PriceKey) -> PricedEntry | None:
        found = self._candidates(key)
        if not found:
            return None
        top = found[0]
        list_price = None
        if top.source in LIST_PRICE_SOURCES and self.discount_pct:
            layer = self.bundled if top.source == "bundled" else self.refresh
            list_price = layer.prices[key].usd_per_million
        return PricedEntry(key=key, price=top, list_price=list_price, shadowed=tuple(found[1:]))

    def keys(self) -> list[PriceKey]:
        keys: set[PriceKey] = set(self.bundled.prices) | set(self.refresh.prices) | set(self.cur.prices)
        for rule in self.overrides:
            scopes: Sequence[Scope] = SCOPES if rule.scope is None else (rule.scope,)
            tiers: Sequence[str] = (ON_DEMAND, "batch") if rule.tier is None else (rule.tier,)
            keys.update(PriceKey(rule.model, rule.usage_kind, s, t) for s in scopes for t in tiers)
        return sorted(keys)

    def models(self) -> list[str]:
        return sorted({key.model for key in self.keys()})

    def entries_for(self, model: str) -> list[PricedEntry]:
        entries = [self.entry(key) for key in self.keys() if key.model == model]
        return [e for e in entries if e is not None]

    def _candidates(self, key: PriceKey) -> list[UnitPrice]:
        """Every source's price for ``key``, highest precedence first, discount applied."""
        found: list[UnitPrice] = []
        rules = [r for r in self.overrides if r.matches(key)]
        if rules:
            # Most specific wins; among equals, the later entry in the config wins.
            best = max(rules, key=lambda r: (r.specificity, r.position))
            found.append(
                UnitPrice(
                    usd_per_million=best.usd_per_million,
                    source="override",
                    as_of="config",
                    reference=f"config.pricing.overrides[{best.position}]",
                )
            )
        for layer in (self.cur, self.refresh, self.bundled):
            price = layer.prices.get(key)
            if price is None:
                continue
            if layer.source in LIST_PRICE_SOURCES and self.discount_pct:
                price = UnitPrice(
                    usd_per_million=apply_discount(price.usd_per_million, self.discount_pct),
                    source=price.source,
                    as_of=price.as_of,
                    reference=f"{price.reference} less {decimal_text(self.discount_pct)}% discount",
                )
            found.append(price)
        return found


# --- catalog documents (data/prices.json and the refreshed copy share one format) ---


def _decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise CatalogError(f"{where}: price must be a decimal string, got {value!r}")
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise CatalogError(f"{where}: {value!r} is not a decimal number") from None
    if not result.is_finite() or result < 0:
        raise CatalogError(f"{where}: price must be a finite number >= 0, got {value!r}")
    return result


def parse_catalog_document(doc: Any, source: PriceSource) -> PriceLayer:
    """Validate a catalog document into a layer; raise ``CatalogError`` naming the bad entry."""
    if not isinstance(doc, dict):
        raise CatalogError("catalog document must be a JSON object")
    if doc.get("format") != CATALOG_FORMAT:
        raise CatalogError(f"unsupported catalog format {doc.get('format')!r} (expected {CATALOG_FORMAT})")
    version = doc.get("version")
    entries = doc.get("entries")
    if not isinstance(version, str) or not isinstance(entries, list):
        raise CatalogError("catalog document needs a 'version' string and an 'entries' list")
    prices: dict[PriceKey, UnitPrice] = {}
    for index, entry in enumerate(entries):
        where = f"entries[{index}]"
        if not isinstance(entry, dict):
            raise CatalogError(f"{where}: must be an object")
        model, scope, tier = entry.get("model"), entry.get("scope"), entry.get("tier")
        kinds, ref, as_of = entry.get("usd_per_million"), entry.get("source"), entry.get("as_of")
        if not isinstance(model, str) or not model:
            raise CatalogError(f"{where}: 'model' must be a non-empty string")
        if scope not in SCOPES:
            raise CatalogError(f"{where} ({model}): 'scope' must be one of {list(SCOPES)}, got {scope!r}")
        if tier not in TIERS:
            raise CatalogError(f"{where} ({model}): 'tier' must be one of {list(TIERS)}, got {tier!r}")
        if not isinstance(ref, str) or not ref or not isinstance(as_of, str) or not as_of:
            raise CatalogError(f"{where} ({model}): every entry needs 'source' and 'as_of'")
        if not isinstance(kinds, dict) or not kinds:
            raise CatalogError(f"{where} ({model}): 'usd_per_million' must map usage kinds to prices")
        for kind, raw in kinds.items():
            if kind not in TOKEN_KINDS:
                raise CatalogError(f"{where} ({model}): unknown usage kind {kind!r}")
            key = PriceKey(model, cast(UsageKind, kind), cast(Scope, scope), tier)
            if key in prices:
                raise CatalogError(f"{where}: duplicate price for {model} {kind} {scope} {tier}")
            prices[key] = UnitPrice(
                usd_per_million=_decimal(raw, f"{where} ({model} {kind})"),
                source=source,
                as_of=as_of,
                reference=ref,
            )
    return PriceLayer(source=source, version=version, prices=prices)


def catalog_document(layer: PriceLayer, description: str) -> dict[str, Any]:
    """Serialise a layer back to the document format (used by the Price List refresh)."""
    grouped: dict[tuple[str, Scope, str, str, str], dict[str, str]] = {}
    for key, price in sorted(layer.prices.items()):
        group = (key.model, key.scope, key.tier, price.reference, price.as_of)
        grouped.setdefault(group, {})[key.usage_kind] = decimal_text(price.usd_per_million)
    entries = [
        {"model": m, "scope": s, "tier": t, "usd_per_million": kinds, "source": ref, "as_of": as_of}
        for (m, s, t, ref, as_of), kinds in grouped.items()
    ]
    return {
        "format": CATALOG_FORMAT,
        "version": layer.version,
        "currency": "USD",
        "unit": "USD per 1M tokens",
        "description": description,
        "entries": entries,
    }


@lru_cache(maxsize=1)
def load_bundled_layer() -> PriceLayer:
    """The catalog shipped in ``data/prices.json`` (validated; cached for the process)."""
    text = resources.files("bedrock_cost.data").joinpath("prices.json").read_text("utf-8")
    return parse_catalog_document(json.loads(text), "bundled")


def override_rules(overrides: Sequence[Any], canonical: Mapping[str, str] | None = None) -> tuple[OverrideRule, ...]:
    """Turn ``config.pricing.overrides`` into rules.

    ``canonical`` maps any alias (lower-case) to the readable model name, so an override
    for ``anthropic.claude-sonnet-4-6`` applies to ``Claude Sonnet 4.6``. A name we don't
    know is kept as written: that is how a user prices a model the catalog lacks.
    """
    rules = []
    for position, item in enumerate(overrides):
        model = str(item.model)
        if canonical is not None:
            model = canonical.get(model.strip().lower(), model)
        rules.append(
            OverrideRule(
                model=model,
                usage_kind=item.usage_kind,
                usd_per_million=Decimal(item.usd_per_million),
                scope=item.scope,
                tier=item.tier,
                position=position,
            )
        )
    return tuple(rules)


# --- effective prices observed in CUR -------------------------------------------------

MIN_CALIBRATION_TOKENS = 100_000
"""Below this many tokens in a period, an observed unit price is too noisy to trust."""


def cur_layer(
    rows: Iterable[Mapping[str, Any]], current_period: str, reference: PriceLayer | None = None
) -> PriceLayer:
    """Build the ``cur`` layer from ``bedrock_unit_prices`` rows of the current and previous period.

    For each key the most recent period with at least ``MIN_CALIBRATION_TOKENS`` tokens
    wins: the current (still restated) month once it has volume, else the last closed one.
    A CUR price more than 10x away from ``reference``'s (default: the bundled catalog) is
    refused and logged (``domain/calibration_guard.py``).
    """
    from bedrock_cost.domain.calibration_guard import guard_unit_prices

    catalog = reference if reference is not None else load_bundled_layer()
    by_key: dict[tuple[str, str, str, str], Decimal] = {
        (k.model, str(k.usage_kind), str(k.scope), k.tier): p.usd_per_million for k, p in catalog.prices.items()
    }
    rows, refused = guard_unit_prices(rows, by_key)
    for item in refused:
        logging.getLogger(__name__).warning(item.message())
    best: dict[PriceKey, tuple[str, UnitPrice]] = {}
    for row in rows:
        kind, scope = row.get("usage_kind"), row.get("scope")
        model, period, tier = row.get("model"), row.get("billing_period"), row.get("tier")
        if kind not in TOKEN_KINDS or scope not in SCOPES or not model or not period or not tier:
            continue
        tokens = int(row.get("tokens") or 0)
        price = row.get("usd_per_million")
        if tokens < MIN_CALIBRATION_TOKENS or price is None:
            continue
        key = PriceKey(str(model), cast(UsageKind, kind), cast(Scope, scope), str(tier))
        unit = UnitPrice(
            usd_per_million=Decimal(str(price)),
            source="cur",
            as_of=str(period),
            reference=f"CUR {period}: {tokens} tokens observed",
        )
        if key not in best or str(period) > best[key][0]:
            best[key] = (str(period), unit)
    periods = sorted({p for p, _ in best.values()})
    version = ",".join(periods) if periods else current_period
    return PriceLayer(source="cur", version=version, prices={k: v for k, (_, v) in best.items()})


def previous_period(period: str) -> str:
    """``2026-01`` -> ``2025-12``."""
    year, month = (int(part) for part in period.split("-"))
    year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return f"{year:04d}-{month:02d}"
