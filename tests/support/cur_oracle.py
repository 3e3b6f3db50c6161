"""An independent reading of CUR 2.0 for Bedrock, to check the SQL views against.

Written deliberately unlike the views (plain Python over pyarrow rows, substring tests
instead of regular expressions) from the rules in the billing reference, so that a
mistake in the SQL does not repeat itself here. Money is summed in Decimal.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds

from bedrock_cost.domain.identity import identify
from bedrock_cost.domain.usage_types import REGION_CODES

USAGE_TYPES = {"Usage", "DiscountedUsage", "SavingsPlanCoveredUsage"}
BEDROCK_CODES = {"AmazonBedrock", "AmazonBedrockService", "AmazonBedrockFoundationModels", "AmazonBedrockAgentCore"}
SUFFIX = " (amazon bedrock edition)"
MODEL_END_MARKERS = (
    "-input",
    "-output",
    "-cache",
    "-reserved",
    "-mantle",
    "-provisioned",
    "-modelunits",
    "-model-units",
    "-customization",
    "-custommodel",
    "-custom-model",
    "-batch",
    "-image",
)
TEN_PLACES = Decimal("0.0000000001")


def _aliases() -> dict[str, tuple[str, str]]:
    raw = json.loads(resources.files("bedrock_cost.data").joinpath("models.json").read_text())
    out: dict[str, tuple[str, str]] = {}
    for m in raw["models"]:
        for name in [m["model"], *m["model_ids"], *m["billing_names"], *m["product_names"]]:
            key = name.lower()
            key = key[: -len(SUFFIX)] if key.endswith(SUFFIX) else key
            out[key] = (m["model"], m["provider"])
    return out


ALIASES = _aliases()


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _map(value: Any) -> dict[str, str]:
    return dict(value) if value else {}


@dataclass
class OracleRow:
    period: str
    usage: bool
    cost: Decimal
    line_item_type: str
    keys: dict[str, str]
    kind: str
    tokens: int


def _kind(usage_type: str, code: str | None, inference_type: str | None) -> str:
    flat = usage_type.lower().replace("-", "").replace("_", "")
    said = (inference_type or "").lower().replace(" ", "").replace("-", "").replace("_", "")
    if (
        code == "AmazonBedrockAgentCore"
        or "perminute" in said
        or any(
            w in flat
            for w in ("provisionedthroughput", "modelunits", "reserved", "customization", "custommodelimport", "image",
                      "tpm")
        )
    ):  # fmt: skip
        return "other"
    if said:
        if "cache" in said and "read" in said:
            return "cache-read"
        if "cache" in said and "write" in said:
            return "cache-write"
        if "inputtoken" in said:
            return "input"
        if "outputtoken" in said:
            return "output"
    for word, kind in (
        ("cacheread", "cache-read"),
        ("cachewrite", "cache-write"),
        ("inputtoken", "input"),
        ("outputtoken", "output"),
    ):
        if word in flat:
            return kind
    return "other"


def _billing_name(usage_type: str) -> str | None:
    if "MP:" in usage_type or "-" not in usage_type:
        return None
    rest = usage_type.split("-", 1)[1]
    lowered = rest.lower()
    cut = min((i for i in (lowered.find(m) for m in MODEL_END_MARKERS) if i > 0), default=-1)
    return rest[:cut] if cut > 0 else None


def _factor(unit: str | None, description: str | None, marketplace: bool) -> int:
    """Tokens per unit: pricing_unit with a multiplier, else the description's words, else
    the shape (Marketplace token rows in millions, first-party in thousands)."""
    text = (_clean(unit) or "").lower()
    for words, factor in ((("1m", "million"), 1_000_000), (("1k", "thousand"), 1000), (("token",), 1)):
        if any(w in text for w in words):
            return factor
    said = description or ""
    if marketplace:
        said = said.split("|")[2] if said.count("|") >= 2 else ""
    said = said.strip().lower()
    for factor, word, abbreviation in ((1_000_000, "million", "1m"), (1000, "thousand", "1k")):
        if word in said or f"{abbreviation} " in said or said == abbreviation:
            return factor
    if marketplace and "token" in said:
        return 1
    return 1_000_000 if marketplace else 1000


def _tag(resource_tags: dict[str, str], tags: dict[str, str], key: str) -> str:
    """Resource tags (four spellings) before the IAM principal tag: AWS's precedence."""
    for value in (
        resource_tags.get(f"user_{key}"),
        resource_tags.get(f"user:{key}"),
        tags.get(f"resourceTags/user:{key}"),
        tags.get(f"resourceTags/{key}"),
        tags.get(f"iamPrincipal/{key}"),
    ):
        if _clean(value):
            return str(value).strip()
    return "(untagged)"


def read_rows(path: Path, tag_keys: list[str]) -> list[OracleRow]:
    dataset = ds.dataset(str(path), format="parquet", partitioning="hive")
    out: list[OracleRow] = []
    for batch in dataset.to_batches():
        for r in batch.to_pylist():
            product = _map(r.get("product"))
            name = _clean(product.get("product_name")) or _clean(r.get("product_product_name"))
            code = r.get("line_item_product_code")
            bedrock = (
                r.get("product_product_family") == "Amazon Bedrock"
                or code in BEDROCK_CODES
                or (r.get("bill_billing_entity") == "AWS Marketplace" and (name or "").lower().endswith(SUFFIX.strip()))
            )
            if not bedrock:
                continue
            usage_type = r.get("line_item_usage_type") or ""
            marketplace = "MP:" in usage_type or r.get("bill_billing_entity") == "AWS Marketplace"
            edition = bool(name and name.lower().endswith(SUFFIX))
            stripped = name[: -len(SUFFIX)].strip() if name and edition else name
            billing = None if marketplace else _billing_name(usage_type)
            found = next(
                (
                    ALIASES[c.lower()]
                    for c in (_clean(product.get("model")), stripped, billing)
                    if c and c.lower() in ALIASES
                ),
                None,
            )
            agentcore = code == "AmazonBedrockAgentCore"
            map_model = _clean(product.get("model"))
            if map_model and map_model.lower().startswith("amazon bedrock"):
                map_model = None  # the service's name, not a model
            model = (
                (found[0] if found else None)
                or map_model
                or ("AgentCore (no model)" if agentcore else None)
                or billing
                or (stripped if edition else None)
                or "unknown"
            )
            provider = (
                (found[1] if found else None)
                or _clean(product.get("provider"))
                or ("Amazon" if agentcore else None)
                or "unknown"
            )
            prefix = usage_type.split("-", 1)[0] if "-" in usage_type else None
            region = (
                _clean(product.get("region"))
                or _clean(r.get("product_region_code"))
                or (REGION_CODES.get(prefix.upper(), prefix.lower()) if prefix else None)
                or "unknown"
            )
            kind = _kind(usage_type, code, product.get("inference_type"))
            amount = r.get("line_item_usage_amount") or 0.0
            factor = _factor(r.get("pricing_unit"), r.get("line_item_line_item_description"), marketplace)
            tokens = 0 if kind == "other" else int(math.copysign(math.floor(abs(amount * factor) + 0.5), amount))
            start = r.get("line_item_usage_start_date")
            period = (
                r.get("billing_period") or r.get("BILLING_PERIOD") or f"{r['bill_billing_period_start_date']:%Y-%m}"
            )
            resource_tags, tags = _map(r.get("resource_tags")), _map(r.get("tags"))
            keys = {
                "model": model,
                "provider": provider,
                "account": r.get("line_item_usage_account_id"),
                "region": region,
                "usage-kind": kind,
                "principal": _clean(r.get("line_item_iam_principal")) or "(unknown)",
                # The person or workload: the one documented rule (domain/identity.py) is the spec.
                "user": identify(r.get("line_item_iam_principal")).user,
                "day": start.date().isoformat() if start else None,
                **{f"tag:{k}": _tag(resource_tags, tags, k) for k in tag_keys},
            }
            cost = Decimal(repr(r.get("line_item_unblended_cost") or 0.0)).quantize(TEN_PLACES, ROUND_HALF_EVEN)
            out.append(
                OracleRow(
                    str(period),
                    r.get("line_item_line_item_type") in USAGE_TYPES,
                    cost,
                    str(r.get("line_item_line_item_type")),
                    keys,
                    kind,
                    tokens,
                )
            )
    return out


def totals_by(rows: list[OracleRow], period: str, by: str) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        if row.period == period and row.usage:
            totals[str(row.keys[by])] += row.cost
    return dict(totals)


def tokens_by(rows: list[OracleRow], period: str, by: str, kind: str) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        if row.period == period and row.usage and row.kind == kind:
            totals[str(row.keys[by])] += row.tokens
    return dict(totals)


def adjustments(rows: list[OracleRow], period: str) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        if row.period == period and not row.usage:
            totals[row.line_item_type] += row.cost
    return dict(totals)
