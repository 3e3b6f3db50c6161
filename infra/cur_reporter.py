"""The daily CUR reporter: billed truth into metrics, an S3 report and the estimator's calibration."""

from __future__ import annotations

import json

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from bedrock_cost.config import Config
from infra.cur_analytics import CurAnalytics
from infra.lambda_function import BedrockCostFunction
from infra.nag import acknowledge_wildcard_resources, resource_star_policy
from infra.storage import grant_prefix_read, private_bucket

REPORT_RETENTION_DAYS = 400
"""Keep daily reports for a year and a month: enough to compare a month with last year's."""


class CurReporter(Construct):
    """Runs once a day after CUR's usual refreshes; CUR lags 8-24 h, so more often buys nothing."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: Config,
        analytics: CurAnalytics,
        state_table: dynamodb.ITable,
        alert_topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = private_bucket(
            self,
            "Reports",
            access_logs=analytics.access_logs_bucket,
            access_logs_prefix="reports/",
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=Duration.days(REPORT_RETENTION_DAYS),
                    noncurrent_version_expiration=Duration.days(30),
                )
            ],
        )
        self.function = BedrockCostFunction(
            self,
            "Function",
            handler="bedrock_cost.handlers.cur_reporter.handler",
            description="Daily billed Bedrock cost from CUR 2.0: metrics, report, calibration, drift",
            service_name="cur-reporter",
            timeout=Duration.minutes(10),
            memory_size=512,
            environment={
                "ATHENA_WORKGROUP": analytics.workgroup.ref,
                "ATHENA_DATABASE": analytics.database_name,
                "REPORT_BUCKET": self.bucket.bucket_name,
                "REPORT_TAG_KEYS": json.dumps(list(config.report_tag_keys)),
                "STATE_TABLE": state_table.table_name,
                "ALERT_TOPIC_ARN": alert_topic.topic_arn,
                "DRIFT_THRESHOLD_PCT": str(config.thresholds.drift_pct),
                "TAG_POLICY": config.tag_policy.model_dump_json(),
                "METRIC_DETAIL": config.estimator.metric_detail,
            },
        )
        role = self.function.role
        analytics.grant_query(role)
        report_objects = [self.bucket.arn_for_objects("billed/*"), self.bucket.arn_for_objects("calibration/*")]
        role.add_to_policy(iam.PolicyStatement(actions=["s3:PutObject"], resources=report_objects))
        acknowledge_wildcard_resources(
            role,
            report_objects,
            "Write access to the reporter's own bucket, limited to its two prefixes: one object "
            "per day under billed/ and the calibration file.",
        )
        state_table.grant(role, "dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
        alert_topic.grant_publish(role)
        resource_star_policy(
            self,
            "MetricReadPolicy",
            role,
            ["cloudwatch:GetMetricData"],
            "cloudwatch:GetMetricData has no resource-level permissions; the reporter reads back "
            "its own estimate metric for reconciliation.",
        )
        self.schedule = events.Rule(
            self,
            "Daily",
            description="Daily billed-cost report after CUR's overnight refresh",
            schedule=events.Schedule.cron(minute="15", hour="7"),
            targets=[targets.LambdaFunction(self.function.function, retry_attempts=2)],
        )

    def read_estimates(self, bucket: s3.IBucket, prefix: str) -> None:
        """Let the reporter read the estimator's hour records, for like-for-like reconciliation.

        Only ``ListBucket`` on the records' prefix and ``GetObject`` under it: the reporter
        compares estimate and bill, it never changes the records.
        """
        self.function.function.add_environment("ESTIMATES_BUCKET", bucket.bucket_name)
        role = self.function.role
        objects = grant_prefix_read(role, bucket, prefix)
        acknowledge_wildcard_resources(
            role, [objects], "Read access to the estimator's hour records only, one object per region and hour."
        )
