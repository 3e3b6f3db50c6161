"""Price sources outside the bundle: AWS Price List, the refreshed copy in S3, CUR calibration.

* ``PriceListSource`` pages ``pricing:GetProducts`` for the Bedrock service codes of
  one region and parses token prices (``domain.price_list_products.parse_price_list_product``).
* ``S3CatalogStore`` keeps the refreshed catalog per region
  (``pricing/price-list/<region>.json``, the same document format as
  ``data/prices.json``).
* ``CalibrationReader`` reads the effective unit prices the CUR reporter publishes
  (``calibration/unit_prices.json``: ``{"period": ..., "rows": [...bedrock_unit_prices]}``).
* ``assemble_catalog`` stacks them on the bundled file. Any failure of an optional
  source is logged and that source skipped: the estimate never stops for want of a
  fresher price, it falls back to the bundled one.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from bedrock_cost.adapters.aws_errors import translate_client_error
from bedrock_cost.adapters.cloudwatch_metrics import Backoff
from bedrock_cost.billing.reporting import report_fragments
from bedrock_cost.billing.sql import render
from bedrock_cost.config import Pricing
from bedrock_cost.domain.model_catalog import ModelCatalog, load_model_catalog
from bedrock_cost.domain.price_list_products import parse_price_list_product, refresh_layer
from bedrock_cost.domain.pricing import (
    PriceCatalog,
    PriceLayer,
    catalog_document,
    cur_layer,
    load_bundled_layer,
    override_rules,
    parse_catalog_document,
    previous_period,
)
from bedrock_cost.errors import NotFound
from bedrock_cost.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_pricing import PricingClient
    from mypy_boto3_s3 import S3Client

    from bedrock_cost.billing.engine import QueryEngine

SERVICE_CODES = ("AmazonBedrock", "AmazonBedrockFoundationModels")
PRICING_API_REGION = "us-east-1"
"""The Price List query API is served from us-east-1 (and two other regions) only."""
REFRESH_PREFIX = "pricing/price-list"
CALIBRATION_KEY = "calibration/unit_prices.json"


def model_resolver(catalog: ModelCatalog) -> Callable[[str], str | None]:
    def resolve(name: str) -> str | None:
        info = catalog.resolve(name)
        return info.model if info else None

    return resolve


def canonical_names(catalog: ModelCatalog) -> dict[str, str]:
    """Alias (lower-case) -> readable model name, for price overrides."""
    return {alias: info.model for alias, info in catalog.aliases.items()}


@dataclass
class RefreshStats:
    products: int = 0
    priced: int = 0
    skipped: int = 0
    by_service: dict[str, int] = field(default_factory=dict)


class PriceListSource:
    """Token prices of one region from the AWS Price List query API."""

    def __init__(self, client: PricingClient, backoff: Callable[[], Backoff]) -> None:
        self._client = client
        self._backoff = backoff

    def products(self, service_code: str, region: str) -> Iterator[dict[str, Any]]:
        backoff = self._backoff()
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {
                "ServiceCode": service_code,
                "Filters": [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}],
                "FormatVersion": "aws_v1",
                "MaxResults": 100,
            }
            if token:
                kwargs["NextToken"] = token
            page = backoff.call(
                functools.partial(self._client.get_products, **kwargs), f"reading {service_code} prices"
            )
            for item in page.get("PriceList", []):
                yield json.loads(item) if isinstance(item, str) else dict(item)
            token = page.get("NextToken")
            if not token:
                return

    def fetch_layer(self, region: str, catalog: ModelCatalog | None = None) -> tuple[PriceLayer, RefreshStats]:
        resolve = model_resolver(catalog or load_model_catalog())
        stats = RefreshStats()
        prices = []
        for service_code in SERVICE_CODES:
            for product in self.products(service_code, region):
                stats.products += 1
                parsed = parse_price_list_product(product, resolve)
                if parsed:
                    stats.priced += 1
                    stats.by_service[service_code] = stats.by_service.get(service_code, 0) + 1
                    prices.extend(parsed)
                else:
                    stats.skipped += 1
        version = datetime.now(UTC).strftime("%Y-%m-%d")
        return refresh_layer(prices, version), stats


class S3CatalogStore:
    """The refreshed catalog per region, in S3."""

    def __init__(self, client: S3Client, bucket: str, prefix: str = REFRESH_PREFIX) -> None:
        self._client = client
        self._bucket = bucket
        self._prefix = prefix.strip("/")

    def key(self, region: str) -> str:
        return f"{self._prefix}/{region}.json"

    def save(self, region: str, layer: PriceLayer) -> str:
        document = catalog_document(
            layer, f"Amazon Bedrock list prices for {region} from the AWS Price List API, refreshed {layer.version}."
        )
        key = self.key(region)
        try:
            self._client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=json.dumps(document, indent=1).encode("utf-8"),
                ContentType="application/json",
            )
        except ClientError as exc:
            raise translate_client_error(exc, f"writing s3://{self._bucket}/{key}") from exc
        return key

    def load(self, region: str) -> PriceLayer | None:
        """The refreshed layer, or ``None`` when no refresh has run yet."""
        key = self.key(region)
        try:
            body = self._client.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except ClientError as exc:
            error = translate_client_error(exc, f"reading s3://{self._bucket}/{key}")
            if isinstance(error, NotFound):
                return None
            raise error from exc
        return parse_catalog_document(json.loads(body), "refresh")


class CalibrationReader:
    """Effective unit prices observed in CUR, as published by the CUR reporter."""

    def __init__(self, client: S3Client, bucket: str, key: str = CALIBRATION_KEY) -> None:
        self._client = client
        self._bucket = bucket
        self._key = key

    def load(self) -> PriceLayer | None:
        try:
            body = self._client.get_object(Bucket=self._bucket, Key=self._key)["Body"].read()
        except ClientError as exc:
            error = translate_client_error(exc, f"reading s3://{self._bucket}/{self._key}")
            if isinstance(error, NotFound):
                return None
            raise error from exc
        document = json.loads(body)
        rows = document.get("rows") if isinstance(document, dict) else None
        if not isinstance(rows, list):
            raise ValueError(f"s3://{self._bucket}/{self._key}: expected an object with a 'rows' list")
        layer = cur_layer(rows, str(document.get("period", "")))
        return layer if layer.prices else None


def _optional(name: str, loader: Callable[[], PriceLayer | None]) -> PriceLayer | None:
    try:
        return loader()
    except Exception as exc:  # any failure of an optional source: fall back, loudly
        logger.warning(
            "price source unavailable, falling back", extra={"source": name, "error": f"{type(exc).__name__}: {exc}"}
        )
        return None


def assemble_catalog(
    pricing: Pricing,
    refresh: Callable[[], PriceLayer | None] | None = None,
    calibration: Callable[[], PriceLayer | None] | None = None,
    catalog: ModelCatalog | None = None,
) -> PriceCatalog:
    """Bundled prices, plus each optional source that loads, plus config overrides and discount."""
    bundled = load_bundled_layer()
    refreshed = _optional("refresh", refresh) if refresh else None
    calibrated = _optional("cur", calibration) if calibration else None
    return PriceCatalog(
        bundled=bundled,
        refresh=refreshed or PriceLayer.empty("refresh"),
        cur=calibrated or PriceLayer.empty("cur"),
        overrides=override_rules(pricing.overrides, canonical_names(catalog or load_model_catalog())),
        discount_pct=Decimal(pricing.discount_pct),
    )


def calibration_from_engine(engine: QueryEngine, period: str) -> PriceLayer | None:
    """Effective unit prices of ``period`` and the one before, straight from the CUR views.

    Used where CUR is at hand (the CLI's ``--cur``, the local demo); deployed, the CUR
    reporter publishes the same rows for ``CalibrationReader``.
    """
    rows = []
    for each in (previous_period(period), period):
        rows.extend(engine.query(render("reports/unit_prices", report_fragments(engine), {"period": each})))
    layer = cur_layer(rows, period)
    return layer if layer.prices else None
