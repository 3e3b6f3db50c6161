"""CUR 2.0 in S3, a Glue table over it, an Athena workgroup, and the views on top.

This is the "billed" clock of the product: the CUR 2.0 Data Export is the truth, Athena
reads it through a partition-projected Glue table (no crawler, no MSCK REPAIR), and a
custom resource creates the views from ``queries/views`` at deploy time so the SQL the
tests run on DuckDB is the SQL Athena runs.

Permissions for later readers (the daily CUR reporter) come from ``grant_query``, which
gives exactly the workgroup, the catalog objects, the export's data prefix, the results
prefix and the results key, nothing account-wide.
"""

from __future__ import annotations

import hashlib
from typing import Final

from aws_cdk import (
    Aws,
    CustomResource,
    Duration,
    Fn,
    Stack,
)
from aws_cdk import aws_athena as athena
from aws_cdk import aws_bcmdataexports as bcm
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct

from bedrock_cost.billing.cur_schema import CUR_COLUMNS, PARTITION_COLUMN
from bedrock_cost.billing.views import view_names
from bedrock_cost.config import Config
from infra.cur_export import data_export, export_bucket
from infra.custom_resource import framework_provider
from infra.lambda_function import PACKAGE_DIR, QUERIES_DIR, BedrockCostFunction
from infra.nag import acknowledge, acknowledge_wildcard_resources
from infra.storage import external_table, grant_prefix_read, named_outputs, private_bucket, string_partitions

RESULTS_PREFIX: Final = "athena-results"
ACCESS_LOG_RETENTION_DAYS: Final = 365
_PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
_PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
_PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"


def views_fingerprint() -> str:
    """Hash of every view statement and of the model alias table the views embed.

    It is a property of the custom resource, so changing any of them re-runs the views.
    """
    digest = hashlib.sha256()
    files = [*sorted((QUERIES_DIR / "views").glob("*.sql")), PACKAGE_DIR / "data" / "models.json"]
    for path in files:
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def _s3_path(*parts: str) -> str:
    return "/".join(part.strip("/") for part in parts if part.strip("/"))


class CurAnalytics(Construct):
    """CUR 2.0 location (existing or created), Glue catalog, Athena workgroup and views."""

    def __init__(self, scope: Construct, construct_id: str, *, config: Config, key: kms.IKey | None = None) -> None:
        """``key``: the stack's customer-managed key to encrypt query results with (one key
        for the tracker's data costs $1 a month less than two); without it, a key of its own."""
        super().__init__(scope, construct_id)
        self._stack = Stack.of(self)
        cur = config.cur
        self.database_name = config.athena.database
        self.table_name = config.athena.table
        self.cur_data_prefix = _s3_path(cur.prefix, cur.export_name, "data")
        """Key prefix of the export's Parquet files: ``<prefix>/<export>/data``."""

        self.access_logs_bucket = self._access_logs_bucket()
        self.export: bcm.CfnExport | None = None
        if cur.create_export:
            bucket = export_bucket(self, self.access_logs_bucket)
            self.export = data_export(self, bucket, config)
            self.cur_bucket: s3.IBucket = bucket
        else:
            assert cur.bucket is not None  # the config model guarantees it
            self.cur_bucket = s3.Bucket.from_bucket_name(self, "CurBucket", cur.bucket)

        self.results_key: kms.IKey = key or kms.Key(
            self,
            "ResultsKey",
            description="Encrypts Bedrock Cost Tracker Athena query results",
            enable_key_rotation=True,
        )
        self.results_bucket = self._results_bucket(config.athena.results_retention_days)
        self.database = self._database()
        self.table = self._table()
        self.workgroup = self._workgroup(config.athena.bytes_scanned_cutoff_mb)
        self.workgroup_name: str = self.workgroup.ref
        self.views = self._views(config)
        self._outputs()

    # ------------------------------------------------------------------ buckets

    def _access_logs_bucket(self) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,  # log delivery supports SSE-S3 only
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(ACCESS_LOG_RETENTION_DAYS))],
        )
        acknowledge(
            bucket,
            "S1",
            "This is the server access log bucket of the other buckets; logging it into "
            "itself would loop and logging it elsewhere would need yet another bucket.",
        )
        return bucket

    def _results_bucket(self, retention_days: int) -> s3.Bucket:
        return private_bucket(
            self,
            "QueryResults",
            access_logs=self.access_logs_bucket,
            access_logs_prefix="athena-results/",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.results_key,
            bucket_key_enabled=True,  # one KMS request per object set, not per object
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=Duration.days(retention_days),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
        )

    # ------------------------------------------------------------------ catalog

    def _database(self) -> glue.CfnDatabase:
        return glue.CfnDatabase(
            self,
            "Database",
            catalog_id=Aws.ACCOUNT_ID,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=self.database_name,
                description="Bedrock Cost Tracker: CUR 2.0 table and Bedrock cost views",
            ),
        )

    def _table(self) -> glue.CfnTable:
        bucket = self.cur_bucket.bucket_name
        # Fn::Sub with ${!billing_period}: Athena needs the literal ${billing_period}.
        template = Fn.sub(
            f"s3://${{Bucket}}/{self.cur_data_prefix}/BILLING_PERIOD=${{!{PARTITION_COLUMN}}}",
            {"Bucket": bucket},
        )
        return external_table(
            self,
            "CurTable",
            database=self.database,
            database_name=self.database_name,
            table_input={
                "name": self.table_name,
                "description": "CUR 2.0 Data Export (Parquet), partitioned by billing period",
                "parameters": {
                    "classification": "parquet",
                    "projection.enabled": "true",
                    f"projection.{PARTITION_COLUMN}.type": "date",
                    f"projection.{PARTITION_COLUMN}.format": "yyyy-MM",
                    f"projection.{PARTITION_COLUMN}.range": "2023-01,NOW",
                    f"projection.{PARTITION_COLUMN}.interval": "1",
                    f"projection.{PARTITION_COLUMN}.interval.unit": "MONTHS",
                    "storage.location.template": template,
                },
                "partition_keys": string_partitions(PARTITION_COLUMN),
            },
            columns=CUR_COLUMNS,
            storage={
                "location": f"s3://{bucket}/{self.cur_data_prefix}/",
                "input_format": _PARQUET_INPUT,
                "output_format": _PARQUET_OUTPUT,
                "serde_info": glue.CfnTable.SerdeInfoProperty(serialization_library=_PARQUET_SERDE),
            },
        )

    def _workgroup(self, cutoff_mb: int) -> athena.CfnWorkGroup:
        workgroup = athena.CfnWorkGroup(
            self,
            "WorkGroup",
            # Named after the stack, so two copies of the stack can share an account.
            name=f"{Aws.STACK_NAME}-bedrock-cost",
            description="Bedrock Cost Tracker queries: enforced settings and per-query scan cutoff",
            state="ENABLED",
            recursive_delete_option=True,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=cutoff_mb * 1024 * 1024,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version="Athena engine version 3"
                ),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{self.results_bucket.bucket_name}/{RESULTS_PREFIX}/",
                    expected_bucket_owner=Aws.ACCOUNT_ID,
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_KMS", kms_key=self.results_key.key_arn
                    ),
                ),
            ),
        )
        return workgroup

    # ------------------------------------------------------------------ grants

    @property
    def workgroup_arn(self) -> str:
        return self._stack.format_arn(service="athena", resource="workgroup", resource_name=self.workgroup.ref)

    def _catalog_arns(self, tables: list[str]) -> list[str]:
        return [
            self._stack.format_arn(service="glue", resource="catalog"),
            self._stack.format_arn(service="glue", resource="database", resource_name=self.database_name),
            *(
                self._stack.format_arn(service="glue", resource="table", resource_name=f"{self.database_name}/{t}")
                for t in tables
            ),
        ]

    def _grant_athena_run(self, grantee: iam.IGrantable) -> None:
        """Run queries in the workgroup and read/write its results; read the catalog."""
        results_objects = self.results_bucket.arn_for_objects(f"{RESULTS_PREFIX}/*")
        catalog = self._catalog_arns(["*"])
        statements = [
            iam.PolicyStatement(
                actions=[
                    "athena:StartQueryExecution",
                    "athena:GetQueryExecution",
                    "athena:GetQueryResults",
                    "athena:StopQueryExecution",
                    "athena:GetWorkGroup",
                ],
                resources=[self.workgroup_arn],
            ),
            iam.PolicyStatement(
                actions=[
                    "glue:GetDatabase",
                    "glue:GetTable",
                    "glue:GetTables",
                    "glue:GetPartition",
                    "glue:GetPartitions",
                ],
                resources=catalog,
            ),
            iam.PolicyStatement(
                actions=[
                    "s3:GetObject",
                    "s3:PutObject",
                    "s3:AbortMultipartUpload",
                    "s3:ListMultipartUploadParts",
                ],
                resources=[results_objects],
            ),
            iam.PolicyStatement(
                actions=["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
                resources=[self.results_bucket.bucket_arn],
            ),
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[self.results_key.key_arn],
            ),
        ]
        for statement in statements:
            grantee.grant_principal.add_to_principal_policy(statement)
        scope = _ack_scope(grantee)
        acknowledge_wildcard_resources(
            scope,
            [results_objects],
            "Athena writes one result object per query under the workgroup's results prefix; "
            "object names are query execution ids, unknown in advance.",
        )
        acknowledge_wildcard_resources(
            scope,
            catalog,
            "Views are Glue tables of this database whose set grows with the product; read "
            "access is limited to the one database.",
        )

    def grant_query(self, grantee: iam.IGrantable) -> None:
        """Everything a reader of the CUR table and views needs, scoped to this construct.

        Athena runs queries with the caller's permissions, so the caller needs the
        workgroup, the catalog objects, the CUR objects and the results bucket and key.
        """
        self._grant_athena_run(grantee)
        data_objects = grant_prefix_read(grantee.grant_principal, self.cur_bucket, self.cur_data_prefix)
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["s3:GetBucketLocation"], resources=[self.cur_bucket.bucket_arn])
        )
        acknowledge_wildcard_resources(
            _ack_scope(grantee),
            [data_objects],
            "Read-only access to the CUR 2.0 export's Parquet files, limited to its data prefix; "
            "file names change with every export refresh.",
        )

    def _grant_manage_views(self, grantee: iam.IGrantable) -> None:
        """Create, replace and drop exactly the product's views (Glue tables), nothing else."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable"],
                resources=self._catalog_arns(view_names()),
            )
        )

    # ------------------------------------------------------------------ views

    def _views(self, config: Config) -> CustomResource:
        on_event = BedrockCostFunction(
            self,
            "ViewsFunction",
            handler="bedrock_cost.handlers.athena_views.handler",
            description="Creates the Bedrock Cost Tracker Athena views at deploy time",
            service_name="athena-views",
            timeout=Duration.minutes(5),
        )
        self._grant_athena_run(on_event.function)
        self._grant_manage_views(on_event.function)

        provider = framework_provider(
            self, "Views", on_event.function, purpose="the Athena views", function_label="views"
        )

        resource = CustomResource(
            self,
            "Views",
            service_token=provider.service_token,
            resource_type="Custom::AthenaViews",
            properties={
                "Database": self.database_name,
                "Table": self.table_name,
                "WorkGroup": self.workgroup.ref,
                "TagKeys": list(config.report_tag_keys),
                "SqlHash": views_fingerprint(),
            },
        )
        # The workgroup is referenced (implicit dependency); the catalog objects are named.
        resource.node.add_dependency(self.database, self.table)
        return resource

    # ------------------------------------------------------------------ outputs

    def _outputs(self) -> None:
        outputs = {
            "AthenaWorkGroup": (self.workgroup.ref, "Athena workgroup for Bedrock Cost Tracker queries"),
            "AthenaDatabase": (self.database_name, "Glue database holding the CUR table and the views"),
            "AthenaCurTable": (self.table_name, "Glue table over the CUR 2.0 export"),
            "AthenaResultsBucket": (self.results_bucket.bucket_name, "Athena query results (KMS-encrypted)"),
            "CurBucket": (self.cur_bucket.bucket_name, "Bucket holding the CUR 2.0 export"),
        }
        named_outputs(self, outputs)


def _ack_scope(grantee: iam.IGrantable) -> IConstruct:
    """The construct whose subtree holds the grantee's policy (to acknowledge findings on)."""
    principal = grantee.grant_principal
    if isinstance(principal, Construct):
        return principal
    if isinstance(grantee, Construct):
        return grantee
    raise TypeError(f"cannot acknowledge cdk-nag findings on {grantee!r}: not a construct")
