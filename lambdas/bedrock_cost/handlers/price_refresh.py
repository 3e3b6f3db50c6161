"""Price refresh Lambda: AWS Price List -> refreshed catalog in S3, once a day.

For each configured region it reads the token prices of the ``AmazonBedrock`` and
``AmazonBedrockFoundationModels`` service codes and writes
``pricing/price-list/<region>.json`` (same format as ``data/prices.json``) to the
estimates bucket. A region whose refresh fails, or parses to nothing, keeps its
previous file; with no file at all the estimator uses the bundled catalog. Failures are
logged, counted in ``PriceRefreshFailures`` and make the invocation fail, so they show
in the function's error metric, but they never stop the estimate.

Environment: ``CATALOG_BUCKET`` and ``REGIONS`` (JSON list or comma-separated).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config as BotoConfig
from pydantic import BaseModel, ConfigDict, Field, field_validator

from bedrock_cost.adapters.price_list import PRICING_API_REGION, PriceListSource, S3CatalogStore
from bedrock_cost.errors import BedrockCostError
from bedrock_cost.handlers.wiring import DeadlineBox, container_wiring, environment_loader
from bedrock_cost.observability import logger, metrics, tracer

CLIENT_CONFIG = BotoConfig(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)
SAFETY_MARGIN_SECONDS = 20.0


class PriceRefreshEnvironment(BaseModel):
    """What the function needs, validated once per cold start."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    catalog_bucket: str = Field(alias="CATALOG_BUCKET", min_length=3)
    regions: list[str] = Field(alias="REGIONS", min_length=1)

    @field_validator("regions", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            return json.loads(text) if text.startswith("[") else [r.strip() for r in text.split(",") if r.strip()]
        return value


load_environment = environment_loader(PriceRefreshEnvironment, "price-refresh")


@dataclass
class Dependencies:
    """Adapters for one container; ``configure`` swaps them (tests)."""

    regions: list[str]
    source: PriceListSource
    store: S3CatalogStore
    deadline: DeadlineBox = field(default_factory=DeadlineBox)


def build_dependencies(env: PriceRefreshEnvironment) -> Dependencies:
    """Real boto3 adapters; the Price List source backs off until the invocation's deadline."""
    session = boto3.session.Session()
    pricing = session.client("pricing", region_name=PRICING_API_REGION, config=CLIENT_CONFIG)
    s3 = session.client("s3", config=CLIENT_CONFIG)
    box = DeadlineBox()
    return Dependencies(
        regions=list(env.regions),
        source=PriceListSource(pricing, box.backoff),
        store=S3CatalogStore(s3, env.catalog_bucket),
        deadline=box,
    )


configure, current_dependencies = container_wiring(lambda: build_dependencies(load_environment()))


class PriceRefreshFailedError(BedrockCostError):
    """At least one region kept its previous catalog."""


def refresh(deps: Dependencies) -> dict[str, Any]:
    """Refresh every region; a failure keeps that region's previous catalog."""
    refreshed: dict[str, Any] = {}
    failures: dict[str, str] = {}
    for region in deps.regions:
        try:
            layer, stats = deps.source.fetch_layer(region)
            if not layer.prices:
                raise BedrockCostError(
                    f"the Price List returned no token prices for {region} ({stats.products} products)"
                )
            key = deps.store.save(region, layer)
        except Exception as exc:  # keep the previous catalog whatever went wrong
            failures[region] = f"{type(exc).__name__}: {exc}"
            logger.error(
                "price refresh failed; previous catalog kept", extra={"region": region, "reason": failures[region]}
            )
            continue
        refreshed[region] = {
            "key": key,
            "prices": len(layer.prices),
            "products": stats.products,
            "skipped": stats.skipped,
        }
        logger.info("price catalog refreshed", extra={"region": region, **refreshed[region]})
    metrics.add_metric(name="PriceRefreshFailures", unit=MetricUnit.Count, value=len(failures))
    return {"refreshed": refreshed, "failures": failures}


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Refresh the catalog of every configured region."""
    deps = current_dependencies()
    deps.deadline.set_seconds(context.get_remaining_time_in_millis() / 1000 - SAFETY_MARGIN_SECONDS)
    result = refresh(deps)
    if result["failures"]:
        raise PriceRefreshFailedError("; ".join(f"{r}: {why}" for r, why in sorted(result["failures"].items())))
    return result
