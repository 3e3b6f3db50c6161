"""Savings advice with dollars, from the effective prices in the bill.

Pure rules over ``UsageLine`` s (billed usage per model, caller, kind, tier and scope — the
rows of ``queries/reports/recommendation_inputs.sql``) and optional provisioned-throughput
usage. Every saving is computed from what this customer actually pays (cost / tokens as
billed), never from list prices alone, is scaled to a month, and is capped by the spend it
comes from: a rule can never promise more than the dollars it looks at. Each row explains
itself in one line (``evidence``).

Kinds (and when they stay silent):
- ``prompt-caching``: a model with a lot of input and a low cache-read share; saving if
  ``CACHE_TARGET_SHARE`` of the input were read from cache at the model's cache-read price.
- ``right-sizing``: a large model producing short outputs (output/input below
  ``SHORT_OUTPUT_RATIO``); saving at the cheaper sibling's effective price for
  ``RIGHT_SIZE_SHARE`` of the traffic.
- ``batch``: on-demand tokens of non-interactive callers (roles, service principals, per
  ``domain.identity``) at the batch discount (50 %).
- ``global-routing``: regional-scope tokens of models whose global endpoint is cheaper
  (the 10 % regional premium), at the observed (or catalog) global price.
- ``provisioned-utilisation``: model-unit hours paid above the on-demand cost of the tokens
  they served.
- ``cache-write-1h-unread``: one-hour cache writes of a model whose cache is never read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from bedrock_cost.domain.alerts import Alert
from bedrock_cost.domain.identity import identify

Kind = Literal[
    "prompt-caching", "right-sizing", "batch", "global-routing", "provisioned-utilisation", "cache-write-1h-unread"
]
Confidence = Literal["high", "medium", "low"]
ZERO = Decimal(0)
MILLION = Decimal(1_000_000)
CENT = Decimal("0.01")

MIN_SAVING_USD = Decimal(10)
"""Monthly savings below this are noise, not advice."""
CACHE_MIN_INPUT_TOKENS_MONTH = 50_000_000
CACHE_LOW_READ_SHARE = Decimal("0.2")
CACHE_TARGET_SHARE = Decimal("0.3")
SHORT_OUTPUT_RATIO = Decimal("0.05")
RIGHT_SIZE_SHARE = Decimal("0.5")
BATCH_DISCOUNT = Decimal("0.5")
SMALLER: Mapping[str, str] = {
    "Claude Opus 4.6": "Claude Sonnet 4.6",
    "Claude Opus 4.5": "Claude Sonnet 4.5",
    "Claude Opus 4.1": "Claude Sonnet 4.5",
    "Claude Opus 4": "Claude Sonnet 4",
    "Claude Sonnet 4.6": "Claude Haiku 4.5",
    "Claude Sonnet 4.5": "Claude Haiku 4.5",
    "Claude Sonnet 4": "Claude Haiku 4.5",
    "Nova Pro": "Nova Lite",
    "Llama 3.1 405B": "Llama 3.3 70B",
}
"""Large model -> the cheaper model of the same family to try for short-output work."""

PriceLookup = Callable[[str, str, str], Decimal | None]
"""(model, usage kind, scope) -> catalog USD per 1M tokens, for keys the bill lacks."""


@dataclass(frozen=True)
class UsageLine:
    model: str
    principal: str | None
    usage_kind: str
    tier: str
    scope: str
    tokens: int
    cost_usd: Decimal
    cache_write_1h: bool = False


@dataclass(frozen=True)
class ProvisionedUse:
    """Model-unit hours paid for one model and the tokens its provisioned endpoint served."""

    model: str
    hours_cost_usd: Decimal
    tokens_served: Mapping[str, int]
    """usage kind -> tokens (from the metrics clock for the provisioned model's ARN)."""


@dataclass(frozen=True)
class Recommendation:
    kind: Kind
    subject: str
    saving_usd_month: Decimal
    confidence: Confidence
    evidence: str
    spend_usd_month: Decimal
    """The spend the saving comes from (the saving never exceeds it)."""


def _per_million(cost: Decimal, tokens: int) -> Decimal | None:
    return cost * MILLION / tokens if tokens > 0 else None


def _usd(value: Decimal) -> str:
    return f"${value.quantize(CENT):,}"


def _price(value: Decimal) -> str:
    return f"${value.quantize(Decimal('0.001')).normalize():f}/1M"


class _Model:
    """Sums of one model's on-demand-style token usage by (kind, scope)."""

    def __init__(self) -> None:
        self.tokens: dict[tuple[str, str], int] = defaultdict(int)
        self.cost: dict[tuple[str, str], Decimal] = defaultdict(Decimal)

    def add(self, line: UsageLine) -> None:
        self.tokens[(line.usage_kind, line.scope)] += line.tokens
        self.cost[(line.usage_kind, line.scope)] += line.cost_usd

    def kind_tokens(self, kind: str) -> int:
        return sum(t for (k, _), t in self.tokens.items() if k == kind)

    def kind_cost(self, kind: str) -> Decimal:
        return sum((c for (k, _), c in self.cost.items() if k == kind), ZERO)

    def price(self, kind: str, scope: str | None = None) -> Decimal | None:
        keys = [k for k in self.tokens if k[0] == kind and (scope is None or k[1] == scope)]
        return _per_million(sum((self.cost[k] for k in keys), ZERO), sum(self.tokens[k] for k in keys))


def recommend(
    lines: Iterable[UsageLine],
    *,
    month_factor: Decimal,
    catalog_price: PriceLookup,
    provisioned: Sequence[ProvisionedUse] = (),
) -> list[Recommendation]:
    """Every recommendation the data calls for, largest saving first.

    ``month_factor`` scales the period's observed figures to a month (days in the month /
    days billed)."""
    usage = list(lines)
    models: dict[str, _Model] = defaultdict(_Model)
    for line in usage:
        if line.tier in {"on-demand", "long-context"} and line.tokens > 0:
            models[line.model].add(line)
    out = [
        rec
        for name in sorted(models)
        for rule in _PER_MODEL_RULES
        if (rec := rule(name, models, month_factor, catalog_price)) is not None
    ]
    out += _batch(usage, month_factor)
    out += _provisioned(provisioned, models, month_factor, catalog_price)
    out += _cache_1h(usage, models, month_factor)
    kept = [r for r in out if r.saving_usd_month >= MIN_SAVING_USD]
    for rec in kept:
        if rec.saving_usd_month > rec.spend_usd_month:
            raise AssertionError(f"{rec.kind} {rec.subject}: saving above its spend")  # a rule bug, loudly
    return sorted(kept, key=lambda r: (-r.saving_usd_month, r.kind, r.subject))


def _caching(name: str, models: Mapping[str, _Model], factor: Decimal, catalog: PriceLookup) -> Recommendation | None:
    """Only models that support prompt caching: a cache-read price in the bill or the catalog."""
    m = models[name]
    inputs, reads = m.kind_tokens("input"), m.kind_tokens("cache-read")
    if inputs * factor < CACHE_MIN_INPUT_TOKENS_MONTH:
        return None
    share = Decimal(reads) / (inputs + reads)
    input_price, read_price = m.price("input"), m.price("cache-read")
    if read_price is None:
        listed_in, listed_read = catalog(name, "input", "global"), catalog(name, "cache-read", "global")
        if input_price is not None and listed_in and listed_read:
            read_price = input_price * listed_read / listed_in
    if share >= CACHE_LOW_READ_SHARE or input_price is None or read_price is None:
        return None
    spend = m.kind_cost("input") * factor
    saving = spend * CACHE_TARGET_SHARE * (1 - read_price / input_price)
    return Recommendation(
        "prompt-caching",
        name,
        min(saving, spend),
        "medium",
        f"{int(inputs * factor / 1_000_000):,}M input tokens a month, {share * 100:.1f} % read from cache; "
        f"caching {CACHE_TARGET_SHARE * 100:.0f} % of it at {_price(read_price)} "
        f"instead of {_price(input_price)}",
        spend,
    )


def _right_sizing(
    name: str, models: Mapping[str, _Model], factor: Decimal, catalog: PriceLookup
) -> Recommendation | None:
    m = models[name]
    smaller = SMALLER.get(name)
    inputs, outputs = m.kind_tokens("input"), m.kind_tokens("output")
    if smaller is None or inputs == 0 or Decimal(outputs) / inputs >= SHORT_OUTPUT_RATIO:
        return None
    spend = (m.kind_cost("input") + m.kind_cost("output")) * factor
    small = models.get(smaller)
    small_in = (small.price("input") if small else None) or catalog(smaller, "input", "regional")
    small_out = (small.price("output") if small else None) or catalog(smaller, "output", "regional")
    if small_in is None or small_out is None:
        return None
    cheaper = (Decimal(inputs) * small_in + Decimal(outputs) * small_out) / MILLION * factor
    saving = max(ZERO, (spend - cheaper) * RIGHT_SIZE_SHARE)
    ratio = Decimal(outputs) / inputs * 100
    return Recommendation(
        "right-sizing",
        f"{name} -> {smaller}",
        min(saving, spend),
        "low",
        f"{name} writes {ratio:.1f} output tokens per 100 input (short answers); {smaller} bills "
        f"{_price(small_in)} in / {_price(small_out)} out here; half the traffic moved",
        spend,
    )


def _batch(usage: Sequence[UsageLine], factor: Decimal) -> list[Recommendation]:
    spend: dict[str, Decimal] = defaultdict(Decimal)
    for line in usage:
        if line.tier != "on-demand" or line.usage_kind not in {"input", "output"} or not line.principal:
            continue
        who = identify(line.principal)
        if who.kind == "role":
            spend[who.user] += line.cost_usd
    out = []
    for user, cost in sorted(spend.items()):
        monthly = cost * factor
        out.append(
            Recommendation(
                "batch",
                user,
                monthly * BATCH_DISCOUNT,
                "medium",
                f"workload role {user} spends {_usd(monthly)} a month on on-demand tokens; batch inference "
                f"bills {BATCH_DISCOUNT * 100:.0f} % less for work that can wait up to 24 h",
                monthly,
            )
        )
    return out


def _global_routing(
    name: str, models: Mapping[str, _Model], factor: Decimal, catalog: PriceLookup
) -> Recommendation | None:
    m = models[name]
    spend, saving = ZERO, ZERO
    for kind in ("input", "output", "cache-read", "cache-write"):
        regional = m.price(kind, "regional")
        if regional is None:
            continue
        glob = m.price(kind, "global")
        listed_r, listed_g = catalog(name, kind, "regional"), catalog(name, kind, "global")
        if glob is None and listed_r and listed_g:
            glob = regional * listed_g / listed_r
        if glob is None or glob >= regional:
            continue
        cost = m.cost[(kind, "regional")] * factor
        spend += cost
        saving += cost * (1 - glob / regional)
    if saving <= 0:
        return None
    return Recommendation(
        "global-routing",
        name,
        min(saving, spend),
        "high",
        f"{_usd(spend)} a month through regional endpoints that bill "
        f"{(saving / spend * 100):.1f} % above the global profile (global.* model ids)",
        spend,
    )


_ModelRule = Callable[[str, Mapping[str, _Model], Decimal, PriceLookup], Recommendation | None]
_PER_MODEL_RULES: tuple[_ModelRule, ...] = (_caching, _right_sizing, _global_routing)
"""Rules judged model by model (over the on-demand-style usage of ``recommend``)."""


def _provisioned(
    provisioned: Sequence[ProvisionedUse], models: Mapping[str, _Model], factor: Decimal, catalog: PriceLookup
) -> list[Recommendation]:
    out = []
    for use in provisioned:
        on_demand = ZERO
        for kind, tokens in use.tokens_served.items():
            observed = models[use.model].price(kind) if use.model in models else None
            price = observed or catalog(use.model, kind, "regional")
            if price is None:
                break
            on_demand += Decimal(tokens) * price / MILLION
        else:
            paid = use.hours_cost_usd * factor
            saving = paid - on_demand * factor
            if saving > 0:
                out.append(
                    Recommendation(
                        "provisioned-utilisation",
                        use.model,
                        min(saving, paid),
                        "high",
                        f"{_usd(paid)} a month of model-unit hours served tokens worth {_usd(on_demand * factor)} "
                        f"on demand ({(on_demand / use.hours_cost_usd * 100):.1f} % utilised)",
                        paid,
                    )
                )
    return out


def _cache_1h(usage: Sequence[UsageLine], models: Mapping[str, _Model], factor: Decimal) -> list[Recommendation]:
    """One-hour writes with no cache read through the same endpoint scope (global/regional)."""
    writes: dict[tuple[str, str], tuple[int, Decimal]] = {}
    reads: dict[tuple[str, str], int] = defaultdict(int)
    for line in usage:
        if line.usage_kind == "cache-write" and line.cache_write_1h and line.tokens > 0:
            tokens, cost = writes.get((line.model, line.scope), (0, ZERO))
            writes[(line.model, line.scope)] = (tokens + line.tokens, cost + line.cost_usd)
        elif line.usage_kind == "cache-read":
            reads[(line.model, line.scope)] += line.tokens
    out = []
    for (name, scope), (tokens, cost) in sorted(writes.items()):
        if reads[(name, scope)] > 0:
            continue
        spend = cost * factor
        input_price = models[name].price("input") if name in models else None
        plain = Decimal(tokens) * input_price / MILLION * factor if input_price else ZERO
        out.append(
            Recommendation(
                "cache-write-1h-unread",
                f"{name} ({scope})",
                min(max(ZERO, spend - plain), spend),
                "high",
                f"{tokens:,} tokens written to the 1-hour cache ({_usd(spend)} a month) and none read back "
                f"through the {scope} endpoint: send them as plain input or use the 5-minute cache",
                spend,
            )
        )
    return out


DIGEST_WEEKDAY = 0
"""The daily reporter sends the ``recommendations`` digest on Mondays (UTC), once a week."""
DIGEST_ROWS = 5


def is_digest_day(day: date) -> bool:
    return day.weekday() == DIGEST_WEEKDAY


def digest_alert(items: Sequence[Recommendation], spend_usd_month: Decimal, period: str, day: date) -> Alert | None:
    """The weekly Slack digest: total saving, the largest rows one line each; once per ISO week."""
    if not items:
        return None
    year, week, _ = day.isocalendar()
    total = sum((r.saving_usd_month for r in items), ZERO)
    return Alert(
        kind="recommendations",
        dedupe_key=f"recommendations#{year}-W{week:02d}",
        title=f"{len(items)} ways to save {_usd(total)} a month on Bedrock",
        severity="info",
        period=period,
        figures={
            "monthly_saving_usd": str(total.quantize(CENT)),
            "monthly_spend_usd": str(spend_usd_month.quantize(CENT)),
            "recommendations": str(len(items)),
        },
        details=[
            f"{r.kind} · {r.subject}: {_usd(r.saving_usd_month)} a month ({r.confidence}) — {r.evidence}"
            for r in items[:DIGEST_ROWS]
        ],
    )
