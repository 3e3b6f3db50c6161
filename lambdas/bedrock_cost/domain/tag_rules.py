"""Tag rules for Bedrock resources: which resources, what is wrong with their tags, what to add.

Pure logic shared by the tag-enforcer Lambda, ``bedrock-cost tags check`` and the untagged-spend
ranking. Rules (documented for users in docs/tags.md):

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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from bedrock_cost.config import AllowedValues, TagPolicy
from bedrock_cost.safe_regex import bounded_fullmatch

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
        # Tag values are attacker-controlled: bounded input (patterns were checked safe in the config).
        flags = 0 if case_sensitive else re.IGNORECASE
        return bounded_fullmatch(rule.pattern, trimmed, flags)
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
