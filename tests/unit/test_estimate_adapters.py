"""The estimator's AWS adapters against botocore's Stubber (requests and responses are
validated against the real service models; no network)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from bedrock_cost.adapters.bedrock_profiles import BedrockProfileDirectory
from bedrock_cost.adapters.cloudwatch_metrics import Backoff, CloudWatchBedrockMetrics, DeadlineExceeded
from bedrock_cost.adapters.estimate_sink import dumps_exact, hour_key
from bedrock_cost.adapters.price_list import PriceListSource
from bedrock_cost.domain.estimate import Counts
from bedrock_cost.domain.pricing import PriceKey
from bedrock_cost.errors import BedrockCostError

pytestmark = pytest.mark.unit

REGION = "us-east-1"
T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
ARN = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/ml0sonnet001"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def client(service: str) -> Any:
    return boto3.client(
        service,
        region_name=REGION,
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def stubbed(service: str) -> Iterator[tuple[Any, Stubber]]:
    """A client under a Stubber that must have served every answer the test queued."""
    boto_client = client(service)
    with Stubber(boto_client) as stub:
        yield boto_client, stub
        stub.assert_no_pending_responses()


def backoff_factory(clock: FakeClock, seconds: float = 30.0) -> Any:
    return lambda: Backoff(deadline=clock.now + seconds, clock=clock, sleep=clock.sleep)


# --- CloudWatch -------------------------------------------------------------------------


@pytest.fixture
def cloudwatch() -> Iterator[tuple[Any, Stubber]]:
    yield from stubbed("cloudwatch")


def _result(query_id: str, minutes: list[int], values: list[float], status: str = "Complete") -> dict[str, Any]:
    return {
        "Id": query_id,
        "Label": query_id,
        "Timestamps": [T0 + timedelta(minutes=m) for m in minutes],
        "Values": values,
        "StatusCode": status,
    }


def test_get_metric_data_pages_are_merged(cloudwatch: tuple[Any, Stubber], clock: FakeClock) -> None:
    cw, stub = cloudwatch
    # Given a two-page answer (PartialData then Complete) for one ModelId
    expected = {
        "MetricDataQueries": ANY,
        "StartTime": T0,
        "EndTime": T0 + timedelta(minutes=5),
        "ScanBy": "TimestampAscending",
    }
    stub.add_response(
        "get_metric_data",
        {
            "MetricDataResults": [_result("m0_0", [0, 1], [100.0, 200.0], "PartialData"), _result("m0_3", [0], [3.0])],
            "NextToken": "page2",
        },
        expected,
    )
    stub.add_response(
        "get_metric_data",
        {"MetricDataResults": [_result("m0_0", [2], [50.0]), _result("m0_1", [2], [7.0])]},
        {**expected, "NextToken": "page2"},
    )
    # When the adapter reads the window
    source = CloudWatchBedrockMetrics(cw, backoff_factory(clock))
    usage = source.read_usage(["amazon.nova-pro-v1:0"], T0, T0 + timedelta(minutes=5))
    # Then both pages are merged per minute and per metric
    assert usage == {
        "amazon.nova-pro-v1:0": {
            T0: Counts(input=100, cache_write=3),
            T0 + timedelta(minutes=1): Counts(input=200),
            T0 + timedelta(minutes=2): Counts(input=50, output=7),
        }
    }


def test_an_unlisted_model_id_is_read_with_the_four_token_metrics(
    cloudwatch: tuple[Any, Stubber], clock: FakeClock
) -> None:
    # Given a ModelId known (from the watermark) but not listed by discovery
    cw, stub = cloudwatch
    captured: list[dict[str, Any]] = []
    cw.meta.events.register(
        "provide-client-params.cloudwatch.GetMetricData", lambda params, **_: captured.append(params)
    )
    stub.add_response("get_metric_data", {"MetricDataResults": []})
    CloudWatchBedrockMetrics(cw, backoff_factory(clock)).read_usage(["a.b"], T0, T0 + timedelta(minutes=1))
    (params,) = captured
    names = [q["MetricStat"]["Metric"]["MetricName"] for q in params["MetricDataQueries"]]
    assert names == [
        "InputTokenCount",
        "OutputTokenCount",
        "CacheReadInputTokenCount",
        "CacheWriteInputTokenCount",
    ]
    assert {(q["MetricStat"]["Period"], q["MetricStat"]["Stat"]) for q in params["MetricDataQueries"]} == {(60, "Sum")}


def test_throttling_is_retried_with_growing_backoff(cloudwatch: tuple[Any, Stubber], clock: FakeClock) -> None:
    cw, stub = cloudwatch
    # Given two Throttling answers, then data
    for _ in range(2):
        stub.add_client_error(
            "get_metric_data", service_error_code="Throttling", service_message="Rate exceeded", http_status_code=400
        )
    stub.add_response("get_metric_data", {"MetricDataResults": [_result("m0_0", [0], [5.0])]})
    # When read
    usage = CloudWatchBedrockMetrics(cw, backoff_factory(clock)).read_usage(["a.b"], T0, T0 + timedelta(minutes=1))
    # Then the data arrives after two waits, the second longer than the first could be at most
    assert usage == {"a.b": {T0: Counts(input=5)}}
    assert len(clock.sleeps) == 2
    assert 0.125 <= clock.sleeps[0] <= 0.25 < clock.sleeps[1] <= 0.5


def test_http_500_is_retried_too(cloudwatch: tuple[Any, Stubber], clock: FakeClock) -> None:
    cw, stub = cloudwatch
    stub.add_client_error("get_metric_data", service_error_code="InternalServiceError", http_status_code=500)
    stub.add_response("get_metric_data", {"MetricDataResults": []})
    assert CloudWatchBedrockMetrics(cw, backoff_factory(clock)).read_usage(["a.b"], T0, T0 + timedelta(minutes=1)) == {}
    assert len(clock.sleeps) == 1


def test_throttling_gives_up_at_the_deadline(cloudwatch: tuple[Any, Stubber], clock: FakeClock) -> None:
    cw, stub = cloudwatch
    for _ in range(6):
        stub.add_client_error("get_metric_data", service_error_code="Throttling", http_status_code=400)
    source = CloudWatchBedrockMetrics(cw, backoff_factory(clock, seconds=2.0))
    with pytest.raises(DeadlineExceeded, match="deadline"):
        source.read_usage(["a.b"], T0, T0 + timedelta(minutes=1))
    assert clock.now <= 2.0
    stub._queue.clear()  # the remaining answers were never needed


def test_access_denied_is_not_retried(cloudwatch: tuple[Any, Stubber], clock: FakeClock) -> None:
    cw, stub = cloudwatch
    stub.add_client_error("get_metric_data", service_error_code="AccessDenied", http_status_code=403)
    with pytest.raises(BedrockCostError, match="AccessDenied"):
        CloudWatchBedrockMetrics(cw, backoff_factory(clock)).read_usage(["a.b"], T0, T0 + timedelta(minutes=1))
    assert clock.sleeps == []


def test_a_failed_query_status_fails_the_read(cloudwatch: tuple[Any, Stubber], clock: FakeClock) -> None:
    cw, stub = cloudwatch
    result = _result("m0_0", [], [], "InternalError") | {"Messages": [{"Code": "InternalError", "Value": "boom"}]}
    stub.add_response("get_metric_data", {"MetricDataResults": [result]})
    with pytest.raises(BedrockCostError, match="InternalError"):
        CloudWatchBedrockMetrics(cw, backoff_factory(clock)).read_usage(["a.b"], T0, T0 + timedelta(minutes=1))


def test_discovery_keeps_only_per_model_id_series_and_is_cached(
    cloudwatch: tuple[Any, Stubber], clock: FakeClock
) -> None:
    cw, stub = cloudwatch
    params = {"Namespace": "AWS/Bedrock", "Dimensions": [{"Name": "ModelId"}]}

    def metric(*dims: tuple[str, str], name: str = "Invocations") -> dict[str, Any]:
        return {
            "Namespace": "AWS/Bedrock",
            "MetricName": name,
            "Dimensions": [{"Name": n, "Value": v} for n, v in dims],
        }

    stub.add_response(
        "list_metrics",
        {
            "Metrics": [
                metric(("ModelId", "a.b")),
                metric(("ModelId", "a.b"), name="OutputTokenCount"),
                metric(("ModelId", "a.b"), ("Other", "x")),
                metric(("ModelId", "latency.only"), name="InvocationLatency"),
            ],
            "NextToken": "t",
        },
        params,
    )
    stub.add_response(
        "list_metrics", {"Metrics": [metric(("ModelId", ARN), name="InputTokenCount")]}, {**params, "NextToken": "t"}
    )
    source = CloudWatchBedrockMetrics(cw, backoff_factory(clock), discovery_ttl_seconds=300, clock=clock)
    assert source.discover_model_ids() == {"a.b", ARN}
    clock.now += 100
    assert source.discover_model_ids() == {"a.b", ARN}  # cached: no third response queued


def test_only_the_metrics_listed_for_a_model_id_are_requested(
    cloudwatch: tuple[Any, Stubber], clock: FakeClock
) -> None:
    # Given discovery that lists tokens and counters for a model that never used prompt caching
    cw, stub = cloudwatch
    listed = [
        {"Namespace": "AWS/Bedrock", "MetricName": name, "Dimensions": [{"Name": "ModelId", "Value": "a.b"}]}
        for name in ("InputTokenCount", "OutputTokenCount", "Invocations", "InvocationThrottles")
    ]
    stub.add_response("list_metrics", {"Metrics": listed})
    captured: list[dict[str, Any]] = []
    cw.meta.events.register(
        "provide-client-params.cloudwatch.GetMetricData", lambda params, **_: captured.append(params)
    )
    stub.add_response("get_metric_data", {"MetricDataResults": []})
    source = CloudWatchBedrockMetrics(cw, backoff_factory(clock))
    # When the id is discovered and read
    source.read_usage(sorted(source.discover_model_ids()), T0, T0 + timedelta(minutes=1))
    # Then only its two listed token metrics are requested (and counted): no cache, no counters
    (params,) = captured
    names = [q["MetricStat"]["Metric"]["MetricName"] for q in params["MetricDataQueries"]]
    assert names == ["InputTokenCount", "OutputTokenCount"]
    assert source.metrics_requested == 2


# --- Bedrock inference profiles ---------------------------------------------------------


@pytest.fixture
def bedrock() -> Iterator[tuple[Any, Stubber]]:
    yield from stubbed("bedrock")


def _summary(profile_id: str, models: list[str]) -> dict[str, Any]:
    return {
        "inferenceProfileName": f"name-{profile_id}",
        "inferenceProfileArn": f"arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/{profile_id}",
        "inferenceProfileId": profile_id,
        "models": [{"modelArn": m} for m in models],
        "status": "ACTIVE",
        "type": "APPLICATION",
    }


SONNET_ARN = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-6"


def test_profiles_are_listed_once_and_tags_fetched_per_profile_with_ttl(
    bedrock: tuple[Any, Stubber], clock: FakeClock
) -> None:
    br, stub = bedrock
    # Given two pages of application profiles
    stub.add_response(
        "list_inference_profiles",
        {"inferenceProfileSummaries": [_summary("ml0sonnet001", [SONNET_ARN])], "nextToken": "n"},
        {"typeEquals": "APPLICATION", "maxResults": 1000},
    )
    stub.add_response(
        "list_inference_profiles",
        {"inferenceProfileSummaries": [_summary("other0000001", [SONNET_ARN])]},
        {"typeEquals": "APPLICATION", "maxResults": 1000, "nextToken": "n"},
    )
    stub.add_response("list_tags_for_resource", {"tags": [{"key": "team", "value": "ml"}]}, {"resourceARN": ARN})
    directory = BedrockProfileDirectory(br, ttl_seconds=900, backoff=backoff_factory(clock), clock=clock)
    # When looked up by ARN, then by id
    by_arn = directory.lookup(ARN)
    by_id = directory.lookup("ml0sonnet001")
    # Then both resolve to the profile, tags fetched once
    assert by_arn is not None
    assert by_id is not None
    assert by_arn == by_id
    assert (by_arn.model_arns, dict(by_arn.tags)) == ((SONNET_ARN,), {"team": "ml"})
    # And after the TTL, the list and the tags are read again
    clock.now += 901
    stub.add_response(
        "list_inference_profiles", {"inferenceProfileSummaries": [_summary("ml0sonnet001", [SONNET_ARN])]}
    )
    stub.add_response("list_tags_for_resource", {"tags": [{"key": "team", "value": "search"}]}, {"resourceARN": ARN})
    assert dict(directory.lookup(ARN).tags) == {"team": "search"}  # type: ignore[union-attr]


def test_a_profile_created_after_the_listing_is_fetched_and_a_missing_one_remembered(
    bedrock: tuple[Any, Stubber], clock: FakeClock
) -> None:
    br, stub = bedrock
    stub.add_response("list_inference_profiles", {"inferenceProfileSummaries": []})
    new = _summary("new000000001", [SONNET_ARN])
    stub.add_response(
        "get_inference_profile",
        {k: v for k, v in new.items() if k != "description"},
        {"inferenceProfileIdentifier": "new000000001"},
    )
    stub.add_response("list_tags_for_resource", {"tags": []}, {"resourceARN": new["inferenceProfileArn"]})
    stub.add_client_error(
        "get_inference_profile",
        service_error_code="ResourceNotFoundException",
        http_status_code=404,
        expected_params={"inferenceProfileIdentifier": "gone00000001"},
    )
    directory = BedrockProfileDirectory(br, ttl_seconds=900, backoff=backoff_factory(clock), clock=clock)
    assert directory.lookup("new000000001") is not None
    assert directory.lookup("gone00000001") is None
    assert directory.lookup("gone00000001") is None  # remembered: no second GetInferenceProfile


def test_profile_tag_throttling_is_retried(bedrock: tuple[Any, Stubber], clock: FakeClock) -> None:
    br, stub = bedrock
    stub.add_response(
        "list_inference_profiles", {"inferenceProfileSummaries": [_summary("ml0sonnet001", [SONNET_ARN])]}
    )
    stub.add_client_error("list_tags_for_resource", service_error_code="ThrottlingException", http_status_code=429)
    stub.add_response("list_tags_for_resource", {"tags": [{"key": "team", "value": "ml"}]})
    directory = BedrockProfileDirectory(br, ttl_seconds=900, backoff=backoff_factory(clock), clock=clock)
    assert dict(directory.lookup(ARN).tags) == {"team": "ml"}  # type: ignore[union-attr]
    assert len(clock.sleeps) == 1


# --- Price List -------------------------------------------------------------------------


def _price_item(usage_type: str, unit: str, usd: str, **attributes: str) -> str:
    return json.dumps(
        {
            "product": {"attributes": {"usagetype": usage_type, **attributes}, "sku": "S"},
            "terms": {
                "OnDemand": {
                    "S.T": {
                        "effectiveDate": "2026-11-01T00:00:00Z",
                        "priceDimensions": {"S.T.R": {"unit": unit, "pricePerUnit": {"USD": usd}}},
                    }
                }
            },
        }
    )


def test_price_list_pages_both_service_codes_for_the_region(clock: FakeClock) -> None:
    pricing = boto3.client("pricing", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    base = {
        "Filters": [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": "us-west-2"}],
        "FormatVersion": "aws_v1",
        "MaxResults": 100,
    }
    with Stubber(pricing) as stub:
        stub.add_response(
            "get_products",
            {
                "PriceList": [_price_item("USW2-NovaPro-input-tokens", "1K tokens", "0.0008")],
                "NextToken": "p2",
                "FormatVersion": "aws_v1",
            },
            {"ServiceCode": "AmazonBedrock", **base},
        )
        stub.add_response(
            "get_products",
            {"PriceList": [_price_item("USW2-NovaPro-ProvisionedThroughput", "Hours", "21")]},
            {"ServiceCode": "AmazonBedrock", **base, "NextToken": "p2"},
        )
        stub.add_response(
            "get_products",
            {
                "PriceList": [
                    _price_item(
                        "USW2-MP:USW2_InputTokenCount-Units",
                        "1M tokens",
                        "3.3",
                        servicename="Claude Sonnet 4.6 (Amazon Bedrock Edition)",
                    )
                ]
            },
            {"ServiceCode": "AmazonBedrockFoundationModels", **base},
        )
        layer, stats = PriceListSource(pricing, backoff_factory(clock)).fetch_layer("us-west-2")
        stub.assert_no_pending_responses()
    assert (stats.products, stats.priced, stats.skipped) == (3, 2, 1)
    assert {k: v.usd_per_million for k, v in layer.prices.items()} == {
        PriceKey("Nova Pro", "input", "regional", "on-demand"): Decimal("0.8"),
        PriceKey("Claude Sonnet 4.6", "input", "regional", "on-demand"): Decimal("3.3"),
    }


# --- record encoding --------------------------------------------------------------------


def test_records_write_decimals_as_exact_json_numbers() -> None:
    text = dumps_exact(
        {"cost_usd": Decimal("0.0000001234567890123"), "n": 1, "none": None, "tags": {"a": Decimal("1E+2")}}
    )
    assert text == '{"cost_usd":0.0000001234567890123,"n":1,"none":null,"tags":{"a":100}}'
    assert json.loads(text, parse_float=Decimal)["cost_usd"] == Decimal("0.0000001234567890123")


def test_hour_keys_are_partitioned_by_day_and_region() -> None:
    assert hour_key("estimates", "eu-west-1", datetime(2026, 1, 2, 3, 59, tzinfo=UTC)) == (
        "estimates/dt=2026-01-02/region=eu-west-1/20260102T0300Z.jsonl"
    )
