"""CloudFormation custom resource (Provider ``on_event``): the account's services anomaly monitor.

Cost Explorer allows one ``DIMENSIONAL`` monitor on ``SERVICE`` per account; a stack
that declared its own ``AWS::CE::AnomalyMonitor`` fails in any account that already has
one (most do: the console creates it on first visit). So the monitor is found at deploy
time:

* Create/Update: ``ce:GetAnomalyMonitors`` (every page); an existing ``DIMENSIONAL`` /
  ``SERVICE`` monitor is reused, otherwise one is created. ``Data.MonitorArn`` feeds the
  anomaly subscription.
* The physical id records who owns the monitor: ``created:<arn>`` or ``reused:<arn>``.
* Delete: a monitor we created is deleted (after the subscription, which depends on
  it); a reused one is left alone, it belonged to the account before us. A monitor
  already gone is not an error (stack deletion must not get stuck).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bedrock_cost.adapters.aws_errors import translate_client_error
from bedrock_cost.errors import UserError
from bedrock_cost.handlers.wiring import container_wiring, environment_loader
from bedrock_cost.observability import logger, metrics, tracer

if TYPE_CHECKING:
    from mypy_boto3_ce import CostExplorerClient

CE_REGION = "us-east-1"
"""Cost Explorer has one endpoint, in us-east-1, whatever the stack's region."""
CREATED = "created:"
REUSED = "reused:"


class AnomalyMonitorEnvironment(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    POWERTOOLS_SERVICE_NAME: str = Field(min_length=1)


class MonitorProperties(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    monitor_name: str = Field(alias="MonitorName", min_length=1, max_length=1024)


class MonitorEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    request_type: Literal["Create", "Update", "Delete"] = Field(alias="RequestType")
    properties: MonitorProperties = Field(alias="ResourceProperties")
    physical_resource_id: str | None = Field(default=None, alias="PhysicalResourceId")


@dataclass
class Dependencies:
    client: CostExplorerClient


load_environment = environment_loader(AnomalyMonitorEnvironment, "anomaly-monitor")


def build_dependencies(env: AnomalyMonitorEnvironment) -> Dependencies:
    del env
    config = BotoConfig(retries={"mode": "standard", "max_attempts": 5})
    return Dependencies(client=boto3.client("ce", region_name=CE_REGION, config=config))


configure, current_dependencies = container_wiring(lambda: build_dependencies(load_environment()))


def find_services_monitor(client: CostExplorerClient) -> str | None:
    """The ARN of the account's ``DIMENSIONAL``/``SERVICE`` monitor, if it has one."""
    token: str | None = None
    while True:
        try:
            page = client.get_anomaly_monitors(NextPageToken=token) if token else client.get_anomaly_monitors()
        except ClientError as exc:
            raise translate_client_error(exc, "ce:GetAnomalyMonitors") from exc
        for monitor in page.get("AnomalyMonitors", []):
            if monitor.get("MonitorType") == "DIMENSIONAL" and monitor.get("MonitorDimension") == "SERVICE":
                return str(monitor["MonitorArn"])
        token = page.get("NextPageToken")
        if not token:
            return None


def ensure_services_monitor(event: MonitorEvent, client: CostExplorerClient) -> dict[str, Any]:
    """Create/Update/Delete as described in the module docstring; the Provider's answer."""
    previous = event.physical_resource_id or ""
    if event.request_type == "Delete":
        if previous.startswith(CREATED):
            arn = previous[len(CREATED) :]
            try:
                client.delete_anomaly_monitor(MonitorArn=arn)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "UnknownMonitorException":
                    raise translate_client_error(exc, "ce:DeleteAnomalyMonitor") from exc
        return {"PhysicalResourceId": previous or "none"}
    existing = find_services_monitor(client)
    if existing is not None:
        # Keep our ownership marker when the monitor found is the one we created earlier.
        owned = previous.startswith(CREATED) and previous[len(CREATED) :] == existing
        physical = f"{CREATED if owned else REUSED}{existing}"
        logger.info("services anomaly monitor found", extra={"monitor_arn": existing, "created_by_stack": owned})
        return {"PhysicalResourceId": physical, "Data": {"MonitorArn": existing, "Created": str(owned).lower()}}
    try:
        created = client.create_anomaly_monitor(
            AnomalyMonitor={
                "MonitorName": event.properties.monitor_name,
                "MonitorType": "DIMENSIONAL",
                "MonitorDimension": "SERVICE",
            }
        )
    except ClientError as exc:
        raise translate_client_error(exc, "ce:CreateAnomalyMonitor") from exc
    arn = str(created["MonitorArn"])
    logger.info("services anomaly monitor created", extra={"monitor_arn": arn})
    return {"PhysicalResourceId": f"{CREATED}{arn}", "Data": {"MonitorArn": arn, "Created": "true"}}


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Provider ``on_event`` entry point; raising fails the CloudFormation operation."""
    del context
    deps = current_dependencies()
    try:
        parsed = MonitorEvent.model_validate(event)
    except ValidationError as exc:
        if event.get("RequestType") == "Delete":
            return {"PhysicalResourceId": str(event.get("PhysicalResourceId") or "invalid-monitor")}
        raise UserError(f"invalid Custom::ServicesAnomalyMonitor event: {exc}") from None
    return ensure_services_monitor(parsed, deps.client)
