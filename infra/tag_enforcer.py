"""Tag enforcer: the Lambda that checks Bedrock resources against the tag policy.

Runs daily (full scan of every configured region, compliance metrics) and on CloudTrail
API calls of ``bedrock.amazonaws.com`` that create or re-tag a resource, so a violation
is seen within minutes. Read access is scoped to this account's Bedrock resources;
``bedrock:TagResource`` exists only when ``tag_policy.mode`` is ``remediate``, limited
to this account's Bedrock ARNs and to the keys that have a configured default.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_sns as sns
from constructs import Construct

from bedrock_cost.config import Config
from bedrock_cost.domain.tag_events import TRACKED_EVENT_NAMES
from bedrock_cost.domain.tag_rules import RESOURCE_TYPES
from infra.dead_letters import dead_letter_queue
from infra.lambda_function import BedrockCostFunction
from infra.nag import acknowledge, acknowledge_wildcard_resources

HANDLER = "bedrock_cost.handlers.tag_enforcer.handler"
DAILY_SCHEDULE = events.Schedule.cron(minute="15", hour="6")
"""06:15 UTC: after the night's CUR refresh, before the working day in Europe."""

LIST_ACTIONS = [
    "bedrock:ListInferenceProfiles",
    "bedrock:ListProvisionedModelThroughputs",
    "bedrock:ListCustomModels",
    "bedrock:ListImportedModels",
    "bedrock:ListCustomModelDeployments",
    "bedrock:ListPromptRouters",
    "bedrock:ListGuardrails",
    "bedrock:ListAgents",
    "bedrock:ListKnowledgeBases",
    "bedrock:ListFlows",
    "bedrock:ListPrompts",
]
"""Listing calls: IAM supports no resource-level permission for them."""

READ_ACTIONS = [
    "bedrock:ListTagsForResource",
    "bedrock:GetInferenceProfile",
    "bedrock:GetProvisionedModelThroughput",
    "bedrock:GetCustomModel",
    "bedrock:GetImportedModel",
    "bedrock:GetCustomModelDeployment",
    "bedrock:GetPromptRouter",
    "bedrock:GetGuardrail",
    "bedrock:GetAgent",
    "bedrock:GetKnowledgeBase",
    "bedrock:GetFlow",
    "bedrock:GetPrompt",
]


def bedrock_resource_arns(regions: list[str]) -> list[str]:
    """ARN patterns of every tracked Bedrock resource type, this account, configured regions."""
    return [
        f"arn:{Aws.PARTITION}:bedrock:{region}:{Aws.ACCOUNT_ID}:{resource_type}/*"
        for region in regions
        for resource_type in RESOURCE_TYPES
    ]


class TagEnforcer(Construct):
    """The tag-enforcer function, its schedule, its CloudTrail rule and its permissions."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: Config,
        alert_topic: sns.ITopic,
        state_table: dynamodb.ITable,
    ) -> None:
        super().__init__(scope, construct_id)
        policy = config.tag_policy
        regions = list(config.regions)

        self.dead_letters = dead_letter_queue(
            self,
            "This queue is itself the dead-letter destination of the tag-enforcer (failed "
            "invocations and undeliverable events); it needs no dead-letter queue of its own.",
        )

        self.function = BedrockCostFunction(
            self,
            "Function",
            handler=HANDLER,
            description="Checks Bedrock resources against the tag policy (daily scan + CloudTrail events)",
            service_name="tag-enforcer",
            environment={
                "STATE_TABLE": state_table.table_name,
                "ALERT_TOPIC_ARN": alert_topic.topic_arn,
                "ACCOUNT_ID": Aws.ACCOUNT_ID,
                "REGIONS": ",".join(regions),
                "TAG_POLICY": policy.model_dump_json(),
            },
            timeout=Duration.minutes(5),
        )
        fn = self.function.function
        # Failed invocations are retried twice by Lambda, then kept: nothing is dropped.
        fn.configure_async_invoke(
            retry_attempts=2,
            max_event_age=Duration.hours(6),
            on_failure=destinations.SqsDestination(self.dead_letters),
        )

        list_policy = iam.Policy(
            self,
            "ListBedrockResources",
            statements=[iam.PolicyStatement(actions=LIST_ACTIONS, resources=["*"])],
        )
        list_policy.attach_to_role(self.function.role)
        acknowledge(
            list_policy,
            "IAM5[Resource::*]",
            "Bedrock List* calls (inference profiles, provisioned throughput, models, guardrails, "
            "agents, knowledge bases, flows, prompts) support no resource-level permissions; this "
            "policy holds only those read-only listing actions.",
        )
        arns = bedrock_resource_arns(regions)
        self.function.add_to_role_policy(iam.PolicyStatement(actions=READ_ACTIONS, resources=arns))
        acknowledge_wildcard_resources(
            self.function,
            arns,
            "Bedrock resources of this account in the configured regions, one pattern per resource "
            "type: the enforcer must read (and in remediate mode tag) every one, including those "
            "created after deployment.",
        )
        if policy.mode == "remediate" and policy.defaults:
            self.function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["bedrock:TagResource"],
                    resources=arns,
                    conditions={"ForAllValues:StringEquals": {"aws:TagKeys": sorted(policy.defaults)}},
                )
            )

        # State: only our own key prefixes (violation state and alert de-duplication).
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
                resources=[state_table.table_arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["violation#*", "alert#*"]}},
            )
        )
        # Publish to the alert topic, and use its KMS key for exactly that (no kms:* wildcard).
        self.function.add_to_role_policy(
            iam.PolicyStatement(actions=["sns:Publish"], resources=[alert_topic.topic_arn])
        )
        if alert_topic.master_key is not None:
            self.function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[alert_topic.master_key.key_arn]
                )
            )

        self.schedule_rule = events.Rule(
            self,
            "Daily",
            description="Daily full scan of Bedrock resource tags",
            schedule=DAILY_SCHEDULE,
        )
        self.event_rule = events.Rule(
            self,
            "BedrockApiCalls",
            description="Bedrock create/tag/untag API calls: check the resource within minutes",
            event_pattern=events.EventPattern(
                source=["aws.bedrock"],
                detail_type=["AWS API Call via CloudTrail"],
                detail={"eventSource": ["bedrock.amazonaws.com"], "eventName": list(TRACKED_EVENT_NAMES)},
            ),
        )
        for rule in (self.schedule_rule, self.event_rule):
            rule.add_target(
                targets.LambdaFunction(
                    fn,
                    retry_attempts=4,
                    max_event_age=Duration.hours(2),
                    dead_letter_queue=self.dead_letters,
                )
            )
