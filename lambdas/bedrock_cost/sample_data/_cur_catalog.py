"""The line-item shapes the synthetic CUR generator draws from.

Every row of a generated export is one *template* (who bills it, which product code,
which usage type, which unit, which list price) filled with per-row randomness
(account, hour, quantity, tags, resource, principal). Keeping the shapes here as plain
data lets a reader check them against the billing reference at a glance, and lets the
generator stay a small vectorised loop.

Prices are USD list prices (per 1M tokens unless the unit says otherwise) from a public
snapshot; the multipliers follow Bedrock pricing: cache write 1.25x input (2x for the
one-hour TTL), Claude cache read 0.1x, Nova cache read 0.25x, batch and flex 0.5x,
priority 1.75x, latency-optimized 1.25x, long context 2x input / 1.5x output, and
regional endpoints of Claude 4.5+ models 1.1x the global rate.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib.resources import files
from typing import Any, Final, Literal, cast

Group = Literal["bedrock", "nonusage", "noise"]


@dataclass(frozen=True)
class UnitVariant:
    """One way a row states its unit: the ``pricing_unit`` column, the unit in the
    description (Marketplace rows), and how many base quantities one usage unit is."""

    pricing_unit: str | None
    description_unit: str | None
    divisor: float
    probability: float


@dataclass(frozen=True)
class LineTemplate:
    """One billable shape. ``price`` is USD per base quantity (one token, one hour, ...)."""

    group: Group
    entity: str
    product_code: str
    usage_type: str
    line_item_type: str
    operations: tuple[str, ...]
    region: str
    units: tuple[UnitVariant, ...]
    price: float
    quantity_median: float
    quantity_sigma: float
    integer_quantity: bool
    weight: float
    description: str
    """May hold ``{unit}``, filled from the row's unit variant."""
    product_name: str | None
    product_family_old: str | None
    product_family_new: str | None
    servicecode: str
    product_map_old: dict[str, str] | None
    product_map_new: dict[str, str] | None
    model_arn: str | None = None
    """Foundation-model ARN for model rows; such rows may also bill an inference profile."""
    fixed_resources: tuple[str, ...] = ()
    marketplace_bedrock: bool = False
    """Marketplace Bedrock rows: in newer data the product name may sit only in the map."""
    sign: float = 1.0
    zero_amount: bool = False
    discountable: bool = False
    token_words: str = "Tokens"  # noqa: S105 - unit words, not a secret
    """What the unit counts, for Marketplace descriptions ('Million Input Tokens')."""


REGIONS: Final[tuple[tuple[str, str, str, float], ...]] = (
    # region, usage-type prefix, display name, share of Bedrock rows
    ("us-east-1", "USE1", "US East (N. Virginia)", 0.50),
    ("us-west-2", "USW2", "US West (Oregon)", 0.35),
    ("eu-central-1", "EUC1", "EU (Frankfurt)", 0.15),
)

PAYER_ACCOUNT: Final = "123456789012"
ACCOUNTS: Final[tuple[tuple[str, float, float], ...]] = (
    # usage account, share of rows, negotiated discount on first-party usage
    ("123456789012", 0.10, 0.00),
    ("210987654321", 0.40, 0.05),
    ("345678901234", 0.30, 0.05),
    ("456789012345", 0.20, 0.00),
)

SCALE_REGIONS: Final[tuple[str, ...]] = (
    # ``--regions R`` relabels usage over the first R of these (the catalog's three first)
    "us-east-1",
    "us-west-2",
    "eu-central-1",
    "ap-northeast-1",
    "eu-west-1",
    "ap-southeast-2",
    "us-east-2",
    "ap-south-1",
    "eu-west-3",
    "ca-central-1",
    "sa-east-1",
    "ap-southeast-1",
)
MAX_SCALE_ACCOUNTS: Final = 1000


def scale_account_ids(count: int) -> tuple[str, ...]:
    """``--accounts N``: the catalog's accounts first, then deterministic 12-digit ids."""
    base = tuple(account for account, _, _ in ACCOUNTS)
    extra = tuple(f"{500000000000 + 7919 * i:012d}" for i in range(max(0, count - len(base))))
    return (base + extra)[:count]


PROFILES_PER_ACCOUNT_REGION: Final = 4
PROFILE_SHARE: Final = 0.35
"""Share of Bedrock model rows billed through an application inference profile."""
MODEL_ARN_SHARE: Final = 0.45
"""Share of Bedrock model rows carrying the foundation-model ARN (the rest: NULL)."""
PRINCIPAL_NULL_SHARE: Final = 0.15
IAM_PRINCIPAL_SINCE: Final = (2026, 4)
"""CUR 2.0 carries ``line_item_iam_principal`` from April 2026; older periods are NULL."""
PRODUCT_MAP_SINCE: Final = (2026, 7)
"""Product-map keys and product family 'Amazon Bedrock' appear from July 2026."""
MAP_ONLY_PRODUCT_NAME_SHARE: Final = 0.30
"""Newer Marketplace rows whose product name sits only in ``product['product_name']``."""

GROUP_SHARES: Final[dict[Group, float]] = {"bedrock": 0.745, "nonusage": 0.005, "noise": 0.25}

_MP_TOKENS: Final = (
    # 'Units' are millions of tokens on Marketplace token rows; the description's third '|'
    # field says so ('Million Input Tokens'). Older exports state '1M tokens' or, before the
    # CUDOS 5.9.0 change, '1K tokens'. pricing_unit may be NULL.
    UnitVariant("Units", "Million {tokens}", 1e6, 0.55),
    UnitVariant("1M tokens", "1M tokens", 1e6, 0.2),
    UnitVariant(None, "Million {tokens}", 1e6, 0.15),
    UnitVariant(None, "1M tokens", 1e6, 0.05),
    UnitVariant("1K tokens", "1K tokens", 1e3, 0.05),
)
_MP_COUNT: Final = (UnitVariant("Units", "Units", 1.0, 0.85), UnitVariant(None, "Units", 1.0, 0.15))
_FP_TOKENS: Final = (UnitVariant("1K tokens", None, 1000.0, 0.9), UnitVariant(None, None, 1000.0, 0.1))
_INFERENCE_OPS: Final = ("InvokeModelInference", "InvokeModelStreamingInference")
_BATCH_OPS: Final = ("CreateModelInvocationJob",)


def _fixed_unit(unit: str | None) -> tuple[UnitVariant, ...]:
    return (UnitVariant(unit, None, 1.0, 1.0),)


def marketplace_product_code(product_name: str) -> str:
    """An opaque Marketplace product code, stable per product (not per seed)."""
    digest = hashlib.sha256(product_name.encode()).digest()
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "prod-" + "".join(alphabet[b % len(alphabet)] for b in digest[:13])


def short_id(text: str, length: int = 12) -> str:
    """A lower-case id derived from ``text`` (inference profile ids, instance ids)."""
    digest = hashlib.sha256(text.encode()).digest()
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(alphabet[b % len(alphabet)] for b in digest[:length])


@dataclass(frozen=True)
class _Model:
    name: str
    provider: str
    model_id: str
    billing_name: str | None
    product_name: str | None
    input_price: float
    output_price: float
    weight: float
    newer_claude: bool = False
    kinds: tuple[str, ...] = field(default=())


_Kind = tuple[str, str, float, str, float, float]
"""A usage kind: (feature, inference_type, price factor over the input or output price,
base price, weight, median tokens)."""


def _load_tables() -> dict[str, Any]:
    """The catalog's tables of models, kinds and words: ``cur_catalog.json`` beside this module
    (package data, so it ships in the wheel; ``sample_data`` is never in the Lambda asset)."""
    text = files(__package__ or "bedrock_cost.sample_data").joinpath("cur_catalog.json").read_text("utf-8")
    tables: dict[str, Any] = json.loads(text)
    return tables


_TABLES: Final = _load_tables()


def _kinds(table: dict[str, list[Any]]) -> dict[str, _Kind]:
    return {name: cast(_Kind, tuple(kind)) for name, kind in table.items()}


_MP_KINDS: Final = _kinds(_TABLES["marketplace_kinds"])
"""Marketplace usage-type kinds (``USE1-MP:USE1_<kind>-Units``)."""
_NEWER_CLAUDE_MP_KINDS: Final = tuple[str, ...](_TABLES["newer_claude_marketplace_kinds"])
"""What a Marketplace model without its own ``kinds`` bills."""
_NEWER_CLAUDE: Final = frozenset[str](_TABLES["newer_claude"])
"""Models whose regional (non-global) endpoints cost 1.1x the global rate."""
_MARKETPLACE_MODELS: Final = tuple(
    _Model(
        m["name"],
        m["provider"],
        m["model_id"],
        None,
        f"{m['name']} (Amazon Bedrock Edition)",
        m["input_price"],
        m["output_price"],
        m["weight"],
        m["name"] in _NEWER_CLAUDE,
        tuple(m.get("kinds", _NEWER_CLAUDE_MP_KINDS)),
    )
    for m in _TABLES["marketplace_models"]
)

IMAGE_PRICE: Final = 0.04
"""USD per generated image, billed under the Marketplace ``_Created_image-Units`` usage type."""

_FP_KINDS: Final = _kinds(_TABLES["first_party_kinds"])
"""First-party kinds: the usage type's suffix (``USE1-NovaPro-<kind>``)."""


@dataclass(frozen=True)
class _FirstParty:
    model: _Model
    product_code: str
    regions: tuple[str, ...]
    kinds: tuple[str, ...]
    cache_read_factor: float = 0.1


_PROVIDERS: Final[dict[str, str]] = _TABLES["first_party_providers"]


def _first_party(entry: dict[str, Any]) -> _FirstParty:
    """A first-party-billed model and what it bills; its provider follows from the model id's prefix."""
    name, model_id = entry["name"], entry["model_id"]
    provider = _PROVIDERS[model_id.split(".", 1)[0]]
    model = _Model(
        name,
        provider,
        model_id,
        entry["billing_name"],
        None,
        entry["input_price"],
        entry["output_price"],
        entry["weight"],
        name in _NEWER_CLAUDE,
    )
    regions, kinds = tuple(entry["regions"]), tuple(entry["kinds"])
    return _FirstParty(model, entry["product_code"], regions, kinds, entry.get("cache_read_factor", 0.1))


_FIRST_PARTY: Final = tuple(_first_party(entry) for entry in _TABLES["first_party_models"])

UNKNOWN_MODEL: Final = _Model("FooBar 9 Ultra", "FooBar", "foobar.9-ultra-v1:0", "FooBar9Ultra", None, 2.0, 8.0, 0.005)
"""A model no alias table knows: reports must list it as unpriced/unknown, not drop it."""


def _model(name: str) -> _Model:
    """A model of the tables above by name (Marketplace first, as its product name is set)."""
    return next(m for m in (*_MARKETPLACE_MODELS, *(f.model for f in _FIRST_PARTY)) if m.name == name)


_REGION_BY_PREFIX: Final = {prefix: (region, name) for region, prefix, name, _ in REGIONS}
_REGION_SHARE: Final = {prefix: share for _, prefix, _, share in REGIONS}


_INFERENCE_TYPES: Final[dict[str, str]] = _TABLES["inference_type_words"]
"""What a product map's ``inference_type`` says is billed, by the catalog's feature word."""
_FEATURES: Final[dict[str, str]] = _TABLES["feature_words"]
"""How it is billed (the map's ``feature``), by the catalog's inference type."""


def _bedrock_product_map(
    model: _Model | None, *, feature: str, inference_type: str, product_name: str, servicename: str, region: str
) -> dict[str, str]:
    """The product map of newer Bedrock rows (keys present from July 2026), shaped like real
    exports: ``inference_type`` says what is billed (``Output tokens``), ``feature`` how
    (``On-demand Inference``). ``feature`` and ``inference_type`` here are the catalog's
    own short words (kind, tier) and are translated."""
    what = _INFERENCE_TYPES.get(feature, feature.replace("-", " ").capitalize())
    if inference_type == "reserved":
        what += " per minute"
    mapping = {
        "provider": model.provider if model else "Amazon",
        "inference_type": what,
        "feature": _FEATURES.get(inference_type, inference_type.replace("-", " ").capitalize()),
        "product_name": product_name,
        "servicename": servicename,
        "region": region,
    }
    if model is not None:
        mapping["model"] = model.name
    return dict(sorted(mapping.items()))


def _bedrock_template(
    model: _Model | None,
    *,
    region: str,
    feature: str,
    inference_type: str,
    product_name: str,
    product_code: str,
    servicecode: str | None = None,
    line_item_type: str = "Usage",
    **shape: Any,
) -> LineTemplate:
    """A Bedrock usage row: product family 'Amazon Bedrock' and, from July 2026, the product
    map of ``_bedrock_product_map`` (its service name is the product name); older rows'
    map holds only the region. The service code is the product code unless said otherwise;
    a model's row carries its foundation-model ARN unless given another. ``shape`` is the
    rest of the ``LineTemplate``."""
    if model is not None:
        shape.setdefault("model_arn", f"arn:aws:bedrock:{region}::foundation-model/{model.model_id}")
    return LineTemplate(
        group="bedrock",
        region=region,
        product_code=product_code,
        line_item_type=line_item_type,
        product_name=product_name,
        product_family_old=None,
        product_family_new="Amazon Bedrock",
        servicecode=servicecode or product_code,
        product_map_old={"region": region},
        product_map_new=_bedrock_product_map(
            model,
            feature=feature,
            inference_type=inference_type,
            product_name=product_name,
            servicename=product_name,
            region=region,
        ),
        **shape,
    )


_SNAKE_CASE_KINDS: Final[dict[str, str]] = _TABLES["snake_case_kinds"]
_SNAKE_CASE_MODELS: Final = frozenset[str](_TABLES["snake_case_models"])
"""Newer Marketplace models bill under snake_case usage types; both spellings share an export."""
_TOKEN_WORDS: Final[dict[str, str]] = _TABLES["token_words"]
"""What a Marketplace unit counts ('Million Input Tokens'), by feature."""


def _spelling(model: _Model, kind: str) -> str:
    return _SNAKE_CASE_KINDS.get(kind, kind) if model.name in _SNAKE_CASE_MODELS else kind


def _marketplace_templates() -> list[LineTemplate]:
    templates: list[LineTemplate] = []
    for model in _MARKETPLACE_MODELS:
        assert model.product_name is not None
        code = marketplace_product_code(model.product_name)
        kind_total = sum(_MP_KINDS[k][4] for k in model.kinds)
        for prefix, (region, _) in _REGION_BY_PREFIX.items():
            for kind in model.kinds:
                feature, inference_type, factor, base, kind_weight, median = _MP_KINDS[kind]
                regional = 1.1 if model.newer_claude and base.endswith("regional") else 1.0
                list_price = model.input_price if base.startswith("in") else model.output_price
                templates.append(
                    _bedrock_template(
                        model,
                        region=region,
                        feature=feature,
                        inference_type=inference_type,
                        product_name=model.product_name,
                        product_code=code,
                        entity="AWS Marketplace",
                        usage_type=f"{prefix}-MP:{prefix}_{_spelling(model, kind)}-Units",
                        operations=_INFERENCE_OPS if inference_type != "batch" else _BATCH_OPS,
                        units=_MP_TOKENS,
                        price=list_price * factor * regional / 1e6,
                        quantity_median=median,
                        quantity_sigma=1.1,
                        integer_quantity=True,
                        weight=model.weight * kind_weight / kind_total * _REGION_SHARE[prefix],
                        description=f"AWS Marketplace software usage|{region}|{{unit}}",
                        token_words=_TOKEN_WORDS[feature],
                        marketplace_bedrock=True,
                    )
                )
    # Image generation billed per image under a Marketplace product.
    image_model = _model("Claude Sonnet 4.6")
    assert image_model.product_name is not None
    code = marketplace_product_code(image_model.product_name)
    for prefix, (region, _) in _REGION_BY_PREFIX.items():
        templates.append(
            _bedrock_template(
                image_model,
                region=region,
                feature="image",
                inference_type="on-demand",
                product_name=image_model.product_name,
                product_code=code,
                entity="AWS Marketplace",
                usage_type=f"{prefix}-MP:{prefix}_Created_image-Units",
                operations=("InvokeModelInference",),
                units=_MP_COUNT,
                price=IMAGE_PRICE,
                quantity_median=40,
                quantity_sigma=0.8,
                integer_quantity=True,
                weight=0.004 * _REGION_SHARE[prefix],
                description=f"AWS Marketplace|{image_model.product_name}|{{unit}}",
                marketplace_bedrock=True,
            )
        )
    return templates


def _first_party_template(
    model: _Model, *, product_code: str, prefix: str, kind: str, cache_read_factor: float, weight: float
) -> LineTemplate:
    region, region_name = _REGION_BY_PREFIX[prefix]
    feature, inference_type, factor, base, _, median = _FP_KINDS[kind]
    if feature == "cache-read":
        factor = cache_read_factor
    regional = 1.1 if model.newer_claude and base.endswith("regional") else 1.0
    list_price = model.input_price if base.startswith("in") else model.output_price
    price = list_price * factor * regional / 1e6
    assert model.billing_name is not None
    words = feature.replace("-", " ")
    return _bedrock_template(
        model,
        region=region,
        feature=feature,
        inference_type=inference_type,
        product_name="Amazon Bedrock",
        product_code=product_code,
        entity="AWS",
        usage_type=f"{prefix}-{model.billing_name}-{kind}",
        operations=_BATCH_OPS if inference_type == "batch" else _INFERENCE_OPS,
        units=_FP_TOKENS,
        price=price,
        quantity_median=median,
        quantity_sigma=1.1,
        integer_quantity=True,
        weight=weight,
        description=f"${price * 1000:.7g} per 1K {words} for {model.billing_name} in {region_name}",
        discountable=True,
    )


def _first_party_templates() -> list[LineTemplate]:
    templates: list[LineTemplate] = []
    for entry in (
        *_FIRST_PARTY,
        _FirstParty(UNKNOWN_MODEL, "AmazonBedrock", ("USE1",), ("input-tokens", "output-tokens")),
    ):
        kind_total = sum(_FP_KINDS[k][4] for k in entry.kinds)
        region_total = sum(_REGION_SHARE[p] for p in entry.regions)
        for prefix in entry.regions:
            for kind in entry.kinds:
                weight = entry.model.weight * _FP_KINDS[kind][4] / kind_total * _REGION_SHARE[prefix] / region_total
                templates.append(
                    _first_party_template(
                        entry.model,
                        product_code=entry.product_code,
                        prefix=prefix,
                        kind=kind,
                        cache_read_factor=entry.cache_read_factor,
                        weight=weight,
                    )
                )
    return templates


@lru_cache(maxsize=1)
def catalog() -> tuple[LineTemplate, ...]:
    """Every template, with ``weight`` normalised so the whole catalog sums to 1."""
    # Imported here: those rows are built from this module's shapes and helpers.
    from bedrock_cost.sample_data._cur_other_rows import capacity_templates, noise_templates, nonusage_templates

    raw: list[LineTemplate] = [
        *_marketplace_templates(),
        *_first_party_templates(),
        *capacity_templates(),
        *nonusage_templates(),
        *noise_templates(),
    ]
    totals: dict[Group, float] = {}
    for template in raw:
        totals[template.group] = totals.get(template.group, 0.0) + template.weight
    return tuple(
        replace(template, weight=template.weight / totals[template.group] * GROUP_SHARES[template.group])
        for template in raw
    )
