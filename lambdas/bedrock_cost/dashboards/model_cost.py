"""Per-model cost on the dashboard without a custom metric per model.

A custom metric series costs $0.30 a month; 20 models x (cost + 4 token kinds) was most
of the tracker's own bill. The dashboard instead prices Bedrock's own ``AWS/Bedrock``
token metrics (free to graph on a dashboard) with metric math: for each model of the
bundled catalog that has a regional on-demand price, the sum of its token series of each
kind times the list price (after ``pricing.discount_pct`` and ``pricing.overrides``).

The ``SEARCH`` term is the model id as a quoted phrase, so the plain id and the system
cross-region profiles that contain it (``us.…``, ``eu.…``) are summed together.
Application inference profiles carry their own id, not the model's: their cost is in the
estimate records (S3 and Athena), and their tokens in the "tokens by model" graph.
This is a list-price view; the estimator's ``EstimatedCostUSD`` total (CUR-calibrated
when the CUR reporter has run) and the billed figures stay the reference.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from typing import Any

from bedrock_cost.config import Config
from bedrock_cost.domain.pricing import PriceCatalog, UsageKind, load_bundled_layer, override_rules

BEDROCK_NAMESPACE = "AWS/Bedrock"
TOKEN_METRICS: tuple[tuple[UsageKind, str], ...] = (
    ("input", "InputTokenCount"),
    ("output", "OutputTokenCount"),
    ("cache-read", "CacheReadInputTokenCount"),
    ("cache-write", "CacheWriteInputTokenCount"),
)
MAX_MODELS = 40
"""Models priced on the graph; with 4 kinds each, well under 500 metrics per widget."""


@dataclass(frozen=True)
class PricedModel:
    model: str
    model_ids: tuple[str, ...]
    usd_per_million: tuple[tuple[UsageKind, str, Decimal], ...]
    """(kind, AWS/Bedrock metric name, price) for each kind the model has a price for."""


def priced_models(config: Config) -> list[PricedModel]:
    """Catalog models with a regional on-demand price, in catalog order (at most ``MAX_MODELS``)."""
    raw = json.loads(resources.files("bedrock_cost.data").joinpath("models.json").read_text("utf-8"))
    catalog = PriceCatalog(
        bundled=load_bundled_layer(),
        overrides=override_rules(config.pricing.overrides),
        discount_pct=Decimal(config.pricing.discount_pct),
    )
    found = []
    for entry in raw["models"]:
        prices = []
        for kind, metric_name in TOKEN_METRICS:
            price = catalog.price(entry["model"], kind, "regional")
            if price is not None:
                prices.append((kind, metric_name, price.usd_per_million))
        if prices and entry["model_ids"]:
            found.append(PricedModel(entry["model"], tuple(entry["model_ids"]), tuple(prices)))
    return found[:MAX_MODELS]


def _search_phrase(value: str) -> str:
    if any(ch in value for ch in "\"'\\"):
        raise ValueError(f"{value!r} cannot be used in a SEARCH expression")
    return value


def model_cost_metrics(config: Config, period: int) -> list[list[Any]]:
    """The ``metrics`` array of the cost-by-model graph: hidden token sums, one visible cost per model."""
    entries: list[list[Any]] = []
    for i, model in enumerate(priced_models(config)):
        terms = []
        for k, (_, metric_name, usd) in enumerate(model.usd_per_million):
            ids = " OR ".join(f'"{_search_phrase(model_id)}"' for model_id in model.model_ids)
            search = f"SEARCH('{{{BEDROCK_NAMESPACE},ModelId}} MetricName=\"{metric_name}\" ({ids})', 'Sum', {period})"
            entries.append([{"expression": f"FILL(SUM({search}), 0)", "id": f"t{i}_{k}", "visible": False}])
            terms.append(f"t{i}_{k} * {usd}")
        entries.append([{"expression": f"({' + '.join(terms)}) / 1000000", "id": f"cost{i}", "label": model.model}])
    return entries
