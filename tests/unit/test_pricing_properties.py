"""Properties of the cost maths, checked against exact rational arithmetic."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bedrock_cost.domain.estimate import Counts, price_counts
from bedrock_cost.domain.model_resolution import ResolvedModel
from bedrock_cost.domain.pricing import (
    PriceCatalog,
    PriceKey,
    PriceLayer,
    UnitPrice,
    apply_discount,
    cost_usd,
    money_sum,
)

pytestmark = pytest.mark.unit

tokens = st.integers(min_value=0, max_value=10**13)
prices = st.decimals(min_value=Decimal(0), max_value=Decimal(1000), places=6, allow_nan=False, allow_infinity=False)
discounts = st.decimals(min_value=Decimal(0), max_value=Decimal("99.99"), places=2, allow_nan=False)


@given(tokens, prices)
def test_cost_is_tokens_times_price_over_a_million_exactly(n: int, price: Decimal) -> None:
    # Given any token count and any price with up to 6 decimals
    # When the cost is computed
    cost = cost_usd(n, price)
    # Then it equals the exact rational result (no rounding happened)
    assert Fraction(cost) == Fraction(n) * Fraction(price) / 1_000_000


@given(tokens, tokens, prices)
def test_cost_is_additive_over_token_counts(a: int, b: int, price: Decimal) -> None:
    # Splitting usage into two windows never changes the total
    assert cost_usd(a + b, price) == money_sum([cost_usd(a, price), cost_usd(b, price)])


@given(tokens, prices, discounts, discounts)
def test_a_bigger_discount_never_costs_more(n: int, price: Decimal, d1: Decimal, d2: Decimal) -> None:
    low, high = sorted((d1, d2))
    assert cost_usd(n, apply_discount(price, high)) <= cost_usd(n, apply_discount(price, low))
    assert Fraction(apply_discount(price, low)) == Fraction(price) * (100 - Fraction(low)) / 100


@given(st.lists(st.tuples(tokens, prices), max_size=30))
def test_money_sum_is_exact(items: list[tuple[int, Decimal]]) -> None:
    costs = [cost_usd(n, p) for n, p in items]
    assert Fraction(money_sum(costs)) == sum((Fraction(c) for c in costs), Fraction(0))


@given(tokens, tokens, tokens, tokens, prices, prices, prices, prices)
def test_a_minute_costs_the_sum_of_its_token_kinds(
    i: int, o: int, r: int, w: int, pi: Decimal, po: Decimal, pr: Decimal, pw: Decimal
) -> None:
    # Given a model priced for all four kinds
    key_prices = {"input": pi, "output": po, "cache-read": pr, "cache-write": pw}
    layer = PriceLayer(
        source="bundled",
        version="t",
        prices={
            PriceKey("M", kind, "regional", "on-demand"): UnitPrice(p, "bundled", "t")  # type: ignore[arg-type]
            for kind, p in key_prices.items()
        },
    )
    model = ResolvedModel("m", "M", "p", known=True, scope="regional", id_kind="model")
    # When one minute of usage is priced
    priced = price_counts(Counts(input=i, output=o, cache_read=r, cache_write=w), model, PriceCatalog(bundled=layer))
    # Then the cost is exactly the sum over kinds, and nothing is unpriced
    expected = sum(Fraction(n) * Fraction(p) for n, p in [(i, pi), (o, po), (r, pr), (w, pw)]) / 1_000_000
    assert Fraction(priced.cost) == expected
    assert priced.unpriced_tokens == 0
