"""The near-real-time estimate: estimator Lambda on a schedule, price refresh, records + Glue table.

* **Estimator** (every ``estimator.schedule_minutes``): CloudWatch ``AWS/Bedrock``
  metrics × price catalog -> EMF metrics and JSON-lines records in S3, watermark in the
  state table. One run at a time through a lease item in the state table
  (``lease#estimator``) and conditional watermark writes, not reserved concurrency
  (which fails to deploy in accounts whose concurrency quota is at its minimum); no
  async retries: the next scheduled run is the retry.
* **Price refresh** (daily): AWS Price List -> ``pricing/price-list/<region>.json``.
* **Estimates bucket**: SSE-S3, public access blocked, TLS only, access-logged,
  records expire after ``ESTIMATE_RETENTION_DAYS``.
* **Glue table** ``bedrock_estimates`` (JSON, partition projection on ``dt`` and
  ``region``) in the CUR database, so Athena can join the estimate with billed cost.

Permissions are per function and scoped: CloudWatch metric reads and the Price List
API have no resource-level permissions (acknowledged, in their own policy);
inference-profile reads are limited to application inference profiles of this
account in the configured regions; the state table only to ``watermark#`` items; S3 to
the prefixes each function uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from aws_cdk import CfnOutput, Duration, Fn, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from bedrock_cost.config import Config
from bedrock_cost.domain.estimator_run import EstimatorConfig
from infra.cur_analytics import CurAnalytics
from infra.lambda_function import BedrockCostFunction
from infra.nag import acknowledge, acknowledge_wildcard_resources, resource_star_policy
from infra.state_table import CLAIM_ACTIONS, StateTable
from infra.storage import external_table, grant_prefix_read, json_storage, private_bucket, string_partitions

ESTIMATOR_HANDLER: Final = "bedrock_cost.handlers.estimator.handler"
PRICE_REFRESH_HANDLER: Final = "bedrock_cost.handlers.price_refresh.handler"
ESTIMATES_PREFIX: Final = "estimates"
PRICING_PREFIX: Final = "pricing"
CALIBRATION_PREFIX: Final = "calibration"
ESTIMATE_RETENTION_DAYS: Final = 400
ESTIMATES_TABLE: Final = "bedrock_estimates"
WATERMARK_PREFIX: Final = "watermark#"
LEASE_PREFIX: Final = "lease#estimator"

METRIC_READ_ACTIONS: Final = ("cloudwatch:GetMetricData", "cloudwatch:ListMetrics")
PROFILE_READ_ACTIONS: Final = ("bedrock:GetInferenceProfile", "bedrock:ListTagsForResource")

ESTIMATE_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("record_version", "int"),
    ("clock", "string"),
    ("usage_date", "string"),
    ("usage_hour", "string"),
    ("window_start", "string"),
    ("window_end", "string"),
    ("model_id", "string"),
    ("model", "string"),
    ("provider", "string"),
    ("model_known", "boolean"),
    ("scope", "string"),
    ("tier", "string"),
    ("inference_profile_arn", "string"),
    ("inference_profile_name", "string"),
    ("tags", "map<string,string>"),
    ("usage_kind", "string"),
    ("tokens", "bigint"),
    ("priced", "boolean"),
    ("usd_per_million", "decimal(38,18)"),
    ("cost_usd", "decimal(38,18)"),
    ("price_source", "string"),
    ("price_as_of", "string"),
    ("calibrated", "boolean"),
    ("catalog_version", "string"),
    ("generated_at", "string"),
)
"""Columns of the JSON records (``region`` is the partition column, taken from the path)."""


def estimate_records_table(
    scope: Construct,
    construct_id: str,
    analytics: CurAnalytics,
    *,
    name: str,
    description: str,
    location: str,
    parameters: dict[str, str] | None = None,
    partition_keys: list[glue.CfnTable.ColumnProperty] | None = None,
) -> glue.CfnTable:
    """A JSON-lines Glue table of estimate records (``ESTIMATE_COLUMNS``) in the CUR database:
    the stack's own (``bedrock_estimates``) and, in organisation mode, every member's."""
    table_input: dict[str, object] = {
        "name": name,
        "description": description,
        "parameters": {"classification": "json", **(parameters or {})},
    }
    if partition_keys:
        table_input["partition_keys"] = partition_keys
    return external_table(
        scope,
        construct_id,
        database=analytics.database,
        database_name=analytics.database_name,
        table_input=table_input,
        columns=ESTIMATE_COLUMNS,
        storage=json_storage(location, {"ignore.malformed.json": "false", "case.insensitive": "false"}),
    )


def grant_metric_and_profile_reads(scope: Construct, role: iam.IRole, regions: Sequence[str]) -> list[str]:
    """The estimator's read permissions, shared by the stack's estimator and the member collector.

    CloudWatch metric reads and ``bedrock:ListInferenceProfiles`` support no resource-level
    permissions: they get a policy of their own (``EstimatorUnscopedReads`` in ``scope``),
    acknowledged. Profile reads are scoped to this account's application inference profiles
    in ``regions``; returns those ARN patterns for the caller's own acknowledgement.
    """
    unscoped = iam.Policy(
        scope,
        "EstimatorUnscopedReads",
        roles=[role],
        statements=[
            iam.PolicyStatement(actions=list(METRIC_READ_ACTIONS), resources=["*"]),
            iam.PolicyStatement(actions=["bedrock:ListInferenceProfiles"], resources=["*"]),
        ],
    )
    acknowledge(
        unscoped,
        "IAM5[Resource::*]",
        "cloudwatch:GetMetricData, cloudwatch:ListMetrics and bedrock:ListInferenceProfiles support no "
        "resource-level permissions; this policy holds only those read-only actions.",
    )
    stack = Stack.of(scope)
    profiles = [
        stack.format_arn(service="bedrock", region=region, resource="application-inference-profile", resource_name="*")
        for region in regions
    ]
    role.add_to_principal_policy(iam.PolicyStatement(actions=list(PROFILE_READ_ACTIONS), resources=profiles))
    return profiles


def estimator_function(
    scope: Construct, construct_id: str, description: str, environment: dict[str, str]
) -> BedrockCostFunction:
    """The estimator Lambda, the same in the stack and in a member account's collector.

    No asynchronous retries: the next scheduled run is the retry, and it resumes from the
    watermark the failed run left.
    """
    function = BedrockCostFunction(
        scope,
        construct_id,
        handler=ESTIMATOR_HANDLER,
        description=description,
        service_name="estimator",
        timeout=Duration.minutes(5),
        memory_size=1024,
        environment=environment,
    )
    function.function.configure_async_invoke(retry_attempts=0, max_event_age=Duration.minutes(10))
    return function


def estimator_schedule(scope: Construct, function: BedrockCostFunction, minutes: int, description: str) -> events.Rule:
    """The estimator's rate rule; a missed run is not retried (the next one catches up)."""
    return events.Rule(
        scope,
        "EstimatorSchedule",
        description=description,
        schedule=events.Schedule.rate(Duration.minutes(minutes)),
        targets=[targets.LambdaFunction(function.function, retry_attempts=0, max_event_age=Duration.minutes(5))],
    )


class Estimator(Construct):
    """Estimator + price refresh Lambdas, their schedules, the estimates bucket and Glue table."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: Config,
        analytics: CurAnalytics,
        state: StateTable,
        calibration_bucket: s3.IBucket | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._stack = Stack.of(self)
        self.bucket = private_bucket(
            self,
            "Estimates",
            access_logs=analytics.access_logs_bucket,
            access_logs_prefix="estimates-bucket/",
            lifecycle_rules=[
                s3.LifecycleRule(prefix=f"{ESTIMATES_PREFIX}/", expiration=Duration.days(ESTIMATE_RETENTION_DAYS)),
                s3.LifecycleRule(abort_incomplete_multipart_upload_after=Duration.days(1)),
            ],
        )
        # Effective unit prices published by the CUR reporter; without it, list prices only.
        self.calibration_bucket = calibration_bucket or self.bucket
        settings = EstimatorConfig.from_config(config)

        self.estimator = estimator_function(
            self,
            "EstimatorFunction",
            "Near-real-time Bedrock cost estimate from CloudWatch token metrics",
            {
                "STATE_TABLE": state.table.table_name,
                "ESTIMATES_BUCKET": self.bucket.bucket_name,
                "CALIBRATION_BUCKET": self.calibration_bucket.bucket_name,
                "ESTIMATOR_CONFIG": settings.to_json(),
            },
        )
        self._grant_estimator(config, state)

        self.price_refresh = BedrockCostFunction(
            self,
            "PriceRefreshFunction",
            handler=PRICE_REFRESH_HANDLER,
            description="Daily refresh of Bedrock token prices from the AWS Price List API",
            service_name="price-refresh",
            timeout=Duration.minutes(5),
            memory_size=512,
            environment={"CATALOG_BUCKET": self.bucket.bucket_name, "REGIONS": ",".join(config.regions)},
        )
        self._grant_price_refresh()

        self.schedule = estimator_schedule(
            self, self.estimator, config.estimator.schedule_minutes, "Runs the Bedrock cost estimator"
        )
        self.refresh_schedule = events.Rule(
            self,
            "PriceRefreshSchedule",
            description="Refreshes Bedrock list prices from the AWS Price List API",
            schedule=events.Schedule.cron(minute="30", hour="5"),
            targets=[targets.LambdaFunction(self.price_refresh.function, retry_attempts=2)],
        )
        self.table = self._glue_table(analytics, config)
        CfnOutput(self, "EstimatesBucketName", value=self.bucket.bucket_name)
        CfnOutput(self, "EstimatesTableName", value=f"{analytics.database_name}.{ESTIMATES_TABLE}")

    # ------------------------------------------------------------------ permissions

    def _grant_estimator(self, config: Config, state: StateTable) -> None:
        role = self.estimator.role
        profiles = grant_metric_and_profile_reads(self, role, config.regions)
        acknowledge_wildcard_resources(
            role,
            profiles,
            "Application inference profiles are created by teams at any time; reads are limited to this "
            "account's application profiles in the configured regions.",
        )
        state.grant_prefix(role, WATERMARK_PREFIX, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
        state.grant_prefix(role, LEASE_PREFIX, *CLAIM_ACTIONS)
        records = self.bucket.arn_for_objects(f"{ESTIMATES_PREFIX}/*")
        prices = self.bucket.arn_for_objects(f"{PRICING_PREFIX}/*")
        calibration = self.calibration_bucket.arn_for_objects(f"{CALIBRATION_PREFIX}/*")
        role.add_to_principal_policy(iam.PolicyStatement(actions=["s3:PutObject"], resources=[records]))
        role.add_to_principal_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[prices, calibration]))
        # Without ListBucket, GetObject of a key not written yet answers 403 instead of 404, and
        # "no refreshed catalog yet" would look like a permissions failure. (S3 evaluates this
        # without a prefix, so a prefix condition would not help.)
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=sorted({self.bucket.bucket_arn, self.calibration_bucket.bucket_arn}),
            )
        )
        acknowledge_wildcard_resources(
            role,
            [records, prices, calibration],
            "Object keys are per hour and region (estimates/), per region (pricing/) or fixed "
            "(calibration/); access is limited to those prefixes.",
        )

    def _grant_price_refresh(self) -> None:
        role = self.price_refresh.role
        resource_star_policy(
            self,
            "PriceListRead",
            role,
            ["pricing:GetProducts"],
            "pricing:GetProducts (AWS Price List) supports no resource-level permissions; read-only public prices.",
        )
        objects = self.bucket.arn_for_objects(f"{PRICING_PREFIX}/*")
        role.add_to_principal_policy(iam.PolicyStatement(actions=["s3:PutObject"], resources=[objects]))
        acknowledge_wildcard_resources(
            role, [objects], "One refreshed catalog object per configured region under pricing/."
        )

    def grant_read_records(self, grantee: iam.IGrantable) -> None:
        """Read the estimate records (for Athena users of ``bedrock_estimates``)."""
        grant_prefix_read(grantee.grant_principal, self.bucket, ESTIMATES_PREFIX)

    # ------------------------------------------------------------------ Glue table

    def _glue_table(self, analytics: CurAnalytics, config: Config) -> glue.CfnTable:
        location = f"s3://{self.bucket.bucket_name}/{ESTIMATES_PREFIX}/"
        # Fn::Sub with ${!dt}: Athena needs the literal ${dt} / ${region} placeholders.
        template = Fn.sub(
            f"s3://${{Bucket}}/{ESTIMATES_PREFIX}/dt=${{!dt}}/region=${{!region}}/",
            {"Bucket": self.bucket.bucket_name},
        )
        return estimate_records_table(
            self,
            "EstimatesTable",
            analytics,
            name=ESTIMATES_TABLE,
            description="Near-real-time Bedrock cost estimate (clock: estimate), one row per hour, "
            "ModelId and token kind",
            location=location,
            parameters={
                "projection.enabled": "true",
                "projection.dt.type": "date",
                "projection.dt.format": "yyyy-MM-dd",
                "projection.dt.range": f"NOW-{ESTIMATE_RETENTION_DAYS}DAYS,NOW",
                "projection.dt.interval": "1",
                "projection.dt.interval.unit": "DAYS",
                "projection.region.type": "enum",
                "projection.region.values": ",".join(config.regions),
                "storage.location.template": template,
            },
            partition_keys=string_partitions("dt", "region"),
        )
