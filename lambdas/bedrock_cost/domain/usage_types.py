"""Classify a CUR ``line_item_usage_type`` into kind, tier, scope, region and model.

The Athena view ``bedrock_line_items`` applies the same rules in SQL; a test runs both
over every shape in the billing reference and requires the same answers, so the
Python side (used for explanations, the generator's checks and ad-hoc tooling) cannot
drift from what the reports compute. Unknown shapes are kind ``other``: counted and
reported, never dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, cast

from bedrock_cost.domain.model_catalog import ModelCatalog, load_model_catalog

UsageKind = Literal["input", "output", "cache-read", "cache-write", "other"]
Tier = Literal["on-demand", "batch", "provisioned", "flex", "priority", "latency-optimized"]
Scope = Literal["global", "regional"]

UNKNOWN_MODEL = "unknown"
"""What reports call a model no row names: shown, never dropped."""

TOKEN_KINDS: tuple[UsageKind, ...] = ("input", "output", "cache-read", "cache-write")

_MODEL_PART = re.compile(
    r"^[a-z]+[0-9]*-(.+?)-(input|output|cache|reserved|mantle|provisioned|model-?units|customization|"
    r"custom-?model|batch|image)",
    re.IGNORECASE,
)
_REGION_CODE = re.compile(r"^([A-Za-z]+[0-9]*)-")

REGION_CODES: dict[str, str] = {
    "USE1": "us-east-1",
    "USE2": "us-east-2",
    "USW1": "us-west-1",
    "USW2": "us-west-2",
    "CAN1": "ca-central-1",
    "SAE1": "sa-east-1",
    "EUC1": "eu-central-1",
    "EUC2": "eu-central-2",
    "EUW1": "eu-west-1",
    "EUW2": "eu-west-2",
    "EUW3": "eu-west-3",
    "EUN1": "eu-north-1",
    "EUS1": "eu-south-1",
    "EUS2": "eu-south-2",
    "APN1": "ap-northeast-1",
    "APN2": "ap-northeast-2",
    "APN3": "ap-northeast-3",
    "APS1": "ap-southeast-1",
    "APS2": "ap-southeast-2",
    "APS3": "ap-south-1",
    "APS4": "ap-southeast-3",
    "APS5": "ap-south-2",
    "UGW1": "us-gov-west-1",
    "UGE1": "us-gov-east-1",
}


CacheTtl = Literal["5m", "1h"]


@dataclass(frozen=True)
class UsageTypeInfo:
    kind: UsageKind
    tier: Tier
    scope: Scope
    region: str | None
    marketplace: bool
    billing_model: str | None
    """The model part of a first-party usage type (``Claude4.6Sonnet``); None for Marketplace."""
    cache_ttl: CacheTtl | None = None
    """``1h`` for one-hour cache writes, ``5m`` for other cache writes, None for other kinds."""
    long_context: bool = False
    """Input beyond the long-context threshold, billed at its own rate."""


def _flat(text: str | None) -> str:
    """Lower-case without '-', '_' and spaces: CamelCase and snake_case spellings meet here."""
    return (text or "").lower().replace("-", "").replace("_", "").replace(" ", "")


_NOT_TOKEN_WORDS = (
    "provisionedthroughput",
    "modelunits",
    "reserved",
    "customization",
    "custommodelimport",
    "image",
    "tpm",
)
_PROVISIONED_WORDS = ("provisionedthroughput", "modelunits", "reserved")
_FLEX = re.compile(r"[-_]flex([-_]|$)")


def _kind_from_words(flat: str) -> UsageKind | None:
    if "cacheread" in flat:
        return "cache-read"
    if "cachewrite" in flat:
        return "cache-write"
    if "inputtoken" in flat:
        return "input"
    if "outputtoken" in flat:
        return "output"
    return None


def _kind_from_inference_type(said: str) -> UsageKind | None:
    """``product['inference_type']`` (lower-cased) by its words: 'Cache read input tokens'."""
    if "cache" in said and "read" in said:
        return "cache-read"
    if "cache" in said and "write" in said:
        return "cache-write"
    if "input" in said and "token" in said:
        return "input"
    if "output" in said and "token" in said:
        return "output"
    return None


def _tier(ut: str, ut_flat: str, feature_flat: str) -> Tier:
    if any(w in ut_flat for w in _PROVISIONED_WORDS):
        return "provisioned"
    if "batch" in ut_flat:
        return "batch"
    if _FLEX.search(ut):
        return "flex"
    if "priority" in ut_flat:
        return "priority"
    if "latencyoptimized" in ut_flat:
        return "latency-optimized"
    if "provisioned" in feature_flat or "reserved" in feature_flat:
        return "provisioned"
    for word, tier in (("batch", "batch"), ("flex", "flex"), ("priority", "priority")):
        if word in feature_flat:
            return cast(Tier, tier)
    if "latencyoptimized" in feature_flat:
        return "latency-optimized"
    return "on-demand"


def classify_usage_type(
    usage_type: str | None,
    product_code: str | None = None,
    *,
    inference_type: str | None = None,
    feature: str | None = None,
    billing_entity: str | None = None,
) -> UsageTypeInfo:
    """Classify one CUR row from its usage type and, when present, ``product['inference_type']``.

    Capacity, images, customization and AgentCore rows are ``other`` whatever the product map
    says; otherwise ``inference_type`` (2026 data) decides the kind, then the usage type's
    words in either Marketplace spelling or the first-party shape (case-insensitive, with
    '-' and '_' removed so ``InputTokenCount`` and ``input_tokens`` are the same word).
    """
    raw = usage_type or ""
    ut = raw.lower()
    ut_flat = _flat(raw)
    said = (inference_type or "").lower()
    feature_flat = _flat(feature)
    kind: UsageKind
    if any(w in ut_flat for w in _NOT_TOKEN_WORDS) or "minute" in said or product_code == "AmazonBedrockAgentCore":
        kind = "other"
    else:
        kind = _kind_from_inference_type(said) or _kind_from_words(ut_flat) or "other"
    cache_ttl: CacheTtl | None = None
    if kind == "cache-write":
        cache_ttl = "1h" if ("1h" in ut_flat or "1h" in said or "hour" in said) else "5m"
    long_context = "longcontext" in ut_flat or "longcontext" in feature_flat or ("long" in said and "context" in said)
    scope: Scope = "global" if "global" in ut_flat else "regional"
    code_match = _REGION_CODE.match(raw)
    region = None
    if code_match:
        code = code_match.group(1)
        region = REGION_CODES.get(code.upper(), code.lower())
    marketplace = "MP:" in raw or billing_entity == "AWS Marketplace"
    model_match = _MODEL_PART.match(raw)
    billing_model = model_match.group(1) if model_match and not marketplace else None
    return UsageTypeInfo(
        kind, _tier(ut, ut_flat, feature_flat), scope, region, marketplace, billing_model, cache_ttl, long_context
    )


def tokens_per_unit(pricing_unit: str | None, description: str | None, *, marketplace: bool) -> int:
    """How many single tokens one unit of ``line_item_usage_amount`` is.

    In order: a ``pricing_unit`` with a multiplier (``1K tokens``, ``1M tokens``,
    ``thousand``, ``million``) or plain ``tokens``; else (``Units``, NULL, blank) the unit
    words of the description (Marketplace: its third ``|`` field, e.g. ``Million Input
    Tokens``; first-party: the whole text, ``$0.003 per 1K input tokens``); else the row's
    shape: Marketplace token rows are in millions (CUDOS' "Bedrock Unit Multiplier"),
    first-party rows in thousands.
    """
    unit = (pricing_unit or "").strip().lower()
    if "1m" in unit or "million" in unit:
        return 1_000_000
    if "1k" in unit or "thousand" in unit:
        return 1000
    if "token" in unit:
        return 1
    text = description or ""
    if marketplace:
        parts = text.split("|")
        text = parts[2] if len(parts) >= 3 else ""
    words = text.strip().lower()
    if "million" in words or "1m " in words or words == "1m":
        return 1_000_000
    if "thousand" in words or "1k " in words or words == "1k":
        return 1000
    if marketplace and "token" in words:
        return 1
    return 1_000_000 if marketplace else 1000


_SERVICE_NAME = re.compile(r"^\s*amazon bedrock", re.IGNORECASE)
_EDITION = re.compile(r"\s*\(amazon bedrock edition\)\s*$", re.IGNORECASE)


def resolve_model(
    info: UsageTypeInfo,
    *,
    product_model: str | None = None,
    product_name: str | None = None,
    product_code: str | None = None,
    catalog: ModelCatalog | None = None,
) -> tuple[str, bool]:
    """Readable model name and whether the alias table knows it.

    ``product['model']`` wins when present, then the Marketplace product name, then the
    billing name in the usage type. An unknown name is kept as it is; the product name of a
    first-party row (``Amazon Bedrock``) names the service and is never taken as a model.
    """
    catalog = catalog or load_model_catalog()
    product_model = (product_model or "").strip() or None
    product_name = (product_name or "").strip() or None
    for candidate in (product_model, product_name, info.billing_model):
        found = catalog.resolve(candidate)
        if found is not None:
            return found.model, True
    if product_model and not _SERVICE_NAME.match(product_model):
        return product_model, False
    if product_code == "AmazonBedrockAgentCore":
        return "AgentCore (no model)", False
    if info.billing_model:
        return info.billing_model, False
    if product_name and _EDITION.search(product_name):
        stripped = _EDITION.sub("", product_name).strip()
        if stripped:
            return stripped, False
    return UNKNOWN_MODEL, False
