"""``bedrock-cost doctor [--region R]``: are the deploy prerequisites in place? (read-only)

Each prerequisite is something the stack cannot create for you, or that silently empties
a feature when it is missing:

=========================  ==========================================  ===================================
check                      API (read-only)                             without it
=========================  ==========================================  ===================================
CUR 2.0 export             ``bcm-data-exports:ListExports/GetExport``  no billed cost, no reconciliation
                           (us-east-1)
cost-allocation tags       ``ce:ListCostAllocationTags``               CUR has no ``tag:<key>`` columns:
                                                                       everything is ``(untagged)``
CloudTrail trail           ``cloudtrail:DescribeTrails``,              the tag enforcer never hears of a
                           ``GetTrailStatus``, ``GetEventSelectors``   new resource (EventBridge sees API
                                                                       calls only where a trail logs them)
invocation logging         ``bedrock:GetModelInvocationLogging-        no per-request (per-principal)
                           Configuration``                             ledger
services anomaly monitor   ``ce:GetAnomalyMonitors``                   (informational: reused if present,
                                                                       created by the stack otherwise)
=========================  ==========================================  ===================================

Exit codes: 0 everything in place, 3 something is missing (each listed on its own line
with what to do), 1 an endpoint could not be asked (named), 2 bad input.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bedrock_cost.cli.options import add_command
from bedrock_cost.errors import BedrockCostError, UserError

EXIT_MISSING = 3
CE_REGION = "us-east-1"
"""Cost Explorer and Data Exports answer in us-east-1 only."""
_REGION_RE = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    informational: bool = False


class DoctorOutageError(BedrockCostError):
    """An AWS endpoint could not be asked (network, throttling, permission)."""


ClientFactory = Callable[[str, str], Any]
"""(service, region) -> a boto3 client. Replaced in tests."""


def default_client_factory(service: str, region: str) -> Any:
    import boto3
    from botocore.config import Config as BotoConfig

    config = BotoConfig(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=20)
    return boto3.session.Session().client(service, region_name=region, config=config)  # type: ignore[call-overload]


client_factory: ClientFactory = default_client_factory


def _call(client: Any, operation: str, api: str, **kwargs: Any) -> Any:
    """Call one API; any failure becomes one line naming the API and the endpoint."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return getattr(client, operation)(**kwargs)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise DoctorOutageError(
            f"{api} at {client.meta.endpoint_url}: {error.get('Code', 'Error')}: {error.get('Message', '')}".rstrip(
                ": "
            )
        ) from None
    except BotoCoreError as exc:
        raise DoctorOutageError(f"{api} at {client.meta.endpoint_url}: {type(exc).__name__}: {exc}") from None


def check_cur_export(exports: Any) -> Check:
    name = "CUR 2.0 export"
    arns: list[str] = []
    token: str | None = None
    while True:
        page = _call(exports, "list_exports", "bcm-data-exports:ListExports", **({"NextToken": token} if token else {}))
        arns += [str(e["ExportArn"]) for e in page.get("Exports", [])]
        token = page.get("NextToken")
        if not token:
            break
    unhealthy: list[str] = []
    for arn in arns:
        found = _call(exports, "get_export", "bcm-data-exports:GetExport", ExportArn=arn)
        export = found.get("Export", {})
        query = str(export.get("DataQuery", {}).get("QueryStatement", "")).upper()
        if "COST_AND_USAGE_REPORT" not in query:
            continue
        status = found.get("ExportStatus", {}).get("StatusCode", "UNKNOWN")
        s3 = export.get("DestinationConfigurations", {}).get("S3Destination", {})
        where = f"s3://{s3.get('S3Bucket', '?')}/{s3.get('S3Prefix', '')}"
        if status == "HEALTHY":
            return Check(name, True, f"{export.get('Name', arn)} delivers to {where} ({status})")
        unhealthy.append(f"{export.get('Name', arn)} is {status}")
    if unhealthy:
        return Check(name, False, "; ".join(unhealthy) + ": check the export's bucket policy in the Billing console")
    return Check(
        name,
        False,
        "no CUR 2.0 export: set cur.create_export: true (the stack creates it, us-east-1) or create one in "
        "Billing > Data Exports",
    )


def check_cost_allocation_tags(ce: Any, tag_keys: list[str]) -> Check:
    name = "cost-allocation tags"
    if not tag_keys:
        return Check(name, True, "no report_tag_keys configured", informational=True)
    found = _call(
        ce, "list_cost_allocation_tags", "ce:ListCostAllocationTags", TagKeys=tag_keys[:100], Type="UserDefined"
    )
    status = {str(t["TagKey"]): str(t.get("Status", "")) for t in found.get("CostAllocationTags", [])}
    inactive = [key for key in tag_keys if status.get(key) != "Active"]
    if inactive:
        return Check(
            name,
            False,
            f"not active: {', '.join(inactive)} (activate in Billing > Cost allocation tags; CUR shows them "
            "from activation on, not retroactively)",
        )
    return Check(name, True, f"active: {', '.join(tag_keys)}")


def _logs_management_events(selectors: Any) -> bool:
    for selector in selectors.get("EventSelectors", []) or []:
        if selector.get("IncludeManagementEvents", True) and selector.get("ReadWriteType", "All") in {
            "All",
            "WriteOnly",
        }:
            return True
    for advanced in selectors.get("AdvancedEventSelectors", []) or []:
        for field in advanced.get("FieldSelectors", []):
            if field.get("Field") == "eventCategory" and "Management" in field.get("Equals", []):
                return True
    return False


def check_cloudtrail(cloudtrail: Any, region: str) -> Check:
    name = f"CloudTrail trail ({region})"
    trails = _call(cloudtrail, "describe_trails", "cloudtrail:DescribeTrails", includeShadowTrails=True)
    reasons: list[str] = []
    for trail in trails.get("trailList", []):
        if not (trail.get("IsMultiRegionTrail") or trail.get("HomeRegion") == region):
            continue
        arn = trail.get("TrailARN") or trail.get("Name")
        status = _call(cloudtrail, "get_trail_status", "cloudtrail:GetTrailStatus", Name=arn)
        if not status.get("IsLogging"):
            reasons.append(f"{trail.get('Name')} is not logging")
            continue
        selectors = _call(cloudtrail, "get_event_selectors", "cloudtrail:GetEventSelectors", TrailName=arn)
        if not _logs_management_events(selectors):
            reasons.append(f"{trail.get('Name')} does not log write management events")
            continue
        return Check(name, True, f"{trail.get('Name')} logs management events")
    why = "; ".join(reasons) if reasons else "no trail covers this region"
    return Check(
        name,
        False,
        f"{why}: the tag enforcer reacts to create/tag events only where a trail logs them (create a multi-region "
        "trail with management events)",
    )


def check_invocation_logging(bedrock: Any, region: str) -> Check:
    name = f"Bedrock invocation logging ({region})"
    found = _call(
        bedrock, "get_model_invocation_logging_configuration", "bedrock:GetModelInvocationLoggingConfiguration"
    )
    config = found.get("loggingConfig") or {}
    targets = [label for key, label in (("s3Config", "S3"), ("cloudWatchConfig", "CloudWatch Logs")) if config.get(key)]
    if not targets:
        return Check(
            name,
            False,
            "not configured: enable it in Bedrock > Settings (S3 or CloudWatch Logs) for per-request attribution",
        )
    return Check(name, True, f"delivers to {' and '.join(targets)}")


def check_anomaly_monitor(ce: Any) -> Check:
    name = "services anomaly monitor"
    token: str | None = None
    while True:
        page = _call(ce, "get_anomaly_monitors", "ce:GetAnomalyMonitors", **({"NextPageToken": token} if token else {}))
        for monitor in page.get("AnomalyMonitors", []):
            if monitor.get("MonitorType") == "DIMENSIONAL" and monitor.get("MonitorDimension") == "SERVICE":
                return Check(name, True, f"{monitor.get('MonitorName')} exists; the stack subscribes to it", True)
        token = page.get("NextPageToken")
        if not token:
            return Check(name, True, "none yet; the stack creates one (AWS allows one per account)", True)


def run_checks(region: str, tag_keys: list[str], factory: ClientFactory | None = None) -> list[Check]:
    make = factory or client_factory
    ce = make("ce", CE_REGION)
    return [
        check_cur_export(make("bcm-data-exports", CE_REGION)),
        check_cost_allocation_tags(ce, tag_keys),
        check_cloudtrail(make("cloudtrail", region), region),
        check_invocation_logging(make("bedrock", region), region),
        check_anomaly_monitor(ce),
    ]


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "doctor",
        run,
        help="check the deploy prerequisites against a live account (read-only; exit 3 if any is missing)",
        description="CUR 2.0 export, cost-allocation tags, a CloudTrail trail, Bedrock invocation logging "
        "and the services anomaly monitor, checked with read-only calls on the standard credential chain.",
    )
    parser.add_argument("--region", help="the Bedrock region to check (default: AWS_REGION, else us-east-1)")
    parser.add_argument("--config", type=Path, help="config YAML for report_tag_keys (default: ./cdk.json's)")


def _tag_keys(path: Path | None) -> list[str]:
    from bedrock_cost.cli.tag_policy_cmd import load_cli_config

    if path is None and not (Path.cwd() / "cdk.json").is_file():
        return []
    return list(load_cli_config(path).report_tag_keys)


def run(args: argparse.Namespace) -> int:
    region = args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    if not _REGION_RE.match(region):
        raise UserError(f"--region: {region!r} is not an AWS region name like 'us-east-1'")
    checks = run_checks(region, _tag_keys(args.config))
    from bedrock_cost.cli.safe_output import terminal_safe

    missing = 0
    for check in checks:
        mark = "ok  " if check.ok else "MISSING"
        if check.informational:
            mark = "info"
        missing += 0 if check.ok else 1
        print(f"{mark:8} {check.name}: {terminal_safe(check.detail)}")
    if missing:
        print(f"{missing} prerequisite(s) missing", file=sys.stderr)
        return EXIT_MISSING
    return 0
