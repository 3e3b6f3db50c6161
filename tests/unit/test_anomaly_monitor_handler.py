"""The services anomaly monitor custom resource: reuse the account's, create one only if none.

moto has no Cost Anomaly Detection API, so botocore's Stubber answers (it validates our
requests and its canned responses against the real service model).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from bedrock_cost.errors import BedrockCostError
from bedrock_cost.handlers import anomaly_monitor
from bedrock_cost.handlers.anomaly_monitor import Dependencies, MonitorEvent, ensure_services_monitor
from tests.support.lambda_context import FakeLambdaContext

pytestmark = pytest.mark.unit

EXISTING = "arn:aws:ce::123456789012:anomalymonitor/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
CREATED = "arn:aws:ce::123456789012:anomalymonitor/99999999-4e5f-6a7b-8c9d-0e1f2a3b4c5d"


def event(request: str, physical: str | None = None) -> MonitorEvent:
    raw: dict[str, Any] = {"RequestType": request, "ResourceProperties": {"MonitorName": "stack services"}}
    if physical:
        raw["PhysicalResourceId"] = physical
    return MonitorEvent.model_validate(raw)


def monitor(arn: str, kind: str, dimension: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"MonitorArn": arn, "MonitorName": arn[-4:], "MonitorType": kind}
    if dimension:
        entry["MonitorDimension"] = dimension
    return entry


@pytest.fixture
def ce() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("ce", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_an_existing_services_monitor_is_reused_across_pages(ce: tuple[Any, Stubber]) -> None:
    client, stub = ce
    # Given a custom monitor on page 1 and the services monitor on page 2
    stub.add_response(
        "get_anomaly_monitors",
        {"AnomalyMonitors": [monitor(CREATED, "CUSTOM")], "NextPageToken": "p2"},
        {},
    )
    stub.add_response(
        "get_anomaly_monitors",
        {"AnomalyMonitors": [monitor(EXISTING, "DIMENSIONAL", "SERVICE")]},
        {"NextPageToken": "p2"},
    )
    # When the stack is created
    result = ensure_services_monitor(event("Create"), client)
    # Then it subscribes to the existing one and creates nothing
    assert result == {"PhysicalResourceId": f"reused:{EXISTING}", "Data": {"MonitorArn": EXISTING, "Created": "false"}}


def test_a_monitor_is_created_only_when_the_account_has_none(ce: tuple[Any, Stubber]) -> None:
    client, stub = ce
    stub.add_response("get_anomaly_monitors", {"AnomalyMonitors": [monitor(EXISTING, "CUSTOM")]}, {})
    stub.add_response(
        "create_anomaly_monitor",
        {"MonitorArn": CREATED},
        {
            "AnomalyMonitor": {
                "MonitorName": "stack services",
                "MonitorType": "DIMENSIONAL",
                "MonitorDimension": "SERVICE",
            }
        },
    )
    result = ensure_services_monitor(event("Create"), client)
    assert result["PhysicalResourceId"] == f"created:{CREATED}"
    assert result["Data"] == {"MonitorArn": CREATED, "Created": "true"}


def test_update_keeps_ownership_and_delete_removes_only_our_monitor(ce: tuple[Any, Stubber]) -> None:
    client, stub = ce
    # Update: the monitor we created is still there -> still ours
    stub.add_response("get_anomaly_monitors", {"AnomalyMonitors": [monitor(CREATED, "DIMENSIONAL", "SERVICE")]}, {})
    assert ensure_services_monitor(event("Update", f"created:{CREATED}"), client)["PhysicalResourceId"] == (
        f"created:{CREATED}"
    )
    # Delete of ours deletes it; an already-deleted one is fine
    stub.add_response("delete_anomaly_monitor", {}, {"MonitorArn": CREATED})
    assert ensure_services_monitor(event("Delete", f"created:{CREATED}"), client) == {
        "PhysicalResourceId": f"created:{CREATED}"
    }
    stub.add_client_error("delete_anomaly_monitor", "UnknownMonitorException", "gone")
    ensure_services_monitor(event("Delete", f"created:{CREATED}"), client)
    # Delete of a reused one calls nothing (the Stubber would fail on an unexpected call)
    assert ensure_services_monitor(event("Delete", f"reused:{EXISTING}"), client) == {
        "PhysicalResourceId": f"reused:{EXISTING}"
    }


def test_access_denied_fails_the_deployment_naming_the_api(ce: tuple[Any, Stubber]) -> None:
    client, stub = ce
    stub.add_client_error("get_anomaly_monitors", "AccessDeniedException", "not allowed")
    with pytest.raises(BedrockCostError, match="ce:GetAnomalyMonitors: AccessDeniedException"):
        ensure_services_monitor(event("Create"), client)


def test_the_handler_answers_the_provider(ce: tuple[Any, Stubber], monkeypatch: pytest.MonkeyPatch) -> None:
    client, stub = ce
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "anomaly-monitor")
    anomaly_monitor.configure(Dependencies(client=client))
    try:
        stub.add_response(
            "get_anomaly_monitors", {"AnomalyMonitors": [monitor(EXISTING, "DIMENSIONAL", "SERVICE")]}, {}
        )
        raw = {"RequestType": "Create", "ResourceProperties": {"MonitorName": "s", "ServiceToken": "t"}}
        answer = anomaly_monitor.handler(raw, FakeLambdaContext())
        assert answer["Data"]["MonitorArn"] == EXISTING
        # A Delete whose properties never validated must not get the stack stuck
        assert anomaly_monitor.handler({"RequestType": "Delete", "PhysicalResourceId": "x"}, FakeLambdaContext()) == {
            "PhysicalResourceId": "x"
        }
    finally:
        anomaly_monitor.configure(None)
