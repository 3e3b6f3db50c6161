"""``bedrock-cost doctor``: prerequisites checked read-only against an emulated account.

CloudTrail and Bedrock's invocation-logging configuration come from moto; Cost Explorer
(cost-allocation tags, anomaly monitors) and Data Exports, which moto lacks, from
botocore's Stubber (requests and responses validated against the service models).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from bedrock_cost.cli import doctor_cmd
from bedrock_cost.cli.main import main

pytestmark = pytest.mark.integration

REGION = "us-east-1"
EXPORT_ARN = "arn:aws:bcm-data-exports:us-east-1:123456789012:export/bedrock-cost-tracker-0a1b2c3d"


class Account:
    def __init__(self) -> None:
        self.ce = boto3.client("ce", region_name="us-east-1")
        self.exports = boto3.client("bcm-data-exports", region_name="us-east-1")
        self.ce_stub = Stubber(self.ce)
        self.exports_stub = Stubber(self.exports)
        self.cloudtrail = boto3.client("cloudtrail", region_name=REGION)
        self.bedrock = boto3.client("bedrock", region_name=REGION)
        self.s3 = boto3.client("s3", region_name=REGION)

    def factory(self, service: str, region: str) -> Any:
        return {
            "ce": self.ce,
            "bcm-data-exports": self.exports,
            "cloudtrail": self.cloudtrail,
            "bedrock": self.bedrock,
        }[service]

    def stub_export(self, status: str = "HEALTHY") -> None:
        self.exports_stub.add_response(
            "list_exports",
            {"Exports": [{"ExportArn": EXPORT_ARN, "ExportName": "bct", "ExportStatus": {"StatusCode": status}}]},
            {},
        )
        self.exports_stub.add_response(
            "get_export",
            {
                "Export": {
                    "Name": "bedrock-cost-tracker",
                    "DataQuery": {"QueryStatement": "SELECT * FROM COST_AND_USAGE_REPORT"},
                    "DestinationConfigurations": {
                        "S3Destination": {
                            "S3Bucket": "billing",
                            "S3Prefix": "cur",
                            "S3Region": "us-east-1",
                            "S3OutputConfigurations": {
                                "OutputType": "CUSTOM",
                                "Format": "PARQUET",
                                "Compression": "PARQUET",
                                "Overwrite": "OVERWRITE_REPORT",
                            },
                        }
                    },
                    "RefreshCadence": {"Frequency": "SYNCHRONOUS"},
                },
                "ExportStatus": {"StatusCode": status},
            },
            {"ExportArn": EXPORT_ARN},
        )

    def stub_ce(self, active: list[str], inactive: list[str]) -> None:
        tags = [{"TagKey": k, "Type": "UserDefined", "Status": "Active"} for k in active] + [
            {"TagKey": k, "Type": "UserDefined", "Status": "Inactive"} for k in inactive
        ]
        self.ce_stub.add_response(
            "list_cost_allocation_tags",
            {"CostAllocationTags": tags},
            {"TagKeys": ["team", "project", "environment"], "Type": "UserDefined"},
        )
        self.ce_stub.add_response("get_anomaly_monitors", {"AnomalyMonitors": []}, {})

    def trail(self, logging: bool = True) -> None:
        self.s3.create_bucket(Bucket="trail-logs")
        self.cloudtrail.create_trail(Name="org", S3BucketName="trail-logs", IsMultiRegionTrail=True)
        self.cloudtrail.put_event_selectors(
            TrailName="org", EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}]
        )
        if logging:
            self.cloudtrail.start_logging(Name="org")

    def invocation_logging(self) -> None:
        self.bedrock.put_model_invocation_logging_configuration(
            loggingConfig={"s3Config": {"bucketName": "trail-logs", "keyPrefix": "bedrock"}}
        )


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[Account]:
    monkeypatch.chdir(tmp_path)
    with mock_aws():
        world = Account()
        monkeypatch.setattr(doctor_cmd, "client_factory", world.factory)
        world.ce_stub.activate()
        world.exports_stub.activate()
        yield world
        world.ce_stub.deactivate()
        world.exports_stub.deactivate()


CONFIG = "config/example.yaml"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    from pathlib import Path

    config = str(Path(__file__).resolve().parents[2] / CONFIG)
    code = main(["doctor", "--region", REGION, "--config", config, *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_everything_in_place_exits_0(account: Account, capsys: pytest.CaptureFixture[str]) -> None:
    account.stub_export()
    account.stub_ce(["team", "project", "environment"], [])
    account.trail()
    account.invocation_logging()
    code, out, err = run(capsys)
    assert code == 0, out + err
    assert "MISSING" not in out
    assert "bedrock-cost-tracker delivers to s3://billing/cur" in out
    assert "the stack creates one" in out


def test_missing_prerequisites_are_listed_and_exit_3(account: Account, capsys: pytest.CaptureFixture[str]) -> None:
    # Given an unhealthy export, an inactive tag, a trail that is not logging, no invocation logging
    account.stub_export("UNHEALTHY")
    account.stub_ce(["team", "project"], ["environment"])
    account.trail(logging=False)
    code, out, err = run(capsys)
    assert code == 3
    missing = [line for line in out.splitlines() if line.startswith("MISSING")]
    assert len(missing) == 4, out
    assert "UNHEALTHY" in out
    assert "not active: environment" in out
    assert "org is not logging" in out
    assert "invocation logging" in out
    assert err.strip() == "4 prerequisite(s) missing"


def test_an_unreachable_endpoint_is_an_outage_naming_it(account: Account, capsys: pytest.CaptureFixture[str]) -> None:
    account.exports_stub.add_client_error("list_exports", "AccessDeniedException", "not allowed", http_status_code=403)
    code, _out, err = run(capsys)
    assert code == 1
    (line,) = err.strip().splitlines()
    assert "bcm-data-exports:ListExports" in line
    assert "AccessDeniedException" in line
