"""Estimate -> embedded-metric points: which series the estimator publishes, and capped how.

Every custom series costs money (see the bill table), so the estimator publishes only what
an alarm watches unless ``estimator.metric_detail`` asks for more; the caps fold rare models
and tag values into ``(other)`` so cardinality stays bounded whatever the traffic.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

from bedrock_cost.domain.estimate import (
    OTHER,
    UNTAGGED,
    Counts,
    KindCost,
    PricedUsage,
    UsageData,
    price_counts,
    tag_values,
)
from bedrock_cost.domain.model_resolution import ResolvedModel
from bedrock_cost.domain.pricing import (
    ON_DEMAND,
    TOKEN_KINDS,
    PriceCatalog,
)
from bedrock_cost.metric_names import (
    DIM_MODEL,
    DIM_TAG_KEY,
    DIM_TAG_VALUE,
    DIM_TOKEN_KIND,
    ESTIMATED_COST,
    TOKENS,
    UNPRICED_TOKENS,
)

# Metrics (namespace BedrockCostTracker) and their dimension sets. Every series costs
# $0.30 a month (prorated by the hour it receives data), so the default ("alarms") emits
# only what an alarm watches; per-model and per-tag detail lives in the S3 records (and
# Athena), and the dashboard prices native AWS/Bedrock token metrics with metric math.
#   metric_detail "alarms" (default):
#     EstimatedCostUSD  {}  {TagKey, TagValue} for budgeted (pinned) tag values only
#     UnpricedTokens    {}  {Model}             only while unpriced tokens exist
#   metric_detail "full" (opt-in, costs ~5 series per model and per tag value):
#     EstimatedCostUSD  {}  {Model}  {TagKey, TagValue}
#     UnpricedTokens    {}  {Model}
#     Tokens            {TokenKind}  {Model, TokenKind}  {TagKey, TagValue, TokenKind}
DEFAULT_TAG_VALUE_CAP = 25
"""Distinct ``TagValue`` dimension values per tag key per run; the rest become ``(other)``."""
DEFAULT_MODEL_CAP = 50
"""Distinct ``Model`` dimension values per run; the rest become ``(other)``."""

CUSTOM_METRIC_CAP = 12
"""Most custom metric series the estimator may publish for a whole month in one account at
the reference workload (docs/organizations.md): the own-bill budget of $10 a month holds
only while this holds. ``tests/unit/test_own_bill_cap.py`` fails above it."""

MetricDetail = Literal["alarms", "full"]
ALARMS_ONLY: MetricDetail = "alarms"


@dataclass(frozen=True)
class MetricPoint:
    """One EMF record: a timestamp, one dimension set and the values sharing them."""

    timestamp: datetime
    dimensions: tuple[tuple[str, str], ...]
    values: tuple[tuple[str, Decimal | int], ...]


def _cap(costs: Mapping[str, Decimal], cap: int, keep: Iterable[str] = ()) -> dict[str, str]:
    """Map each value to itself if kept or among the ``cap`` costliest others, else to ``(other)``."""
    keep_set = set(keep)
    others = sorted((v for v in costs if v not in keep_set), key=lambda value: (-costs[value], value))
    mapping = {value: value for value in costs if value in keep_set}
    mapping.update({value: (value if rank < cap else OTHER) for rank, value in enumerate(others)})
    return mapping


def _points(
    minute: datetime,
    dims: tuple[tuple[str, str], ...],
    counts: Counts,
    priced: PricedUsage,
    *,
    zeros: bool,
    unpriced_dim: bool = True,
    tokens: bool = True,
) -> list[MetricPoint]:
    """The cost point (with unpriced tokens) and one token point per kind for one dimension set.

    ``zeros`` writes the cost and token values even when 0 (the dimensionless totals, so
    alarms see 0 rather than missing data). ``UnpricedTokens`` is written only when there
    are some, and a cost of 0 is never written for tokens nobody priced.
    """
    points = []
    cost_values: list[tuple[str, Decimal | int]] = []
    if priced.has_cost or zeros:
        cost_values.append((ESTIMATED_COST, priced.cost))
    if unpriced_dim and priced.unpriced_tokens:
        cost_values.append((UNPRICED_TOKENS, priced.unpriced_tokens))
    if cost_values:
        points.append(MetricPoint(minute, dims, tuple(cost_values)))
    if not tokens:
        return points
    for kind in TOKEN_KINDS:
        count = counts.tokens(kind)
        if count or zeros:
            points.append(MetricPoint(minute, (*dims, (DIM_TOKEN_KIND, kind)), ((TOKENS, count),)))
    return points


@dataclass
class _Bucket:
    counts: Counts = field(default_factory=Counts)
    lines: list[KindCost] = field(default_factory=list)

    def add(self, counts: Counts, priced: PricedUsage) -> None:
        self.counts = self.counts + counts
        self.lines.extend(priced.lines)

    @property
    def priced(self) -> PricedUsage:
        return PricedUsage(lines=tuple(self.lines))


def metric_points(
    usage: UsageData,
    *,
    resolved: Mapping[str, ResolvedModel],
    catalog: PriceCatalog,
    minutes: Sequence[datetime],
    tag_keys: Sequence[str],
    only_model_ids: Mapping[datetime, set[str]] | None = None,
    tier: str = ON_DEMAND,
    tag_value_cap: int = DEFAULT_TAG_VALUE_CAP,
    model_cap: int = DEFAULT_MODEL_CAP,
    pinned_tag_values: Mapping[str, frozenset[str]] | None = None,
    detail: MetricDetail = ALARMS_ONLY,
) -> list[MetricPoint]:
    """Per-minute points: total (every minute, zeros included), by ``Model``, by tag value.

    ``detail="alarms"`` (the default) keeps only what alarms watch: the total cost, the
    cost of ``pinned_tag_values``, and unpriced tokens (total and by ``Model``) while
    there are any; no token points. ``detail="full"`` writes every dimension set.

    ``only_model_ids`` restricts a minute to some ids: back-filled minutes of a newly
    discovered ``ModelId`` must not repeat the others. Their points land on minutes that
    already have points; CloudWatch adds datapoints of the same minute, so the ``Sum``
    statistic stays right. Dimension values beyond the caps fold into ``(other)`` so the
    number of metrics — and their cost — stays bounded; ``(untagged)``, unpriced models
    and ``pinned_tag_values`` (tag values with a budget alarm) always keep their own.
    """
    per_minute: dict[datetime, list[tuple[ResolvedModel, Counts, PricedUsage]]] = {}
    model_cost: dict[str, Decimal] = {}
    tag_cost: dict[str, dict[str, Decimal]] = {key: {} for key in tag_keys}
    for minute in minutes:
        rows = []
        allowed = only_model_ids.get(minute) if only_model_ids is not None else None
        for model_id in sorted(usage):
            if allowed is not None and model_id not in allowed:
                continue
            counts = usage[model_id].get(minute)
            if counts is None or counts.total_tokens == 0:
                continue
            model = resolved[model_id]
            priced = price_counts(counts, model, catalog, tier)
            rows.append((model, counts, priced))
            model_cost[model.model] = model_cost.get(model.model, Decimal(0)) + priced.cost
            for key, value in tag_values(model.tags, tag_keys).items():
                tag_cost[key][value] = tag_cost[key].get(value, Decimal(0)) + priced.cost
        per_minute[minute] = rows

    unpriced_models = {model.model for rows in per_minute.values() for model, _, p in rows if p.unpriced_tokens}
    model_names = _cap(model_cost, model_cap, keep=unpriced_models)
    pinned = pinned_tag_values or {}
    tag_names = {
        key: _cap(costs, tag_value_cap, keep=(UNTAGGED, *pinned.get(key, ()))) for key, costs in tag_cost.items()
    }

    points: list[MetricPoint] = []
    for minute in minutes:
        rows = per_minute[minute]
        total = _Bucket()
        by_model: dict[str, _Bucket] = {}
        by_tag: dict[tuple[str, str], _Bucket] = {}
        for model, counts, priced in rows:
            total.add(counts, priced)
            by_model.setdefault(model_names[model.model], _Bucket()).add(counts, priced)
            for key, value in tag_values(model.tags, tag_keys).items():
                by_tag.setdefault((key, tag_names[key][value]), _Bucket()).add(counts, priced)
        full = detail == "full"
        if only_model_ids is None or rows:
            # Back-filled minutes add a second point to the same minute: CloudWatch sums them.
            points += _points(minute, (), total.counts, total.priced, zeros=only_model_ids is None, tokens=full)
        for name, bucket in sorted(by_model.items()):
            if full:
                points += _points(minute, ((DIM_MODEL, name),), bucket.counts, bucket.priced, zeros=False)
            elif bucket.priced.unpriced_tokens:
                unpriced = ((UNPRICED_TOKENS, bucket.priced.unpriced_tokens),)
                points.append(MetricPoint(minute, ((DIM_MODEL, name),), unpriced))
        for (key, value), bucket in sorted(by_tag.items()):
            if not full and value not in pinned.get(key, ()):
                continue
            dims = ((DIM_TAG_KEY, key), (DIM_TAG_VALUE, value))
            points += _points(minute, dims, bucket.counts, bucket.priced, zeros=False, unpriced_dim=False, tokens=full)
    return points
