"""The per-request ledger: Bedrock model invocation logs priced within a minute.

Bedrock writes one log record per request to CloudWatch Logs and S3. A subscription filter
hands every batch to the ingest Lambda (asynchronous invoke: no batching window at all,
records arrive seconds after the request), which prices each record, adds it once to the
per-user, per-metadata and per-tag running totals in the state table, alerts budgets
through the alert topic and, with enforcement on, denies one user. Failed batches go to an
encrypted SQS dead-letter queue after two retries. Athena reads the S3 delivery through a
partition-projected Glue table with views on top (``billing/request_views.py``).

``request_logs.logging`` decides who owns the account's logging configuration (one per
account and region): ``off`` (default: deploys safely anywhere, the ledger idles until
logging is pointed at its log group), ``create`` (a custom resource sets it, data delivery
off unless ``keep_prompts``), ``adopt`` (subscribe to the group an existing configuration
writes to; the Glue table reads ``log_bucket`` when given).
"""

from __future__ import annotations

import hashlib
import json
from typing import Final

from aws_cdk import Aws, CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_logs_destinations as log_destinations
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import custom_resources as cr
from constructs import Construct

from bedrock_cost.billing.request_views import request_view_names, request_view_queries
from bedrock_cost.config import Config
from bedrock_cost.handlers.request_ledger_setup import LOGGING_TYPE, VIEWS_TYPE
from infra.cur_analytics import RESULTS_PREFIX, CurAnalytics
from infra.custom_resource import framework_provider
from infra.dead_letters import dead_letter_queue
from infra.lambda_function import PACKAGE_DIR, QUERIES_DIR, BedrockCostFunction
from infra.nag import acknowledge_wildcard_resources, resource_star_policy
from infra.request_log_table import LOG_TABLE, invocation_log_table
from infra.state_table import StateTable
from infra.storage import named_outputs, private_bucket, same_account_source, service_role

INGEST_HANDLER: Final = "bedrock_cost.handlers.request_ingest.handler"
SETUP_HANDLER: Final = "bedrock_cost.handlers.request_ledger_setup.handler"
STATE_PREFIXES: Final = ("req#", "ledger#", "blocks", "alert#")
"""State-table key prefixes the ingest Lambda may touch (markers, totals, blocks, alert claims)."""
BEDROCK_SOURCE_ARN: Final = f"arn:{Aws.PARTITION}:bedrock:{Aws.REGION}:{Aws.ACCOUNT_ID}:*"
"""Bedrock acting for this account and region: the only writer of the ledger's logs."""
DENY_ACTIONS: Final = ("iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:PutUserPolicy", "iam:DeleteUserPolicy")


def request_views_fingerprint() -> str:
    """Hash of the view SQL and the catalog data it embeds: a change re-runs the views."""
    digest = hashlib.sha256()
    files = [QUERIES_DIR / f"{name}.sql" for name in request_view_queries()]
    files += [PACKAGE_DIR / "data" / "prices.json", PACKAGE_DIR / "data" / "models.json"]
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


class RequestLedger(Construct):
    """Invocation logging (optional), subscription, ingest Lambda, Glue table and views."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: Config,
        analytics: CurAnalytics,
        state: StateTable,
        alert_topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        self._stack = Stack.of(self)
        settings = config.request_logs
        self.bucket = self._bucket(settings.retention_days, analytics)
        if settings.logging == "adopt":
            assert settings.log_group_name is not None  # the config model guarantees it
            self.log_group: logs.ILogGroup = logs.LogGroup.from_log_group_name(
                self, "AdoptedLogs", settings.log_group_name
            )
        else:
            group = logs.LogGroup(self, "InvocationLogs", removal_policy=RemovalPolicy.DESTROY)
            cfn_group = group.node.default_child
            assert isinstance(cfn_group, logs.CfnLogGroup)
            cfn_group.retention_in_days = _retention(settings.retention_days)
            self.log_group = group
        self.logging_role = self._logging_role()
        self.logging: CustomResource | None = None
        self.dead_letters = self._dead_letters()
        self.ingest = self._ingest(config, state, alert_topic)
        self.subscription = logs.SubscriptionFilter(
            self,
            "Subscription",
            log_group=self.log_group,
            destination=log_destinations.LambdaDestination(self.ingest.function),
            filter_pattern=logs.FilterPattern.all_events(),
            filter_name="bedrock-cost-request-ledger",
        )
        self.provider = self._provider(analytics)
        if settings.logging == "create":
            self.logging = self._logging_configuration(settings.keep_prompts)
        table_bucket = settings.log_bucket if settings.logging == "adopt" and settings.log_bucket else None
        prefix = settings.log_prefix.strip("/") + "/" if settings.log_prefix.strip("/") else ""
        self.table = invocation_log_table(self, analytics, table_bucket or self.bucket.bucket_name, prefix, config)
        self.views = self._views(analytics)
        self._daily_sweep()
        self._outputs()

    # ------------------------------------------------------------------ storage

    def _bucket(self, retention_days: int, analytics: CurAnalytics) -> s3.Bucket:
        # SSE-S3: Bedrock's S3 delivery writes to it without a key policy to maintain, and an
        # idle KMS key would cost $1 a month for metadata-only records.
        bucket = private_bucket(
            self,
            "Deliveries",
            access_logs=analytics.access_logs_bucket,
            access_logs_prefix="invocation-logs/",
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=Duration.days(max(retention_days, 400)),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
        )
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowBedrockInvocationLogDelivery",
                principals=[iam.ServicePrincipal("bedrock.amazonaws.com")],
                actions=["s3:PutObject"],
                resources=[bucket.arn_for_objects(f"AWSLogs/{Aws.ACCOUNT_ID}/BedrockModelInvocationLogs/*")],
                conditions=same_account_source(BEDROCK_SOURCE_ARN),
            )
        )
        return bucket

    def _logging_role(self) -> iam.Role:
        role = service_role(
            self,
            "LoggingRole",
            service="bedrock.amazonaws.com",
            source_arn=BEDROCK_SOURCE_ARN,
            description="Lets Amazon Bedrock write model invocation logs to the ledger's log group",
        )
        streams = f"{self.log_group.log_group_arn.removesuffix(':*')}:log-stream:*"
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn, streams],
            )
        )
        acknowledge_wildcard_resources(
            role,
            [self.log_group.log_group_arn, streams],
            "Bedrock creates its own log streams in the one invocation-log group; the streams are "
            "named by Bedrock at delivery time.",
        )
        return role

    def _dead_letters(self) -> sqs.Queue:
        queue = dead_letter_queue(
            self,
            "This queue is itself the on-failure destination of the invocation-log ingest "
            "Lambda (batches that failed every retry); it needs no dead-letter queue of its own.",
        )
        return queue

    # ------------------------------------------------------------------ ingest

    def _ingest(self, config: Config, state: StateTable, topic: sns.ITopic) -> BedrockCostFunction:
        settings = config.request_logs
        budgets = [
            {
                "subject": b.subject,
                "value": b.value,
                "period": b.period,
                "limit_usd": str(b.limit_usd),
                "enforce": b.enforce,
            }
            for b in settings.budgets
        ]
        function = BedrockCostFunction(
            self,
            "Ingest",
            handler=INGEST_HANDLER,
            description="Prices Bedrock invocation-log records and keeps per-user running totals",
            service_name="request-ledger",
            environment={
                "LEDGER_TABLE": state.table.table_name,
                "ALERT_TOPIC_ARN": topic.topic_arn,
                "QUARANTINE_BUCKET": self.bucket.bucket_name,
                "REQUEST_BUDGETS": json.dumps(budgets, separators=(",", ":")),
                "SLOW_BURN_SIGMA": str(config.request_logs.slow_burn_sigma),
            },
            timeout=Duration.minutes(2),
            memory_size=512,
        )
        # Subscription filters invoke asynchronously: two retries, then the batch is kept.
        function.function.configure_async_invoke(
            retry_attempts=2,
            max_event_age=Duration.hours(6),
            on_failure=destinations.SqsDestination(self.dead_letters),
        )
        state.grant_prefix(function.function, "req#", "dynamodb:PutItem", "dynamodb:ConditionCheckItem")
        state.grant_prefix(function.function, "ledger#", "dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:Query")
        state.grant_prefix(function.function, "blocks", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem")
        state.grant_prefix(function.function, "alert#", "dynamodb:PutItem", "dynamodb:DeleteItem")
        # BatchGetItem of totals: LeadingKeys covers each key of the batch.
        state.grant_prefix(function.function, "ledger#", "dynamodb:BatchGetItem")
        function.add_to_role_policy(iam.PolicyStatement(actions=["sns:Publish"], resources=[topic.topic_arn]))
        if topic.master_key is not None:
            function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[topic.master_key.key_arn]
                )
            )
        quarantine = self.bucket.arn_for_objects("quarantine/*")
        function.add_to_role_policy(iam.PolicyStatement(actions=["s3:PutObject"], resources=[quarantine]))
        acknowledge_wildcard_resources(
            function,
            [quarantine],
            "Malformed invocation-log records are kept under the bucket's quarantine/ prefix; one "
            "object per batch, named by content hash.",
        )
        if settings.enforcement:
            self._grant_deny(function, settings.enforce_targets)
        return function

    def _grant_deny(self, function: BedrockCostFunction, targets_: list[str]) -> None:
        resources = [f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:{t}" for t in targets_]
        function.add_to_role_policy(iam.PolicyStatement(actions=list(DENY_ACTIONS), resources=resources))
        # The function must never edit its own role: that would let it grant itself anything.
        function.add_to_role_policy(
            iam.PolicyStatement(
                effect=iam.Effect.DENY,
                actions=list(DENY_ACTIONS),
                resources=[function.role.role_arn, f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role/aws-reserved/*"],
            )
        )
        acknowledge_wildcard_resources(
            function,
            resources,
            "Opt-in budget enforcement puts and removes one inline deny policy on the role or IAM "
            "user behind an over-budget principal, which is known only at run time; limited to the "
            "configured request_logs.enforce_targets and denied on the function's own role.",
        )

    def _daily_sweep(self) -> None:
        """Lift blocks whose period has reset, even on a day without any new record."""
        rule = events.Rule(
            self,
            "DailyReset",
            description="Lifts per-user Bedrock denies whose budget period has reset",
            schedule=events.Schedule.cron(minute="5", hour="0"),
        )
        rule.add_target(
            targets.LambdaFunction(
                self.ingest.function,
                event=events.RuleTargetInput.from_object({"ledger": "daily-close"}),
                retry_attempts=4,
                max_event_age=Duration.hours(2),
                dead_letter_queue=self.dead_letters,
            )
        )

    # ------------------------------------------------------------------ custom resources

    def _provider(self, analytics: CurAnalytics) -> cr.Provider:
        self.setup = BedrockCostFunction(
            self,
            "SetupFunction",
            handler=SETUP_HANDLER,
            description="Sets Bedrock invocation logging (optional) and creates the request-ledger views",
            service_name="request-ledger-setup",
            timeout=Duration.minutes(5),
        )
        provider = framework_provider(
            self, "Setup", self.setup.function, purpose="the request ledger", function_label="setup"
        )
        return provider

    def _logging_configuration(self, keep_prompts: bool) -> CustomResource:
        policy = resource_star_policy(
            self,
            "LoggingConfigPolicy",
            self.setup.role,
            [
                "bedrock:GetModelInvocationLoggingConfiguration",
                "bedrock:PutModelInvocationLoggingConfiguration",
                "bedrock:DeleteModelInvocationLoggingConfiguration",
            ],
            "The model invocation logging configuration is an account-and-region setting with no "
            "resource ARN; this policy holds only its get/put/delete actions.",
        )
        self.setup.add_to_role_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.logging_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}},
            )
        )
        resource = CustomResource(
            self,
            "InvocationLogging",
            service_token=self.provider.service_token,
            resource_type=LOGGING_TYPE,
            properties={
                "LogGroupName": self.log_group.log_group_name,
                "RoleArn": self.logging_role.role_arn,
                "BucketName": self.bucket.bucket_name,
                "KeepPrompts": keep_prompts,
            },
        )
        resource.node.add_dependency(policy, self.subscription)
        assert self.bucket.policy is not None
        resource.node.add_dependency(self.bucket.policy)
        return resource

    def _views(self, analytics: CurAnalytics) -> CustomResource:
        fn = self.setup
        results = analytics.results_bucket.arn_for_objects(f"{RESULTS_PREFIX}/*")
        catalog = [
            self._stack.format_arn(service="glue", resource="catalog"),
            self._stack.format_arn(service="glue", resource="database", resource_name=analytics.database_name),
            self._stack.format_arn(
                service="glue", resource="table", resource_name=f"{analytics.database_name}/{LOG_TABLE}"
            ),
        ]
        views = [
            self._stack.format_arn(service="glue", resource="table", resource_name=f"{analytics.database_name}/{v}")
            for v in request_view_names()
        ]
        for statement in (
            iam.PolicyStatement(
                actions=["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:StopQueryExecution"],
                resources=[analytics.workgroup_arn],
            ),
            iam.PolicyStatement(actions=["glue:GetDatabase", "glue:GetTable"], resources=catalog + views),
            iam.PolicyStatement(actions=["glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable"], resources=views),
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"], resources=[results]
            ),
            iam.PolicyStatement(
                actions=["s3:GetBucketLocation", "s3:ListBucket"], resources=[analytics.results_bucket.bucket_arn]
            ),
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[analytics.results_key.key_arn]
            ),
        ):
            fn.add_to_role_policy(statement)
        acknowledge_wildcard_resources(
            fn,
            [results],
            "Athena writes one result object per DDL statement under the workgroup's results prefix; "
            "object names are query execution ids, unknown in advance.",
        )
        resource = CustomResource(
            self,
            "Views",
            service_token=self.provider.service_token,
            resource_type=VIEWS_TYPE,
            properties={
                "Database": analytics.database_name,
                "Table": LOG_TABLE,
                "WorkGroup": analytics.workgroup.ref,
                "SqlHash": request_views_fingerprint(),
            },
        )
        resource.node.add_dependency(analytics.database, self.table)
        return resource

    def _outputs(self) -> None:
        outputs = {
            "InvocationLogGroup": (self.log_group.log_group_name, "Log group the request ledger subscribes to"),
            "InvocationLogBucket": (
                self.bucket.bucket_name,
                "S3 delivery of invocation logs, and quarantine",
            ),
            "InvocationLoggingRole": (self.logging_role.role_arn, "Role Bedrock assumes to write invocation logs"),
            "RequestLedgerDeadLetters": (self.dead_letters.queue_url, "Invocation-log batches that failed ingest"),
        }
        named_outputs(self, outputs)


def _retention(days: int) -> int:
    """The nearest CloudWatch Logs retention at or above ``days`` (the API takes fixed values)."""
    allowed = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]
    return next(v for v in allowed if v >= days)
