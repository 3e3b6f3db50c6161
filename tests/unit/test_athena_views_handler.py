"""Spec of the Custom::AthenaViews handler: views created in order, failures explained."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from bedrock_cost.billing.views import drop_view_statements, render_views
from bedrock_cost.errors import QueryError, QueryTimeout, UserError
from bedrock_cost.handlers import athena_views
from bedrock_cost.handlers.wiring import InvalidEnvironmentError

REGION = "us-east-1"
WORKGROUP = "BedrockCostTracker-bedrock-cost"
DATABASE = "bedrock_cost"
TABLE = "cur2"
TAG_KEYS = ["team", "project"]

# Failing invocations publish no metric; Powertools warns about that, by design.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@dataclass
class FakeLambdaContext:
    """The attributes of the Lambda context object that Powertools and the handler read."""

    remaining_ms: int = 300_000
    function_name: str = "athena-views"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:athena-views"
    aws_request_id: str = "5f0a3e2c-0000-4000-8000-000000000001"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def _event(request_type: str, **overrides: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "ServiceToken": f"arn:aws:lambda:{REGION}:123456789012:function:framework-onEvent",
        "Database": DATABASE,
        "Table": TABLE,
        "WorkGroup": WORKGROUP,
        "TagKeys": TAG_KEYS,
        "SqlHash": "9f2c",
    }
    properties.update(overrides)
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": properties["ServiceToken"],
        "ResponseURL": "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x",
        "StackId": f"arn:aws:cloudformation:{REGION}:123456789012:stack/BedrockCostTracker/guid",
        "RequestId": "req",
        "LogicalResourceId": "AnalyticsViews",
        "ResourceType": "Custom::AthenaViews",
        "ResourceProperties": properties,
    }
    if request_type != "Create":
        event["PhysicalResourceId"] = f"{DATABASE}-views"
    return event


@pytest.fixture(autouse=True)
def lambda_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The variables the stack sets on the function."""
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "athena-views")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "BedrockCostTracker")


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """A real Athena client whose calls are checked against the service model."""
    client = boto3.client("athena", region_name=REGION)
    monkeypatch.setattr(athena_views, "athena_client", lambda region: client)
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def _stub_statement(stubber: Stubber, sql: str, query_id: str, state: str, reason: str | None = None) -> None:
    stubber.add_response(
        "start_query_execution",
        {"QueryExecutionId": query_id},
        {"QueryString": sql, "WorkGroup": WORKGROUP, "QueryExecutionContext": {"Database": DATABASE}},
    )
    status: dict[str, Any] = {"State": state}
    if reason is not None:
        status["StateChangeReason"] = reason
    stubber.add_response(
        "get_query_execution",
        {"QueryExecution": {"QueryExecutionId": query_id, "Status": status}},
        {"QueryExecutionId": query_id},
    )


def _executed_sql(client: Any) -> list[str]:
    ids = client.list_query_executions(WorkGroup=WORKGROUP)["QueryExecutionIds"]
    return [client.get_query_execution(QueryExecutionId=i)["QueryExecution"]["Query"] for i in ids]


# --------------------------------------------------------------------- moto: success paths


@pytest.mark.integration
@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_create_and_update_run_every_view_statement_in_order(
    request_type: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with mock_aws():
        # Given a workgroup (moto's Athena marks every query SUCCEEDED)
        client = boto3.client("athena", region_name=REGION)
        client.create_work_group(
            Name=WORKGROUP, Configuration={"ResultConfiguration": {"OutputLocation": "s3://results/athena-results/"}}
        )
        # When CloudFormation sends the event
        result = athena_views.handler(_event(request_type), FakeLambdaContext())
        # Then each rendered CREATE OR REPLACE VIEW ran, dependencies first
        expected = [q.sql for q in render_views(DATABASE, TABLE, TAG_KEYS)]
        assert _executed_sql(client) == expected
        assert all("CREATE OR REPLACE VIEW" in sql for sql in expected)
    # And the resource id is stable per database
    assert result == {"PhysicalResourceId": f"{DATABASE}-views", "Data": {"Views": str(len(expected))}}
    # And the count is published as a metric
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [doc["AthenaViewsApplied"] for doc in emf if "AthenaViewsApplied" in doc] == [[float(len(expected))]]


@pytest.mark.integration
def test_delete_drops_every_view_dependants_first() -> None:
    with mock_aws():
        client = boto3.client("athena", region_name=REGION)
        client.create_work_group(
            Name=WORKGROUP, Configuration={"ResultConfiguration": {"OutputLocation": "s3://results/athena-results/"}}
        )
        result = athena_views.handler(_event("Delete"), FakeLambdaContext())
        executed = _executed_sql(client)
    assert executed == drop_view_statements(DATABASE)
    assert all(sql.startswith("DROP VIEW IF EXISTS") for sql in executed)
    assert result["PhysicalResourceId"] == f"{DATABASE}-views"


# --------------------------------------------------------------------- Stubber: failures


@pytest.mark.unit
def test_failed_view_fails_the_deployment_with_athenas_reason(stubbed: Stubber) -> None:
    # Given Athena rejects the first view
    first = render_views(DATABASE, TABLE, TAG_KEYS)[0]
    reason = "line 4:8: Column 'line_item_usage_typ' cannot be resolved"
    _stub_statement(stubbed, first.sql, "q-1", "FAILED", reason)
    # When the stack creates the views
    with pytest.raises(QueryError) as raised:
        athena_views.handler(_event("Create"), FakeLambdaContext())
    # Then the error carries Athena's reason and names the view file
    assert reason in str(raised.value)
    assert first.name in str(raised.value)


@pytest.mark.unit
def test_cancelled_view_is_a_failure_too(stubbed: Stubber) -> None:
    first = render_views(DATABASE, TABLE, TAG_KEYS)[0]
    _stub_statement(stubbed, first.sql, "q-1", "CANCELLED", "Query cancelled by user")
    with pytest.raises(QueryError, match="CANCELLED: Query cancelled by user"):
        athena_views.handler(_event("Update"), FakeLambdaContext())


@pytest.mark.unit
def test_delete_carries_on_past_a_view_it_cannot_drop(stubbed: Stubber) -> None:
    # Given the first DROP fails (e.g. the database is already gone) and the rest succeed
    drops = drop_view_statements(DATABASE)
    _stub_statement(stubbed, drops[0], "d-0", "FAILED", "SCHEMA_NOT_FOUND: Schema bedrock_cost does not exist")
    for index, sql in enumerate(drops[1:], start=1):
        _stub_statement(stubbed, sql, f"d-{index}", "SUCCEEDED")
    # When the stack is deleted
    result = athena_views.handler(_event("Delete"), FakeLambdaContext())
    # Then the deletion succeeds and reports what it dropped
    assert result == {"PhysicalResourceId": f"{DATABASE}-views", "Data": {"Views": str(len(drops) - 1)}}


@pytest.mark.unit
def test_no_statement_starts_without_time_left(stubbed: Stubber) -> None:
    # Given less Lambda time left than the safety margin (no stubbed call: any call would fail)
    context = FakeLambdaContext(remaining_ms=int(athena_views.SAFETY_MARGIN_SECONDS * 1000) - 1)
    with pytest.raises(QueryTimeout, match="no Lambda time left"):
        athena_views.handler(_event("Create"), context)


@pytest.mark.unit
def test_statement_deadline_is_the_remaining_time_minus_the_margin(
    stubbed: Stubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    deadlines: list[float] = []

    def record(client: Any, sql: str, **kwargs: Any) -> str:
        deadlines.append(kwargs["deadline_seconds"])
        return "q"

    monkeypatch.setattr(athena_views, "run_statement", record)
    athena_views.handler(_event("Create"), FakeLambdaContext(remaining_ms=120_000))
    assert deadlines
    assert all(d == pytest.approx(120.0 - athena_views.SAFETY_MARGIN_SECONDS) for d in deadlines)


# --------------------------------------------------------------------- bad input


@pytest.mark.unit
@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"Database": "Bad-Name"}, "Database"),
        ({"TagKeys": ["team'; DROP"]}, "TagKeys"),
        ({"WorkGroup": ""}, "WorkGroup"),
    ],
)
def test_invalid_properties_fail_create_naming_the_field(
    stubbed: Stubber, override: dict[str, Any], field: str
) -> None:
    with pytest.raises(UserError, match=field):
        athena_views.handler(_event("Create", **override), FakeLambdaContext())


@pytest.mark.unit
def test_invalid_properties_never_block_a_delete(stubbed: Stubber) -> None:
    # Given a Delete for a resource whose properties never validated (so nothing was created)
    result = athena_views.handler(_event("Delete", Database="Bad-Name"), FakeLambdaContext())
    # Then CloudFormation is told it is gone, without touching Athena
    assert result == {"PhysicalResourceId": f"{DATABASE}-views"}


@pytest.mark.unit
def test_missing_environment_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_NAMESPACE")
    with pytest.raises(InvalidEnvironmentError, match="POWERTOOLS_METRICS_NAMESPACE"):
        athena_views.load_environment()
