"""Prompt caching per caller from invocation logs: fires on large uncached prompts, silent otherwise."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bedrock_cost.domain.request_recommendations import CallerPrompts, caching_by_caller

pytestmark = pytest.mark.unit
IN, READ = Decimal("3.3"), Decimal("0.33")


def caller(requests: int = 1_000, tokens_each: int = 20_000, read_each: int = 0, **kw: object) -> CallerPrompts:
    tokens = requests * tokens_each
    fields: dict[str, object] = {
        "user": "rag-worker",
        "model": "Claude Sonnet 4.6",
        "requests": requests,
        "input_tokens": tokens,
        "cache_read_tokens": requests * read_each,
        "input_cost_usd": Decimal(tokens) * IN / 1_000_000,
        "input_usd_per_million": IN,
        "cache_read_usd_per_million": READ,
        **kw,
    }
    return CallerPrompts(**fields)  # type: ignore[arg-type]


def test_a_caller_with_many_large_uncached_prompts_gets_a_saving_with_its_evidence():
    # Given 1,000 prompts of 20K uncached tokens in the logged days, scaled x3 to a month
    [rec] = caching_by_caller([caller()], Decimal(3))
    # Then saving = input spend x 30 % x (1 - read/input price), below the spend it comes from
    spend = Decimal(20_000_000) * IN / 1_000_000 * 3
    assert rec.spend_usd_month == spend
    assert rec.saving_usd_month == spend * Decimal("0.3") * (1 - READ / IN)
    assert rec.saving_usd_month < rec.spend_usd_month
    assert rec.subject == "rag-worker · Claude Sonnet 4.6"
    assert rec.evidence.startswith("invocation logs: rag-worker sends 3,000 prompts a month")


@pytest.mark.parametrize(
    "quiet",
    [
        caller(read_each=10_000),  # a third already read from cache
        caller(requests=90),  # not a pattern: 270 a month
        caller(cache_read_usd_per_million=None),  # the model has no prompt caching
        caller(requests=300, tokens_each=4_000, input_cost_usd=Decimal(1)),  # below the $10 floor
    ],
)
def test_silent_when_the_data_does_not_call_for_it(quiet):
    assert caching_by_caller([quiet], Decimal(3)) == []
