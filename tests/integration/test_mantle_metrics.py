"""bedrock-mantle spend: the estimator reads ``AWS/BedrockMantle`` (Project, Model) from CloudWatch.

Mantle traffic is not in invocation logs nor in ``AWS/Bedrock``; the estimator adds its
token sums (projects of one model summed) to the usage it prices. Run against moto.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from bedrock_cost.adapters.cloudwatch_metrics import (
    MANTLE_NAMESPACE,
    Backoff,
    CloudWatchBedrockMetrics,
    mantle_queries,
)
from bedrock_cost.domain.estimate import Counts, price_counts
from bedrock_cost.domain.estimator_run import with_mantle
from bedrock_cost.domain.model_catalog import load_model_catalog
from bedrock_cost.domain.model_resolution import InMemoryProfileDirectory, resolve_model_id
from bedrock_cost.domain.pricing import PriceCatalog, load_bundled_layer

pytestmark = pytest.mark.integration
MODEL = "openai.gpt-oss-120b"


def _put(cw, project: str, minute: datetime, inferences: int, tokens_in: int, tokens_out: int) -> None:
    dims = [{"Name": "Project", "Value": project}, {"Name": "Model", "Value": MODEL}]
    cw.put_metric_data(
        Namespace=MANTLE_NAMESPACE,
        MetricData=[
            {"MetricName": "Inferences", "Dimensions": dims, "Timestamp": minute, "Value": inferences},
            {"MetricName": "TotalInputTokens", "Dimensions": dims, "Timestamp": minute, "Value": tokens_in},
            {"MetricName": "TotalOutputTokens", "Dimensions": dims, "Timestamp": minute, "Value": tokens_out},
        ],
    )


def test_mantle_queries_name_project_and_model_dimensions():
    queries, owner = mantle_queries([("search", MODEL)])
    assert len(queries) == 3
    dims = queries[0]["MetricStat"]["Metric"]["Dimensions"]  # type: ignore[typeddict-item]
    assert dims == [{"Name": "Project", "Value": "search"}, {"Name": "Model", "Value": MODEL}]
    assert {v[1] for v in owner.values()} == {"invocations", "input", "output"}


def test_mantle_usage_is_read_summed_over_projects_merged_and_priced():
    minute = (datetime.now(UTC) - timedelta(minutes=30)).replace(second=0, microsecond=0)
    with mock_aws():
        cw = boto3.client("cloudwatch", region_name="us-east-1")
        # Given two projects calling the same mantle model in one minute
        _put(cw, "search", minute, 3, 30_000, 3_000)
        _put(cw, "support", minute, 1, 10_000, 1_000)
        source = CloudWatchBedrockMetrics(cw, lambda: Backoff.for_seconds(30))
        # When the estimator reads mantle metrics
        series = source.discover_mantle_series()
        usage = source.read_mantle_usage(minute, minute + timedelta(minutes=1))
    # Then both series are found and summed into the model
    assert series == [("search", MODEL), ("support", MODEL)]
    assert usage[MODEL][minute] == Counts(input=40_000, output=4_000, invocations=4)
    # And merged with AWS/Bedrock usage without touching other models
    merged = with_mantle({"amazon.nova-micro-v1:0": {minute: Counts(input=5)}}, source_stub(usage), minute, minute)
    assert merged[MODEL][minute].input == 40_000
    assert merged["amazon.nova-micro-v1:0"][minute].input == 5
    # And mantle spend is priced (gpt-oss is in the catalog), not left at $0
    resolved = resolve_model_id(MODEL, InMemoryProfileDirectory(), load_model_catalog())
    priced = price_counts(usage[MODEL][minute], resolved, PriceCatalog(bundled=load_bundled_layer()))
    assert priced.cost is not None
    assert priced.cost > 0


class source_stub:
    def __init__(self, usage):
        self._usage = usage

    def read_mantle_usage(self, start, end):
        return self._usage


def test_sources_without_mantle_support_add_nothing():
    usage = {"a.b": {}}
    assert with_mantle(usage, object(), datetime.now(UTC), datetime.now(UTC)) is usage
