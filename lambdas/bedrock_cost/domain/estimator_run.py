"""One estimator run for one region: which minutes, in which order, with what guarantees.

The guarantees, and how each is kept:

* **Nothing lost.** The watermark (last minute fully processed) advances only after
  every metric page was read and every S3 object written, and only by a conditional
  write on its previous value. A failed run leaves it in place; the next run starts
  there. A gap longer than ``max_catchup_minutes`` is worked off one chunk per run,
  back to CloudWatch's 15-day limit (minutes older than that are reported as skipped).
  A ``ModelId`` that ListMetrics reports late (new metrics can take ~15 minutes to be
  listed) is back-filled over ``new_model_lookback_minutes`` behind the watermark.
* **Nothing counted twice.** S3 objects are per region and UTC hour and always
  recomputed from the start of the hour, so a re-run overwrites.
* **Metrics: emit, then advance; no minute lost, none doubled.** CloudWatch adds up
  datapoints sent twice for the same minute (EMF or PutMetricData alike: a re-emitted
  window would double every Sum and every alarm), so re-emitting is *not* harmless and
  the emission is made idempotent by recording it. The order is: (1) S3 outputs;
  (2) every metric point built in memory; (3) ``mark_emitting`` writes the window's end
  (and its model ids) into the watermark item as *pending*, conditional on the
  watermark still being where this run read it; (4) the points are printed (EMF);
  (5) ``advance`` moves the watermark and clears the pending mark. A run that finds a
  pending mark (the previous run died between 3 and 5) knows those minutes were
  emitted: it recomputes the S3 hours as usual but emits only the minutes after the
  pending end, plus, for the pending minutes, model ids the dead run did not have. So a
  crash between emit and advance neither loses nor doubles a minute. The residual case
  is a crash after (3) but before the EMF lines reach stdout (nothing but a print lies
  between them): those minutes are then in S3 but missing from the metrics, by choice
  (an understated minute over a doubled alarm figure).
* **One run at a time** without reserved concurrency: the handler takes a lease in the
  state table (``adapters/claims.RunLease``); (3) and (5) are conditional writes, so a
  run whose lease ran out cannot overwrite the next one's work either.
* **One region's failure never skips another**: any exception in a region (an
  ``EndpointConnectionError`` as much as an AWS error) is recorded and the loop moves on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from bedrock_cost.config import Config, Estimator, Pricing
from bedrock_cost.domain.estimate import (
    CLOUDWATCH_RETENTION,
    EMF_MAX_AGE,
    RETENTION_MARGIN,
    Counts,
    Estimate,
    UsageData,
    build_estimate,
    floor_hour,
    floor_minute,
    hour_records,
    iso_minute,
    minutes_between,
    price_counts,
)
from bedrock_cost.domain.estimate_points import (
    ALARMS_ONLY,
    DEFAULT_MODEL_CAP,
    DEFAULT_TAG_VALUE_CAP,
    MetricDetail,
    MetricPoint,
    metric_points,
)
from bedrock_cost.domain.model_catalog import ModelCatalog
from bedrock_cost.domain.model_resolution import ProfileDirectory, ResolvedModel, resolve_model_id
from bedrock_cost.domain.pricing import PriceCatalog
from bedrock_cost.errors import BedrockCostError


class WatermarkConflictError(BedrockCostError):
    """Another run advanced the watermark first; this run must not emit its metrics."""


@dataclass(frozen=True)
class WatermarkState:
    minute: datetime
    """Every minute before this one is processed."""
    model_ids: frozenset[str] = frozenset()
    """``ModelId`` values known at that point (to spot late-listed new ones)."""
    emitted_until: datetime | None = None
    """Set when a run marked ``[minute, emitted_until)`` as emitted but did not advance."""
    emitted_model_ids: frozenset[str] = frozenset()
    """The model ids that run emitted those minutes for."""


class MetricsSource(Protocol):
    """Port to CloudWatch ``AWS/Bedrock`` for one region."""

    def discover_model_ids(self) -> set[str]: ...

    def read_usage(self, model_ids: Sequence[str], start: datetime, end: datetime) -> UsageData: ...


class WatermarkStore(Protocol):
    def load(self, region: str) -> WatermarkState | None: ...

    def mark_emitting(self, region: str, previous: WatermarkState | None, new: WatermarkState) -> None:
        """Record ``new`` as pending (about to be emitted) if the stored minute is still
        ``previous``'s; else raise ``WatermarkConflictError``."""
        ...

    def advance(self, region: str, previous: WatermarkState | None, new: WatermarkState) -> None:
        """Store ``new`` only if the stored state is still ``previous``; else raise ``WatermarkConflictError``."""
        ...


class EstimateSink(Protocol):
    def write_hour(self, region: str, hour: datetime, records: Sequence[Mapping[str, Any]]) -> str:
        """Write (overwrite) the records of one region-hour; return the object key."""
        ...


class MetricPublisher(Protocol):
    def publish(self, points: Sequence[MetricPoint]) -> int: ...


@dataclass(frozen=True)
class EstimatorSettings:
    schedule_minutes: int
    settle_minutes: int
    max_catchup_minutes: int
    tag_keys: tuple[str, ...]
    new_model_lookback_minutes: int = 60
    tag_value_cap: int = DEFAULT_TAG_VALUE_CAP
    model_cap: int = DEFAULT_MODEL_CAP
    pinned_tag_values: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Tag values that always keep their own metric (those with a budget and its alarm)."""
    metric_detail: MetricDetail = ALARMS_ONLY
    """Which custom metrics to publish (see ``domain.estimate``): every series costs money."""


class EstimatorConfig(BaseModel):
    """The parts of the deployment config the estimator Lambda runs with (``ESTIMATOR_CONFIG``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    regions: list[str] = Field(min_length=1)
    report_tag_keys: list[str]
    estimator: Estimator
    pricing: Pricing
    pinned_tag_values: dict[str, list[str]] = Field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Config) -> EstimatorConfig:
        return cls(
            regions=list(config.regions),
            report_tag_keys=list(config.report_tag_keys),
            estimator=config.estimator,
            pricing=config.pricing,
            pinned_tag_values={key: sorted(values) for key, values in config.budgets.per_tag.items()},
        )

    def to_json(self) -> str:
        return self.model_dump_json()

    def settings(self) -> EstimatorSettings:
        return EstimatorSettings(
            schedule_minutes=self.estimator.schedule_minutes,
            settle_minutes=self.estimator.settle_minutes,
            max_catchup_minutes=self.estimator.max_catchup_minutes_per_run,
            tag_keys=tuple(self.report_tag_keys),
            pinned_tag_values={key: frozenset(values) for key, values in self.pinned_tag_values.items()},
            metric_detail=self.estimator.metric_detail,
        )


@dataclass(frozen=True)
class WindowPlan:
    start: datetime
    end: datetime
    skipped_minutes: int
    """Minutes older than CloudWatch keeps 1-minute data: lost, and reported."""
    backlog_minutes: int
    """Minutes still to catch up after this chunk."""


def plan_window(state: WatermarkState | None, now: datetime, settings: EstimatorSettings) -> WindowPlan | None:
    """The next chunk to process, or ``None`` when already up to date."""
    current = floor_minute(now)
    end = current - timedelta(minutes=settings.settle_minutes)
    earliest = current - CLOUDWATCH_RETENTION + RETENTION_MARGIN
    start = state.minute if state else end - timedelta(minutes=settings.schedule_minutes)
    skipped = 0
    if start < earliest:
        skipped = minutes_between(start, earliest)
        start = earliest
    if start >= end:
        return None
    chunk_end = min(end, start + timedelta(minutes=settings.max_catchup_minutes))
    return WindowPlan(
        start=start, end=chunk_end, skipped_minutes=skipped, backlog_minutes=minutes_between(chunk_end, end)
    )


RunStatus = Literal["processed", "up-to-date", "conflict"]


@dataclass
class RegionRun:
    region: str
    status: RunStatus
    plan: WindowPlan | None = None
    model_ids: int = 0
    new_model_ids: list[str] = field(default_factory=list)
    estimate: Estimate | None = None
    objects: list[str] = field(default_factory=list)
    metric_points: int = 0
    stale_points: int = 0
    """Points older than CloudWatch accepts for embedded metrics (kept in S3 only)."""
    unknown_models: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "status": self.status,
            "window_start": iso_minute(self.plan.start) if self.plan else None,
            "window_end": iso_minute(self.plan.end) if self.plan else None,
            "skipped_minutes": self.plan.skipped_minutes if self.plan else 0,
            "backlog_minutes": self.plan.backlog_minutes if self.plan else 0,
            "model_ids": self.model_ids,
            "new_model_ids": self.new_model_ids,
            "objects": self.objects,
            "metric_points": self.metric_points,
            "stale_points": self.stale_points,
            "unknown_models": self.unknown_models,
            "estimate": self.estimate.to_dict() if self.estimate else None,
        }


def resolve_all(usage: UsageData, directory: ProfileDirectory, model_catalog: ModelCatalog) -> dict[str, ResolvedModel]:
    """Resolve only ``ModelId`` values that have data (idle ids cost no Bedrock calls)."""
    return {
        model_id: resolve_model_id(model_id, directory, model_catalog)
        for model_id, minutes in sorted(usage.items())
        if any(counts != Counts() for counts in minutes.values())
    }


def _with_data(usage: UsageData, resolved: Mapping[str, ResolvedModel]) -> dict[str, Mapping[datetime, Counts]]:
    return {model_id: minutes for model_id, minutes in usage.items() if model_id in resolved}


def _minutes(start: datetime, end: datetime) -> list[datetime]:
    return [start + timedelta(minutes=i) for i in range(minutes_between(start, end))]


def with_mantle(usage: UsageData, source: object, start: datetime, end: datetime) -> UsageData:
    """Add bedrock-mantle usage (``AWS/BedrockMantle``, not in ``AWS/Bedrock``) to ``usage``.

    Sources that cannot read mantle metrics (``read_mantle_usage`` absent) add nothing.
    """
    read = getattr(source, "read_mantle_usage", None)
    if read is None:
        return usage
    mantle: UsageData = read(start, end)
    if not mantle:
        return usage
    merged: dict[str, dict[datetime, Counts]] = {model: dict(minutes) for model, minutes in usage.items()}
    for model, minutes in mantle.items():
        target = merged.setdefault(model, {})
        for minute, counts in minutes.items():
            target[minute] = target[minute] + counts if minute in target else counts
    return merged


def run_region(
    region: str,
    *,
    now: datetime,
    settings: EstimatorSettings,
    source: MetricsSource,
    directory: ProfileDirectory,
    catalog: PriceCatalog,
    model_catalog: ModelCatalog,
    store: WatermarkStore,
    sink: EstimateSink,
    publisher: MetricPublisher,
) -> RegionRun:
    """Process the next chunk of minutes for ``region`` (see the module docstring)."""
    state = store.load(region)
    plan = plan_window(state, now, settings)
    if plan is None:
        return RegionRun(region=region, status="up-to-date")

    discovered = source.discover_model_ids()
    emitted_until = state.emitted_until if state else None
    known = (state.model_ids | state.emitted_model_ids) if state else frozenset()
    model_ids = sorted(set(discovered) | known)
    new_ids = set(discovered) - known if state else set()
    backfill_start = plan.start
    if new_ids:
        earliest = floor_minute(now) - CLOUDWATCH_RETENTION + RETENTION_MARGIN
        backfill_start = max(earliest, plan.start - timedelta(minutes=settings.new_model_lookback_minutes))
    read_start = floor_hour(backfill_start)
    usage = source.read_usage(model_ids, read_start, plan.end) if model_ids else {}
    usage = with_mantle(usage, source, read_start, plan.end)
    resolved = resolve_all(usage, directory, model_catalog)
    usage = _with_data(usage, resolved)

    # 1. Outputs first: every hour touched, recomputed from the start of the hour.
    objects = []
    hour = read_start
    generated_at = now.astimezone(UTC)
    while hour < plan.end:
        records = hour_records(
            region=region,
            hour=hour,
            covered_until=plan.end,
            usage=usage,
            resolved=resolved,
            catalog=catalog,
            generated_at=generated_at,
        )
        if records:
            objects.append(sink.write_hour(region, hour, records))
        hour += timedelta(hours=1)

    # 2. Metric points, in memory, stamped with the minutes they describe. Minutes a
    #    crashed run already emitted (pending mark) are emitted again only for model ids
    #    it did not have.
    with_data = set(resolved)
    first_fresh = max(plan.start, min(emitted_until, plan.end)) if emitted_until else plan.start
    points = metric_points(
        usage,
        resolved=resolved,
        catalog=catalog,
        minutes=_minutes(first_fresh, plan.end),
        tag_keys=settings.tag_keys,
        tag_value_cap=settings.tag_value_cap,
        model_cap=settings.model_cap,
        pinned_tag_values=settings.pinned_tag_values,
        detail=settings.metric_detail,
    )
    backfill = _minutes(backfill_start, plan.start)
    late_ids = new_ids & with_data
    recovered = _minutes(plan.start, first_fresh)
    # Minutes already emitted before a crash, and minutes before the window, each only for
    # the model ids that had no data then (the same point set as any other minute).
    for span in (recovered, backfill):
        if span and late_ids:
            points += metric_points(
                usage,
                resolved=resolved,
                catalog=catalog,
                minutes=span,
                tag_keys=settings.tag_keys,
                only_model_ids=dict.fromkeys(span, late_ids),
                tag_value_cap=settings.tag_value_cap,
                model_cap=settings.model_cap,
                pinned_tag_values=settings.pinned_tag_values,
                detail=settings.metric_detail,
            )
    fresh = [p for p in points if now - p.timestamp <= EMF_MAX_AGE]

    # 3-5. Mark pending (conditional: one run wins a window), emit, advance.
    new_state = WatermarkState(minute=plan.end, model_ids=frozenset(set(discovered) | with_data))
    pending = WatermarkState(
        minute=plan.end, model_ids=new_state.model_ids, emitted_until=plan.end, emitted_model_ids=frozenset(with_data)
    )
    try:
        store.mark_emitting(region, state, pending)
    except WatermarkConflictError:
        return RegionRun(region=region, status="conflict", plan=plan, model_ids=len(model_ids), objects=objects)
    published = publisher.publish(fresh)
    try:
        store.advance(region, state, new_state)
    except WatermarkConflictError:
        # Only after our lease ran out; the pending mark tells the winner what we emitted.
        return RegionRun(region=region, status="conflict", plan=plan, model_ids=len(model_ids), objects=objects)

    estimate = build_estimate(
        usage, resolved=resolved, catalog=catalog, start=plan.start, end=plan.end, tag_keys=settings.tag_keys
    )
    for model_id in sorted(late_ids):
        counts = Counts()
        for minute, value in usage[model_id].items():
            if backfill_start <= minute < plan.start:
                counts = counts + value
        if counts != Counts():
            estimate.add(resolved[model_id], counts, price_counts(counts, resolved[model_id], catalog))
    return RegionRun(
        region=region,
        status="processed",
        plan=plan,
        model_ids=len(model_ids),
        new_model_ids=sorted(new_ids),
        estimate=estimate,
        objects=objects,
        metric_points=published,
        stale_points=len(points) - len(fresh),
        unknown_models=sorted({r.model for r in resolved.values() if not r.known}),
    )


def estimate_range(
    source: MetricsSource,
    *,
    directory: ProfileDirectory,
    catalog: PriceCatalog,
    model_catalog: ModelCatalog,
    start: datetime,
    end: datetime,
    tag_keys: Sequence[str],
) -> Estimate:
    """Read-only estimate of ``[start, end)`` (the CLI): no watermark, no outputs."""
    model_ids = sorted(source.discover_model_ids())
    usage = source.read_usage(model_ids, start, end) if model_ids else {}
    resolved = resolve_all(usage, directory, model_catalog)
    return build_estimate(
        _with_data(usage, resolved), resolved=resolved, catalog=catalog, start=start, end=end, tag_keys=tag_keys
    )


@dataclass(frozen=True)
class RegionPorts:
    """What a run needs per region: its metrics and its inference profiles."""

    source: MetricsSource
    directory: ProfileDirectory


@dataclass
class EstimatorResult:
    runs: list[RegionRun] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    """Region -> why it failed; its watermark did not move, the next run retries."""

    def lag_minutes(self, now: datetime) -> int:
        """How far the furthest-behind processed region is from ``now``."""
        ends = [run.plan.end for run in self.runs if run.plan is not None]
        return max((minutes_between(end, floor_minute(now)) for end in ends), default=0)

    def to_dict(self) -> dict[str, Any]:
        return {"regions": [run.to_dict() for run in self.runs], "failures": dict(self.failures)}


def run_regions(
    regions: Sequence[str],
    *,
    now: datetime,
    settings: EstimatorSettings,
    ports: Callable[[str], RegionPorts],
    catalog_for: Callable[[str], PriceCatalog],
    model_catalog: ModelCatalog,
    store: WatermarkStore,
    sink: EstimateSink,
    publisher: MetricPublisher,
) -> EstimatorResult:
    """Run every region; a region that fails (throttled past the deadline, AWS error, a
    connection error, a bug) is recorded and skipped so the others still advance."""
    result = EstimatorResult()
    for region in regions:
        try:
            region_ports = ports(region)
            run = run_region(
                region,
                now=now,
                settings=settings,
                source=region_ports.source,
                directory=region_ports.directory,
                catalog=catalog_for(region),
                model_catalog=model_catalog,
                store=store,
                sink=sink,
                publisher=publisher,
            )
        except Exception as exc:  # isolation between regions is the point
            result.failures[region] = f"{type(exc).__name__}: {exc}"
            continue
        result.runs.append(run)
    return result
