"""Prompt caching per caller, from invocation logs: the per-request sharpening of the bill's rule.

The bill's ``prompt-caching`` rule (:mod:`bedrock_cost.domain.recommendations`) sees a
model's input in aggregate: it cannot tell one caller resending a 20K-token prompt all day
from a thousand callers sending small ones. Invocation logs can: per user (the shared
identity rule) and model they show how many requests carried a large prompt
(``LARGE_PROMPT_TOKENS`` or more on the input side) and how little of it was read from
cache. Prompts themselves are not logged (data delivery off), so *repeated* is inferred
from volume: a caller with many large prompts to one model and a low cache-read share is
the one whose system prompt or context is worth a cache point. The saving is what
``CACHE_TARGET_SHARE`` of those requests' input would save at the cache-read price, from
the request-log clock's own prices, scaled to a month, and never above that input spend.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from bedrock_cost.domain.recommendations import (
    CACHE_LOW_READ_SHARE,
    CACHE_TARGET_SHARE,
    MIN_SAVING_USD,
    Recommendation,
)

LARGE_PROMPT_TOKENS: Final = 4_000
"""Input-side tokens (input + cache read + cache write) from which a prompt is worth caching."""
MIN_LARGE_REQUESTS_MONTH: Final = 300
"""Fewer large prompts a month than this are not a pattern (about ten a day)."""
CENT: Final = Decimal("0.01")


@dataclass(frozen=True)
class CallerPrompts:
    """One user's large-prompt requests to one model in the logs' days, priced by the request clock."""

    user: str
    model: str
    requests: int
    input_tokens: int
    cache_read_tokens: int
    input_cost_usd: Decimal
    """What the uncached input of these requests cost."""
    input_usd_per_million: Decimal
    cache_read_usd_per_million: Decimal | None
    """``None``: the model has no cache-read price (no prompt caching), so no advice."""


def caching_by_caller(callers: Iterable[CallerPrompts], month_factor: Decimal) -> list[Recommendation]:
    """``prompt-caching`` rows per user and model, largest saving first."""
    out = []
    for c in callers:
        requests = Decimal(c.requests) * month_factor
        if requests < MIN_LARGE_REQUESTS_MONTH or c.cache_read_usd_per_million is None or c.input_tokens <= 0:
            continue
        share = Decimal(c.cache_read_tokens) / (c.input_tokens + c.cache_read_tokens)
        if share >= CACHE_LOW_READ_SHARE or c.cache_read_usd_per_million >= c.input_usd_per_million:
            continue
        spend = c.input_cost_usd * month_factor
        saving = min(spend, spend * CACHE_TARGET_SHARE * (1 - c.cache_read_usd_per_million / c.input_usd_per_million))
        if saving < MIN_SAVING_USD:
            continue
        average = c.input_tokens // max(c.requests, 1)
        monthly = int(requests.to_integral_value())
        out.append(
            Recommendation(
                "prompt-caching",
                f"{c.user} · {c.model}",
                saving,
                "medium",
                f"invocation logs: {c.user} sends {monthly:,} prompts a month of {LARGE_PROMPT_TOKENS:,}+ "
                f"tokens to {c.model} (average {average:,} uncached input), {share * 100:.1f} % read from cache; "
                f"a cache point on the repeated prefix reads {CACHE_TARGET_SHARE * 100:.0f} % of it at "
                f"${c.cache_read_usd_per_million.normalize():f}/1M instead of "
                f"${c.input_usd_per_million.normalize():f}/1M",
                spend,
            )
        )
    return sorted(out, key=lambda r: (-r.saving_usd_month, r.subject))
