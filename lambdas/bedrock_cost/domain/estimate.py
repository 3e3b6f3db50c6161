"""The near-real-time estimate: per-minute token counts × the price catalog.

Pure logic: the numbers come in as ``Counts`` per ``ModelId`` per minute (read from
CloudWatch ``AWS/Bedrock`` by an adapter), prices from ``PriceCatalog``, and out go
aggregates (per model, per tag value, total), the S3 records and the metric points.
Every money figure is an exact ``Decimal``; floats appear only when a metric value is
handed to CloudWatch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bedrock_cost.domain.model_resolution import ResolvedModel
from bedrock_cost.domain.pricing import (
    ON_DEMAND,
    TOKEN_KINDS,
    PriceCatalog,
    UnitPrice,
    UsageKind,
    cost_usd,
    decimal_text,
    money_sum,
)
from bedrock_cost.domain.token_counts import TokenCounts

METRIC_FIELDS: dict[str, str] = {
    "InputTokenCount": "input",
    "OutputTokenCount": "output",
    "CacheReadInputTokenCount": "cache_read",
    "CacheWriteInputTokenCount": "cache_write",
}
"""CloudWatch ``AWS/Bedrock`` metrics the estimate reads -> ``Counts`` field. Order fixes query ids.

Only what the price needs: the four token counts. Every metric requested costs money on
every run (``GetMetricData`` is $0.01 per 1,000 metrics), so invocations, throttles and
errors are not read here: their alarms and graphs read ``AWS/Bedrock`` directly, at no
per-run cost, and request counts come from the invocation-log clock.
"""

UNTAGGED = "(untagged)"
OTHER = "(other)"
CLOUDWATCH_RETENTION = timedelta(days=15)
"""1-minute data lives 15 days: the furthest back a catch-up can reach."""
RETENTION_MARGIN = timedelta(minutes=10)
EMF_MAX_AGE = timedelta(days=14)
"""CloudWatch drops embedded-metric points older than 14 days."""


def floor_minute(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def minutes_between(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds() // 60)


def iso_minute(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


@dataclass(frozen=True)
class Counts(TokenCounts):
    """Sums for one ``ModelId`` over a minute (or any span): the billed token kinds, then
    the request counters CloudWatch keeps beside them."""

    invocations: int = 0
    throttles: int = 0
    client_errors: int = 0
    server_errors: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(Counts)))

    @classmethod
    def from_fields(cls, values: Mapping[str, int]) -> Counts:
        return cls(**{name: int(values.get(name, 0)) for name in (f.name for f in fields(Counts))})


UsageData = Mapping[str, Mapping[datetime, Counts]]
"""``ModelId`` -> minute (UTC, second 0) -> counts."""


def sum_counts(per_minute: Mapping[datetime, Counts], start: datetime, end: datetime) -> Counts:
    total = Counts()
    for minute, counts in per_minute.items():
        if start <= minute < end:
            total = total + counts
    return total


# --- pricing a span of usage ------------------------------------------------------------


@dataclass(frozen=True)
class KindCost:
    usage_kind: UsageKind
    tokens: int
    price: UnitPrice | None
    cost: Decimal | None
    """``None`` when unpriced: never 0 for a model we cannot price."""


@dataclass(frozen=True)
class PricedUsage:
    lines: tuple[KindCost, ...]

    @property
    def cost(self) -> Decimal:
        return money_sum(line.cost for line in self.lines if line.cost is not None)

    @property
    def unpriced_tokens(self) -> int:
        return sum(line.tokens for line in self.lines if line.cost is None)

    @property
    def priced(self) -> bool:
        return all(line.cost is not None for line in self.lines)

    @property
    def has_cost(self) -> bool:
        return any(line.cost is not None for line in self.lines)


def price_counts(counts: Counts, resolved: ResolvedModel, catalog: PriceCatalog, tier: str = ON_DEMAND) -> PricedUsage:
    """Price each token kind with tokens; a kind without a price stays unpriced."""
    lines = []
    for kind in TOKEN_KINDS:
        tokens = counts.tokens(kind)
        if tokens <= 0:
            continue
        price = catalog.price(resolved.model, kind, resolved.scope, tier) if resolved.known else None
        if price is None and not resolved.known:
            # An unknown model can still be priced by an explicit override or CUR price
            # under its raw id (how users price a model the catalog lacks).
            price = catalog.price(resolved.model, kind, resolved.scope, tier)
        cost = cost_usd(tokens, price.usd_per_million) if price is not None else None
        lines.append(KindCost(usage_kind=kind, tokens=tokens, price=price, cost=cost))
    return PricedUsage(lines=tuple(lines))


# --- aggregates -------------------------------------------------------------------------


@dataclass
class Totals:
    """Running totals for a model, a tag value or everything."""

    counts: Counts = field(default_factory=Counts)
    cost_usd: Decimal = field(default_factory=Decimal)
    unpriced_tokens: int = 0
    priced_any: bool = False

    def add(self, counts: Counts, priced: PricedUsage) -> None:
        self.counts = self.counts + counts
        self.cost_usd = money_sum((self.cost_usd, priced.cost))
        self.unpriced_tokens += priced.unpriced_tokens
        self.priced_any = self.priced_any or priced.has_cost

    @property
    def cost_or_none(self) -> Decimal | None:
        """``None`` when tokens exist but none could be priced (never a misleading 0)."""
        if self.counts.total_tokens and not self.priced_any:
            return None
        return self.cost_usd

    def to_dict(self) -> dict[str, Any]:
        cost = self.cost_or_none
        return {
            "cost_usd": decimal_text(cost) if cost is not None else None,
            "priced": self.unpriced_tokens == 0,
            "unpriced_tokens": self.unpriced_tokens,
            "input_tokens": self.counts.input,
            "output_tokens": self.counts.output,
            "cache_read_tokens": self.counts.cache_read,
            "cache_write_tokens": self.counts.cache_write,
        }


def tag_values(tags: Mapping[str, str], tag_keys: Sequence[str]) -> dict[str, str]:
    """The value of each report tag key, ``(untagged)`` when missing or blank."""
    result = {}
    for key in tag_keys:
        value = (tags.get(key) or "").strip()
        result[key] = value if value else UNTAGGED
    return result


@dataclass
class Estimate:
    """Costs over ``[start, end)`` by ``ModelId``, by model, by tag value and in total."""

    start: datetime
    end: datetime
    tag_keys: tuple[str, ...]
    catalog_version: str
    calibrated: bool
    by_model_id: dict[str, tuple[ResolvedModel, Totals]] = field(default_factory=dict)
    by_model: dict[str, Totals] = field(default_factory=dict)
    by_tag: dict[str, dict[str, Totals]] = field(default_factory=dict)
    total: Totals = field(default_factory=Totals)
    price_sources: dict[str, set[str]] = field(default_factory=dict)
    """Model -> the sources that priced its tokens (``bundled``, ``cur``...)."""

    def add(self, resolved: ResolvedModel, counts: Counts, priced: PricedUsage) -> None:
        _, per_id = self.by_model_id.setdefault(resolved.model_id, (resolved, Totals()))
        per_id.add(counts, priced)
        self.by_model.setdefault(resolved.model, Totals()).add(counts, priced)
        for key, value in tag_values(resolved.tags, self.tag_keys).items():
            self.by_tag.setdefault(key, {}).setdefault(value, Totals()).add(counts, priced)
        self.total.add(counts, priced)
        sources = self.price_sources.setdefault(resolved.model, set())
        sources.update(line.price.source for line in priced.lines if line.price is not None)

    @property
    def unpriced_by_model(self) -> dict[str, int]:
        return {model: t.unpriced_tokens for model, t in sorted(self.by_model.items()) if t.unpriced_tokens}

    def merge(self, other: Estimate) -> None:
        """Fold another window's estimate into this one (the demo sums consecutive runs)."""
        self.start = min(self.start, other.start)
        self.end = max(self.end, other.end)
        self.calibrated = self.calibrated or other.calibrated
        for resolved, totals in other.by_model_id.values():
            _, mine = self.by_model_id.setdefault(resolved.model_id, (resolved, Totals()))
            _merge_totals(mine, totals)
        for model, totals in other.by_model.items():
            _merge_totals(self.by_model.setdefault(model, Totals()), totals)
        for key, values in other.by_tag.items():
            for value, totals in values.items():
                _merge_totals(self.by_tag.setdefault(key, {}).setdefault(value, Totals()), totals)
        _merge_totals(self.total, other.total)
        for model, sources in other.price_sources.items():
            self.price_sources.setdefault(model, set()).update(sources)

    def to_dict(self) -> dict[str, Any]:
        def ranked(items: Mapping[str, Totals]) -> list[tuple[str, Totals]]:
            return sorted(items.items(), key=lambda kv: (-(kv[1].cost_usd), kv[0]))

        return {
            "clock": "estimate",
            "start": iso_minute(self.start),
            "end": iso_minute(self.end),
            "calibrated": self.calibrated,
            "catalog_version": self.catalog_version,
            "total": self.total.to_dict(),
            "by_model": [
                {"model": model, "price_sources": sorted(self.price_sources.get(model, ())), **totals.to_dict()}
                for model, totals in ranked(self.by_model)
            ],
            "by_tag": {
                key: [{"tag_value": value, **totals.to_dict()} for value, totals in ranked(values)]
                for key, values in sorted(self.by_tag.items())
            },
            "unpriced_tokens_by_model": self.unpriced_by_model,
        }


def _merge_totals(into: Totals, other: Totals) -> None:
    into.counts = into.counts + other.counts
    into.cost_usd = money_sum((into.cost_usd, other.cost_usd))
    into.unpriced_tokens += other.unpriced_tokens
    into.priced_any = into.priced_any or other.priced_any


def build_estimate(
    usage: UsageData,
    *,
    resolved: Mapping[str, ResolvedModel],
    catalog: PriceCatalog,
    start: datetime,
    end: datetime,
    tag_keys: Sequence[str],
    tier: str = ON_DEMAND,
) -> Estimate:
    """Aggregate usage over ``[start, end)`` and price it."""
    estimate = Estimate(
        start=start,
        end=end,
        tag_keys=tuple(tag_keys),
        catalog_version=catalog.version,
        calibrated=catalog.calibrated,
    )
    for model_id in sorted(usage):
        counts = sum_counts(usage[model_id], start, end)
        if counts == Counts():
            continue
        estimate.add(resolved[model_id], counts, price_counts(counts, resolved[model_id], catalog, tier))
    return estimate


# --- S3 records -------------------------------------------------------------------------

RECORD_VERSION = 1


def hour_records(
    *,
    region: str,
    hour: datetime,
    covered_until: datetime,
    usage: UsageData,
    resolved: Mapping[str, ResolvedModel],
    catalog: PriceCatalog,
    generated_at: datetime,
    tier: str = ON_DEMAND,
) -> list[dict[str, Any]]:
    """One record per (``ModelId``, token kind) with tokens in ``[hour, covered_until)``.

    Records of one hour always cover the hour from its start, so rewriting the hour's
    object after a later run (or a re-run) replaces it instead of adding to it.
    """
    end = min(hour + timedelta(hours=1), covered_until)
    records: list[dict[str, Any]] = []
    for model_id in sorted(usage):
        counts = sum_counts(usage[model_id], hour, end)
        if counts.total_tokens == 0:
            continue
        model = resolved[model_id]
        for line in price_counts(counts, model, catalog, tier).lines:
            price = line.price
            records.append(
                {
                    "record_version": RECORD_VERSION,
                    "clock": "estimate",
                    "region": region,
                    "usage_date": hour.strftime("%Y-%m-%d"),
                    "usage_hour": hour.strftime("%Y-%m-%dT%H:00:00Z"),
                    "window_start": iso_minute(hour),
                    "window_end": iso_minute(end),
                    "model_id": model_id,
                    "model": model.model,
                    "provider": model.provider,
                    "model_known": model.known,
                    "scope": model.scope,
                    "tier": tier,
                    "inference_profile_arn": model.profile_arn,
                    "inference_profile_name": model.profile_name,
                    "tags": dict(sorted(model.tags.items())),
                    "usage_kind": line.usage_kind,
                    "tokens": line.tokens,
                    "priced": line.cost is not None,
                    "usd_per_million": price.usd_per_million if price else None,
                    "cost_usd": line.cost,
                    "price_source": price.source if price else None,
                    "price_as_of": price.as_of if price else None,
                    "calibrated": price is not None and price.source == "cur",
                    "catalog_version": catalog.version,
                    "generated_at": generated_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            )
    return records
