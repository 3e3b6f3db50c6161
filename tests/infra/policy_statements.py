"""Reading IAM statements out of a synthesized template, the same way in every construct test."""

from __future__ import annotations

from typing import Any


def policy_statements(template: dict[str, Any], role: str | None = None) -> list[dict[str, Any]]:
    """Every statement of the template's IAM policies, or only of those attached to ``role`` (a logical id)."""
    found: list[dict[str, Any]] = []
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        if role is None or {"Ref": role} in resource["Properties"]["Roles"]:
            found.extend(resource["Properties"]["PolicyDocument"]["Statement"])
    return found


def actions(statement: dict[str, Any]) -> list[str]:
    """A statement's actions as a list (CloudFormation writes a single action as a string)."""
    value = statement["Action"]
    return value if isinstance(value, list) else [value]
