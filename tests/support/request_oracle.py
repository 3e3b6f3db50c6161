"""An independent computation of invocation-log cost, in plain Python, for checking the ledger.

Reads the ``*.json.gz`` lines itself, prices from ``data/prices.json`` directly (not through
``PriceCatalog``), names users with its own small rule and knows the generated model ids by
a hand-written table. Shares no code with the product beyond the price file.
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

PRICES = json.loads((Path(__file__).resolve().parents[2] / "lambdas/bedrock_cost/data/prices.json").read_text())
MODEL_OF = {
    "us.anthropic.claude-sonnet-4-6": ("Claude Sonnet 4.6", "regional"),
    "anthropic.claude-sonnet-4-6": ("Claude Sonnet 4.6", "regional"),
    "global.anthropic.claude-sonnet-4-5-20250929-v1:0": ("Claude Sonnet 4.5", "global"),
    "anthropic.claude-haiku-4-5-20251001-v1:0": ("Claude Haiku 4.5", "regional"),
    "eu.anthropic.claude-opus-4-6-v1": ("Claude Opus 4.6", "regional"),
    "amazon.nova-pro-v1:0": ("Nova Pro", "regional"),
    "amazon.nova-micro-v1:0": ("Nova Micro", "regional"),
}
LONG = {"Claude Sonnet 4": (Decimal(2), Decimal("1.5")), "Claude Sonnet 4.5": (Decimal(2), Decimal("1.5"))}


def _price(model: str, scope: str, kind: str) -> Decimal:
    for entry in PRICES["entries"]:
        if entry["model"] == model and entry["scope"] == scope and entry["tier"] == "on-demand":
            return Decimal(entry["usd_per_million"][kind])
    raise KeyError(model)


def _user(arn: str) -> str:
    if not arn:
        return "(unknown)"
    resource = arn.split(":", 5)[5]
    parts = resource.split("/")
    if parts[0] == "assumed-role":
        role, session = parts[1], parts[2]
        return session.lower() if role.startswith("AWSReservedSSO_") or "@" in session else role
    return parts[-1]


def oracle(folder: Path, profiles: dict[str, str]) -> dict[str, dict[Any, Decimal]]:
    """``{"user": {...}, "customer": {...}, "model": {...}, "day_model_account_region": {...}}`` -> exact
    USD (priced requests only); the last is keyed ``(YYYY-MM-DD, model, account, region)``.

    ``profiles`` maps an application-profile ARN to the model id it was copied from.
    """
    keys = ("user", "customer", "model", "day_model_account_region")
    out: dict[str, dict[Any, Decimal]] = {k: defaultdict(Decimal) for k in keys}
    for path in sorted(folder.rglob("*.json.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            lines = handle.read().splitlines()
        for line in lines:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if not isinstance(rec, dict) or rec.get("schemaType") != "ModelInvocationLog" or rec.get("errorCode"):
                continue
            model_id = profiles.get(rec["modelId"], rec["modelId"])
            if model_id not in MODEL_OF:
                continue
            model, scope = MODEL_OF[model_id]
            usage = rec.get("output", {}).get("outputBodyJson", {}).get("usage")
            if usage:
                i, o = usage["inputTokens"], usage["outputTokens"]
                r, w = usage.get("cacheReadInputTokens", 0), usage.get("cacheWriteInputTokens", 0)
                w1h = sum(d["inputTokens"] for d in usage.get("cacheDetails", []) if d["ttl"] == "1h")
            else:
                i, o = rec["input"]["inputTokenCount"], rec["output"]["outputTokenCount"]
                r = rec["input"].get("cacheReadInputTokenCount", 0)
                w, w1h = rec["input"].get("cacheWriteInputTokenCount", 0), 0
            mi, mo = LONG.get(model, (Decimal(1), Decimal(1))) if i + r + w > 200_000 else (Decimal(1), Decimal(1))
            p_in = _price(model, scope, "input") * mi
            cost = (
                i * p_in
                + o * _price(model, scope, "output") * mo
                + r * _price(model, scope, "cache-read") * mi
                + (w - w1h) * _price(model, scope, "cache-write") * mi
                + w1h * p_in * 2
            ) / Decimal(1_000_000)
            out["user"][_user(rec["identity"]["arn"])] += cost
            out["customer"][(rec.get("requestMetadata") or {}).get("customer", "(none)")] += cost
            out["model"][model] += cost
            out["day_model_account_region"][(rec["timestamp"][:10], model, rec["accountId"], rec["region"])] += cost
    return out
