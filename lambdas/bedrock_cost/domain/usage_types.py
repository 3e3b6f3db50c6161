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
from typing import Literal

from bedrock_cost.domain.model_catalog import ModelCatalog, load_model_catalog

UsageKind = Literal["input", "output", "cache-read", "cache-write", "other"]
Tier = Literal["on-demand", "batch", "provisioned", "flex", "priority", "latency-optimized"]
Scope = Literal["global", "regional"]

UNKNOWN_MODEL = "unknown"
"""What reports call a model no row names: shown, never dropped."""

TOKEN_KINDS: tuple[UsageKind, ...] = ("input", "output", "cache-read", "cache-write")

_NOT_TOKENS = re.compile(r"provisionedthroughput|modelunits|reserved|customization|custommodelimport|image")
_PROVISIONED = re.compile(r"provisionedthroughput|modelunits|reserved")
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


@dataclass(frozen=True)
class UsageTypeInfo:
    kind: UsageKind
    tier: Tier
    scope: Scope
    region: str | None
    marketplace: bool
    billing_model: str | None
    """The model part of a first-party usage type (``Claude4.6Sonnet``); None for Marketplace."""


def classify_usage_type(usage_type: str | None, product_code: str | None = None) -> UsageTypeInfo:
    """Apply the reference's classifier keywords (case-insensitive) to one usage type."""
    raw = usage_type or ""
    ut = raw.lower()
    kind: UsageKind
    if _NOT_TOKENS.search(ut) or product_code == "AmazonBedrockAgentCore":
        kind = "other"
    elif re.search(r"cache-?read", ut):
        kind = "cache-read"
    elif re.search(r"cache-?write", ut):
        kind = "cache-write"
    elif re.search(r"input-?tokens?|inputtokencount", ut):
        kind = "input"
    elif re.search(r"output-?tokens?|outputtokencount", ut):
        kind = "output"
    else:
        kind = "other"

    tier: Tier
    if _PROVISIONED.search(ut):
        tier = "provisioned"
    elif "batch" in ut:
        tier = "batch"
    elif re.search(r"[-_]flex([-_]|$)", ut):
        tier = "flex"
    elif "priority" in ut:
        tier = "priority"
    elif re.search(r"latency-?optimized", ut):
        tier = "latency-optimized"
    else:
        tier = "on-demand"

    scope: Scope = "global" if "global" in ut else "regional"
    code_match = _REGION_CODE.match(raw)
    region = None
    if code_match:
        code = code_match.group(1)
        region = REGION_CODES.get(code.upper(), code.lower())
    marketplace = "MP:" in raw
    model_match = _MODEL_PART.match(raw)
    billing_model = model_match.group(1) if model_match and not marketplace else None
    return UsageTypeInfo(kind, tier, scope, region, marketplace, billing_model)


def tokens_per_unit(pricing_unit: str | None, description: str | None, *, marketplace: bool) -> int:
    """How many single tokens one unit of ``line_item_usage_amount`` is.

    First-party rows bill per 1K tokens; Marketplace rows per token ('Units') or per
    1M tokens. ``pricing_unit`` may be NULL: then a Marketplace row's unit is the third
    ``|`` field of the description, and failing that the shape decides.
    """
    unit = (pricing_unit or "").strip()
    if not unit and marketplace and description:
        parts = description.split("|")
        unit = parts[2].strip() if len(parts) >= 3 else ""
    unit = unit.lower()
    if not unit:
        return 1 if marketplace else 1000
    if re.search(r"1m|million", unit):
        return 1_000_000
    if re.search(r"1k|thousand", unit):
        return 1000
    return 1


def resolve_model(
    info: UsageTypeInfo,
    *,
    product_model: str | None = None,
    product_name: str | None = None,
    catalog: ModelCatalog | None = None,
) -> tuple[str, bool]:
    """Readable model name and whether the alias table knows it.

    ``product['model']`` wins when present, then the Marketplace product name, then the
    billing name in the usage type.
    """
    catalog = catalog or load_model_catalog()
    for candidate in (product_model, product_name, info.billing_model):
        found = catalog.resolve(candidate)
        if found is not None:
            return found.model, True
    fallback = product_model or (
        re.sub(r"\s*\(amazon bedrock edition\)\s*$", "", product_name, flags=re.IGNORECASE) if product_name else None
    )
    return (fallback or info.billing_model or UNKNOWN_MODEL), False
