"""The state table: small, durable bookkeeping shared by the product's functions.

One DynamoDB table per stack, keys ``pk`` (S) and ``sk`` (S), TTL on ``expires_at``
(epoch seconds). Items, by key prefix:

* ``watermark#<region>`` — the estimator's last fully processed minute per region;
* ``alert#<dedupe_key>`` — alert de-duplication claims (expire after ~45 days);
* ``lease#estimator`` — the estimator's run lease (one run at a time);
* ``violation#<resource_arn>`` — tag-enforcer state;
* ``profile#<arn>`` — optional inference-profile cache.

On-demand capacity (a few writes a minute), point-in-time recovery, encryption with
the AWS-managed KMS key, and a generated physical name so two stacks can share an
account. Writers get ``grant_prefix``: item access restricted to their own key prefix
with ``dynamodb:LeadingKeys``.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

PARTITION_KEY = "pk"
SORT_KEY = "sk"
TTL_ATTRIBUTE = "expires_at"
CLAIM_ACTIONS = ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
"""What ``adapters/claims.TokenClaims`` calls: claim/complete (UpdateItem), read-back of an
ambiguous write (GetItem), release (DeleteItem)."""


class StateTable(Construct):
    """The stack's state table (see the module docstring for its key layout)."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name=PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=SORT_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=TTL_ATTRIBUTE,
            # Watermarks and dedupe claims are cheap to rebuild: a new stack starts afresh
            # rather than leaving an orphaned table behind on `cdk destroy`.
            removal_policy=RemovalPolicy.DESTROY,
        )

    def grant_prefix(self, grantee: iam.IGrantable, prefix: str, *actions: str) -> None:
        """Allow ``actions`` on items whose partition key starts with ``prefix`` only."""
        if not actions:
            raise ValueError("grant_prefix needs at least one dynamodb action")
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=list(actions),
                resources=[self.table.table_arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{prefix}*"]}},
            )
        )
