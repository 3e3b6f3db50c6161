"""CloudFormation custom resource (Provider ``on_event``): the Athena views.

Create and Update run every ``CREATE OR REPLACE VIEW`` of ``queries/views`` in
dependency order; a failing statement fails the deployment with Athena's own reason.
Delete drops the views, dependants first, and never blocks a stack deletion: the Glue
database is deleted right after and takes any leftover view with it.

Each statement's deadline is the Lambda's remaining time minus a margin, so a slow query
is stopped and reported by us rather than cut off silently by the Lambda timeout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bedrock_cost.adapters.athena import run_statement
from bedrock_cost.billing.sql import quote_identifier
from bedrock_cost.billing.views import drop_view_statements, render_views
from bedrock_cost.errors import QueryError, QueryTimeout, UserError
from bedrock_cost.handlers.wiring import container_wiring, environment_loader
from bedrock_cost.observability import logger, metrics, tracer

if TYPE_CHECKING:
    from mypy_boto3_athena import AthenaClient

SAFETY_MARGIN_SECONDS = 10.0
"""Kept back from the Lambda's remaining time to report a timeout before being killed."""

_TAG_KEY = re.compile(r"^[A-Za-z0-9_.:/=+\-@]{1,128}$")


class AthenaViewsEnvironment(BaseModel):
    """What the function needs from its environment; checked once per cold start."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    AWS_REGION: str = Field(min_length=1)
    POWERTOOLS_SERVICE_NAME: str = Field(min_length=1)
    POWERTOOLS_METRICS_NAMESPACE: str = Field(min_length=1)


class ViewsProperties(BaseModel):
    """The custom resource's properties, as the stack sets them."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    database: str = Field(alias="Database")
    table: str = Field(alias="Table")
    workgroup: str = Field(alias="WorkGroup", pattern=r"^[A-Za-z0-9._\-]{1,128}$")
    tag_keys: tuple[str, ...] = Field(alias="TagKeys")
    sql_hash: str = Field(alias="SqlHash", min_length=1)

    @field_validator("database", "table")
    @classmethod
    def _identifier(cls, value: str) -> str:
        quote_identifier(value)  # the SQL allow-list: raises ValueError naming the value
        return value

    @field_validator("tag_keys")
    @classmethod
    def _tag_keys(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        # They become quoted literals in the view SQL: same allow-list as the config.
        for key in value:
            if not _TAG_KEY.match(key):
                raise ValueError(f"{key!r} is not an allowed tag key")
        return value


class ViewsEvent(BaseModel):
    """The part of a CloudFormation custom resource event this function reads."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    request_type: Literal["Create", "Update", "Delete"] = Field(alias="RequestType")
    properties: ViewsProperties = Field(alias="ResourceProperties")
    physical_resource_id: str | None = Field(default=None, alias="PhysicalResourceId")


class ViewsResult(BaseModel):
    """What the Provider framework hands back to CloudFormation."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    physical_resource_id: str = Field(serialization_alias="PhysicalResourceId")
    data: dict[str, str] = Field(serialization_alias="Data")


load_environment = environment_loader(AthenaViewsEnvironment, "athena-views")


def athena_client(region: str) -> AthenaClient:
    return boto3.client("athena", region_name=region)


@dataclass
class Dependencies:
    """The Athena client of this container; ``configure`` swaps it (tests)."""

    client: AthenaClient


def build_dependencies(env: AthenaViewsEnvironment) -> Dependencies:
    return Dependencies(client=athena_client(env.AWS_REGION))


configure, current_dependencies = container_wiring(lambda: build_dependencies(load_environment()))


def physical_id(properties: ViewsProperties) -> str:
    """Stable per database: a new database name makes CloudFormation drop the old views."""
    return f"{properties.database}-views"


def _deadline(context: LambdaContext) -> float:
    remaining = context.get_remaining_time_in_millis() / 1000.0 - SAFETY_MARGIN_SECONDS
    if remaining <= 0:
        raise QueryTimeout("no Lambda time left to run the next view statement")
    return remaining


def apply_views(event: ViewsEvent, client: AthenaClient, context: LambdaContext) -> ViewsResult:
    """Create/replace every view (Create, Update) or drop them all (Delete)."""
    props = event.properties
    if event.request_type == "Delete":
        dropped = 0
        for statement in drop_view_statements(props.database):
            try:
                run_statement(
                    client,
                    statement,
                    workgroup=props.workgroup,
                    database=props.database,
                    deadline_seconds=_deadline(context),
                )
                dropped += 1
            except QueryError as exc:
                # The database (and any view left in it) is deleted next by CloudFormation.
                logger.warning("could not drop view; leaving it to the database deletion", extra={"error": str(exc)})
        metrics.add_metric(name="AthenaViewsDropped", unit=MetricUnit.Count, value=dropped)
        return ViewsResult(
            physical_resource_id=event.physical_resource_id or physical_id(props), data={"Views": str(dropped)}
        )

    statements = render_views(props.database, props.table, props.tag_keys)
    for query in statements:
        try:
            query_id = run_statement(
                client,
                query.sql,
                workgroup=props.workgroup,
                database=props.database,
                deadline_seconds=_deadline(context),
            )
        except QueryError as exc:  # keep the type: QueryTimeout stays a timeout
            raise type(exc)(f"{query.name}: {exc}") from exc
        logger.info("view statement succeeded", extra={"view": query.name, "query_execution_id": query_id})
    metrics.add_metric(name="AthenaViewsApplied", unit=MetricUnit.Count, value=len(statements))
    return ViewsResult(physical_resource_id=physical_id(props), data={"Views": str(len(statements))})


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Provider ``on_event`` entry point; raising fails the CloudFormation operation."""
    deps = current_dependencies()
    try:
        parsed = ViewsEvent.model_validate(event)
    except ValidationError as exc:
        if event.get("RequestType") == "Delete":
            # Nothing can have been created from properties that never validated; failing
            # here would only leave the stack stuck in DELETE_FAILED / ROLLBACK_FAILED.
            logger.warning("ignoring Delete with invalid properties", extra={"error": str(exc)})
            return {"PhysicalResourceId": str(event.get("PhysicalResourceId") or "invalid-views")}
        raise UserError(f"invalid Custom::AthenaViews event: {exc}") from None
    logger.info("athena views", extra={"request_type": parsed.request_type, "database": parsed.properties.database})
    return apply_views(parsed, deps.client, context).model_dump(by_alias=True)
