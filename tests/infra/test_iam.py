"""Spec of the IAM the stack creates: every statement scoped to named resources."""

from __future__ import annotations

from typing import Any

import pytest

from bedrock_cost.billing.views import view_names
from infra.nag import flatten_reference
from infra.tag_enforcer import LIST_ACTIONS
from tests.infra.synth_support import Synth

pytestmark = pytest.mark.infra

# Actions that only accept Resource "*" (AWS service authorization reference).
RESOURCE_STAR_ONLY = frozenset(
    {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        # CloudWatch metric reads, the Price List API and Bedrock List* calls have no
        # resource-level permissions.
        "cloudwatch:GetMetricData",
        "cloudwatch:ListMetrics",
        "pricing:GetProducts",
        *LIST_ACTIONS,
    }
)

ACCOUNT_GLUE = "arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements_of_role(synth: Synth, role_id: str) -> list[dict[str, Any]]:
    """Every statement attached to a role (inline policies of the role and AWS::IAM::Policy)."""
    found: list[dict[str, Any]] = []
    for policy in synth.resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            found.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    role = synth.resources("AWS::IAM::Role")[role_id]
    for inline in role["Properties"].get("Policies", []):
        found.extend(inline["PolicyDocument"]["Statement"])
    return found


def _grants(statements: list[dict[str, Any]]) -> dict[str, set[str]]:
    """action -> flattened resources it is allowed on."""
    out: dict[str, set[str]] = {}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        for action in _as_list(statement["Action"]):
            out.setdefault(action, set()).update(flatten_reference(r) for r in _as_list(statement["Resource"]))
    return out


def _function_role(synth: Synth, handler: str) -> str:
    for function in synth.resources("AWS::Lambda::Function").values():
        if function["Properties"].get("Handler") == handler:
            role_id: str = function["Properties"]["Role"]["Fn::GetAtt"][0]
            return role_id
    raise AssertionError(f"no function with handler {handler}")


def _role_by_prefix(synth: Synth, prefix: str) -> str:
    (role_id,) = [k for k in synth.resources("AWS::IAM::Role") if k.startswith(prefix)]
    return role_id


def test_no_statement_allows_every_resource_unless_the_action_demands_it(any_synth: Synth) -> None:
    for policy_id, policy in any_synth.resources("AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if "*" not in _as_list(statement["Resource"]):
                continue
            # Then only actions without resource-level permissions get "*"
            assert set(_as_list(statement["Action"])) <= RESOURCE_STAR_ONLY, (policy_id, statement)
            # And cdk-nag's acknowledgement of it says why
            suppressed = policy["Metadata"]["cdk_nag"]["rules_to_suppress"]
            (ack,) = [s for s in suppressed if s["id"] == "AwsSolutions-IAM5[Resource::*]"]
            assert "resource-level" in ack["reason"]


def test_no_action_wildcards_and_no_managed_policies(any_synth: Synth) -> None:
    for policy in any_synth.resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert not any("*" in action for action in _as_list(statement["Action"])), statement
    for role_id, role in any_synth.resources("AWS::IAM::Role").items():
        assert "ManagedPolicyArns" not in role["Properties"], role_id


def test_every_function_writes_logs_only_to_its_own_log_group(any_synth: Synth) -> None:
    for function_id, function in any_synth.resources("AWS::Lambda::Function").items():
        role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
        log_group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        grants = _grants(_statements_of_role(any_synth, role_id))
        assert grants["logs:PutLogEvents"] == {f"<{log_group}.Arn>"}, function_id
        assert grants["logs:CreateLogStream"] == {f"<{log_group}.Arn>"}, function_id
        assert "logs:CreateLogGroup" not in grants, function_id


def test_views_function_may_run_queries_only_in_the_workgroup(created: Synth) -> None:
    (workgroup_id,) = created.resources("AWS::Athena::WorkGroup")
    grants = _grants(
        _statements_of_role(created, _function_role(created, "bedrock_cost.handlers.athena_views.handler"))
    )
    workgroup_arn = f"arn:<AWS::Partition>:athena:<AWS::Region>:<AWS::AccountId>:workgroup/<{workgroup_id}>"
    for action in ("athena:StartQueryExecution", "athena:GetQueryExecution", "athena:StopQueryExecution"):
        assert grants[action] == {workgroup_arn}


def test_views_function_may_write_only_the_product_views(created: Synth) -> None:
    grants = _grants(
        _statements_of_role(created, _function_role(created, "bedrock_cost.handlers.athena_views.handler"))
    )
    expected = {f"{ACCOUNT_GLUE}:catalog", f"{ACCOUNT_GLUE}:database/bedrock_cost"} | {
        f"{ACCOUNT_GLUE}:table/bedrock_cost/{name}" for name in view_names()
    }
    for action in ("glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable"):
        # Then the CUR table itself (cur2) can never be replaced or dropped by it
        assert grants[action] == expected
    assert f"{ACCOUNT_GLUE}:table/bedrock_cost/cur2" not in grants["glue:DeleteTable"]
    # And it reads the catalog of its own database only
    assert grants["glue:GetTable"] == {
        f"{ACCOUNT_GLUE}:catalog",
        f"{ACCOUNT_GLUE}:database/bedrock_cost",
        f"{ACCOUNT_GLUE}:table/bedrock_cost/*",
    }


def test_views_function_reads_and_writes_only_the_results_prefix_and_key(created: Synth) -> None:
    grants = _grants(
        _statements_of_role(created, _function_role(created, "bedrock_cost.handlers.athena_views.handler"))
    )
    (key_id,) = [
        k
        for k, v in created.resources("AWS::KMS::Key").items()
        if "Athena" in str(v["Properties"].get("Description", ""))
    ]
    results_id = next(
        k
        for k, v in created.resources("AWS::S3::Bucket").items()
        if v["Properties"].get("LoggingConfiguration", {}).get("LogFilePrefix") == "athena-results/"
    )
    assert grants["s3:PutObject"] == {f"<{results_id}.Arn>/athena-results/*"}
    assert grants["s3:GetObject"] == {f"<{results_id}.Arn>/athena-results/*"}
    assert grants["s3:ListBucket"] == {f"<{results_id}.Arn>"}
    assert grants["kms:GenerateDataKey"] == {f"<{key_id}.Arn>"}
    assert grants["kms:Decrypt"] == {f"<{key_id}.Arn>"}
    # And it never touches the CUR data
    assert not any("cur" in resource for resource in grants["s3:GetObject"])


def test_grant_query_gives_a_reader_the_export_prefix_and_nothing_wider(existing: Synth) -> None:
    # Given a role granted CUR query access through CurAnalytics.grant_query
    statements = _statements_of_role(existing, _role_by_prefix(existing, "CurReaderUnderTest"))
    grants = _grants(statements)
    # Then it reads CUR objects only under the export's data prefix
    assert grants["s3:GetObject"] >= {"arn:<AWS::Partition>:s3:::acme-billing-exports/exports/cur2/finops/data/*"}
    cur_reads = {r for r in grants["s3:GetObject"] if "acme-billing-exports" in r}
    assert cur_reads == {"arn:<AWS::Partition>:s3:::acme-billing-exports/exports/cur2/finops/data/*"}
    # And may list the bucket only under that prefix
    (listing,) = [
        s
        for s in statements
        if "s3:ListBucket" in _as_list(s["Action"]) and "acme" in flatten_reference(_as_list(s["Resource"])[0])
    ]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["exports/cur2/finops/data/*"]}}
    # And queries run in the workgroup, against its own database only
    assert all("workgroup/" in r for r in grants["athena:StartQueryExecution"])
    assert grants["glue:GetTable"] == {
        f"{ACCOUNT_GLUE}:catalog",
        f"{ACCOUNT_GLUE}:database/finops_bedrock",
        f"{ACCOUNT_GLUE}:table/finops_bedrock/*",
    }
    # And it cannot change the catalog
    assert not {"glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable"} & grants.keys()


def test_grant_query_acknowledges_each_wildcard_with_a_reason(existing: Synth) -> None:
    role_id = _role_by_prefix(existing, "CurReaderUnderTest")
    (policy,) = [
        p for p in existing.resources("AWS::IAM::Policy").values() if {"Ref": role_id} in p["Properties"]["Roles"]
    ]
    acks = {a["id"]: a["reason"] for a in policy["Metadata"]["cdk_nag"]["rules_to_suppress"]}
    wildcards = {
        flatten_reference(r)
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        for r in _as_list(s["Resource"])
        if "*" in flatten_reference(r)
    }
    assert wildcards
    for resource in wildcards:
        assert acks[f"AwsSolutions-IAM5[Resource::{resource}]"].strip()


def test_framework_may_invoke_only_the_views_function(created: Synth) -> None:
    views_function = next(
        k
        for k, v in created.resources("AWS::Lambda::Function").items()
        if v["Properties"].get("Handler") == "bedrock_cost.handlers.athena_views.handler"
    )
    grants = _grants(_statements_of_role(created, _role_by_prefix(created, "AnalyticsViewsProviderRole")))
    assert grants["lambda:InvokeFunction"] == {f"<{views_function}.Arn>", f"<{views_function}.Arn>:*"}
    # (GetFunction: the framework waits for the function to be Active before invoking it)
    assert grants["lambda:GetFunction"] <= {f"<{views_function}.Arn>", f"<{views_function}.Arn>:*"}
    assert set(grants) == {"lambda:InvokeFunction", "lambda:GetFunction", "logs:CreateLogStream", "logs:PutLogEvents"}


def test_reporter_reads_only_the_estimate_records_it_reconciles(created: Synth) -> None:
    # Given the daily CUR reporter of the default stack
    role = _function_role(created, "bedrock_cost.handlers.cur_reporter.handler")
    statements = _statements_of_role(created, role)
    grants = _grants(statements)
    # Then it may read objects only under the estimator bucket's estimates/ prefix, and list only that prefix
    (estimates_bucket,) = [k for k in created.resources("AWS::S3::Bucket") if k.startswith("EstimatorEstimates")]
    assert {r for r in grants["s3:GetObject"] if estimates_bucket in r} == {f"<{estimates_bucket}.Arn>/estimates/*"}
    (listing,) = [
        s
        for s in statements
        if "s3:ListBucket" in _as_list(s["Action"])
        and any(estimates_bucket in flatten_reference(r) for r in _as_list(s["Resource"]))
    ]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["estimates/*"]}}
    # And it never writes there
    writes = {a for a, resources in grants.items() if a.startswith("s3:Put") or a.startswith("s3:Delete")}
    assert all(estimates_bucket not in r for a in writes for r in grants[a])
    # And its environment names the bucket
    (function,) = [
        f
        for f in created.resources("AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == "bedrock_cost.handlers.cur_reporter.handler"
    ]
    assert function["Properties"]["Environment"]["Variables"]["ESTIMATES_BUCKET"] == {"Ref": estimates_bucket}
