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
from infra.storage import external_table, json_storage, string_partitions

LOG_TABLE: Final = "bedrock_invocation_logs"

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
    return external_table(
        scope,
        "LogTable",
        database=analytics.database,
        database_name=analytics.database_name,
        table_input={
            "name": LOG_TABLE,
            "description": "Bedrock model invocation logs (S3 delivery, gzip JSON), projected by hour",
            "parameters": {
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
            "partition_keys": string_partitions("log_account", "log_region", "dt"),
        },
        columns=LOG_COLUMNS,
        # A broken line reads as a row of NULLs (counted as malformed by the views).
        storage=json_storage(f"s3://{bucket}/{root}/", {"ignore.malformed.json": "true", "case.insensitive": "true"}),
    )
