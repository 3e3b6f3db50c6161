"""The tag-enforcement use case: check resources, remediate, alert once per new violation.

State and alerting go through small ports (``ViolationStore``, ``AlertSink``) so the
rules are testable without AWS; the tag-enforcer Lambda and ``tags check`` wire them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from bedrock_cost.config import TagPolicy
from bedrock_cost.domain.alerts import Alert
from bedrock_cost.domain.tag_events import CheckDeclaredTags, CheckResource, Ignore, ScanType, Trigger
from bedrock_cost.domain.tag_rules import (
    RESOURCE_TYPES,
    TaggedResource,
    Violation,
    evaluate,
    fingerprint,
    remediation_plan,
)
from bedrock_cost.errors import BedrockCostError

# --------------------------------------------------------------------------- per-resource outcome


class ResourceSource(Protocol):
    """Lists Bedrock resources of one region with their tags, and adds tags."""

    region: str

    def list_resources(self, resource_types: Iterable[str] | None = None) -> Iterator[TaggedResource]:
        """Every resource of the given types (all known types when ``None``)."""
        ...

    def get_resource(self, arn: str) -> TaggedResource | None:
        """One resource with its tags; ``None`` when it no longer exists."""
        ...

    def add_tags(self, resource: TaggedResource, tags: Mapping[str, str]) -> None:
        """Add tags (never called with a key the resource already has)."""
        ...


@dataclass(frozen=True)
class ResourceOutcome:
    """What evaluation (and remediation, when enabled) found for one resource."""

    resource: TaggedResource
    violations: tuple[Violation, ...]
    """Violations before remediation: what was wrong."""
    added: Mapping[str, str] = field(default_factory=dict)
    """Tags the enforcer added (remediate mode)."""
    remaining: tuple[Violation, ...] = ()
    """Violations still present after remediation."""
    remediation_error: str | None = None

    @property
    def compliant(self) -> bool:
        return not self.remaining

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.violations)


def check_resource(
    resource: TaggedResource,
    policy: TagPolicy,
    source: ResourceSource | None = None,
    remediate: bool = False,
) -> ResourceOutcome:
    """Evaluate one resource and, when asked, add defaults for its missing keys."""
    violations = tuple(evaluate(policy, resource.tags))
    if not violations or not remediate or source is None or not resource.remediable:
        return ResourceOutcome(resource, violations, remaining=violations)
    plan = remediation_plan(policy, resource.tags)
    if not plan:
        return ResourceOutcome(resource, violations, remaining=violations)
    try:
        source.add_tags(resource, plan)
    except BedrockCostError as exc:
        return ResourceOutcome(resource, violations, remaining=violations, remediation_error=str(exc))
    remaining = tuple(evaluate(policy, {**resource.tags, **plan}))
    return ResourceOutcome(resource, violations, added=dict(plan), remaining=remaining)


# --------------------------------------------------------------------------- alerts


def _console_url(resource: TaggedResource) -> str:
    return f"https://{resource.region}.console.aws.amazon.com/bedrock/home?region={resource.region}"


def violation_alert(outcome: ResourceOutcome, started_at: datetime, mode: str) -> Alert:
    """The ``tag_violation`` alert for one resource's violation episode.

    The dedupe key joins the ARN, the violation fingerprint and when this episode
    started: an unchanged violation never re-alerts, a fixed-then-broken one does.
    """
    resource = outcome.resource
    label = RESOURCE_TYPES[resource.resource_type].label if resource.resource_type in RESOURCE_TYPES else "resource"
    details = [v.describe() for v in outcome.violations]
    if outcome.added:
        details += [f"added tag {k}={v} (remediate mode)" for k, v in sorted(outcome.added.items())]
    if outcome.remediation_error:
        details.append(f"remediation failed: {outcome.remediation_error}")
    if resource.note:
        details.append(resource.note)
    fixed = outcome.compliant and bool(outcome.added)
    problems = len(outcome.violations)
    title = (
        f"Tags added to Bedrock {label} '{resource.name}'"
        if fixed
        else f"Bedrock {label} '{resource.name}' breaks the tag policy ({problems} problem{'s' * (problems != 1)})"
    )
    return Alert(
        kind="tag_violation",
        dedupe_key=f"tag_violation:{resource.arn}:{outcome.fingerprint}:{started_at.strftime('%Y%m%dT%H%M%S.%fZ')}",
        title=title,
        severity="info" if fixed else "warning",
        period=started_at.strftime("%Y-%m"),
        figures={
            "violations": str(problems),
            "remaining_violations": str(len(outcome.remaining)),
            "tags_added": str(len(outcome.added)),
        },
        subject={
            "resource_arn": resource.arn,
            "resource_type": resource.resource_type,
            "resource_name": resource.name,
            "region": resource.region,
            "mode": mode,
            "fingerprint": outcome.fingerprint,
        },
        details=details,
        console_url=_console_url(resource),
    )


class AlertSink(Protocol):
    def publish(self, alert: Alert) -> bool:
        """Send the alert unless its dedupe key was sent before; return whether sent."""
        ...


@dataclass(frozen=True)
class ViolationRecord:
    """State of one resource's current violation episode (``violation#<arn>``)."""

    arn: str
    fingerprint: str
    started_at: datetime
    pending_alert: str | None = None
    """Alert JSON not yet confirmed sent; re-sent by the next run (deduped by key)."""


class ViolationStore(Protocol):
    def get(self, arn: str) -> ViolationRecord | None: ...

    def put(self, record: ViolationRecord, expected_fingerprint: str | None) -> bool:
        """Write ``record`` if the stored fingerprint is still ``expected_fingerprint``
        (``None``: no record). Return False when another run changed it first."""
        ...

    def clear(self, arn: str) -> None: ...


# --------------------------------------------------------------------------- enforcement


@dataclass
class EnforcementReport:
    """Result of one enforcer run, returned by the Lambda and printed by the CLI."""

    mode: str
    trigger: str
    outcomes: list[ResourceOutcome] = field(default_factory=list)
    alerts_sent: int = 0
    scan_errors: list[str] = field(default_factory=list)
    failed_types: set[str] = field(default_factory=set)
    full_scan: bool = False
    scanned_types: tuple[str, ...] = ()

    def compliance_by_type(self) -> dict[str, tuple[int, int]]:
        """resource type -> (resources, non-compliant)."""
        totals: Counter[str] = Counter(dict.fromkeys(self.scanned_types, 0))
        bad: Counter[str] = Counter()
        for outcome in self.outcomes:
            totals[outcome.resource.resource_type] += 1
            bad[outcome.resource.resource_type] += 0 if outcome.compliant else 1
        return {t: (totals[t], bad[t]) for t in sorted(totals) if t not in self.failed_types}

    @property
    def non_compliant(self) -> int:
        return sum(1 for o in self.outcomes if not o.compliant)

    def compliance_pct(self) -> float:
        """Share of evaluated resources that comply after this run; 100 when there are none."""
        if not self.outcomes:
            return 100.0
        return round(100.0 * (len(self.outcomes) - self.non_compliant) / len(self.outcomes), 2)

    def summary(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "trigger": self.trigger,
            "resources": len(self.outcomes),
            "non_compliant": self.non_compliant,
            "tags_added": sum(len(o.added) for o in self.outcomes),
            "alerts_sent": self.alerts_sent,
            "scan_errors": list(self.scan_errors),
        }


def full_scan_triggers(regions: Iterable[str], resource_types: Iterable[str] | None = None) -> list[Trigger]:
    """One ``ScanType`` per region and resource type: the daily full scan."""
    types = list(resource_types) if resource_types is not None else list(RESOURCE_TYPES)
    return [ScanType(region=region, resource_type=t) for region in regions for t in types]


class TagEnforcer:
    """Evaluate resources, remediate when configured, and alert once per violation episode."""

    def __init__(self, policy: TagPolicy, store: ViolationStore, sink: AlertSink) -> None:
        self._policy = policy
        self._store = store
        self._sink = sink

    @property
    def remediate(self) -> bool:
        return self._policy.mode == "remediate"

    def run(
        self,
        triggers: Iterable[Trigger],
        sources: Mapping[str, ResourceSource],
        now: datetime,
        trigger_name: str,
        full_scan: bool = False,
    ) -> EnforcementReport:
        """Handle every trigger; a full scan lists every known type in every source region."""
        triggers = list(triggers)
        report = EnforcementReport(
            mode=self._policy.mode,
            trigger=trigger_name,
            full_scan=full_scan,
            scanned_types=tuple(sorted({t.resource_type for t in triggers if isinstance(t, ScanType)})),
        )
        for trigger in triggers:
            try:
                for resource, source in self._resources(trigger, sources, report):
                    self._handle(resource, source, now, report)
            except BedrockCostError as exc:
                # Keep going with the other regions/types; the caller fails the run at the
                # end so it is retried, and metrics skip the types that could not be read.
                report.scan_errors.append(str(exc))
                if isinstance(trigger, ScanType):
                    report.failed_types.add(trigger.resource_type)
        return report

    def _resources(
        self, trigger: Trigger, sources: Mapping[str, ResourceSource], report: EnforcementReport
    ) -> Iterator[tuple[TaggedResource, ResourceSource | None]]:
        if isinstance(trigger, Ignore):
            return
        if isinstance(trigger, CheckDeclaredTags):
            yield trigger.resource, None
            return
        source = sources.get(trigger.region)
        if source is None:
            report.scan_errors.append(f"region {trigger.region} is not configured")
            return
        if isinstance(trigger, CheckResource):
            resource = source.get_resource(trigger.arn)
            if resource is None:
                self._store.clear(trigger.arn)
                return
            yield resource, source
            return
        for resource in source.list_resources([trigger.resource_type]):
            yield resource, source

    def _handle(
        self, resource: TaggedResource, source: ResourceSource | None, now: datetime, report: EnforcementReport
    ) -> None:
        outcome = check_resource(resource, self._policy, source, remediate=self.remediate)
        report.outcomes.append(outcome)
        record = self._store.get(resource.arn)
        # The episode is keyed on what is still wrong, so fixing part of it (remediation)
        # doesn't look like a new problem next run.
        state_fp = fingerprint(outcome.remaining)
        if outcome.compliant and not outcome.added:
            if record is not None:
                self._flush_pending(record, report)
                self._store.clear(resource.arn)
            return
        if record is not None and record.fingerprint == state_fp and not outcome.added:
            # Unchanged violation: only finish sending what the last run could not confirm.
            self._flush_pending(record, report)
            return
        alert = violation_alert(outcome, now, self._policy.mode)
        new_record = ViolationRecord(resource.arn, state_fp, now, pending_alert=alert.to_json())
        if not self._store.put(new_record, record.fingerprint if record else None):
            return  # another run recorded this resource first and owns the alert
        self._send(alert, new_record, report)
        if outcome.compliant:
            self._store.clear(resource.arn)

    def _send(self, alert: Alert, record: ViolationRecord, report: EnforcementReport) -> None:
        if self._sink.publish(alert):
            report.alerts_sent += 1
        self._store.put(replace(record, pending_alert=None), record.fingerprint)

    def _flush_pending(self, record: ViolationRecord, report: EnforcementReport) -> None:
        if record.pending_alert is None:
            return
        self._send(Alert.from_json(record.pending_alert), record, report)
