"""The run's guarantees, on in-memory ports: order of effects, conflicts, late-listed ids."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bedrock_cost.adapters.estimate_sink import CollectingMetricPublisher
from bedrock_cost.domain.estimate import Counts, UsageData
from bedrock_cost.domain.estimator_run import (
    EstimatorSettings,
    RegionPorts,
    WatermarkConflictError,
    WatermarkState,
    run_region,
    run_regions,
)
from bedrock_cost.domain.model_catalog import load_model_catalog
from bedrock_cost.domain.model_resolution import InMemoryProfileDirectory
from bedrock_cost.domain.pricing import PriceCatalog, load_bundled_layer
from bedrock_cost.errors import Throttled
from bedrock_cost.metric_names import DIM_MODEL, ESTIMATED_COST

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 24, 12, 0, 10, tzinfo=UTC)
SETTINGS = EstimatorSettings(schedule_minutes=5, settle_minutes=3, max_catchup_minutes=600, tag_keys=("team",))
CATALOG = PriceCatalog(bundled=load_bundled_layer())
NOVA = "amazon.nova-pro-v1:0"
SONNET = "anthropic.claude-sonnet-4-6"


class FakeSource:
    def __init__(self, data: dict[str, dict[datetime, Counts]], listed: set[str] | None = None) -> None:
        self.data = data
        self.listed = listed if listed is not None else set(data)
        self.reads: list[tuple[datetime, datetime]] = []

    def discover_model_ids(self) -> set[str]:
        return set(self.listed)

    def read_usage(self, model_ids: Sequence[str], start: datetime, end: datetime) -> UsageData:
        self.reads.append((start, end))
        return {
            m: {t: c for t, c in self.data.get(m, {}).items() if start <= t < end} for m in model_ids if m in self.data
        }


class FakeStore:
    def __init__(self, state: WatermarkState | None = None, conflict: bool = False) -> None:
        self.state = state
        self.conflict = conflict
        self.log: list[str] = []

    def load(self, region: str) -> WatermarkState | None:
        return self.state

    def mark_emitting(self, region: str, previous: WatermarkState | None, new: WatermarkState) -> None:
        self.log.append("pending")
        if self.conflict or previous != self.state:
            raise WatermarkConflictError("moved")

    def advance(self, region: str, previous: WatermarkState | None, new: WatermarkState) -> None:
        self.log.append("watermark")
        if self.conflict or previous != self.state:
            raise WatermarkConflictError("moved")
        self.state = new


class FakeSink:
    def __init__(self, log: list[str]) -> None:
        self.objects: dict[str, list[Mapping[str, Any]]] = {}
        self.log = log

    def write_hour(self, region: str, hour: datetime, records: Sequence[Mapping[str, Any]]) -> str:
        self.log.append("s3")
        key = f"{region}/{hour:%Y%m%dT%H}"
        self.objects[key] = list(records)
        return key


def steady(model_id: str, start: datetime, minutes: int, tokens: int = 1000) -> dict[datetime, Counts]:
    return {start + timedelta(minutes=i): Counts(input=tokens, invocations=1) for i in range(minutes)}


def run(
    source: FakeSource,
    store: FakeStore,
    sink: FakeSink,
    publisher: CollectingMetricPublisher,
    now: datetime = NOW,
    settings: EstimatorSettings = SETTINGS,
):  # type: ignore[no-untyped-def]
    return run_region(
        "us-east-1",
        now=now,
        settings=settings,
        source=source,
        directory=InMemoryProfileDirectory(),
        catalog=CATALOG,
        model_catalog=load_model_catalog(),
        store=store,
        sink=sink,
        publisher=publisher,
    )


def test_outputs_are_written_before_the_watermark_moves() -> None:
    # Given traffic and a watermark 10 minutes back
    start = datetime(2026, 11, 24, 11, 47, tzinfo=UTC)
    store = FakeStore(WatermarkState(minute=start, model_ids=frozenset({NOVA})))
    sink = FakeSink(store.log)
    # When the run completes
    result = run(FakeSource({NOVA: steady(NOVA, start, 10)}), store, sink, CollectingMetricPublisher())
    # Then S3 was written first, then the watermark, which now sits at the window end
    assert store.log == ["s3", "pending", "watermark"]
    assert result.status == "processed"
    assert store.state is not None
    assert store.state.minute == datetime(2026, 11, 24, 11, 57, tzinfo=UTC)
    assert result.estimate is not None
    assert result.estimate.total.counts.input == 10_000


def test_a_run_that_loses_the_watermark_race_publishes_no_metrics() -> None:
    # Given another run moved the watermark meanwhile
    start = datetime(2026, 11, 24, 11, 47, tzinfo=UTC)
    store = FakeStore(WatermarkState(minute=start), conflict=True)
    publisher = CollectingMetricPublisher()
    # When this run finishes its window
    result = run(FakeSource({NOVA: steady(NOVA, start, 10)}), store, FakeSink(store.log), publisher)
    # Then it reports the conflict and emits nothing (the winner emitted those minutes)
    assert result.status == "conflict"
    assert publisher.points == []


def test_a_rerun_rewrites_the_same_hour_objects_with_the_same_content() -> None:
    # Given a window processed once
    start = datetime(2026, 11, 24, 11, 30, tzinfo=UTC)
    data = {NOVA: steady(NOVA, start - timedelta(minutes=30), 57)}
    initial = WatermarkState(minute=start, model_ids=frozenset({NOVA}))
    first_sink = FakeSink([])
    run(FakeSource(data), FakeStore(initial), first_sink, CollectingMetricPublisher())
    # When the same window is processed again (watermark restored, as after a crash)
    second_sink = FakeSink([])
    run(FakeSource(data), FakeStore(initial), second_sink, CollectingMetricPublisher())
    # Then the same keys hold the same records: an overwrite, not an addition
    strip = lambda objs: {k: [{**r, "generated_at": None} for r in v] for k, v in objs.items()}  # noqa: E731
    assert strip(first_sink.objects) == strip(second_sink.objects)
    # And the hour object covers the hour from its start, so it holds all 57 minutes
    (records,) = first_sink.objects.values()
    assert sum(r["tokens"] for r in records) == 57_000


def test_a_late_listed_model_id_is_backfilled_once() -> None:
    # Given a ModelId that had traffic for 40 minutes but was not listed at the last run
    wm = datetime(2026, 11, 24, 11, 52, tzinfo=UTC)
    late_start = wm - timedelta(minutes=40)
    data = {NOVA: steady(NOVA, wm - timedelta(minutes=60), 65), SONNET: steady(SONNET, late_start, 45, tokens=10)}
    store = FakeStore(WatermarkState(minute=wm, model_ids=frozenset({NOVA})))
    publisher = CollectingMetricPublisher()
    # When the next run sees it listed (full metric detail, to see per-model points)
    result = run(FakeSource(data), store, FakeSink([]), publisher, settings=replace(SETTINGS, metric_detail="full"))
    # Then its 40 minutes behind the watermark are published and estimated, the old id's are not
    assert result.new_model_ids == [SONNET]
    sonnet_points = [p for p in publisher.points if p.dimensions == ((DIM_MODEL, "Claude Sonnet 4.6"),)]
    nova_points = [p for p in publisher.points if p.dimensions == ((DIM_MODEL, "Nova Pro"),)]
    assert len(sonnet_points) == 45
    assert len(nova_points) == 5
    assert result.estimate is not None
    assert result.estimate.by_model["Claude Sonnet 4.6"].counts.input == 450
    # And the id is now known, so the next run does not backfill it again
    assert store.state is not None
    assert SONNET in store.state.model_ids
    later = run(FakeSource(data), store, FakeSink([]), CollectingMetricPublisher(), now=NOW + timedelta(minutes=5))
    assert later.new_model_ids == []


def test_total_cost_metric_equals_the_estimate() -> None:
    start = datetime(2026, 11, 24, 11, 47, tzinfo=UTC)
    store = FakeStore(WatermarkState(minute=start, model_ids=frozenset({NOVA, SONNET})))
    publisher = CollectingMetricPublisher()
    data = {NOVA: steady(NOVA, start, 10), SONNET: steady(SONNET, start, 10, tokens=333)}
    result = run(FakeSource(data), store, FakeSink([]), publisher)
    total_points = [dict(p.values)[ESTIMATED_COST] for p in publisher.points if p.dimensions == ()]
    assert len(total_points) == 10
    assert result.estimate is not None
    assert sum(total_points, Decimal(0)) == result.estimate.total.cost_usd


class FailingSource(FakeSource):
    def read_usage(self, model_ids: Sequence[str], start: datetime, end: datetime) -> UsageData:
        raise Throttled("GetMetricData: Throttling: Rate exceeded (gave up: deadline reached)")


def test_a_failing_region_keeps_its_watermark_and_others_proceed() -> None:
    # Given two regions, one of which is throttled beyond the deadline
    start = datetime(2026, 11, 24, 11, 47, tzinfo=UTC)
    stores = {
        "us-east-1": FakeStore(WatermarkState(minute=start)),
        "us-west-2": FakeStore(WatermarkState(minute=start)),
    }

    class RegionStore:
        def load(self, region: str) -> WatermarkState | None:
            return stores[region].load(region)

        def mark_emitting(self, region: str, previous: WatermarkState | None, new: WatermarkState) -> None:
            stores[region].mark_emitting(region, previous, new)

        def advance(self, region: str, previous: WatermarkState | None, new: WatermarkState) -> None:
            stores[region].advance(region, previous, new)

    sources = {
        "us-east-1": FailingSource({NOVA: steady(NOVA, start, 10)}),
        "us-west-2": FakeSource({NOVA: steady(NOVA, start, 10)}),
    }
    # When both are run
    result = run_regions(
        ["us-east-1", "us-west-2"],
        now=NOW,
        settings=SETTINGS,
        ports=lambda region: RegionPorts(source=sources[region], directory=InMemoryProfileDirectory()),
        catalog_for=lambda region: CATALOG,
        model_catalog=load_model_catalog(),
        store=RegionStore(),
        sink=FakeSink([]),
        publisher=CollectingMetricPublisher(),
    )
    # Then the failed region is reported and untouched; the other advanced
    assert set(result.failures) == {"us-east-1"}
    assert "Throttling" in result.failures["us-east-1"]
    assert stores["us-east-1"].state == WatermarkState(minute=start)
    assert stores["us-west-2"].state is not None
    assert stores["us-west-2"].state.minute > start
    assert result.lag_minutes(NOW) == 3


def test_a_missing_environment_variable_fails_loudly_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from bedrock_cost.handlers import estimator

    # Given a function environment without ESTIMATES_BUCKET
    for name in ("STATE_TABLE", "ESTIMATES_BUCKET", "CALIBRATION_BUCKET", "ESTIMATOR_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STATE_TABLE", "state")
    monkeypatch.setenv("CALIBRATION_BUCKET", "reports")
    monkeypatch.setenv(
        "ESTIMATOR_CONFIG", '{"regions": ["us-east-1"], "report_tag_keys": [], "estimator": {}, "pricing": {}}'
    )
    # When the cold start validates it, the error names the missing variable
    with pytest.raises(RuntimeError, match="ESTIMATES_BUCKET"):
        estimator.load_environment()
