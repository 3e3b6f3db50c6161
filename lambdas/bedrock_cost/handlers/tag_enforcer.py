"""Tag-enforcer Lambda: checks Bedrock resources against the tag policy.

Invoked two ways, both EventBridge events:

* the daily schedule (``detail-type: Scheduled Event``): full scan of every configured
  region, then ``TagCompliancePct`` / ``NonCompliantResources`` metrics;
* CloudTrail API calls on ``bedrock.amazonaws.com`` (``detail-type: AWS API Call via
  CloudTrail``): the created or re-tagged resource is checked within minutes.

The handler only parses the event, wires adapters and calls
``domain.tag_enforcement.TagEnforcer.run``; the rules live in the domain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bedrock_cost.adapters.alert_publisher import AlertPublisher
from bedrock_cost.adapters.bedrock_resources import CLIENT_CONFIG, BedrockResources, DynamoViolationStore
from bedrock_cost.config import TagPolicy
from bedrock_cost.domain.tag_enforcement import (
    AlertSink,
    EnforcementReport,
    ResourceSource,
    TagEnforcer,
    ViolationStore,
    full_scan_triggers,
)
from bedrock_cost.domain.tag_events import Trigger, trigger_for_event
from bedrock_cost.errors import BedrockCostError
from bedrock_cost.handlers.wiring import JSON_TEXT, container_wiring, environment_loader
from bedrock_cost.metric_names import NON_COMPLIANT, TAG_COMPLIANCE
from bedrock_cost.observability import emit_metric, logger, metrics, tracer

# --------------------------------------------------------------------------- environment


class TagEnforcerEnvironment(BaseModel):
    """What the function needs, validated once per cold start. Missing = loud failure."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    state_table: str = Field(alias="STATE_TABLE", min_length=3)
    alert_topic_arn: str = Field(alias="ALERT_TOPIC_ARN", pattern=r"^arn:aws[a-z-]*:sns:")
    account_id: str = Field(alias="ACCOUNT_ID", pattern=r"^\d{12}$")
    regions: list[str] = Field(alias="REGIONS", min_length=1)
    tag_policy: Annotated[TagPolicy, JSON_TEXT] = Field(alias="TAG_POLICY")

    @field_validator("regions", mode="before")
    @classmethod
    def _split_regions(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [r.strip() for r in value.split(",") if r.strip()]
        return value


load_environment = environment_loader(TagEnforcerEnvironment, "tag-enforcer")


# --------------------------------------------------------------------------- events


class _EventBridgeEvent(BaseModel):
    """The envelope every EventBridge event carries; ``detail-type`` says which one it is."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    source: str
    time: datetime
    region: str


class ScheduledEvent(_EventBridgeEvent):
    """EventBridge schedule: ``{"detail-type": "Scheduled Event", "source": "aws.events", ...}``."""

    detail_type: Literal["Scheduled Event"] = Field(alias="detail-type")


class CloudTrailDetail(BaseModel):
    model_config = ConfigDict(extra="ignore")

    eventSource: str  # noqa: N815 - CloudTrail's own field names
    eventName: str  # noqa: N815
    awsRegion: str  # noqa: N815
    eventTime: datetime  # noqa: N815
    errorCode: str | None = None  # noqa: N815
    requestParameters: dict[str, Any] | None = None  # noqa: N815
    responseElements: dict[str, Any] | None = None  # noqa: N815
    userIdentity: dict[str, Any] | None = None  # noqa: N815

    @property
    def actor(self) -> str:
        identity = self.userIdentity or {}
        return str(identity.get("arn") or identity.get("principalId") or "unknown")


class CloudTrailEvent(_EventBridgeEvent):
    """EventBridge ``AWS API Call via CloudTrail`` event from ``aws.bedrock``."""

    detail_type: Literal["AWS API Call via CloudTrail"] = Field(alias="detail-type")
    detail: CloudTrailDetail


def parse_event(event: Mapping[str, Any]) -> ScheduledEvent | CloudTrailEvent:
    """Typed view of the incoming event; raise ``ValueError`` naming what is wrong."""
    kind = event.get("detail-type")
    try:
        if kind == "Scheduled Event":
            return ScheduledEvent.model_validate(event)
        if kind == "AWS API Call via CloudTrail":
            return CloudTrailEvent.model_validate(event)
    except ValidationError as exc:
        raise ValueError(f"malformed {kind!r} event: {exc}") from None
    raise ValueError(f"unsupported event detail-type {kind!r}: expected a schedule or a CloudTrail API call")


# --------------------------------------------------------------------------- wiring


@dataclass
class Dependencies:
    """The adapters one invocation uses; ``configure`` swaps them (local demo, tests)."""

    policy: TagPolicy
    regions: list[str]
    sources: Mapping[str, ResourceSource]
    store: ViolationStore
    sink: AlertSink


def build_dependencies(env: TagEnforcerEnvironment, endpoint_url: str | None = None) -> Dependencies:
    """Real boto3 adapters: one Bedrock source per configured region."""
    session = boto3.session.Session()
    sources: dict[str, ResourceSource] = {
        region: BedrockResources(
            region=region,
            account_id=env.account_id,
            bedrock=session.client("bedrock", region_name=region, endpoint_url=endpoint_url, config=CLIENT_CONFIG),
            bedrock_agent=session.client(
                "bedrock-agent", region_name=region, endpoint_url=endpoint_url, config=CLIENT_CONFIG
            ),
        )
        for region in env.regions
    }
    dynamodb = session.client("dynamodb", endpoint_url=endpoint_url, config=CLIENT_CONFIG)
    sns = session.client("sns", endpoint_url=endpoint_url, config=CLIENT_CONFIG)
    return Dependencies(
        policy=env.tag_policy,
        regions=list(env.regions),
        sources=sources,
        store=DynamoViolationStore(dynamodb, env.state_table),
        sink=AlertPublisher(sns, env.alert_topic_arn, dynamodb, env.state_table),
    )


configure, current_dependencies = container_wiring(lambda: build_dependencies(load_environment()))


def _triggers(event: ScheduledEvent | CloudTrailEvent, deps: Dependencies) -> tuple[list[Trigger], str, bool]:
    if isinstance(event, ScheduledEvent):
        return full_scan_triggers(deps.regions), "schedule", True
    detail = event.detail
    trigger = trigger_for_event(
        detail.eventName, detail.awsRegion, detail.requestParameters, detail.responseElements, detail.errorCode
    )
    logger.info(
        "CloudTrail event",
        extra={"event_name": detail.eventName, "actor": detail.actor, "trigger": repr(trigger)},
    )
    return [trigger], f"cloudtrail:{detail.eventName}", False


def publish_metrics(report: EnforcementReport) -> None:
    """Compliance metrics from a full scan (an event-driven check sees one resource only).

    Dimensions are exactly none or ``ResourceType`` (one value per known type): alarms
    and dashboards match on the dimension set, so nothing else is added.
    """
    if not report.full_scan:
        return
    for resource_type, (total, bad) in report.compliance_by_type().items():
        dims = {"ResourceType": resource_type}
        emit_metric(NON_COMPLIANT, bad, dimensions=dims, unit=MetricUnit.Count)
        if total:
            pct = round(100.0 * (total - bad) / total, 2)
            emit_metric(TAG_COMPLIANCE, pct, dimensions=dims, unit=MetricUnit.Percent)
    emit_metric(TAG_COMPLIANCE, report.compliance_pct(), unit=MetricUnit.Percent)


def _log_outcomes(report: EnforcementReport) -> None:
    for outcome in report.outcomes:
        if outcome.added:
            logger.info(
                "tags added",
                extra={"resource_arn": outcome.resource.arn, "added": dict(outcome.added), "mode": report.mode},
            )
        if not outcome.compliant:
            logger.warning(
                "tag policy violation",
                extra={
                    "resource_arn": outcome.resource.arn,
                    "resource_type": outcome.resource.resource_type,
                    "violations": [v.describe() for v in outcome.remaining],
                    "remediation_error": outcome.remediation_error,
                },
            )


def enforce(event: ScheduledEvent | CloudTrailEvent, deps: Dependencies, now: datetime) -> EnforcementReport:
    """Check (and, in enforce mode, fix) the resources the event points at."""
    triggers, trigger_name, full_scan = _triggers(event, deps)
    enforcer = TagEnforcer(deps.policy, deps.store, deps.sink)
    return enforcer.run(triggers, deps.sources, now, trigger_name, full_scan=full_scan)


def write_report(report: EnforcementReport) -> dict[str, Any]:
    """Logs and metrics of a run; raises (so Lambda retries) when part of the scan failed."""
    _log_outcomes(report)
    publish_metrics(report)
    # Activity counts only when there was some (no alarm or widget reads them; each series
    # is billed for every hour it receives a point, zeros included).
    if report.alerts_sent:
        metrics.add_metric(name="TagViolationAlerts", unit=MetricUnit.Count, value=report.alerts_sent)
    if added := sum(len(o.added) for o in report.outcomes):
        metrics.add_metric(name="TagsAdded", unit=MetricUnit.Count, value=added)
    summary = report.summary()
    logger.info("tag enforcement finished", extra=summary)
    if report.scan_errors:
        raise BedrockCostError("tag enforcement incomplete: " + "; ".join(report.scan_errors))
    return summary


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Entry point. Returns the run summary; raises (so Lambda retries) on scan errors."""
    deps = current_dependencies()
    parsed = parse_event(event)
    return write_report(enforce(parsed, deps, datetime.now(UTC)))
