"""CloudFormation custom resources (Provider ``on_event``) of the per-request ledger.

Two resource types share this function:

``Custom::BedrockInvocationLogging`` (only with ``request_logs.logging: create``) sets the
account's model invocation logging for this region to the stack's log group and bucket,
with text, image and embedding data delivery off unless ``keep_prompts``. There is one
configuration per account and region, so Create refuses to overwrite one that writes
somewhere else (deploy with ``logging: adopt`` instead) and Delete removes the
configuration only while it is still the stack's own, restoring "no logging" rather than
leaving Bedrock writing to a deleted log group. A configuration someone else set in the
meantime is left alone.

``Custom::RequestLedgerViews`` creates the Athena views over the invocation-log Glue table
(``billing/request_views.py``, prices rendered from the catalog) and drops them on Delete.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, Any, Literal

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from bedrock_cost.adapters.athena import run_statement
from bedrock_cost.billing.request_views import drop_request_view_statements, render_request_views
from bedrock_cost.domain.pricing import PriceCatalog, load_bundled_layer
from bedrock_cost.errors import QueryError, UserError
from bedrock_cost.observability import logger, tracer

if TYPE_CHECKING:
    from mypy_boto3_athena import AthenaClient

SAFETY_MARGIN_SECONDS = 10.0
LOGGING_TYPE = "Custom::BedrockInvocationLogging"
VIEWS_TYPE = "Custom::RequestLedgerViews"


class LoggingProperties(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    log_group: str = Field(alias="LogGroupName", min_length=1)
    role_arn: str = Field(alias="RoleArn", pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/")
    bucket: str = Field(alias="BucketName", min_length=3)
    key_prefix: str = Field(alias="KeyPrefix", default="")
    keep_prompts: bool = Field(alias="KeepPrompts", default=False)


class ViewsProperties(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    database: str = Field(alias="Database", pattern=r"^[a-z_][a-z0-9_]{0,254}$")
    table: str = Field(alias="Table", pattern=r"^[a-z_][a-z0-9_]{0,254}$")
    workgroup: str = Field(alias="WorkGroup", pattern=r"^[A-Za-z0-9._\-]{1,128}$")


class SetupEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    request_type: Literal["Create", "Update", "Delete"] = Field(alias="RequestType")
    resource_type: str = Field(alias="ResourceType")
    properties: dict[str, Any] = Field(alias="ResourceProperties")
    physical_resource_id: str | None = Field(default=None, alias="PhysicalResourceId")


def logging_configuration(props: LoggingProperties) -> dict[str, Any]:
    """The ``loggingConfig`` we set: metadata and counts, prompts only when asked."""
    s3: dict[str, str] = {"bucketName": props.bucket}
    if props.key_prefix:
        s3["keyPrefix"] = props.key_prefix
    return {
        "cloudWatchConfig": {"logGroupName": props.log_group, "roleArn": props.role_arn},
        "s3Config": s3,
        "textDataDeliveryEnabled": props.keep_prompts,
        "imageDataDeliveryEnabled": props.keep_prompts,
        "embeddingDataDeliveryEnabled": props.keep_prompts,
    }


def _current_log_group(bedrock: Any) -> str | None:
    current = bedrock.get_model_invocation_logging_configuration().get("loggingConfig") or {}
    group = (current.get("cloudWatchConfig") or {}).get("logGroupName")
    if group:
        return str(group)
    return "(s3 only)" if current.get("s3Config") else None


def apply_logging(event: SetupEvent, bedrock: Any) -> dict[str, Any]:
    props = LoggingProperties.model_validate(event.properties)
    physical = f"invocation-logging-{props.log_group}"
    current = _current_log_group(bedrock)
    if event.request_type == "Delete":
        if current == props.log_group:
            bedrock.delete_model_invocation_logging_configuration()
            logger.info("invocation logging configuration removed", extra={"log_group": props.log_group})
        else:
            logger.warning("invocation logging no longer ours; left as is", extra={"current": current})
        return {"PhysicalResourceId": event.physical_resource_id or physical}
    if event.request_type == "Create" and current not in (None, props.log_group):
        raise UserError(
            f"model invocation logging is already configured in this region (log group {current}); "
            "set request_logs.logging to 'adopt' with that log group instead of overwriting it"
        )
    bedrock.put_model_invocation_logging_configuration(loggingConfig=logging_configuration(props))
    logger.info("invocation logging configured", extra={"log_group": props.log_group, "prompts": props.keep_prompts})
    return {"PhysicalResourceId": physical, "Data": {"LogGroupName": props.log_group}}


def apply_views(event: SetupEvent, athena: AthenaClient, context: LambdaContext) -> dict[str, Any]:
    props = ViewsProperties.model_validate(event.properties)
    physical = f"{props.database}-request-views"

    def deadline() -> float:
        return max(1.0, context.get_remaining_time_in_millis() / 1000.0 - SAFETY_MARGIN_SECONDS)

    if event.request_type == "Delete":
        for statement in drop_request_view_statements(props.database):
            try:
                run_statement(
                    athena, statement, workgroup=props.workgroup, database=props.database, deadline_seconds=deadline()
                )
            except QueryError as exc:  # the database deletion takes leftovers with it
                logger.warning("could not drop view", extra={"error": str(exc)})
        return {"PhysicalResourceId": event.physical_resource_id or physical}
    views = render_request_views(props.database, props.table, PriceCatalog(bundled=load_bundled_layer()))
    for view in views:
        try:
            run_statement(
                athena, view.sql, workgroup=props.workgroup, database=props.database, deadline_seconds=deadline()
            )
        except QueryError as exc:
            raise type(exc)(f"{view.name}: {exc}") from exc
    return {"PhysicalResourceId": physical, "Data": {"Views": str(len(views))}}


@functools.cache
def _client(service: str) -> Any:
    return boto3.client(service, region_name=os.environ.get("AWS_REGION"))  # type: ignore[call-overload]


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parsed = SetupEvent.model_validate(event)
    if parsed.resource_type == LOGGING_TYPE:
        return apply_logging(parsed, _client("bedrock"))
    if parsed.resource_type == VIEWS_TYPE:
        return apply_views(parsed, _client("athena"), context)
    raise UserError(f"unknown resource type {parsed.resource_type}")
