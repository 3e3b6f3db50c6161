"""The ``--by tag:team`` Bedrock cost report, written plainly with pandas.

This is the yardstick for ``bedrock-cost report``: what a FinOps analyst would write in a
notebook. It applies the same rules as the product, independently implemented:

* Bedrock rows: product family 'Amazon Bedrock', or a Bedrock product code, or an AWS
  Marketplace product whose name (``product['product_name']`` or the column) ends in
  '(Amazon Bedrock Edition)';
* usage only: line item types Usage, DiscountedUsage, SavingsPlanCoveredUsage;
* team: the first non-blank (trimmed) of ``resource_tags['user_team']``,
  ``resource_tags['user:team']``, ``tags['resourceTags/user:team']``,
  ``tags['resourceTags/team']``, ``tags['iamPrincipal/team']``; else ``(untagged)``;
* tokens per row: usage amount x unit (a pricing_unit with 1K/1M/thousand/million or
  'tokens'; else the unit words of the description, the 3rd '|' field on Marketplace rows;
  else Marketplace 1M, first-party 1K), by kind from ``product['inference_type']`` or the
  usage type (either Marketplace spelling); provisioned, reserved, image and AgentCore rows
  count cost but no tokens.

Costs are summed as integer 1e-10 dollars (CUR's precision), so the total is exact.
Files are read one at a time and their partial sums combined (see ``main``).

Usage: python benchmarks/pandas_baseline.py --cur DIR --period YYYY-MM --out FILE.csv
"""

from __future__ import annotations

import csv
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from baseline_cli import baseline_args, period_files

COLUMNS = [
    "bill_billing_entity",
    "line_item_line_item_type",
    "line_item_product_code",
    "line_item_usage_type",
    "line_item_line_item_description",
    "line_item_usage_amount",
    "line_item_unblended_cost",
    "pricing_unit",
    "product",
    "product_product_family",
    "product_product_name",
    "resource_tags",
    "tags",
]
BEDROCK_CODES = ["AmazonBedrock", "AmazonBedrockService", "AmazonBedrockFoundationModels", "AmazonBedrockAgentCore"]
USAGE_TYPES = ["Usage", "DiscountedUsage", "SavingsPlanCoveredUsage"]
NOT_TOKENS = r"provisionedthroughput|modelunits|reserved|customization|custommodelimport|image|tpm"
SCALE = 10**10


def partition_files(cur: Path, period: str) -> list[Path]:
    """Parquet files of one billing period, with or without the export's ``data/`` folder."""
    if cur.is_file():
        return [cur]
    return period_files("pandas_baseline", cur, period)


def map_get(entries: Any, key: str) -> str | None:
    """Value of ``key`` in a Parquet map as pandas returns it (a list of (key, value) pairs)."""
    if entries is None:
        return None
    for k, v in entries:
        if k == key:
            return str(v) if v is not None else None
    return None


def team_of(resource_tags: Any, tags: Any) -> str:
    for value in (
        map_get(resource_tags, "user_team"),
        map_get(resource_tags, "user:team"),
        map_get(tags, "resourceTags/user:team"),
        map_get(tags, "resourceTags/team"),
        map_get(tags, "iamPrincipal/team"),
    ):
        if value is not None and value.strip():
            return value.strip()
    return "(untagged)"


def build_report(df: pd.DataFrame) -> pd.DataFrame:
    marketplace = df["bill_billing_entity"] == "AWS Marketplace"
    family = df["product_product_family"] == "Amazon Bedrock"
    code = df["line_item_product_code"].isin(BEDROCK_CODES)
    # The map's product name only matters for Marketplace rows the two cheap tests missed.
    undecided = marketplace & ~family & ~code
    name = df["product_product_name"].copy()
    name[undecided] = [
        map_get(m, "product_name") or n
        for m, n in zip(df.loc[undecided, "product"], df.loc[undecided, "product_product_name"], strict=True)
    ]
    named_bedrock = marketplace & name.fillna("").str.strip().str.lower().str.endswith("(amazon bedrock edition)")
    usage = df["line_item_line_item_type"].isin(USAGE_TYPES)
    rows = df[(family | code | named_bedrock) & usage].copy()

    rows["team"] = [team_of(r, t) for r, t in zip(rows["resource_tags"], rows["tags"], strict=True)]

    raw_type = rows["line_item_usage_type"].fillna("")
    usage_type = raw_type.str.lower()
    flat = usage_type.str.replace("-", "", regex=False).str.replace("_", "", regex=False)
    is_mp = raw_type.str.contains("MP:", regex=False) | (rows["bill_billing_entity"] == "AWS Marketplace")
    pu = rows["pricing_unit"].fillna("").str.strip().str.lower()
    description = rows["line_item_line_item_description"].fillna("")
    words = description.where(~is_mp, description.str.split("|").str[2].fillna("")).str.strip().str.lower()
    factor = pd.Series(1_000.0, index=rows.index)
    factor[is_mp] = 1_000_000.0
    factor[is_mp & words.str.contains("token", regex=False)] = 1.0
    factor[words.str.contains("thousand", regex=False) | words.str.contains("1k ", regex=False) | (words == "1k")] = 1e3
    factor[words.str.contains("million", regex=False) | words.str.contains("1m ", regex=False) | (words == "1m")] = 1e6
    decided = pu.str.contains("1k|thousand|1m|million|token")
    factor[decided & pu.str.contains("token", regex=False)] = 1.0
    factor[pu.str.contains("1k|thousand")] = 1_000.0
    factor[pu.str.contains("1m|million")] = 1_000_000.0
    tokens = (rows["line_item_usage_amount"].fillna(0.0) * factor).round().astype("int64")

    said = pd.Series(
        [
            (map_get(m, "inference_type") or "").lower().replace(" ", "").replace("-", "").replace("_", "")
            for m in rows["product"]
        ],
        index=rows.index,
    )
    countable = (
        ~flat.str.contains(NOT_TOKENS)
        & ~said.str.contains("perminute", regex=False)
        & (rows["line_item_product_code"] != "AmazonBedrockAgentCore")
    )
    kind = pd.Series("other", index=rows.index)
    for word, name_ in (("outputtoken", "output"), ("inputtoken", "input"), ("cachewrite", "cache-write"),
                        ("cacheread", "cache-read")):  # fmt: skip
        kind[flat.str.contains(word, regex=False)] = name_
    kind[said.str.contains("outputtoken", regex=False)] = "output"
    kind[said.str.contains("inputtoken", regex=False)] = "input"
    kind[said.str.contains("cache", regex=False) & said.str.contains("write", regex=False)] = "cache-write"
    kind[said.str.contains("cache", regex=False) & said.str.contains("read", regex=False)] = "cache-read"
    kind[~countable] = "other"
    input_, output = kind == "input", kind == "output"
    cache_read, cache_write = kind == "cache-read", kind == "cache-write"

    rows["cost_units"] = (rows["line_item_unblended_cost"].fillna(0.0) * SCALE).round().astype("int64")
    rows["input_tokens"] = tokens.where(input_, 0)
    rows["output_tokens"] = tokens.where(output, 0)
    rows["cache_read_tokens"] = tokens.where(cache_read, 0)
    rows["cache_write_tokens"] = tokens.where(cache_write, 0)
    report = (
        rows.groupby("team", sort=False)[
            ["cost_units", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"]
        ]
        .sum()
        .reset_index()
    )
    return report


def write_csv(report: pd.DataFrame, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["team", "cost_usd", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"]
        )
        for row in report.itertuples(index=False):
            cost = Decimal(int(row.cost_units)).scaleb(-10)
            writer.writerow(
                [
                    row.team,
                    f"{cost:f}",
                    row.input_tokens,
                    row.output_tokens,
                    row.cache_read_tokens,
                    row.cache_write_tokens,
                ]
            )


def main(argv: list[str] | None = None) -> int:
    args = baseline_args(argv, __doc__)
    # One file at a time (a Data Export splits a period into files of <= 1M rows): Parquet
    # maps become Python lists in pandas, ~2 GB per million rows, so reading a whole
    # multi-million-row period at once would not fit a laptop.
    partials = [build_report(pd.read_parquet(path, columns=COLUMNS)) for path in partition_files(args.cur, args.period)]
    report = pd.concat(partials).groupby("team", sort=False).sum().reset_index()
    write_csv(report.sort_values(["cost_units", "team"], ascending=[False, True]), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
