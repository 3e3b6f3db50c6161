"""The CloudFormation custom-resource framework, wired the same way for every deploy-time function.

Three constructs run a function at deploy time (Athena views, the services anomaly monitor,
the request ledger's setup). Each framework gets its own log group (with the product's
retention, deleted with the stack), its own role that may write only there, and a cdk-nag
acknowledgement scoped to invoking that one function. The construct ids are
``<prefix>ProviderLogs``, ``<prefix>ProviderRole`` and ``<prefix>Provider`` under ``scope``.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from infra.lambda_function import LOG_RETENTION
from infra.nag import acknowledge_wildcard_resources


def framework_provider(
    scope: Construct, prefix: str, on_event: lambda_.IFunction, *, purpose: str, function_label: str
) -> cr.Provider:
    """A provider whose framework invokes ``on_event``; ``purpose`` ends the role's description."""
    framework_logs = logs.LogGroup(
        scope, f"{prefix}ProviderLogs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY
    )
    framework_role = iam.Role(
        scope,
        f"{prefix}ProviderRole",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=f"CloudFormation custom resource framework for {purpose}",
    )
    framework_role.add_to_policy(
        iam.PolicyStatement(
            actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[framework_logs.log_group_arn]
        )
    )
    provider = cr.Provider(
        scope,
        f"{prefix}Provider",
        on_event_handler=on_event,
        framework_on_event_role=framework_role,
        log_group=framework_logs,
    )
    acknowledge_wildcard_resources(
        framework_role,
        [f"{on_event.function_arn}:*"],
        f"The custom resource framework invokes the {function_label} function by ARN; ':*' covers its "
        "published versions and aliases, and nothing but that one function.",
    )
    return provider
