"""``report --engine athena`` over a deployed table whose location holds a legacy CUR.

Glue and S3 are moto (in-process); the refusal comes before any Athena query, so a
legacy export costs two read calls and exit 2 instead of a report of $0.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bedrock_cost.adapters.cur_table_location import refuse_legacy_cur, split_s3_url
from bedrock_cost.cli.main import main
from bedrock_cost.errors import UserError

pytestmark = pytest.mark.integration

REGION = "us-east-1"
BUCKET = "cur-bucket"
DATA = "cur/bedrock-cost/data/"
LEGACY_KEY = "cur/bedrock-cost/bedrock-cost/year=2026/month=10/bedrock-cost-00001.snappy.parquet"
CUR2_KEY = f"{DATA}BILLING_PERIOD=2026-10/bedrock-cost-00001.snappy.parquet"


class Account:
    """A Glue table like the stack's (location ``s3://bucket/<prefix>/<export>/data/``)."""

    def __init__(self) -> None:
        self.glue = boto3.client("glue", region_name=REGION)
        self.s3 = boto3.client("s3", region_name=REGION)
        self.s3.create_bucket(Bucket=BUCKET)
        self.glue.create_database(DatabaseInput={"Name": "bedrock_cost"})
        self.glue.create_table(
            DatabaseName="bedrock_cost",
            TableInput={
                "Name": "cur2",
                "StorageDescriptor": {"Location": f"s3://{BUCKET}/{DATA}"},
            },
        )

    def put(self, *keys: str) -> None:
        for key in keys:
            self.s3.put_object(Bucket=BUCKET, Key=key, Body=b"PAR1")


@pytest.fixture
def account() -> Iterator[Account]:
    with mock_aws():
        yield Account()


def check(account: Account, **kwargs: Any) -> None:
    refuse_legacy_cur(account.glue, account.s3, **{"database": "bedrock_cost", "table": "cur2", **kwargs})


def test_a_legacy_cur_beside_data_is_refused(account: Account):
    account.put(LEGACY_KEY)
    with pytest.raises(UserError, match=r"s3://cur-bucket/cur/bedrock-cost/data/ holds a legacy CUR"):
        check(account)


def test_a_legacy_cur_in_the_location_itself_is_refused(account: Account):
    account.put(f"{DATA}year=2026/month=9/x.snappy.parquet")
    with pytest.raises(UserError, match="Data Exports"):
        check(account)


def test_a_cur2_export_passes(account: Account):
    account.put(CUR2_KEY, "cur/bedrock-cost/metadata/BILLING_PERIOD=2026-10/bedrock-cost-Manifest.json")
    check(account)


def test_a_cur2_export_next_to_an_old_legacy_report_passes(account: Account):
    account.put(CUR2_KEY, LEGACY_KEY)
    check(account)


def test_an_empty_location_passes(account: Account):
    check(account)


@pytest.mark.parametrize("kwargs", [{"table": "no_such_table"}, {"database": "no_such_database"}])
def test_a_check_that_cannot_ask_lets_the_report_go_on(account: Account, kwargs: dict[str, str]):
    account.put(LEGACY_KEY)
    check(account, **kwargs)


def test_a_missing_bucket_lets_the_report_go_on(account: Account):
    account.s3.delete_bucket(Bucket=BUCKET)
    check(account)


def test_the_command_exits_2_with_one_line_before_any_query(account: Account, capsys: pytest.CaptureFixture[str]):
    account.put(LEGACY_KEY)
    code = main(["report", "--engine", "athena", "--workgroup", "wg", "--region", REGION, "--format", "csv"])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "legacy CUR" in err
    assert "CUR 2.0" in err


def test_the_table_comes_from_the_option(account: Account, capsys: pytest.CaptureFixture[str]):
    account.put(CUR2_KEY, "old/report/report/year=2026/month=10/report-00001.snappy.parquet")
    account.glue.create_table(
        DatabaseName="bedrock_cost",
        TableInput={"Name": "old", "StorageDescriptor": {"Location": f"s3://{BUCKET}/old/report/data/"}},
    )
    argv = ["report", "--engine", "athena", "--workgroup", "wg", "--region", REGION, "--table", "old"]
    assert main([*argv, "--format", "csv"]) == 2
    assert "s3://cur-bucket/old/report/data/ holds a legacy CUR" in capsys.readouterr().err


@pytest.mark.parametrize("table", ["Bad-Name", "x y", ""])
def test_a_bad_table_name_is_bad_input(table: str, capsys: pytest.CaptureFixture[str]):
    argv = ["report", "--engine", "athena", "--workgroup", "wg", "--region", REGION, "--table", table]
    assert main(argv) == 2
    assert "--table" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("url", "parts"),
    [
        ("s3://b/cur/x/data/", ("b", "cur/x/data/")),
        ("s3://b/cur/x/data", ("b", "cur/x/data/")),
        ("s3://b/", ("b", "")),
        ("s3://b", ("b", "")),
    ],
)
def test_split_s3_url(url: str, parts: tuple[str, str]):
    assert split_s3_url(url) == parts


def test_split_s3_url_refuses_another_scheme():
    with pytest.raises(ValueError, match="not an s3:// location"):
        split_s3_url("https://b/x")
