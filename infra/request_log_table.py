"""The Glue table over Bedrock's S3 delivery of model invocation logs.

Created under the ``RequestLedger`` construct (same construct id, so templates do not
change); kept apart because its shape is Bedrock's log record, not the ledger's logic.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import Aws, Fn
from aws_cdk import aws_glue as glue
from constructs import Construct

from bedrock_cost.config import Config
from infra.cur_analytics import CurAnalytics

LOG_TABLE: Final = "bedrock_invocation_logs"
OPENX_SERDE: Final = "org.openx.data.jsonserde.JsonSerDe"

LOG_COLUMNS: Final = (
    ("schematype", "string"),
    ("schemaversion", "string"),
    ("timestamp", "string"),
    ("accountid", "string"),
    ("identity", "struct<arn:string>"),
    ("region", "string"),
    ("requestid", "string"),
    ("operation", "string"),
    ("modelid", "string"),
    ("errorcode", "string"),
    ("input", "struct<inputtokencount:bigint,cachereadinputtokencount:bigint,cachewriteinputtokencount:bigint>"),
    ("output", "struct<outputtokencount:bigint,outputbodyjson:string>"),
    ("requestmetadata", "map<string,string>"),
)
"""The invocation-log fields the views read (the same as the DuckDB stand-in's columns)."""


def invocation_log_table(
    scope: Construct, analytics: CurAnalytics, bucket: str, prefix: str, config: Config
) -> glue.CfnTable:
    """The Glue table over the S3 delivery, partitions projected by account, region and hour.

    No crawler and no partition repair: Athena computes the hour folders from the projection,
    so a query filtered on ``dt`` reads only those hours."""
    root = f"{prefix}AWSLogs"
    # Fn::Sub with ${!name}: Athena needs the literal ${name} placeholders.
    template = Fn.sub(
        f"s3://${{Bucket}}/{root}/${{!log_account}}/BedrockModelInvocationLogs/${{!log_region}}/${{!dt}}/",
        {"Bucket": bucket},
    )
    regions = sorted(set(config.regions))
    table = glue.CfnTable(
        scope,
        "LogTable",
        catalog_id=Aws.ACCOUNT_ID,
        database_name=analytics.database_name,
        table_input=glue.CfnTable.TableInputProperty(
            name=LOG_TABLE,
            description="Bedrock model invocation logs (S3 delivery, gzip JSON), projected by hour",
            table_type="EXTERNAL_TABLE",
            parameters={
                "classification": "json",
                "compressionType": "gzip",
                "projection.enabled": "true",
                "projection.log_account.type": "enum",
                "projection.log_account.values": Aws.ACCOUNT_ID,
                "projection.log_region.type": "enum",
                "projection.log_region.values": ",".join(regions),
                "projection.dt.type": "date",
                "projection.dt.format": "yyyy/MM/dd/HH",
                "projection.dt.range": f"NOW-{max(config.request_logs.retention_days, 400)}DAYS,NOW",
                "projection.dt.interval": "1",
                "projection.dt.interval.unit": "HOURS",
                "storage.location.template": template,
            },
            partition_keys=[
                glue.CfnTable.ColumnProperty(name="log_account", type="string"),
                glue.CfnTable.ColumnProperty(name="log_region", type="string"),
                glue.CfnTable.ColumnProperty(name="dt", type="string"),
            ],
            storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                columns=[glue.CfnTable.ColumnProperty(name=n, type=t) for n, t in LOG_COLUMNS],
                location=f"s3://{bucket}/{root}/",
                input_format="org.apache.hadoop.mapred.TextInputFormat",
                output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                serde_info=glue.CfnTable.SerdeInfoProperty(
                    serialization_library=OPENX_SERDE,
                    # A broken line reads as a row of NULLs (counted as malformed by the views).
                    parameters={"ignore.malformed.json": "true", "case.insensitive": "true"},
                ),
            ),
        ),
    )
    table.node.add_dependency(analytics.database)
    return table
