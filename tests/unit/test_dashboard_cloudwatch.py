"""The generated body is accepted by CloudWatch's PutDashboard (moto in-process)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from bedrock_cost.config_loader import load_config_file
from bedrock_cost.dashboards.body import build_dashboard_body
from bedrock_cost.dashboards.widgets import DashboardLinks

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "example.yaml"


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def test_put_dashboard_accepts_the_body_and_returns_it_unchanged(aws: None) -> None:
    # Given the body generated from the example config
    body = build_dashboard_body(load_config_file(EXAMPLE), DashboardLinks(region="us-east-1"))
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    # When it is put as a dashboard
    response = cloudwatch.put_dashboard(DashboardName="bedrock-cost", DashboardBody=json.dumps(body))
    # Then CloudWatch reports no validation message and stores it as sent
    assert response.get("DashboardValidationMessages", []) == []
    stored = cloudwatch.get_dashboard(DashboardName="bedrock-cost")
    assert json.loads(stored["DashboardBody"]) == body
    assert [d["DashboardName"] for d in cloudwatch.list_dashboards()["DashboardEntries"]] == ["bedrock-cost"]


def test_put_dashboard_rejects_a_body_that_is_not_json(aws: None) -> None:
    # Given a truncated body (what a bad template substitution would produce)
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    text = json.dumps(build_dashboard_body(load_config_file(EXAMPLE), DashboardLinks(region="us-east-1")))
    # Then PutDashboard fails loudly instead of storing it
    with pytest.raises(cloudwatch.exceptions.ClientError):
        cloudwatch.put_dashboard(DashboardName="broken", DashboardBody=text[:-10])
