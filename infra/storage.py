"""S3 buckets, Glue tables, service roles and stack outputs, built one way across constructs.

Every bucket of the product holds billing data: encrypted (SSE-S3 unless the caller picks
a KMS key), public access blocked, TLS only, ACLs off and access-logged. Every Glue table
is an external table in the product's database, created after it. Every role a service
assumes on the account's behalf carries the confused-deputy guard (``aws:SourceAccount``
and ``aws:SourceArn``). Building these in one place keeps a new construct from quietly
missing one of those properties.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Aws, CfnOutput
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

TEXT_INPUT_FORMAT = "org.apache.hadoop.mapred.TextInputFormat"
TEXT_OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
OPENX_SERDE = "org.openx.data.jsonserde.JsonSerDe"


def private_bucket(
    scope: Construct, construct_id: str, *, access_logs: s3.IBucket, access_logs_prefix: str, **options: Any
) -> s3.Bucket:
    """A bucket with the product's baseline; ``options`` add to it (lifecycle, versioning, KMS...)."""
    settings: dict[str, Any] = {"encryption": s3.BucketEncryption.S3_MANAGED, **options}
    return s3.Bucket(
        scope,
        construct_id,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        server_access_logs_bucket=access_logs,
        server_access_logs_prefix=access_logs_prefix,
        **settings,
    )


def grant_prefix_read(principal: iam.IPrincipal, bucket: s3.IBucket, prefix: str) -> str:
    """``GetObject`` under ``prefix/`` and ``ListBucket`` limited to it; returns the objects' ARN.

    ListBucket lets a reader tell "no such key" (404) from "no access" (403) without
    seeing anything outside the prefix. The caller acknowledges the returned wildcard.
    """
    objects = bucket.arn_for_objects(f"{prefix}/*")
    principal.add_to_principal_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[objects]))
    principal.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["s3:ListBucket"],
            resources=[bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{prefix}/*"]}},
        )
    )
    return objects


def same_account_source(source_arn: str) -> dict[str, dict[str, str]]:
    """Conditions that admit a service only when it acts for this account (confused deputy)."""
    return {"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}, "ArnLike": {"aws:SourceArn": source_arn}}


def service_role(scope: Construct, construct_id: str, *, service: str, source_arn: str, description: str) -> iam.Role:
    """A role ``service`` may assume only on behalf of this account's ``source_arn``."""
    return iam.Role(
        scope,
        construct_id,
        description=description,
        assumed_by=iam.ServicePrincipal(service, conditions=same_account_source(source_arn)),
    )


def external_table(
    scope: Construct,
    construct_id: str,
    *,
    database: glue.CfnDatabase,
    database_name: str,
    table_input: Mapping[str, Any],
    columns: Sequence[tuple[str, str]],
    storage: Mapping[str, Any],
) -> glue.CfnTable:
    """An ``EXTERNAL_TABLE`` in the product's database, created after the database.

    ``table_input`` holds name, description, parameters and partition keys; ``storage``
    the location, formats and SerDe of the storage descriptor.
    """
    table = glue.CfnTable(
        scope,
        construct_id,
        catalog_id=Aws.ACCOUNT_ID,
        database_name=database_name,
        table_input=glue.CfnTable.TableInputProperty(
            table_type="EXTERNAL_TABLE",
            storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                columns=[glue.CfnTable.ColumnProperty(name=name, type=kind) for name, kind in columns],
                **storage,
            ),
            **table_input,
        ),
    )
    table.node.add_dependency(database)
    return table


def json_storage(location: str, serde_parameters: Mapping[str, str]) -> dict[str, Any]:
    """The storage descriptor of a JSON-lines table read with the OpenX SerDe."""
    return {
        "location": location,
        "input_format": TEXT_INPUT_FORMAT,
        "output_format": TEXT_OUTPUT_FORMAT,
        "serde_info": glue.CfnTable.SerdeInfoProperty(
            serialization_library=OPENX_SERDE, parameters=dict(serde_parameters)
        ),
    }


def string_partitions(*names: str) -> list[glue.CfnTable.ColumnProperty]:
    """Partition keys, all strings (projected partitions are matched on their text)."""
    return [glue.CfnTable.ColumnProperty(name=name, type="string") for name in names]


def named_outputs(scope: Construct, outputs: Mapping[str, tuple[str, str]]) -> None:
    """Stack outputs with fixed logical ids (``{id: (value, description)}``): scripts read them by name."""
    for logical_id, (value, description) in outputs.items():
        output = CfnOutput(scope, f"{logical_id}Output", value=value, description=description)
        output.override_logical_id(logical_id)
