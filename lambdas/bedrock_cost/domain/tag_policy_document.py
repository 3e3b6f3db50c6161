"""The AWS Organizations tag policy document for the configured Bedrock tag rules."""

from __future__ import annotations

import json
from typing import Any

from bedrock_cost.config import TagPolicy
from bedrock_cost.domain.tag_rules import RESOURCE_TYPES, policy_keys

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
