"""The estimator under injected faults, against the real DynamoDB watermark (moto).

Each fault is injected at one step of a run; afterwards the metric points emitted over
all runs are counted per minute: every minute of traffic exactly once (no minute lost,
no figure doubled).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from moto import mock_aws

from bedrock_cost.adapters.claims import RunLease, TokenClaims
from bedrock_cost.adapters.estimate_sink import CollectingMetricPublisher
from bedrock_cost.adapters.watermark_store import DynamoWatermarkStore
from bedrock_cost.demo.state_table import create_state_table
from bedrock_cost.domain.estimate import Counts, UsageData
from bedrock_cost.domain.estimate_points import MetricPoint
from bedrock_cost.domain.estimator_run import (
    EstimatorSettings,
    RegionPorts,
    WatermarkState,
    run_region,
    run_regions,
)
from bedrock_cost.domain.model_catalog import load_model_catalog
from bedrock_cost.domain.model_resolution import InMemoryProfileDirectory
from bedrock_cost.domain.pricing import PriceCatalog, load_bundled_layer
from bedrock_cost.metric_names import ESTIMATED_COST

pytestmark = pytest.mark.integration

TABLE = "state"
REGION = "us-east-1"
NOVA = "amazon.nova-pro-v1:0"
START = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
SETTINGS = EstimatorSettings(schedule_minutes=5, settle_minutes=3, max_catchup_minutes=30, tag_keys=("team",))
CATALOG = PriceCatalog(bundled=load_bundled_layer())


class Source:
    def __init__(self, minutes: int) -> None:
        self.data = {NOVA: {START + timedelta(minutes=i): Counts(input=1000, invocations=1) for i in range(minutes)}}

    def discover_model_ids(self) -> set[str]:
        return {NOVA}

    def read_usage(self, model_ids: Sequence[str], start: datetime, end: datetime) -> UsageData:
        return {m: {t: c for t, c in self.data[m].items() if start <= t < end} for m in model_ids if m in self.data}


class Sink:
    def write_hour(self, region: str, hour: datetime, records: Sequence[Any]) -> str:
        return f"{region}/{hour:%H}"


class Crash(BaseException):
    """Stands for the process dying (not an Exception: nothing may catch it)."""


class CrashingStore(DynamoWatermarkStore):
    """Dies right after the metrics were emitted, before the watermark advances."""

    def __init__(self, client: Any, table: str) -> None:
        super().__init__(client, table)
        self.crash_on_advance = False

    def advance(self, region: str, previous: WatermarkState | None, new: WatermarkState) -> None:
        if self.crash_on_advance:
            self.crash_on_advance = False
            raise Crash
        super().advance(region, previous, new)


class DuplicatingClient:
    """Every conditional write is sent twice, like botocore retrying after a lost response."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.duplicated = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def update_item(self, **kwargs: Any) -> Any:
        self._client.update_item(**kwargs)  # applied; "the response is lost"
        self.duplicated += 1
        return self._client.update_item(**kwargs)  # the retry: its condition now fails


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_state_table(client, TABLE)
        yield client


def one_run(store: Any, publisher: CollectingMetricPublisher, now: datetime, source: Source | None = None) -> Any:
    return run_region(
        REGION,
        now=now,
        settings=SETTINGS,
        source=source or Source(60),
        directory=InMemoryProfileDirectory(),
        catalog=CATALOG,
        model_catalog=load_model_catalog(),
        store=store,
        sink=Sink(),
        publisher=publisher,
    )


def totals(points: Sequence[MetricPoint]) -> Counter[datetime]:
    """How many total-cost points each minute received (the alarm's series)."""
    return Counter(p.timestamp for p in points if not p.dimensions and any(n == ESTIMATED_COST for n, _ in p.values))


def total_cost(points: Sequence[MetricPoint]) -> Decimal:
    return sum((Decimal(v) for p in points if not p.dimensions for n, v in p.values if n == ESTIMATED_COST), Decimal(0))


def test_a_crash_between_emit_and_advance_loses_no_minute_and_doubles_none(dynamodb: Any) -> None:
    # Given a watermark at 11:00 and a run that dies after printing its metrics
    store = CrashingStore(dynamodb, TABLE)
    store.advance(REGION, None, WatermarkState(minute=START, model_ids=frozenset({NOVA})))
    store.crash_on_advance = True
    publisher = CollectingMetricPublisher()
    with pytest.raises(Crash):
        one_run(store, publisher, now=START + timedelta(minutes=13))
    emitted_before_crash = len(publisher.points)
    assert emitted_before_crash > 0
    # When the next runs process the rest
    one_run(store, publisher, now=START + timedelta(minutes=18))
    one_run(store, publisher, now=START + timedelta(minutes=23))
    # Then each minute 11:00-11:19 was emitted exactly once, and the cost adds up to 20 minutes of traffic
    counts = totals(publisher.points)
    assert sorted(counts) == [START + timedelta(minutes=i) for i in range(20)]
    assert set(counts.values()) == {1}
    assert store.load(REGION) == WatermarkState(minute=START + timedelta(minutes=20), model_ids=frozenset({NOVA}))
    single = CollectingMetricPublisher()
    fresh_store = DynamoWatermarkStore(dynamodb, TABLE)
    fresh_store.advance(REGION, store.load(REGION), WatermarkState(minute=START, model_ids=frozenset({NOVA})))
    one_run(fresh_store, single, now=START + timedelta(minutes=23))
    assert total_cost(publisher.points) == total_cost(single.points)


def test_a_duplicated_conditional_write_is_recognised_as_our_own(dynamodb: Any) -> None:
    # Given a client that applies every watermark write twice (the second fails its condition)
    client = DuplicatingClient(dynamodb)
    store = DynamoWatermarkStore(client, TABLE)  # type: ignore[arg-type]
    store.advance(REGION, None, WatermarkState(minute=START, model_ids=frozenset({NOVA})))
    publisher = CollectingMetricPublisher()
    # When a run marks, emits and advances
    run = one_run(store, publisher, now=START + timedelta(minutes=13))
    # Then it is not mistaken for a lost race: processed, every minute emitted once
    assert client.duplicated >= 3
    assert run.status == "processed"
    assert set(totals(publisher.points).values()) == {1}
    assert len(totals(publisher.points)) == 10


def test_a_second_writer_with_a_stale_watermark_is_still_refused(dynamodb: Any) -> None:
    store = DynamoWatermarkStore(dynamodb, TABLE)
    store.advance(REGION, None, WatermarkState(minute=START))
    publisher = CollectingMetricPublisher()
    stale = WatermarkState(minute=START - timedelta(minutes=30))

    class StaleStore(DynamoWatermarkStore):
        def load(self, region: str) -> WatermarkState | None:
            return stale

    run = one_run(StaleStore(dynamodb, TABLE), publisher, now=START + timedelta(minutes=13))
    assert run.status == "conflict"
    assert publisher.points == []


def test_an_endpoint_connection_error_in_one_region_never_skips_the_next(dynamodb: Any) -> None:
    # Given two regions; CloudWatch of the first is unreachable
    store = DynamoWatermarkStore(dynamodb, TABLE)
    for region in ("eu-west-1", "us-east-1"):
        store.advance(region, None, WatermarkState(minute=START, model_ids=frozenset({NOVA})))

    class Unreachable(Source):
        def read_usage(self, model_ids: Sequence[str], start: datetime, end: datetime) -> UsageData:
            raise EndpointConnectionError(endpoint_url="https://monitoring.eu-west-1.amazonaws.com/")

    sources = {"eu-west-1": Unreachable(60), "us-east-1": Source(60)}
    result = run_regions(
        ["eu-west-1", "us-east-1"],
        now=START + timedelta(minutes=13),
        settings=SETTINGS,
        ports=lambda region: RegionPorts(source=sources[region], directory=InMemoryProfileDirectory()),
        catalog_for=lambda region: CATALOG,
        model_catalog=load_model_catalog(),
        store=store,
        sink=Sink(),
        publisher=CollectingMetricPublisher(),
    )
    # Then the first is recorded as failed (watermark kept) and the second processed
    assert "EndpointConnectionError" in result.failures["eu-west-1"]
    assert [r.region for r in result.runs] == ["us-east-1"]
    assert store.load("eu-west-1").minute == START  # type: ignore[union-attr]
    assert store.load("us-east-1").minute == START + timedelta(minutes=10)  # type: ignore[union-attr]


def test_the_run_lease_admits_one_run_and_expires_after_a_crash(dynamodb: Any) -> None:
    clock = [1_000_000.0]
    claims = TokenClaims(dynamodb, TABLE, clock=lambda: clock[0])
    first, second = RunLease(claims, "estimator"), RunLease(claims, "estimator")
    assert first.acquire(330)
    assert not second.acquire(330)
    # The holder dies without releasing: the lease expires, the next run gets it
    clock[0] += 331
    assert second.acquire(330)
    second.release()
    assert first.acquire(330)
    # A duplicated lease write (lost response, retried) still counts as ours
    first.release()
    dup = RunLease(TokenClaims(DuplicatingClient(dynamodb), TABLE, clock=lambda: clock[0]), "estimator")  # type: ignore[arg-type]
    assert dup.acquire(330)


def test_a_lease_write_that_fails_for_another_reason_is_an_error(dynamodb: Any) -> None:
    claims = TokenClaims(dynamodb, "no-such-table")
    with pytest.raises(Exception, match="claiming lease#estimator"):
        RunLease(claims, "estimator").acquire(60)
    with pytest.raises(ClientError):
        dynamodb.describe_table(TableName="no-such-table")
