"""Every recommendation kind fires on data that calls for it and stays silent otherwise."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bedrock_cost.domain.pricing import PriceCatalog, load_bundled_layer
from bedrock_cost.domain.recommendations import ProvisionedUse, UsageLine, recommend

pytestmark = pytest.mark.unit

CATALOG = PriceCatalog(bundled=load_bundled_layer())
ROLE = "arn:aws:sts::111111111111:assumed-role/nightly-etl/run-42"
PERSON = "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_Dev_abc/alice@example.com"


def price(model: str, kind: str, scope: str) -> Decimal | None:
    found = CATALOG.price(model, kind, scope)  # type: ignore[arg-type]
    return None if found is None else found.usd_per_million


def line(model: str, kind: str, tokens: int, per_million: str, **kw: object) -> UsageLine:
    cost = Decimal(tokens) * Decimal(per_million) / 1_000_000
    fields: dict[str, object] = {"principal": PERSON, "tier": "on-demand", "scope": "global", **kw}
    return UsageLine(model=model, usage_kind=kind, tokens=tokens, cost_usd=cost, **fields)  # type: ignore[arg-type]


def kinds(lines: list[UsageLine], **kw: object) -> dict[str, Decimal]:
    recs = recommend(lines, month_factor=Decimal(1), catalog_price=price, **kw)  # type: ignore[arg-type]
    for rec in recs:
        assert rec.saving_usd_month <= rec.spend_usd_month
        assert rec.evidence
        assert "\n" not in rec.evidence
    return {r.kind: r.saving_usd_month for r in recs}


SONNET = "Claude Sonnet 4.6"


def test_prompt_caching_fires_on_large_uncached_input_and_not_when_cached():
    big = [line(SONNET, "input", 200_000_000, "3"), line(SONNET, "output", 40_000_000, "15")]
    # 30 % of $600 input read at 0.30 instead of 3.00: 180 x 0.9 = 162
    assert kinds(big)["prompt-caching"] == Decimal("162.0")
    cached = [*big, line(SONNET, "cache-read", 100_000_000, "0.3")]
    assert "prompt-caching" not in kinds(cached)


def test_right_sizing_fires_on_short_outputs_of_a_large_model_only():
    short = [line("Claude Opus 4.6", "input", 100_000_000, "5"), line("Claude Opus 4.6", "output", 1_000_000, "25")]
    got = kinds(short)
    # Sonnet 4.6 (catalog, regional: 3.30 / 16.50): 500 + 25 = 525 vs 330 + 16.50 = 346.50; half of 178.50
    assert got["right-sizing"] == Decimal("89.25")
    long_answers = [
        line("Claude Opus 4.6", "input", 10_000_000, "5"),
        line("Claude Opus 4.6", "output", 2_000_000, "25"),
    ]
    assert "right-sizing" not in kinds(long_answers)


def test_batch_fires_for_workload_roles_not_for_people():
    role = [
        line(SONNET, "input", 10_000_000, "3", principal=ROLE),
        line(SONNET, "output", 1_000_000, "15", principal=ROLE),
    ]
    assert kinds(role)["batch"] == Decimal("22.5")
    person = [line(SONNET, "input", 10_000_000, "3"), line(SONNET, "output", 1_000_000, "15")]
    assert "batch" not in kinds(person)


def test_global_routing_fires_on_regional_premium_only():
    regional = [line(SONNET, "input", 100_000_000, "3.3", scope="regional"), line(SONNET, "input", 1_000_000, "3")]
    assert kinds(regional)["global-routing"] == Decimal("30.0")  # 330 x (1 - 3/3.3)
    assert "global-routing" not in kinds([line("Nova Pro", "input", 100_000_000, "0.8", scope="regional")])


def test_provisioned_utilisation_fires_when_hours_cost_more_than_the_tokens_served():
    low = ProvisionedUse("Nova Pro", Decimal(1000), {"input": 100_000_000, "output": 10_000_000})
    assert kinds([], provisioned=[low])["provisioned-utilisation"] == Decimal(1000) - Decimal(80) - Decimal(32)
    busy = ProvisionedUse("Nova Pro", Decimal(100), {"input": 100_000_000, "output": 10_000_000})
    assert "provisioned-utilisation" not in kinds([], provisioned=[busy])


def test_one_hour_cache_writes_never_read_fire_and_read_ones_do_not():
    writes = [line(SONNET, "cache-write", 10_000_000, "6", cache_write_1h=True), line(SONNET, "input", 1_000_000, "3")]
    assert kinds(writes)["cache-write-1h-unread"] == Decimal(30)  # $60 of writes vs $30 as plain input
    assert "cache-write-1h-unread" not in kinds([*writes, line(SONNET, "cache-read", 5_000_000, "0.3")])


def test_small_savings_are_not_advice_and_month_factor_scales():
    tiny = [line(SONNET, "input", 1_000_000, "3", principal=ROLE)]
    assert kinds(tiny) == {}
    recs = recommend(tiny, month_factor=Decimal(10), catalog_price=price)
    assert [(r.kind, r.saving_usd_month) for r in recs] == [("batch", Decimal("15.0"))]


def test_prompt_caching_is_not_advised_for_a_model_without_a_cache():
    llama = [line("Llama 3.3 70B", "input", 900_000_000, "0.72"), line("Llama 3.3 70B", "output", 90_000_000, "0.72")]
    assert "prompt-caching" not in kinds(llama)
