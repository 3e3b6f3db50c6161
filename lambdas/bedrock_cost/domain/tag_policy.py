"""Tag policy for Bedrock resources: evaluation, fingerprints, remediation and enforcement.

Pure logic. The tag-enforcer Lambda and ``bedrock-cost tags check`` run the same code:
adapters hand in a resource's tags (``TaggedResource``), this module decides what is
wrong (``Violation``), what may be added without touching an existing value
(``remediation_plan``), and, in ``TagEnforcer``, when a violation is new enough to
alert on. State and alerting go through small ports (``ViolationStore``,
``AlertSink``) so the rules are testable without AWS.

Rules (documented for users in docs/tags.md):

* keys and values are compared after trimming whitespace;
* with ``case_sensitive: false`` (the default) ``Team`` satisfies a required ``team``
  key and ``PROD`` matches an allowed ``prod``;
* a value is accepted when it is one of ``values`` or fully matches ``pattern``
  (either one suffices when both are given);
* remediation only adds configured defaults for *missing* keys; it never overwrites a
  value that is present, even an empty or invalid one.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, Protocol

from bedrock_cost.config import AllowedValues, TagPolicy
from bedrock_cost.domain.alerts import Alert
from bedrock_cost.errors import BedrockCostError

ViolationKind = Literal["missing", "empty", "not_allowed", "pattern_mismatch"]
TagApi = Literal["bedrock", "bedrock-agent"]


# --------------------------------------------------------------------------- resources


@dataclass(frozen=True)
class ResourceType:
    """A taggable Bedrock resource type the enforcer knows how to list and tag."""

    name: str
    """Our name, also the ``ResourceType`` metric dimension (bounded: one per entry below)."""
    api: TagApi
    """Which tagging API serves it: ``bedrock`` (list of key/value) or ``bedrock-agent`` (map)."""
    label: str
    organizations_type: str | None = None
    """Resource type in AWS Organizations tag policies, when Organizations supports it."""


RESOURCE_TYPES: dict[str, ResourceType] = {
    rt.name: rt
    for rt in (
        ResourceType(
            "application-inference-profile",
            "bedrock",
            "application inference profile",
            "bedrock:application-inference-profile",
        ),
        ResourceType("provisioned-model", "bedrock", "provisioned model throughput"),
        ResourceType("custom-model", "bedrock", "custom model"),
        ResourceType("imported-model", "bedrock", "imported model"),
        ResourceType("custom-model-deployment", "bedrock", "custom model deployment"),
        ResourceType("prompt-router", "bedrock", "prompt router"),
        ResourceType("guardrail", "bedrock", "guardrail", "bedrock:guardrail"),
        ResourceType("agent", "bedrock-agent", "agent", "bedrock:agent"),
        ResourceType("knowledge-base", "bedrock-agent", "knowledge base", "bedrock:knowledge-base"),
        ResourceType("flow", "bedrock-agent", "flow", "bedrock:flow"),
        ResourceType("prompt", "bedrock-agent", "prompt", "bedrock:prompt"),
    )
}
"""Every resource type the enforcer scans. Jobs (batch, evaluation, customization) are
short-lived and not scanned; the models they produce are."""

_ARN_RE = re.compile(r"^arn:(?P<partition>aws[a-z-]*):bedrock:(?P<region>[a-z0-9-]*):(?P<account>\d{12}):(?P<rest>.+)$")


def resource_type_of(arn: str) -> str | None:
    """The enforcer's resource type for a Bedrock ARN, or ``None`` when we don't track it.

    ``default-prompt-router`` (AWS-owned) and versions/aliases are not tracked.
    """
    match = _ARN_RE.match(arn.strip())
    if match is None:
        return None
    kind = match.group("rest").split("/", 1)[0]
    return kind if kind in RESOURCE_TYPES else None


def region_of(arn: str) -> str | None:
    match = _ARN_RE.match(arn.strip())
    return match.group("region") if match else None


@dataclass(frozen=True)
class TaggedResource:
    """A Bedrock resource and its tags as the tagging API returned them."""

    arn: str
    resource_type: str
    region: str
    name: str
    tags: Mapping[str, str]
    remediable: bool = True
    """False for a resource announced by a job that has not produced it yet."""
    note: str | None = None


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True, order=True)
class Violation:
    """One way a resource breaks the policy."""

    key: str
    """The policy's key (as configured)."""
    kind: ViolationKind
    value: str | None = None
    """The value found (for ``empty``/``not_allowed``/``pattern_mismatch``), as tagged."""
    expected: str = ""

    def describe(self) -> str:
        if self.kind == "missing":
            return f"missing required tag '{self.key}'"
        if self.kind == "empty":
            return f"tag '{self.key}' is empty"
        return f"tag '{self.key}' = '{self.value}' is not allowed (expected {self.expected})"


def _norm(text: str, case_sensitive: bool) -> str:
    text = text.strip()
    return text if case_sensitive else text.casefold()


def _matching_tags(tags: Mapping[str, str], key: str, case_sensitive: bool) -> list[tuple[str, str]]:
    wanted = _norm(key, case_sensitive)
    return [(k, v) for k, v in tags.items() if _norm(k, case_sensitive) == wanted]


def _expected_text(rule: AllowedValues) -> str:
    parts = []
    if rule.values:
        parts.append("one of " + ", ".join(rule.values))
    if rule.pattern:
        parts.append(f"a match for /{rule.pattern}/")
    return " or ".join(parts) or "any value"


def value_allowed(value: str, rule: AllowedValues, case_sensitive: bool) -> bool:
    """Whether a (non-empty) value satisfies a key's rule: listed value or pattern match."""
    if not rule.values and not rule.pattern:
        return True
    trimmed = value.strip()
    if rule.values and _norm(trimmed, case_sensitive) in {_norm(v, case_sensitive) for v in rule.values}:
        return True
    if rule.pattern:
        flags = 0 if case_sensitive else re.IGNORECASE
        return re.fullmatch(rule.pattern, trimmed, flags) is not None
    return False


def policy_keys(policy: TagPolicy) -> list[str]:
    """Every key the policy says something about, in a stable order."""
    keys = list(dict.fromkeys([*policy.required_keys, *policy.allowed_values]))
    return keys


def evaluate(policy: TagPolicy, tags: Mapping[str, str]) -> list[Violation]:
    """Violations of ``policy`` by a resource carrying ``tags``, sorted (stable output)."""
    violations: list[Violation] = []
    for key in policy_keys(policy):
        found = _matching_tags(tags, key, policy.case_sensitive)
        if not found:
            if key in policy.required_keys:
                violations.append(Violation(key=key, kind="missing"))
            continue
        rule = policy.allowed_values.get(key)
        for _, value in found:
            if not value.strip():
                violations.append(Violation(key=key, kind="empty", value=value))
            elif rule is not None and not value_allowed(value, rule, policy.case_sensitive):
                kind: ViolationKind = "not_allowed" if rule.values else "pattern_mismatch"
                violations.append(Violation(key=key, kind=kind, value=value, expected=_expected_text(rule)))
    return sorted(set(violations))


def fingerprint(violations: Iterable[Violation]) -> str:
    """A short stable hash of a set of violations: same problems, same fingerprint.

    Built from (key, kind, value) only, so reordering tags or rewording the policy's
    description doesn't re-alert; a different bad value does.
    """
    canonical = sorted({(v.key.casefold(), v.kind, (v.value or "").strip()) for v in violations})
    digest = hashlib.sha256(json.dumps(canonical, separators=(",", ":")).encode("utf-8")).hexdigest()
    return digest[:16]


def remediation_plan(policy: TagPolicy, tags: Mapping[str, str]) -> dict[str, str]:
    """Tags to add: the configured default for each *missing* required key, nothing else.

    A key present under any accepted spelling (case-insensitive unless configured
    otherwise) is never touched, whatever its value.
    """
    plan: dict[str, str] = {}
    for key in policy.required_keys:
        if key in policy.defaults and not _matching_tags(tags, key, policy.case_sensitive):
            plan[key] = policy.defaults[key]
    return plan


# --------------------------------------------------------------------------- Organizations tag policy

ORGANIZATIONS_POLICY_MAX_CHARS = 10_000
"""AWS Organizations rejects a tag policy document longer than this."""


def organizations_resource_types() -> list[str]:
    """Bedrock resource types AWS Organizations tag policies accept, from ``RESOURCE_TYPES``."""
    return sorted({rt.organizations_type for rt in RESOURCE_TYPES.values() if rt.organizations_type})


def organizations_tag_policy(policy: TagPolicy, enforce: bool = True) -> tuple[dict[str, Any], list[str]]:
    """An AWS Organizations tag policy document for the configured keys, and warnings.

    ``tag_key`` fixes the capitalization, ``tag_value`` lists allowed values (only for
    keys ruled by a value list: Organizations has no regular expressions, so a key with
    a ``pattern`` gets no value list rather than a wrong one), ``enforced_for`` blocks
    non-compliant tagging on the Bedrock types Organizations supports, and
    ``report_required_tag_for`` reports those types when a required key is missing.
    """
    types = organizations_resource_types()
    warnings: list[str] = []
    tags: dict[str, Any] = {}
    for key in policy_keys(policy):
        entry: dict[str, Any] = {"tag_key": {"@@assign": key.strip()}}
        rule = policy.allowed_values.get(key)
        if rule is not None and rule.pattern:
            warnings.append(
                f"tag '{key}': pattern /{rule.pattern}/ cannot be expressed in a tag policy; "
                "no value list emitted (the tag-enforcer still checks it)"
            )
        elif rule is not None and rule.values:
            entry["tag_value"] = {"@@assign": list(rule.values)}
        if enforce:
            entry["enforced_for"] = {"@@assign": types}
        if key in policy.required_keys:
            entry["report_required_tag_for"] = {"@@assign": types}
        tags[key.strip().lower()] = entry
    if not policy.case_sensitive and tags:
        warnings.append(
            "tag policies compare tag keys case-sensitively: resources tagged with another "
            "capitalization are reported non-compliant by Organizations but accepted by the enforcer"
        )
    document = {"tags": tags}
    size = len(json.dumps(document, separators=(",", ":")))
    if size > ORGANIZATIONS_POLICY_MAX_CHARS:
        warnings.append(
            f"document is {size} characters; Organizations accepts at most {ORGANIZATIONS_POLICY_MAX_CHARS}"
        )
    return document, warnings


# --------------------------------------------------------------------------- CloudTrail triggers


@dataclass(frozen=True)
class CloudTrailRule:
    """How to find the resource a CloudTrail event is about."""

    resource_type: str | None
    """``None`` for TagResource/UntagResource: the type comes from the ARN."""
    arn_path: tuple[str, ...] = ()
    """Path of the ARN in ``responseElements``."""
    request_arn_keys: tuple[str, ...] = ()
    """Keys of the ARN in ``requestParameters`` (tagging calls)."""
    declared_tags_key: str | None = None
    """For jobs that create a model later: where the model's declared tags are."""
    declared_name_key: str | None = None


CLOUDTRAIL_RULES: dict[str, CloudTrailRule] = {
    "CreateInferenceProfile": CloudTrailRule("application-inference-profile", ("inferenceProfileArn",)),
    "CreateProvisionedModelThroughput": CloudTrailRule("provisioned-model", ("provisionedModelArn",)),
    "CreateCustomModel": CloudTrailRule("custom-model", ("modelArn",)),
    "CreateCustomModelDeployment": CloudTrailRule("custom-model-deployment", ("customModelDeploymentArn",)),
    "CreatePromptRouter": CloudTrailRule("prompt-router", ("promptRouterArn",)),
    "CreateGuardrail": CloudTrailRule("guardrail", ("guardrailArn",)),
    "CreateAgent": CloudTrailRule("agent", ("agent", "agentArn")),
    "CreateKnowledgeBase": CloudTrailRule("knowledge-base", ("knowledgeBase", "knowledgeBaseArn")),
    "CreateFlow": CloudTrailRule("flow", ("arn",)),
    "CreatePrompt": CloudTrailRule("prompt", ("arn",)),
    "CreateModelCustomizationJob": CloudTrailRule(
        "custom-model", ("jobArn",), declared_tags_key="customModelTags", declared_name_key="customModelName"
    ),
    "CreateModelImportJob": CloudTrailRule(
        "imported-model", ("jobArn",), declared_tags_key="importedModelTags", declared_name_key="importedModelName"
    ),
    "CreateModelCopyJob": CloudTrailRule(
        "custom-model", ("jobArn",), declared_tags_key="targetModelTags", declared_name_key="targetModelName"
    ),
    "TagResource": CloudTrailRule(None, request_arn_keys=("resourceARN", "resourceArn")),
    "UntagResource": CloudTrailRule(None, request_arn_keys=("resourceARN", "resourceArn")),
}
"""CloudTrail events (eventSource bedrock.amazonaws.com) that trigger a check within minutes."""

TRACKED_EVENT_NAMES: tuple[str, ...] = tuple(sorted(CLOUDTRAIL_RULES))


@dataclass(frozen=True)
class CheckResource:
    """Re-read one resource and evaluate it."""

    region: str
    arn: str


@dataclass(frozen=True)
class CheckDeclaredTags:
    """Evaluate the tags a job declared for a model it will create later."""

    resource: TaggedResource


@dataclass(frozen=True)
class ScanType:
    """Scan one resource type in one region (when an event doesn't carry the ARN)."""

    region: str
    resource_type: str


@dataclass(frozen=True)
class Ignore:
    reason: str


Trigger = CheckResource | CheckDeclaredTags | ScanType | Ignore


def _dig(data: Any, path: Sequence[str]) -> Any:
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _declared_tags(raw: Any) -> dict[str, str]:
    """Tags as a CloudTrail request carries them: ``[{key, value}]`` or ``{k: v}``."""
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items()}
    tags: dict[str, str] = {}
    if isinstance(raw, list):
        for item in raw:
            if isinstance(item, dict) and "key" in item:
                tags[str(item["key"])] = str(item.get("value", ""))
    return tags


def trigger_for_event(
    event_name: str,
    region: str,
    request_parameters: Mapping[str, Any] | None,
    response_elements: Mapping[str, Any] | None,
    error_code: str | None = None,
) -> Trigger:
    """Decide what to check for one CloudTrail API call."""
    rule = CLOUDTRAIL_RULES.get(event_name)
    if rule is None:
        return Ignore(f"event {event_name} is not one the enforcer tracks")
    if error_code:
        return Ignore(f"{event_name} failed ({error_code}): nothing was created or changed")
    if rule.resource_type is None:
        arn = next(
            (str(v) for k in rule.request_arn_keys if (v := _dig(request_parameters, (k,))) is not None),
            None,
        )
        if arn is None:
            return Ignore(f"{event_name} event carries no resource ARN")
        if resource_type_of(arn) is None:
            return Ignore(f"{arn} is not a resource type the enforcer tracks")
        return CheckResource(region=region_of(arn) or region, arn=arn)
    found = _dig(response_elements, rule.arn_path)
    if rule.declared_tags_key is not None:
        job_arn = str(found) if found else f"(pending {event_name} in {region})"
        name = str(_dig(request_parameters, (rule.declared_name_key or "",)) or "(unnamed)")
        tags = _declared_tags(_dig(request_parameters, (rule.declared_tags_key,)))
        return CheckDeclaredTags(
            TaggedResource(
                arn=job_arn,
                resource_type=rule.resource_type,
                region=region,
                name=name,
                tags=tags,
                remediable=False,
                note=f"declared by {event_name}; the model does not exist yet",
            )
        )
    if not found:
        # CloudTrail sometimes omits response elements: fall back to a scan of the type.
        return ScanType(region=region, resource_type=rule.resource_type)
    return CheckResource(region=region, arn=str(found))


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
