"""CloudTrail events about Bedrock resources -> what the tag enforcer should check.

Each tracked create/tag call names the resource in its own place; a rule per event says
where, and an event whose resource cannot be found falls back to a scan of its type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bedrock_cost.domain.tag_rules import TaggedResource, region_of, resource_type_of

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
