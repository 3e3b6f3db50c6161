"""The CUR 2.0 Data Export the product can create: its bucket, policy and export definition.

Created under the ``CurAnalytics`` construct (same construct ids as always, so templates
do not change); kept apart because the export is its own AWS service with its own rules:
it exists only in us-east-1 and validates the bucket policy when it is created.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import Aws, CfnRule, CfnRuleAssertion, Duration, Fn, RemovalPolicy
from aws_cdk import aws_bcmdataexports as bcm
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from bedrock_cost.billing.cur_schema import CUR_COLUMNS
from bedrock_cost.config import Config

DATA_EXPORTS_REGION: Final = "us-east-1"
"""AWS Data Exports (BCM) is a us-east-1 service: the export resource only exists there."""

EXPORT_NONCURRENT_VERSION_DAYS: Final = 7

EXPORT_EXCLUDED_COLUMNS: Final[dict[str, str]] = {
    "product_product_name": (
        "not a static CUR 2.0 column: the product name is the 'product_name' key of the "
        "'product' map. The Glue table keeps the column, which reads as NULL."
    ),
}
"""Columns of ``CUR_COLUMNS`` that the CUR 2.0 table of Data Exports does not offer."""

EXPORT_TABLE_CONFIGURATION: Final[dict[str, str]] = {
    "TIME_GRANULARITY": "HOURLY",
    "INCLUDE_RESOURCES": "TRUE",
    "INCLUDE_IAM_PRINCIPAL_DATA": "TRUE",
    "INCLUDE_SPLIT_COST_ALLOCATION_DATA": "FALSE",
    "INCLUDE_MANUAL_DISCOUNT_COMPATIBILITY": "FALSE",
}


def export_query() -> str:
    """The Data Exports query: every column the product reads that CUR 2.0 offers."""
    columns = [name for name, _ in CUR_COLUMNS if name not in EXPORT_EXCLUDED_COLUMNS]
    return f"SELECT {', '.join(columns)} FROM COST_AND_USAGE_REPORT"


def export_bucket(scope: Construct, access_logs_bucket: s3.IBucket) -> s3.Bucket:
    """The bucket the CUR 2.0 export delivers to, with the policy Data Exports checks."""
    bucket = s3.Bucket(
        scope,
        "CurExportBucket",
        # Data Exports delivers to SSE-S3 buckets; the data is the account's own bill.
        encryption=s3.BucketEncryption.S3_MANAGED,
        versioned=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        server_access_logs_bucket=access_logs_bucket,
        server_access_logs_prefix="cur-export/",
        removal_policy=RemovalPolicy.RETAIN,
        # OVERWRITE_REPORT rewrites the month's files up to 3 times a day: without
        # this rule every refresh would be kept forever as a noncurrent version.
        lifecycle_rules=[
            s3.LifecycleRule(
                noncurrent_version_expiration=Duration.days(EXPORT_NONCURRENT_VERSION_DAYS),
                abort_incomplete_multipart_upload_after=Duration.days(1),
            )
        ],
    )
    # The policy Data Exports checks before it creates an export, scoped to exports
    # and CUR definitions of this account. The bucket holds nothing but the export.
    bucket.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowDataExportsDelivery",
            principals=[
                iam.ServicePrincipal("bcm-data-exports.amazonaws.com"),
                iam.ServicePrincipal("billingreports.amazonaws.com"),
            ],
            actions=["s3:PutObject", "s3:GetBucketPolicy"],
            resources=[bucket.bucket_arn, bucket.arn_for_objects("*")],
            conditions={
                "StringLike": {
                    "aws:SourceAccount": Aws.ACCOUNT_ID,
                    "aws:SourceArn": [
                        f"arn:{Aws.PARTITION}:cur:{DATA_EXPORTS_REGION}:{Aws.ACCOUNT_ID}:definition/*",
                        f"arn:{Aws.PARTITION}:bcm-data-exports:{DATA_EXPORTS_REGION}:{Aws.ACCOUNT_ID}:export/*",
                    ],
                }
            },
        )
    )
    return bucket


def data_export(scope: Construct, bucket: s3.Bucket, config: Config) -> bcm.CfnExport:
    """The CUR 2.0 Data Export (hourly, resource ids, IAM principals), us-east-1 only."""
    # Fail the deployment up front, with a reason, outside us-east-1.
    CfnRule(
        scope,
        "DataExportsRegion",
        assertions=[
            CfnRuleAssertion(
                assert_=Fn.condition_equals(Aws.REGION, DATA_EXPORTS_REGION),
                assert_description=(
                    "cur.create_export needs the stack in us-east-1 (AWS Data Exports "
                    "exists only there); deploy there or point cur.bucket at an existing export."
                ),
            )
        ],
    )
    export = bcm.CfnExport(
        scope,
        "CurExport",
        export=bcm.CfnExport.ExportProperty(
            name=config.cur.export_name,
            description="CUR 2.0 (hourly, resource ids, IAM principals) for Bedrock Cost Tracker",
            data_query=bcm.CfnExport.DataQueryProperty(
                query_statement=export_query(),
                table_configurations={"COST_AND_USAGE_REPORT": dict(EXPORT_TABLE_CONFIGURATION)},
            ),
            destination_configurations=bcm.CfnExport.DestinationConfigurationsProperty(
                s3_destination=bcm.CfnExport.S3DestinationProperty(
                    s3_bucket=bucket.bucket_name,
                    s3_prefix=config.cur.prefix,
                    s3_region=Aws.REGION,
                    s3_output_configurations=bcm.CfnExport.S3OutputConfigurationsProperty(
                        compression="PARQUET",
                        format="PARQUET",
                        output_type="CUSTOM",
                        overwrite="OVERWRITE_REPORT",
                    ),
                )
            ),
            refresh_cadence=bcm.CfnExport.RefreshCadenceProperty(frequency="SYNCHRONOUS"),
        ),
    )
    # Data Exports validates the bucket policy when the export is created.
    assert bucket.policy is not None
    export.node.add_dependency(bucket.policy)
    return export
