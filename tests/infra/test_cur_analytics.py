"""Spec of CurAnalytics: the CUR location, Glue table, Athena workgroup and views."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match

import infra.cur_analytics as module
from bedrock_cost.billing.cur_schema import CUR_COLUMNS
from infra.cur_analytics import views_fingerprint
from infra.cur_export import EXPORT_EXCLUDED_COLUMNS, export_query
from infra.lambda_function import QUERIES_DIR
from tests.infra.synth_support import Synth

pytestmark = pytest.mark.infra


def _analytics_resources(synth: Synth, kind: str) -> dict[str, Any]:
    """Resources of ``kind`` created by the CUR analytics construct (other constructs of the
    stack have their own tables, keys and buckets)."""
    return {k: v for k, v in synth.resources(kind).items() if k.startswith("Analytics")}


def _only(synth: Synth, kind: str) -> dict[str, Any]:
    found = _analytics_resources(synth, kind)
    assert len(found) == 1, f"expected one {kind}, found {sorted(found)}"
    return next(iter(found.values()))


def _only_id(synth: Synth, kind: str) -> str:
    (logical_id,) = _analytics_resources(synth, kind)
    return logical_id


def _bucket_id_by_prefix(synth: Synth, log_prefix: str) -> str:
    """Buckets are told apart by the prefix their access logs go under."""
    for logical_id, bucket in _analytics_resources(synth, "AWS::S3::Bucket").items():
        logging = bucket["Properties"].get("LoggingConfiguration", {})
        if logging.get("LogFilePrefix") == log_prefix:
            return logical_id
    raise AssertionError(f"no bucket logging under {log_prefix!r}")


def _bucket_by_prefix(synth: Synth, log_prefix: str) -> dict[str, Any]:
    return _analytics_resources(synth, "AWS::S3::Bucket")[_bucket_id_by_prefix(synth, log_prefix)]


# --------------------------------------------------------------------- Glue table


def test_glue_table_has_every_cur_column_with_its_glue_type(any_synth: Synth) -> None:
    # Given the synthesized stack
    table = _only(any_synth, "AWS::Glue::Table")["Properties"]["TableInput"]
    # Then the columns are exactly CUR_COLUMNS, in order, with their Glue types
    columns = [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]
    assert columns == list(CUR_COLUMNS)
    # And billing_period is the (string) partition key
    assert table["PartitionKeys"] == [{"Name": "billing_period", "Type": "string"}]
    assert table["TableType"] == "EXTERNAL_TABLE"
    assert table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")


def test_partition_projection_covers_monthly_periods_since_2023(any_synth: Synth) -> None:
    params = _only(any_synth, "AWS::Glue::Table")["Properties"]["TableInput"]["Parameters"]
    assert params["projection.enabled"] == "true"
    assert params["projection.billing_period.type"] == "date"
    assert params["projection.billing_period.format"] == "yyyy-MM"
    assert params["projection.billing_period.range"] == "2023-01,NOW"
    assert params["projection.billing_period.interval"] == "1"
    assert params["projection.billing_period.interval.unit"] == "MONTHS"


def test_location_template_points_at_the_created_export_data_folder(created: Synth) -> None:
    table = _only(created, "AWS::Glue::Table")["Properties"]["TableInput"]
    bucket_id = _bucket_id_by_prefix(created, "cur-export/")
    # Then Athena sees the literal ${billing_period} (escaped as ${!...} inside Fn::Sub)
    assert table["Parameters"]["storage.location.template"] == {
        "Fn::Sub": [
            "s3://${Bucket}/cur/bedrock-cost-tracker/data/BILLING_PERIOD=${!billing_period}",
            {"Bucket": {"Ref": bucket_id}},
        ]
    }
    assert table["StorageDescriptor"]["Location"] == {
        "Fn::Join": ["", ["s3://", {"Ref": bucket_id}, "/cur/bedrock-cost-tracker/data/"]]
    }


def test_location_template_points_at_the_existing_bucket(existing: Synth) -> None:
    table = _only(existing, "AWS::Glue::Table")
    props = table["Properties"]
    assert props["DatabaseName"] == "finops_bedrock"
    assert props["TableInput"]["Name"] == "cur_v2"
    assert props["TableInput"]["Parameters"]["storage.location.template"] == {
        "Fn::Sub": [
            "s3://${Bucket}/exports/cur2/finops/data/BILLING_PERIOD=${!billing_period}",
            {"Bucket": "acme-billing-exports"},
        ]
    }
    assert props["TableInput"]["StorageDescriptor"]["Location"] == "s3://acme-billing-exports/exports/cur2/finops/data/"
    # And the table is created after its database
    (database_id,) = _analytics_resources(existing, "AWS::Glue::Database")
    assert database_id in table["DependsOn"]


# --------------------------------------------------------------------- Athena


def test_workgroup_enforces_engine_v3_cutoff_and_kms_results(created: Synth) -> None:
    # Given a config with a 2048 MB cutoff
    created.template.has_resource_properties(
        "AWS::Athena::WorkGroup",
        {
            "Name": {"Fn::Join": ["", [{"Ref": "AWS::StackName"}, "-bedrock-cost"]]},
            "RecursiveDeleteOption": True,
            "WorkGroupConfiguration": {
                "EnforceWorkGroupConfiguration": True,
                "PublishCloudWatchMetricsEnabled": True,
                # Then the cutoff is in bytes (MiB)
                "BytesScannedCutoffPerQuery": 2048 * 1024 * 1024,
                "EngineVersion": {"SelectedEngineVersion": "Athena engine version 3"},
                "ResultConfiguration": {
                    "EncryptionConfiguration": {
                        "EncryptionOption": "SSE_KMS",
                        "KmsKey": {"Fn::GetAtt": [Match.string_like_regexp("AlertsKey"), "Arn"]},
                    },
                    "OutputLocation": {
                        "Fn::Join": [
                            "",
                            ["s3://", {"Ref": Match.string_like_regexp("QueryResults")}, "/athena-results/"],
                        ]
                    },
                },
            },
        },
    )


def test_default_cutoff_is_ten_gib(existing: Synth) -> None:
    workgroup = _only(existing, "AWS::Athena::WorkGroup")
    assert workgroup["Properties"]["WorkGroupConfiguration"]["BytesScannedCutoffPerQuery"] == 10_240 * 1024 * 1024


def test_results_share_the_stacks_one_rotating_key(any_synth: Synth) -> None:
    # Then the stack holds one customer-managed key ($1 a month each), the alert topic's, and it rotates
    assert _analytics_resources(any_synth, "AWS::KMS::Key") == {}
    (key,) = any_synth.resources("AWS::KMS::Key").values()
    assert key["Properties"]["EnableKeyRotation"] is True


# --------------------------------------------------------------------- buckets


def test_every_bucket_is_encrypted_private_and_https_only(any_synth: Synth) -> None:
    buckets = _analytics_resources(any_synth, "AWS::S3::Bucket")
    policies = _analytics_resources(any_synth, "AWS::S3::BucketPolicy")
    assert buckets
    for bucket_id, bucket in buckets.items():
        props = bucket["Properties"]
        # Then encryption is on
        (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
        # And every public access path is blocked
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        # And a bucket policy denies plain HTTP
        (policy,) = [p for p in policies.values() if p["Properties"]["Bucket"] == {"Ref": bucket_id}]
        denies = [
            s
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
            if s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        assert denies, f"{bucket_id} does not enforce SSL"


def test_results_bucket_uses_the_key_and_expires_results(created: Synth) -> None:
    results = _bucket_by_prefix(created, "athena-results/")["Properties"]
    (rule,) = results["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == {
        "Fn::GetAtt": [next(iter(created.resources("AWS::KMS::Key"))), "Arn"]
    }
    assert rule["BucketKeyEnabled"] is True
    # Then results expire after the configured 14 days
    (lifecycle,) = results["LifecycleConfiguration"]["Rules"]
    assert lifecycle["ExpirationInDays"] == 14
    assert lifecycle["Status"] == "Enabled"
    # And access to it is logged
    assert "DestinationBucketName" in results["LoggingConfiguration"]


def test_created_export_bucket_is_versioned_logged_and_prunes_old_versions(created: Synth) -> None:
    bucket = _bucket_by_prefix(created, "cur-export/")
    props = bucket["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 7
    assert bucket["DeletionPolicy"] == "Retain"


def test_created_export_bucket_lets_data_exports_write_for_this_account_only(created: Synth) -> None:
    bucket_id = _bucket_id_by_prefix(created, "cur-export/")
    (policy,) = [
        p
        for p in _analytics_resources(created, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    (allow,) = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert sorted(allow["Principal"]["Service"]) == ["bcm-data-exports.amazonaws.com", "billingreports.amazonaws.com"]
    assert sorted(allow["Action"]) == ["s3:GetBucketPolicy", "s3:PutObject"]
    condition = allow["Condition"]["StringLike"]
    assert condition["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    source_arns = [part for arn in condition["aws:SourceArn"] for part in arn["Fn::Join"][1] if isinstance(part, str)]
    assert ":bcm-data-exports:us-east-1:" in source_arns
    assert ":export/*" in source_arns


# --------------------------------------------------------------------- the export


def test_created_export_is_hourly_parquet_with_resources_and_iam_principals(created: Synth) -> None:
    export = _only(created, "AWS::BCMDataExports::Export")["Properties"]["Export"]
    config = export["DataQuery"]["TableConfigurations"]["COST_AND_USAGE_REPORT"]
    assert config["INCLUDE_IAM_PRINCIPAL_DATA"] == "TRUE"
    assert config["INCLUDE_RESOURCES"] == "TRUE"
    assert config["TIME_GRANULARITY"] == "HOURLY"
    s3 = export["DestinationConfigurations"]["S3Destination"]
    assert s3["S3Prefix"] == "cur"
    assert s3["S3OutputConfigurations"] == {
        "Compression": "PARQUET",
        "Format": "PARQUET",
        "OutputType": "CUSTOM",
        "Overwrite": "OVERWRITE_REPORT",
    }
    assert export["Name"] == "bedrock-cost-tracker"
    assert export["RefreshCadence"] == {"Frequency": "SYNCHRONOUS"}


def test_export_query_selects_every_offered_column_and_nothing_else(created: Synth) -> None:
    export = _only(created, "AWS::BCMDataExports::Export")["Properties"]["Export"]
    statement = export["DataQuery"]["QueryStatement"]
    assert statement == export_query()
    selected = statement.removeprefix("SELECT ").removesuffix(" FROM COST_AND_USAGE_REPORT").split(", ")
    expected = [name for name, _ in CUR_COLUMNS if name not in EXPORT_EXCLUDED_COLUMNS]
    assert selected == expected
    assert "line_item_iam_principal" in selected
    assert "line_item_resource_id" in selected


def test_export_waits_for_its_bucket_policy_and_requires_us_east_1(created: Synth) -> None:
    export = _only(created, "AWS::BCMDataExports::Export")
    (policy_id,) = [
        k
        for k, v in _analytics_resources(created, "AWS::S3::BucketPolicy").items()
        if any(s.get("Sid") == "AllowDataExportsDelivery" for s in v["Properties"]["PolicyDocument"]["Statement"])
    ]
    assert policy_id in export["DependsOn"]
    rules = created.template_json["Rules"]
    region_rules = [r for name, r in rules.items() if name.startswith("AnalyticsDataExportsRegion")]
    (rule,) = region_rules
    (assertion,) = rule["Assertions"]
    assert assertion["Assert"] == {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}
    assert "us-east-1" in assertion["AssertDescription"]


def test_no_export_and_no_new_cur_bucket_when_pointing_at_an_existing_one(existing: Synth) -> None:
    assert _analytics_resources(existing, "AWS::BCMDataExports::Export") == {}
    assert not any(name.startswith("AnalyticsDataExportsRegion") for name in existing.template_json.get("Rules", {}))
    # Only the access-log and results buckets are created
    prefixes = sorted(
        b["Properties"].get("LoggingConfiguration", {}).get("LogFilePrefix", "(access logs)")
        for b in _analytics_resources(existing, "AWS::S3::Bucket").values()
    )
    assert prefixes == ["(access logs)", "athena-results/"]
    assert existing.template_json["Outputs"]["CurBucket"]["Value"] == "acme-billing-exports"


# --------------------------------------------------------------------- views


def test_views_custom_resource_carries_catalog_names_tag_keys_and_sql_hash(created: Synth) -> None:
    views = _only(created, "Custom::AthenaViews")
    props = views["Properties"]
    assert props["Database"] == "bedrock_cost"
    assert props["Table"] == "cur2"
    assert props["WorkGroup"] == {"Ref": _only_id(created, "AWS::Athena::WorkGroup")}
    assert props["TagKeys"] == ["team", "project"]
    assert props["SqlHash"] == views_fingerprint()
    # And it runs after the catalog objects exist
    (database_id,) = _analytics_resources(created, "AWS::Glue::Database")
    (table_id,) = _analytics_resources(created, "AWS::Glue::Table")
    assert {database_id, table_id} <= set(views["DependsOn"])


def test_views_hash_changes_when_a_view_file_changes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Given a copy of the views folder
    queries = tmp_path / "queries"
    shutil.copytree(QUERIES_DIR / "views", queries / "views")
    monkeypatch.setattr(module, "QUERIES_DIR", queries)
    before = module.views_fingerprint()
    # When one statement changes
    first = sorted((queries / "views").glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- changed\n")
    # Then the hash changes, so CloudFormation re-runs the views
    assert module.views_fingerprint() != before


def test_views_function_runs_the_views_handler(created: Synth) -> None:
    created.template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Handler": "bedrock_cost.handlers.athena_views.handler", "Timeout": 300},
    )


def test_outputs_name_the_workgroup_database_and_results_bucket(created: Synth) -> None:
    outputs = created.template_json["Outputs"]
    assert outputs["AthenaWorkGroup"]["Value"] == {"Ref": _only_id(created, "AWS::Athena::WorkGroup")}
    assert outputs["AthenaDatabase"]["Value"] == "bedrock_cost"
    assert outputs["AthenaCurTable"]["Value"] == "cur2"
    assert outputs["AthenaResultsBucket"]["Value"] == {"Ref": _bucket_id_by_prefix(created, "athena-results/")}
    assert outputs["CurBucket"]["Value"] == {"Ref": _bucket_id_by_prefix(created, "cur-export/")}
