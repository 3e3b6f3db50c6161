"""The alert topic: one encrypted SNS topic every alert of the product goes through.

Producers: our Lambdas (``Alert`` envelopes, through ``topic.grant_publish``), CloudWatch
alarms, AWS Budgets and Cost Anomaly Detection (service principals). Consumers: e-mail
subscribers from the config and the Slack notifier.

- Encrypted with a customer-managed KMS key (rotation on). AWS-managed ``alias/aws/sns``
  cannot be used: its key policy cannot be edited to let CloudWatch, Budgets and Cost
  Anomaly Detection encrypt what they publish.
- The key and topic policies name each service and are scoped with ``aws:SourceAccount``
  (and ``aws:SourceArn`` on the topic: alarms, budgets, anomaly subscriptions of this
  account only), so no other account can use this topic through those services.
- The topic denies any request not made over TLS.
- ``topic.grant_publish`` grants ``sns:Publish`` on the topic and ``kms:GenerateDataKey``
  + ``kms:Decrypt`` on its key, nothing wider.
- E-mail subscribers get every message once, through the topic: our alerts as plain text
  (``MessageStructure=json``, ``domain/alert_email.py``), and the messages of CloudWatch
  alarms, AWS Budgets and Cost Anomaly Detection as those services write them. Budgets
  notifies the topic only (not the addresses directly), so nobody gets a budget e-mail
  twice and no subscription needs a filter (a message-body filter cannot be relied on
  to see our JSON once the e-mail copy is text).
- The key policy has one statement per publishing service, as each service documents
  it: the service principal, ``kms:GenerateDataKey*`` and ``kms:Decrypt``, scoped with
  ``aws:SourceAccount`` and ``aws:SourceArn``.
"""

from __future__ import annotations

from typing import Any, Final

from aws_cdk import Annotations, Aws, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from bedrock_cost.config import Config

PUBLISHING_SERVICES: Final[dict[str, str]] = {
    "cloudwatch.amazonaws.com": f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:{Aws.ACCOUNT_ID}:alarm:*",
    "budgets.amazonaws.com": f"arn:{Aws.PARTITION}:budgets::{Aws.ACCOUNT_ID}:*",
    "costalerts.amazonaws.com": f"arn:{Aws.PARTITION}:ce::{Aws.ACCOUNT_ID}:anomalysubscription/*",
}
"""Service principal -> the ARN pattern of the resources allowed to publish (aws:SourceArn)."""


class _AlertSnsTopic(sns.Topic):
    """An SNS topic whose ``grant_publish`` names exact KMS actions.

    CDK's own grant adds ``kms:GenerateDataKey*`` (a wildcard action); publishing to an
    encrypted topic needs only ``kms:GenerateDataKey`` and ``kms:Decrypt`` on its key.
    """

    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, master_key=key, **kwargs)
        self._key = key

    def grant_publish(self, grantee: iam.IGrantable) -> iam.Grant:
        grant = iam.Grant.add_to_principal_or_resource(
            grantee=grantee, actions=["sns:Publish"], resource_arns=[self.topic_arn], resource=self
        )
        self._key.grant(grantee, "kms:GenerateDataKey", "kms:Decrypt")
        return grant


class AlertTopic(Construct):
    """``.topic`` (encrypted SNS topic) and ``.key`` (its KMS key)."""

    def __init__(self, scope: Construct, construct_id: str, *, config: Config) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "Key",
            description="Encrypts the Bedrock Cost Tracker alert topic and Athena query results",
            enable_key_rotation=True,
            # Only this stack uses the key (topic, Athena results that expire anyway): it goes with
            # the stack (after AWS's waiting period).
            removal_policy=RemovalPolicy.DESTROY,
            pending_window=Duration.days(7),
        )
        # One statement per service, as each service's documentation gives it: the
        # service principal, kms:GenerateDataKey* and kms:Decrypt on this key, and the
        # aws:SourceAccount / aws:SourceArn conditions of that service.
        for service, source_arn in PUBLISHING_SERVICES.items():
            self.key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=f"Allow{service.split('.')[0].capitalize()}ToUseTheTopicKey",
                    principals=[iam.ServicePrincipal(service)],
                    actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                    resources=["*"],  # in a key policy, "*" is this key
                    conditions={
                        "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                        "ArnLike": {"aws:SourceArn": source_arn},
                    },
                )
            )
        self.topic: sns.Topic = _AlertSnsTopic(
            self, "Topic", key=self.key, display_name="Bedrock cost alerts", enforce_ssl=True
        )
        for service, source_arn in PUBLISHING_SERVICES.items():
            self.topic.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=f"Allow{service.split('.')[0].capitalize()}Publish",
                    principals=[iam.ServicePrincipal(service)],
                    actions=["sns:Publish"],
                    resources=[self.topic.topic_arn],
                    conditions={
                        "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                        "ArnLike": {"aws:SourceArn": source_arn},
                    },
                )
            )
        if not config.alerts.emails and not config.alerts.slack_webhook_secret_name:
            Annotations.of(self).add_warning_v2(
                "bedrock-cost:no-subscriber",
                "alerts.emails and alerts.slack_webhook_secret_name are empty: no one receives the alerts",
            )
        placeholders = [email for email in config.alerts.emails if email.lower().endswith("@example.com")]
        if placeholders:
            Annotations.of(self).add_warning_v2(
                "bedrock-cost:placeholder-email",
                f"alerts.emails holds the placeholder(s) {', '.join(placeholders)}: replace them with real addresses",
            )
        for index, email in enumerate(config.alerts.emails):
            sns.CfnSubscription(
                self,
                f"Email{index}",
                topic_arn=self.topic.topic_arn,
                protocol="email",
                endpoint=email,
            )
