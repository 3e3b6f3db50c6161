"""Telling a CUR 2.0 Data Export from a legacy CUR by its object keys."""

from __future__ import annotations

import pytest

from bedrock_cost.billing.cur_layout import CUR2_EXPORT_HINT, export_layout, legacy_cur_refusal


@pytest.mark.parametrize(
    ("keys", "layout"),
    [
        (["exports/bedrock/data/BILLING_PERIOD=2026-10/bedrock-00001.snappy.parquet"], "cur2"),
        (["BILLING_PERIOD=2026-10/part-0.parquet"], "cur2"),
        (["exports/bedrock/metadata/BILLING_PERIOD=2026-10/bedrock-Manifest.json"], "cur2"),
        (["cur/report/report/year=2026/month=10/report-00001.snappy.parquet"], "legacy"),
        (["year=2026/month=1/report-00001.snappy.parquet"], "legacy"),
        (["r/r/year=2026/month=10/x.parquet", "r/data/BILLING_PERIOD=2026-10/y.parquet"], "cur2"),
        (["r/data/BILLING_PERIOD=2026-10/y.parquet", "r/r/year=2026/month=10/x.parquet"], "cur2"),
        ([], "unknown"),
        (["cur/report/20261001-20261101/report-Manifest.json"], "unknown"),
        (["cur/xBILLING_PERIOD=2026-10/a.parquet", "cur/xyear=2026/month=10/b.parquet"], "unknown"),
        (["cur/year=2026/a.parquet"], "unknown"),
        (["cur/BILLING_PERIOD=latest/a.parquet"], "unknown"),
    ],
)
def test_layout_from_keys(keys: list[str], layout: str):
    assert export_layout(keys) == layout


def test_layout_reads_a_generator_once():
    assert export_layout(iter(["a/year=2026/month=10/x.parquet"])) == "legacy"


def test_the_refusal_is_one_line_naming_the_location_and_the_fix():
    message = legacy_cur_refusal("s3://bucket/cur/report/data/")
    assert "\n" not in message
    assert "s3://bucket/cur/report/data/" in message
    assert "legacy CUR" in message
    assert message.endswith(CUR2_EXPORT_HINT)
    assert "Data Exports" in message
