"""cdk-nag acknowledgements, in one place and always with a reason.

cdk-nag 3 runs as a CDK validation plugin: an unacknowledged finding fails synth. Each
acknowledgement names one finding (``AwsSolutions-IAM5[Resource::...]`` for a single
wildcard resource) so a new wildcard added later fails synth instead of hiding behind
an old blanket suppression. The finding text for a resource is derived from the same
token the policy uses, flattened the way cdk-nag flattens it, so logical-ID changes do
not silently break the match.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_iam as iam
from constructs import IConstruct

PACK = "AwsSolutions"


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding on ``scope`` (and its children), with a reason.

    ``rule`` is the rule id without the pack prefix, e.g. ``"S1"`` or
    ``"IAM5[Resource::*]"``.
    """
    if not reason.strip():
        raise ValueError(f"acknowledging {PACK}-{rule} needs a reason")
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{PACK}-{rule}", reason=reason))


def flatten_reference(value: Any) -> str:
    """Flatten a resolved CloudFormation value the way cdk-nag names IAM5 findings.

    ``{"Fn::GetAtt": ["Bucket", "Arn"]}`` becomes ``<Bucket.Arn>``, ``{"Ref": "X"}``
    becomes ``<X>``, ``Fn::Join`` joins its flattened parts, and ``${...}`` in a
    literal becomes ``<...>``.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("${", "<").replace("}", ">")
    if isinstance(value, dict):
        if "Fn::Join" in value:
            delimiter, items = value["Fn::Join"]
            return str(delimiter).join(flatten_reference(item) for item in items)
        if "Fn::Sub" in value:
            return flatten_reference(value["Fn::Sub"])
        if "Fn::GetAtt" in value:
            resource, attribute = value["Fn::GetAtt"]
            return f"<{flatten_reference(resource)}.{flatten_reference(attribute)}>"
        if "Fn::ImportValue" in value:
            return flatten_reference(value["Fn::ImportValue"])
        if "Ref" in value:
            return f"<{flatten_reference(value['Ref'])}>"
    return json.dumps(value, separators=(",", ":"))


def acknowledge_wildcard_resources(scope: IConstruct, resources: Iterable[str], reason: str) -> None:
    """Acknowledge IAM5 for each resource ARN (a string or token) that contains ``*``.

    Resources without a wildcard are skipped: they raise no finding.
    """
    stack = Stack.of(scope)
    for resource in resources:
        flat = flatten_reference(stack.resolve(resource))
        if "*" in flat:
            acknowledge(scope, f"IAM5[Resource::{flat}]", reason)


def resource_star_policy(
    scope: IConstruct, construct_id: str, role: iam.IRole, actions: list[str], reason: str
) -> iam.Policy:
    """A policy of its own for actions that support no resource-level permissions.

    Keeping each such grant in a separate policy lets its ``Resource::*`` acknowledgement
    cover exactly these actions and nothing added to the role later.
    """
    policy = iam.Policy(
        scope,  # type: ignore[arg-type]
        construct_id,
        roles=[role],
        statements=[iam.PolicyStatement(actions=actions, resources=["*"])],
    )
    acknowledge(policy, "IAM5[Resource::*]", reason)
    return policy
