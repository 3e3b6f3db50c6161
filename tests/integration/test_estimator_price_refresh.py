"""Price refresh Lambda (Price List via Stubber, S3 via moto) and the estimator reading its output;
plus GetMetricData batching against moto's CloudWatch."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from bedrock_cost.adapters.cloudwatch_metrics import MAX_QUERIES_PER_CALL, Backoff, CloudWatchBedrockMetrics
from bedrock_cost.adapters.price_list import PriceListSource, S3CatalogStore, assemble_catalog
from bedrock_cost.config import Pricing
from bedrock_cost.domain.estimate import Counts
from bedrock_cost.errors import BedrockCostError
from bedrock_cost.handlers import price_refresh
from tests.support.lambda_context import FakeLambdaContext

pytestmark = pytest.mark.integration

REGION = "us-east-1"
BUCKET = "estimates"


@pytest.fixture
def aws() -> Iterator[Any]:
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        yield s3


def _item(usage_type: str, unit: str, usd: str, **attributes: str) -> str:
    return json.dumps(
        {
            "product": {
                "attributes": {"usagetype": usage_type, "servicecode": "AmazonBedrock", **attributes},
                "sku": "S",
            },
            "terms": {
                "OnDemand": {
                    "S.T": {
                        "effectiveDate": "2026-11-20T00:00:00Z",
                        "priceDimensions": {"S.T.R": {"unit": unit, "pricePerUnit": {"USD": usd}}},
                    }
                }
            },
        }
    )


def wire(s3: Any, pricing: Any) -> None:
    backoff = Backoff.for_seconds(10)
    price_refresh.configure(
        price_refresh.Dependencies(
            regions=[REGION], source=PriceListSource(pricing, lambda: backoff), store=S3CatalogStore(s3, BUCKET)
        )
    )


def refresh_with_a_new_nova_price(s3: Any, pricing: Any) -> dict[str, Any]:
    """One daily refresh while the Price List lists a new Nova Pro input price for the region."""
    with Stubber(pricing) as stub:
        stub.add_response("get_products", {"PriceList": [_item("USE1-NovaPro-input-tokens", "1K tokens", "0.00075")]})
        stub.add_response("get_products", {"PriceList": []})
        wire(s3, pricing)
        result: dict[str, Any] = price_refresh.handler({}, FakeLambdaContext())  # type: ignore[arg-type]
    return result


def test_refreshed_prices_land_in_s3_and_take_precedence_over_the_bundle(aws: Any) -> None:
    # Given the Price List lists a new Nova Pro input price for the region
    pricing = boto3.client("pricing", region_name="us-east-1")
    # When the daily refresh runs
    result = refresh_with_a_new_nova_price(aws, pricing)
    # Then the catalog is in S3 under pricing/price-list/<region>.json
    assert result["refreshed"][REGION]["key"] == "pricing/price-list/us-east-1.json"
    assert result["failures"] == {}
    # And the estimator's catalog prefers it to the bundled price, with its provenance
    store = S3CatalogStore(aws, BUCKET)
    catalog = assemble_catalog(Pricing(), refresh=lambda: store.load(REGION))
    price = catalog.price("Nova Pro", "input", "regional")
    assert price is not None
    assert (price.usd_per_million, price.source, price.as_of) == (Decimal("0.75"), "refresh", "2026-11-20")
    assert catalog.price("Nova Pro", "output", "regional").source == "bundled"  # type: ignore[union-attr]


def test_a_failed_refresh_keeps_the_previous_catalog(aws: Any) -> None:
    # Given a previous refresh wrote a catalog
    pricing = boto3.client("pricing", region_name="us-east-1")
    refresh_with_a_new_nova_price(aws, pricing)
    before = aws.get_object(Bucket=BUCKET, Key="pricing/price-list/us-east-1.json")["Body"].read()
    # When the next refresh fails (access denied on the Price List)
    with Stubber(pricing) as stub:
        stub.add_client_error("get_products", service_error_code="AccessDeniedException", http_status_code=403)
        wire(aws, pricing)
        with pytest.raises(BedrockCostError, match="AccessDeniedException"):
            price_refresh.handler({}, FakeLambdaContext())  # type: ignore[arg-type]
    # Then the previous catalog is untouched
    assert aws.get_object(Bucket=BUCKET, Key="pricing/price-list/us-east-1.json")["Body"].read() == before


def test_no_refresh_yet_means_bundled_prices(aws: Any) -> None:
    store = S3CatalogStore(aws, BUCKET)
    assert store.load(REGION) is None
    catalog = assemble_catalog(Pricing(), refresh=lambda: store.load(REGION))
    assert catalog.price("Nova Pro", "input", "regional").source == "bundled"  # type: ignore[union-attr]


def test_get_metric_data_is_batched_at_500_queries_per_call(aws: Any) -> None:
    # Given 130 ModelIds with one minute of data each (130 x 8 = 1,040 queries)
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    minute = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=10)
    ids = [f"acme.model-{i:03d}-v1" for i in range(260)]
    data = [
        {
            "MetricName": "InputTokenCount",
            "Dimensions": [{"Name": "ModelId", "Value": m}],
            "Timestamp": minute,
            "Value": i + 1,
        }
        for i, m in enumerate(ids)
    ] + [
        {
            "MetricName": "OutputTokenCount",
            "Dimensions": [{"Name": "ModelId", "Value": m}],
            "Timestamp": minute,
            "Value": 1,
        }
        for m in ids
    ]
    for i in range(0, len(data), 500):
        cloudwatch.put_metric_data(Namespace="AWS/Bedrock", MetricData=data[i : i + 500])
    sizes: list[int] = []
    list_calls: list[int] = []
    cloudwatch.meta.events.register(
        "provide-client-params.cloudwatch.GetMetricData",
        lambda params, **_: sizes.append(len(params["MetricDataQueries"])),
    )
    cloudwatch.meta.events.register(
        "provide-client-params.cloudwatch.ListMetrics", lambda params, **_: list_calls.append(1)
    )
    source = CloudWatchBedrockMetrics(cloudwatch, lambda: Backoff.for_seconds(30))
    # When every id is discovered and read
    discovered = source.discover_model_ids()
    usage = source.read_usage(sorted(discovered), minute, minute + timedelta(minutes=1))
    # Then ListMetrics found them all, and 2 calls of at most 500 queries read them: only the 2
    # metrics listed per id (input and output tokens) are requested, 520 in all
    assert discovered == set(ids)
    assert sizes == [MAX_QUERIES_PER_CALL, 20]
    assert {m: usage[m][minute] for m in ids} == {m: Counts(input=i + 1, output=1) for i, m in enumerate(ids)}
    # And discovery is cached: a second run lists nothing (the first read two pages of 500)
    assert len(list_calls) == 2
    source.discover_model_ids()
    assert len(list_calls) == 2
