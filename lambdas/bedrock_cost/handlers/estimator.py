"""Estimator Lambda: every few minutes, CloudWatch token metrics × prices -> estimate.

Invoked by an EventBridge schedule (``config.estimator.schedule_minutes``). For each
configured region it processes the minutes since the stored watermark (see
``domain.estimator_run``): S3 records per hour, embedded metrics per minute, then the
watermark. The handler only validates its environment and event, wires the adapters
and calls ``domain.estimator_run.run_regions``.

Environment (validated on the first invocation; a missing variable fails loudly):
``STATE_TABLE``, ``ESTIMATES_BUCKET`` (records and refreshed prices),
``CALIBRATION_BUCKET`` (where the CUR reporter publishes effective unit prices) and
``ESTIMATOR_CONFIG`` (JSON: ``regions``, ``report_tag_keys``, ``estimator``, ``pricing``
sections of the deployment config). Optional, for an organisation member's collector
(docs/organizations.md): ``CATALOG_BUCKET`` (refreshed prices, when they live in another
bucket than the records: the central account's) and ``ESTIMATES_PREFIX`` (the records'
key prefix, e.g. ``estimates/account=<id>`` in the central records bucket).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config as BotoConfig
from pydantic import BaseModel, ConfigDict, Field

from bedrock_cost.adapters.bedrock_profiles import BedrockProfileDirectory
from bedrock_cost.adapters.claims import RunLease, TokenClaims
from bedrock_cost.adapters.cloudwatch_metrics import CloudWatchBedrockMetrics
from bedrock_cost.adapters.estimate_sink import DEFAULT_PREFIX, EmfMetricPublisher, S3EstimateSink
from bedrock_cost.adapters.price_list import CalibrationReader, S3CatalogStore, assemble_catalog
from bedrock_cost.adapters.watermark_store import DynamoWatermarkStore
from bedrock_cost.domain.estimator_run import (
    EstimateSink,
    EstimatorConfig,
    EstimatorResult,
    EstimatorSettings,
    MetricPublisher,
    RegionPorts,
    WatermarkStore,
    run_regions,
)
from bedrock_cost.domain.model_catalog import ModelCatalog, load_model_catalog
from bedrock_cost.domain.pricing import PriceCatalog
from bedrock_cost.errors import BedrockCostError
from bedrock_cost.handlers.wiring import JSON_TEXT, DeadlineBox, container_wiring, environment_loader
from bedrock_cost.observability import logger, metrics, tracer

CLIENT_CONFIG = BotoConfig(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=30)
"""botocore retries a little; our own backoff (with the Lambda's deadline) does the rest."""
SAFETY_MARGIN_SECONDS = 20.0
"""Stop retrying this long before the Lambda timeout, so outputs are never half-written."""
LEASE_MARGIN_SECONDS = 30.0
"""The run lease outlives the invocation by this much (so it never expires under a live run)."""
CATALOG_TTL_SECONDS = 3600.0
"""Refreshed and CUR-calibrated prices are re-read at most hourly (they change daily)."""


class EstimatorEnvironment(BaseModel):
    """What the function needs, validated once per cold start."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    state_table: str = Field(alias="STATE_TABLE", min_length=3)
    estimates_bucket: str = Field(alias="ESTIMATES_BUCKET", min_length=3)
    calibration_bucket: str = Field(alias="CALIBRATION_BUCKET", min_length=3)
    catalog_bucket: str | None = Field(default=None, alias="CATALOG_BUCKET", min_length=3)
    estimates_prefix: str = Field(default=DEFAULT_PREFIX, alias="ESTIMATES_PREFIX", pattern=r"^[A-Za-z0-9=_/.-]+$")
    config: Annotated[EstimatorConfig, JSON_TEXT] = Field(alias="ESTIMATOR_CONFIG")


load_environment = environment_loader(EstimatorEnvironment, "estimator")


class ScheduledEvent(BaseModel):
    """EventBridge schedule event; a manual test invocation may send ``{}``."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    detail_type: str = Field(default="Scheduled Event", alias="detail-type")
    time: datetime | None = None


class CatalogCache:
    """Price catalog per region, re-assembled at most every ``ttl`` seconds."""

    def __init__(self, load: Callable[[str], PriceCatalog], ttl: float = CATALOG_TTL_SECONDS) -> None:
        self._load = load
        self._ttl = ttl
        self._cache: dict[str, tuple[float, PriceCatalog]] = {}

    def __call__(self, region: str) -> PriceCatalog:
        now = time.monotonic()
        cached = self._cache.get(region)
        if cached is None or now - cached[0] >= self._ttl:
            cached = (now, self._load(region))
            self._cache[region] = cached
        return cached[1]


@dataclass
class Dependencies:
    """Adapters for one container; ``configure`` swaps them (local demo, tests)."""

    regions: list[str]
    settings: EstimatorSettings
    ports: Mapping[str, RegionPorts]
    catalog_for: Callable[[str], PriceCatalog]
    store: WatermarkStore
    sink: EstimateSink
    publisher: MetricPublisher
    model_catalog: ModelCatalog = field(default_factory=load_model_catalog)
    deadline: DeadlineBox = field(default_factory=DeadlineBox)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    lease: RunLease | None = None
    """One run at a time (``None``: no lease, for local tools that run alone)."""


def build_dependencies(env: EstimatorEnvironment, deadline: DeadlineBox | None = None) -> Dependencies:
    """Real boto3 adapters; endpoints follow the standard AWS configuration (and ``AWS_ENDPOINT_URL``)."""
    box = deadline or DeadlineBox()
    session = boto3.session.Session()
    config = env.config
    ports = {
        region: RegionPorts(
            source=CloudWatchBedrockMetrics(
                session.client("cloudwatch", region_name=region, config=CLIENT_CONFIG), box.backoff
            ),
            directory=BedrockProfileDirectory(
                session.client("bedrock", region_name=region, config=CLIENT_CONFIG),
                ttl_seconds=config.estimator.profile_cache_ttl_seconds,
                backoff=box.backoff,
            ),
        )
        for region in config.regions
    }
    s3 = session.client("s3", config=CLIENT_CONFIG)
    dynamodb = session.client("dynamodb", config=CLIENT_CONFIG)
    refreshed = S3CatalogStore(s3, env.catalog_bucket or env.estimates_bucket)
    calibration = CalibrationReader(s3, env.calibration_bucket)

    def load_catalog(region: str) -> PriceCatalog:
        return assemble_catalog(config.pricing, refresh=lambda: refreshed.load(region), calibration=calibration.load)

    return Dependencies(
        regions=list(config.regions),
        settings=config.settings(),
        ports=ports,
        catalog_for=CatalogCache(load_catalog),
        store=DynamoWatermarkStore(dynamodb, env.state_table),
        sink=S3EstimateSink(s3, env.estimates_bucket, env.estimates_prefix),
        publisher=EmfMetricPublisher(),
        deadline=box,
        lease=RunLease(TokenClaims(dynamodb, env.state_table), "estimator"),
    )


configure, current_dependencies = container_wiring(lambda: build_dependencies(load_environment()))


class EstimatorRunFailedError(BedrockCostError):
    """At least one region could not be processed (it will be retried next run)."""


def _log_result(result: EstimatorResult, now: datetime, behind_after_minutes: int) -> None:
    for run in result.runs:
        estimate = run.estimate
        logger.info(
            "estimator region done",
            extra={
                "region": run.region,
                "status": run.status,
                "window": run.to_dict()["window_start"],
                "window_end": run.to_dict()["window_end"],
                "backlog_minutes": run.plan.backlog_minutes if run.plan else 0,
                "cost_usd": estimate.to_dict()["total"]["cost_usd"] if estimate else None,
                "objects": len(run.objects),
                "metric_points": run.metric_points,
            },
        )
        if run.plan is not None and run.plan.skipped_minutes:
            logger.error(
                "minutes older than CloudWatch retention were skipped",
                extra={"region": run.region, "skipped_minutes": run.plan.skipped_minutes},
            )
        if run.status == "conflict":
            logger.warning("another run processed this window first", extra={"region": run.region})
        for model, tokens in (estimate.unpriced_by_model if estimate else {}).items():
            logger.warning(
                "unpriced tokens: no price for this model (add pricing.overrides)",
                extra={"region": run.region, "model": model, "unpriced_tokens": tokens},
            )
    for region, reason in result.failures.items():
        logger.error(
            "estimator region failed; watermark kept, next run retries", extra={"region": region, "reason": reason}
        )
    # Health metrics only when unhealthy: a series costs $0.30 a month prorated by the hours
    # it receives data, so a healthy estimator pays nothing for them (the logs keep the
    # per-run figures). "Behind" is more than two schedules plus the settle delay.
    lag = result.lag_minutes(now)
    if lag > behind_after_minutes:
        metrics.add_metric(name="EstimatorLagMinutes", unit=MetricUnit.Count, value=lag)
    if result.failures:
        metrics.add_metric(name="EstimatorFailedRegions", unit=MetricUnit.Count, value=len(result.failures))


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Process the next window of every configured region."""
    deps = current_dependencies()
    ScheduledEvent.model_validate(event if isinstance(event, dict) else {})
    remaining = context.get_remaining_time_in_millis() / 1000
    deps.deadline.set_seconds(remaining - SAFETY_MARGIN_SECONDS)
    if deps.lease is not None and not deps.lease.acquire(remaining + LEASE_MARGIN_SECONDS):
        logger.warning("another estimator run holds the lease; this run does nothing")
        return {"status": "lease-held", "regions": [], "failures": {}}
    now = deps.clock()
    try:
        result = run_regions(
            deps.regions,
            now=now,
            settings=deps.settings,
            ports=lambda region: deps.ports[region],
            catalog_for=deps.catalog_for,
            model_catalog=deps.model_catalog,
            store=deps.store,
            sink=deps.sink,
            publisher=deps.publisher,
        )
    finally:
        if deps.lease is not None:
            deps.lease.release()
    _log_result(result, now, 2 * deps.settings.schedule_minutes + deps.settings.settle_minutes)
    if result.failures:
        raise EstimatorRunFailedError("; ".join(f"{r}: {why}" for r, why in sorted(result.failures.items())))
    return result.to_dict()
