"""The price catalog: bundled data, precedence, discount, CUR calibration, Price List parsing."""

from __future__ import annotations

import json
from decimal import Decimal
from importlib import resources

import pytest

from bedrock_cost.config import PriceOverride
from bedrock_cost.domain.model_catalog import load_model_catalog
from bedrock_cost.domain.price_list_products import parse_price_list_product, price_key_parts, refresh_layer
from bedrock_cost.domain.pricing import (
    TOKEN_KINDS,
    CatalogError,
    PriceCatalog,
    PriceKey,
    PriceLayer,
    UnitPrice,
    catalog_document,
    cost_usd,
    cur_layer,
    load_bundled_layer,
    override_rules,
    parse_catalog_document,
    previous_period,
)

pytestmark = pytest.mark.unit

D = Decimal
REFERENCE_PRICES = {
    # reference §5, USD per 1M tokens, on demand (global rate for the 4.5 generation)
    "Claude Opus 4": ("15.00", "75.00"),
    "Claude Opus 4.1": ("15.00", "75.00"),
    "Claude Opus 4.5": ("5.00", "25.00"),
    "Claude Opus 4.6": ("5.00", "25.00"),
    "Claude Sonnet 4": ("3.00", "15.00"),
    "Claude Sonnet 4.5": ("3.00", "15.00"),
    "Claude Sonnet 4.6": ("3.00", "15.00"),
    "Claude Haiku 4.5": ("1.00", "5.00"),
    "Claude 3.5 Haiku": ("0.80", "4.00"),
    "Claude 3 Haiku": ("0.25", "1.25"),
    "Nova Pro": ("0.80", "3.20"),
    "Nova Lite": ("0.06", "0.24"),
    "Nova Micro": ("0.035", "0.14"),
    "Llama 3.3 70B": ("0.72", "0.72"),
}
NEWER_CLAUDE = {"Claude Opus 4.5", "Claude Opus 4.6", "Claude Sonnet 4.5", "Claude Sonnet 4.6", "Claude Haiku 4.5"}


def bundled() -> PriceCatalog:
    return PriceCatalog(bundled=load_bundled_layer())


def layer(source: str, prices: dict[tuple[str, str, str, str], str], version: str = "v") -> PriceLayer:
    return PriceLayer(
        source=source,  # type: ignore[arg-type]
        version=version,
        prices={
            PriceKey(m, k, s, t): UnitPrice(D(p), source, "2026-11-01", f"{source} test")  # type: ignore[arg-type]
            for (m, k, s, t), p in prices.items()
        },
    )


# --- bundled file ---------------------------------------------------------------------


@pytest.mark.parametrize(("model", "prices"), sorted(REFERENCE_PRICES.items()))
def test_bundled_catalog_has_the_reference_list_prices(model: str, prices: tuple[str, str]) -> None:
    # Given the bundled catalog
    catalog = bundled()
    # When a reference model is priced on demand at the global rate
    price_in = catalog.price(model, "input", "global")
    price_out = catalog.price(model, "output", "global")
    # Then the prices are the reference snapshot, sourced from the bundle
    assert price_in is not None
    assert price_out is not None
    assert (price_in.usd_per_million, price_out.usd_per_million) == (D(prices[0]), D(prices[1]))
    assert price_in.source == "bundled"


def test_every_bundled_model_is_a_readable_name_from_models_json() -> None:
    # Given the alias table and the bundled catalog
    names = {info.model for info in load_model_catalog().aliases.values()}
    # Then every priced model is one of its readable names (never a raw id)
    assert set(bundled().models()) <= names


def test_bundled_entries_carry_source_and_date() -> None:
    raw = json.loads(resources.files("bedrock_cost.data").joinpath("prices.json").read_text("utf-8"))
    assert raw["version"]
    for entry in raw["entries"]:
        assert entry["source"].startswith("https://aws.amazon.com/bedrock/pricing/")
        assert entry["as_of"] == raw["version"]


@pytest.mark.parametrize("model", sorted(REFERENCE_PRICES))
def test_bundled_multipliers_follow_the_reference(model: str) -> None:
    # Given any reference model in the bundled catalog
    catalog = bundled()

    def p(kind: str, scope: str = "global", tier: str = "on-demand") -> Decimal | None:
        price = catalog.price(model, kind, scope, tier)  # type: ignore[arg-type]
        return price.usd_per_million if price else None

    base = p("input")
    assert base is not None
    # Then batch is half of on demand, for every kind and scope
    for kind in TOKEN_KINDS:
        for scope in ("global", "regional"):
            on_demand = p(kind, scope)
            if on_demand is not None:
                assert p(kind, scope, "batch") == on_demand * D("0.5")
    # And regional endpoints of 4.5-generation Claude cost 1.1x the global rate, others the same
    factor = D("1.1") if model in NEWER_CLAUDE else D(1)
    assert p("input", "regional") == base * factor
    assert p("output", "regional") == p("output") * factor  # type: ignore[operator]
    # And cache prices follow the family's multipliers
    if model.startswith("Claude"):
        assert p("cache-write") == base * D("1.25")
        assert p("cache-read") == base * D("0.1")
    elif model.startswith("Nova"):
        assert p("cache-read") == base * D("0.25")
    else:
        assert p("cache-read") is None


def test_an_unknown_model_has_no_price_rather_than_zero() -> None:
    assert bundled().price("acme.mystery-model-v1", "input", "regional") is None


# --- precedence and discount --------------------------------------------------------------


def test_precedence_is_override_then_cur_then_refresh_then_bundled() -> None:
    # Given the same key priced by all four sources
    key = ("Claude Sonnet 4.6", "input", "regional", "on-demand")
    catalog = PriceCatalog(
        bundled=layer("bundled", {key: "3.30"}),
        refresh=layer("refresh", {key: "3.20"}),
        cur=layer("cur", {key: "2.90"}),
        overrides=override_rules(
            [PriceOverride(model="Claude Sonnet 4.6", usage_kind="input", usd_per_million=D("2.5"))]
        ),
    )
    # When it is priced, the override wins and the others are listed as shadowed
    entry = catalog.entry(PriceKey(*key))  # type: ignore[arg-type]
    assert entry is not None
    assert (entry.price.source, entry.price.usd_per_million) == ("override", D("2.5"))
    assert [p.source for p in entry.shadowed] == ["cur", "refresh", "bundled"]
    # And without the override, CUR wins; without CUR, the refresh; without it, the bundle
    assert PriceCatalog(bundled=catalog.bundled, refresh=catalog.refresh, cur=catalog.cur).price(*key).source == "cur"  # type: ignore[union-attr,arg-type]
    assert PriceCatalog(bundled=catalog.bundled, refresh=catalog.refresh).price(*key).source == "refresh"  # type: ignore[union-attr,arg-type]
    assert PriceCatalog(bundled=catalog.bundled).price(*key).source == "bundled"  # type: ignore[union-attr,arg-type]


def test_discount_applies_to_list_prices_only() -> None:
    # Given a 10 % negotiated discount and prices from each source
    k_bundled = ("Nova Pro", "input", "regional", "on-demand")
    k_cur = ("Nova Lite", "input", "regional", "on-demand")
    k_override = ("Nova Micro", "input", "regional", "on-demand")
    catalog = PriceCatalog(
        bundled=layer("bundled", {k_bundled: "0.80", k_cur: "0.06", k_override: "0.035"}),
        cur=layer("cur", {k_cur: "0.05"}),
        overrides=override_rules([PriceOverride(model="Nova Micro", usage_kind="input", usd_per_million=D("0.03"))]),
        discount_pct=D("10"),
    )
    # Then list prices are discounted, CUR (already effective) and overrides are not
    assert catalog.price(*k_bundled).usd_per_million == D("0.72")  # type: ignore[union-attr,arg-type]
    assert catalog.price(*k_cur).usd_per_million == D("0.05")  # type: ignore[union-attr,arg-type]
    assert catalog.price(*k_override).usd_per_million == D("0.03")  # type: ignore[union-attr,arg-type]
    entry = catalog.entry(PriceKey(*k_bundled))  # type: ignore[arg-type]
    assert entry is not None
    assert entry.list_price == D("0.80")


def test_override_by_alias_and_most_specific_override_wins() -> None:
    # Given a general override by model id and a specific one for the global scope
    rules = override_rules(
        [
            PriceOverride(model="anthropic.claude-sonnet-4-6", usage_kind="output", usd_per_million=D("12")),
            PriceOverride(model="Claude Sonnet 4.6", usage_kind="output", usd_per_million=D("11"), scope="global"),
        ],
        {alias: info.model for alias, info in load_model_catalog().aliases.items()},
    )
    catalog = PriceCatalog(bundled=load_bundled_layer(), overrides=rules)
    # Then the alias resolved to the readable name, and global uses the specific rule
    assert catalog.price("Claude Sonnet 4.6", "output", "regional").usd_per_million == D("12")  # type: ignore[union-attr]
    assert catalog.price("Claude Sonnet 4.6", "output", "global").usd_per_million == D("11")  # type: ignore[union-attr]
    assert catalog.price("Claude Sonnet 4.6", "output", "global").reference == "config.pricing.overrides[1]"  # type: ignore[union-attr]


def test_an_override_can_price_a_model_the_catalog_lacks() -> None:
    rules = override_rules([PriceOverride(model="acme.mystery-model-v1", usage_kind="input", usd_per_million=D("1"))])
    catalog = PriceCatalog(bundled=load_bundled_layer(), overrides=rules)
    assert catalog.price("acme.mystery-model-v1", "input", "regional").usd_per_million == D(1)  # type: ignore[union-attr]
    assert "acme.mystery-model-v1" in catalog.models()


def test_catalog_version_names_every_layer() -> None:
    catalog = PriceCatalog(
        bundled=load_bundled_layer(),
        cur=layer("cur", {("Nova Pro", "input", "regional", "on-demand"): "0.7"}, version="2026-10"),
        discount_pct=D("5"),
    )
    assert catalog.calibrated
    assert catalog.version == f"bundled:{load_bundled_layer().version};cur:2026-10;discount:5%"


# --- documents --------------------------------------------------------------------------


def _doc(**entry: object) -> dict[str, object]:
    base: dict[str, object] = {
        "model": "Nova Pro",
        "scope": "regional",
        "tier": "on-demand",
        "usd_per_million": {"input": "0.8"},
        "source": "test",
        "as_of": "2026-11-01",
    }
    base.update(entry)
    return {"format": 1, "version": "t", "entries": [base]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"scope": "planet"}, "'scope' must be one of"),
        ({"tier": "gold"}, "'tier' must be one of"),
        ({"usd_per_million": {"input": "-1"}}, "finite number >= 0"),
        ({"usd_per_million": {"input": 0.8}}, "decimal string"),
        ({"usd_per_million": {"tokens": "1"}}, "unknown usage kind"),
        ({"source": ""}, "'source' and 'as_of'"),
    ],
)
def test_a_malformed_catalog_entry_is_rejected_with_its_position(change: dict[str, object], message: str) -> None:
    with pytest.raises(CatalogError, match=message) as info:
        parse_catalog_document(_doc(**change), "refresh")
    assert "entries[0]" in str(info.value)


def test_a_document_round_trips_through_catalog_document() -> None:
    # Given a layer serialised to a document
    original = load_bundled_layer()
    text = json.dumps(catalog_document(original, "copy"))
    # When parsed back, every price is the same
    again = parse_catalog_document(json.loads(text), "bundled")
    assert again.prices == original.prices


def test_wrong_format_is_rejected() -> None:
    with pytest.raises(CatalogError, match="unsupported catalog format"):
        parse_catalog_document({"format": 2, "version": "x", "entries": []}, "bundled")


# --- CUR calibration --------------------------------------------------------------------


def test_cur_layer_prefers_the_current_period_once_it_has_volume() -> None:
    # Given observed unit prices for two periods, the current one thin for one model
    rows = [
        {
            "billing_period": "2026-10",
            "model": "Nova Pro",
            "usage_kind": "input",
            "scope": "regional",
            "tier": "on-demand",
            "tokens": 5_000_000,
            "usd_per_million": "0.72",
        },
        {
            "billing_period": "2026-11",
            "model": "Nova Pro",
            "usage_kind": "input",
            "scope": "regional",
            "tier": "on-demand",
            "tokens": 900_000,
            "usd_per_million": "0.70",
        },
        {
            "billing_period": "2026-10",
            "model": "Nova Lite",
            "usage_kind": "input",
            "scope": "regional",
            "tier": "on-demand",
            "tokens": 5_000_000,
            "usd_per_million": "0.055",
        },
        {
            "billing_period": "2026-11",
            "model": "Nova Lite",
            "usage_kind": "input",
            "scope": "regional",
            "tier": "on-demand",
            "tokens": 10,
            "usd_per_million": "9.99",
        },
        {
            "billing_period": "2026-11",
            "model": "Nova Lite",
            "usage_kind": "other",
            "scope": "regional",
            "tier": "on-demand",
            "tokens": 10_000_000,
            "usd_per_million": "1",
        },
    ]
    # When the layer is built
    cur = cur_layer(rows, "2026-11")
    # Then the newest period with enough tokens wins, noise and non-token kinds are dropped
    nova_pro = cur.prices[PriceKey("Nova Pro", "input", "regional", "on-demand")]
    nova_lite = cur.prices[PriceKey("Nova Lite", "input", "regional", "on-demand")]
    assert (nova_pro.usd_per_million, nova_pro.as_of) == (D("0.70"), "2026-11")
    assert (nova_lite.usd_per_million, nova_lite.as_of) == (D("0.055"), "2026-10")
    assert len(cur.prices) == 2
    assert cur.version == "2026-10,2026-11"


def test_previous_period_wraps_the_year() -> None:
    assert previous_period("2026-01") == "2025-12"
    assert previous_period("2026-11") == "2026-10"


# --- AWS Price List ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("usage_type", "expected"),
    [
        ("USE1-Claude4.6Sonnet-input-tokens", ("input", "regional", "on-demand")),
        ("USE1-Claude4.6Sonnet-cache-read-input-token-count", ("cache-read", "regional", "on-demand")),
        ("USE1-Claude4.6Sonnet-cache-write-input-token-count", ("cache-write", "regional", "on-demand")),
        ("USE1-Nova2.0Lite-input-tokens-flex", ("input", "regional", "flex")),
        ("USE1-Llama3-1-405B-output-tokens-batch", ("output", "regional", "batch")),
        ("USE1-NovaPro-input-tokens-latency-optimized", ("input", "regional", "latency-optimized")),
        ("USE1-Claude4Sonnet-input-tokens-cross-region-global", ("input", "global", "on-demand")),
        ("USW2-MP:USW2_InputTokenCount-Units", ("input", "regional", "on-demand")),
        ("USW2-MP:USW2_InputTokenCount_Global-Units", ("input", "global", "on-demand")),
        ("USW2-MP:USW2_CacheReadInputTokenCount-Units", ("cache-read", "regional", "on-demand")),
        ("USW2-MP:USW2_InputTokenCount_Batch-Units", ("input", "regional", "batch")),
        ("USW2-MP:USW2_CacheWrite1hInputTokenCount_Global-Units", None),
        ("USE1-Claude4Sonnet-input-tokens-long-context-cross-region-global", None),
        ("EU-Claude4.5Sonnet-reserved-1-month-input-tokens-per-minute-cross-region-global", None),
        ("USE1-openai.gpt-oss-120b-mantle-input-tokens-standard", None),
        ("USW2-MP:USW2_Created_image-Units", None),
    ],
)
def test_usage_types_are_classified_or_skipped(usage_type: str, expected: tuple[str, str, str] | None) -> None:
    assert price_key_parts(usage_type) == expected


def _product(attributes: dict[str, str], unit: str, usd: str) -> dict[str, object]:
    return {
        "product": {"productFamily": "Amazon Bedrock", "attributes": attributes, "sku": "SKU1"},
        "terms": {
            "OnDemand": {
                "SKU1.TERM": {
                    "effectiveDate": "2026-11-01T00:00:00Z",
                    "priceDimensions": {"SKU1.TERM.RATE": {"unit": unit, "pricePerUnit": {"USD": usd}}},
                }
            }
        },
        "publicationDate": "2026-11-20T00:00:00Z",
    }


def _resolve(name: str) -> str | None:
    info = load_model_catalog().resolve(name)
    return info.model if info else None


def test_first_party_price_per_1k_tokens_becomes_per_million() -> None:
    product = _product(
        {"usagetype": "USE1-NovaPro-input-tokens", "servicecode": "AmazonBedrock", "regionCode": "us-east-1"},
        "1K tokens",
        "0.0008000000",
    )
    (price,) = parse_price_list_product(product, _resolve)
    assert price.key == PriceKey("Nova Pro", "input", "regional", "on-demand")
    assert price.usd_per_million == D("0.8")
    assert price.as_of == "2026-11-01"


def test_marketplace_price_per_million_with_the_model_in_servicename() -> None:
    product = _product(
        {
            "usagetype": "USE1-MP:USE1_OutputTokenCount_Global-Units",
            "servicename": "Claude Sonnet 4.6 (Amazon Bedrock Edition)",
            "servicecode": "AmazonBedrockFoundationModels",
        },
        "1M tokens",
        "15.0000000000",
    )
    (price,) = parse_price_list_product(product, _resolve)
    assert price.key == PriceKey("Claude Sonnet 4.6", "output", "global", "on-demand")
    assert price.usd_per_million == D(15)


@pytest.mark.parametrize(
    ("attributes", "unit", "usd"),
    [
        ({"usagetype": "USE1-AcmeModel-input-tokens"}, "1K tokens", "0.001"),  # unknown model
        ({"usagetype": "USE1-NovaPro-input-tokens"}, "Hours", "1.0"),  # unknown unit
        ({"usagetype": "USE1-NovaPro-input-tokens"}, "1K tokens", "0"),  # zero is no price
        ({"usagetype": "USE1-NovaPro-ProvisionedThroughput-ModelUnits"}, "Hours", "20"),
    ],
)
def test_products_we_cannot_price_yield_nothing(attributes: dict[str, str], unit: str, usd: str) -> None:
    assert parse_price_list_product(_product(attributes, unit, usd), _resolve) == []


def test_refresh_layer_keeps_the_first_price_per_key() -> None:
    product = _product({"usagetype": "USE1-NovaPro-input-tokens"}, "1K tokens", "0.0008")
    twice = parse_price_list_product(product, _resolve) * 2
    refreshed = refresh_layer(twice, "2026-11-24")
    assert len(refreshed.prices) == 1
    assert next(iter(refreshed.prices.values())).source == "refresh"


def test_cost_is_exact_for_a_realistic_figure() -> None:
    # 1,234,567 input tokens of Claude Sonnet 4.6 (regional, 3.30 per 1M)
    assert cost_usd(1_234_567, D("3.30")) == D("4.0740711")
