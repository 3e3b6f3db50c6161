"""Spec of the synthetic CUR 2.0 generator.

The generated export stands in for real billing data in the demo, the report tests and
the benchmarks, so these tests pin what makes it realistic: the Data Export layout and
schema, every usage-type shape of the billing reference, prices that follow the list
prices and their multipliers, tags in every shape seen in the wild, non-usage and
non-Bedrock rows, NULLs, and determinism. Expected values are computed here in plain
Python (Decimal), independently of the generator's numpy code.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bedrock_cost.billing.cur_schema import CUR_COLUMNS, PARTITION_COLUMN
from bedrock_cost.domain.model_catalog import load_model_catalog
from bedrock_cost.domain.usage_types import classify_usage_type, tokens_per_unit
from bedrock_cost.errors import UserError
from bedrock_cost.sample_data.cur_generator import generate_cur

pytestmark = pytest.mark.unit

ROWS = 15_000
PERIOD = "2026-07"
PREVIOUS = "2026-06"

BEDROCK_CODES = {"AmazonBedrock", "AmazonBedrockService", "AmazonBedrockFoundationModels", "AmazonBedrockAgentCore"}
USAGE_TYPES = {"Usage", "DiscountedUsage", "SavingsPlanCoveredUsage"}
TOKEN_UNITS = {"Units": Decimal(1), "1K tokens": Decimal(1000), "1M tokens": Decimal(1_000_000)}
SONNET_46 = "Claude Sonnet 4.6 (Amazon Bedrock Edition)"


# ---------------------------------------------------------------- plain-Python expectations


def read_export(root: Path) -> dict[str, list[dict[str, Any]]]:
    """period -> rows (dicts, maps as dicts), read with pyarrow straight from the files."""
    periods: dict[str, list[dict[str, Any]]] = {}
    for folder in sorted((root / "data").glob("BILLING_PERIOD=*")):
        rows: list[dict[str, Any]] = []
        for path in sorted(folder.glob("*.parquet")):
            for row in pq.read_table(path).to_pylist():
                for column in ("product", "resource_tags", "tags"):
                    row[column] = None if row[column] is None else dict(row[column])
                rows.append(row)
        periods[folder.name.split("=", 1)[1]] = rows
    return periods


def product_name(row: dict[str, Any]) -> str | None:
    return row["product_product_name"] or (row["product"] or {}).get("product_name")


def is_bedrock(row: dict[str, Any]) -> bool:
    """The reference's robust filter: family, product code, or a Bedrock Edition Marketplace product."""
    if row["product_product_family"] == "Amazon Bedrock" or row["line_item_product_code"] in BEDROCK_CODES:
        return True
    name = (product_name(row) or "").strip().lower()
    return row["bill_billing_entity"] == "AWS Marketplace" and name.endswith("(amazon bedrock edition)")


def is_bedrock_usage(row: dict[str, Any]) -> bool:
    return is_bedrock(row) and row["line_item_line_item_type"] in USAGE_TYPES


def tokens_of(row: dict[str, Any]) -> Decimal:
    marketplace = row["bill_billing_entity"] == "AWS Marketplace"
    unit = tokens_per_unit(row["pricing_unit"], row["line_item_line_item_description"], marketplace=marketplace)
    return Decimal(repr(row["line_item_usage_amount"])) * unit


def team_of(row: dict[str, Any]) -> str:
    resource_tags = row["resource_tags"] or {}
    tags = row["tags"] or {}
    for value in (
        resource_tags.get("user_team"),
        resource_tags.get("user:team"),
        tags.get("resourceTags/user:team"),
        tags.get("resourceTags/team"),
        tags.get("iamPrincipal/team"),
    ):
        if value is not None and value.strip():
            return value.strip()
    return "(untagged)"


def expected_team_costs(rows: Iterable[dict[str, Any]]) -> dict[str, Decimal]:
    """Bedrock usage cost per team, to the cent: what a ``--by tag:team`` report must show."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        if is_bedrock_usage(row):
            totals[team_of(row)] += Decimal(repr(row["line_item_unblended_cost"]))
    return {team: total.quantize(Decimal("0.01")) for team, total in totals.items()}


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def export_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cur")
    generate_cur(root, PERIOD, rows=ROWS, seed=7, months=2)
    return root


@pytest.fixture(scope="module")
def periods(export_root: Path) -> dict[str, list[dict[str, Any]]]:
    return read_export(export_root)


@pytest.fixture(scope="module")
def rows(periods: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return periods[PERIOD]


@pytest.fixture(scope="module")
def bedrock_usage(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row for row in rows if is_bedrock_usage(row)]


# ---------------------------------------------------------------- layout and schema


def test_writes_one_partition_per_period_with_the_requested_rows(export_root: Path) -> None:
    # Given an export generated for 2026-07 with months=2
    # When listing its data folder
    folders = sorted(p.name for p in (export_root / "data").iterdir())
    # Then both periods are hive partitions holding the Data Export file name and the row count
    assert folders == [f"BILLING_PERIOD={PREVIOUS}", f"BILLING_PERIOD={PERIOD}"]
    for folder in folders:
        files = sorted((export_root / "data" / folder).iterdir())
        assert [f.name for f in files] == ["bedrock-cost-tracker-00001.snappy.parquet"]
        assert pq.ParquetFile(files[0]).metadata.num_rows == ROWS
        assert pq.ParquetFile(files[0]).metadata.row_group(0).column(0).compression == "SNAPPY"


def test_schema_is_exactly_the_cur_columns_without_the_partition(export_root: Path) -> None:
    # Given a generated file
    path = next((export_root / "data").glob("*/*.parquet"))
    # When reading its Parquet schema
    schema = pq.read_schema(path)
    # Then names, order and types match CUR_COLUMNS and the partition column is absent
    expected_types = {
        "string": pa.string(),
        "timestamp": pa.timestamp("ms"),
        "double": pa.float64(),
        "map<string,string>": pa.map_(pa.string(), pa.string()),
    }
    assert schema.names == [name for name, _ in CUR_COLUMNS]
    for name, glue_type in CUR_COLUMNS:
        assert schema.field(name).type.equals(expected_types[glue_type]), name
    assert PARTITION_COLUMN not in {n.lower() for n in schema.names}


def test_duckdb_reads_the_export_with_its_hive_partition(export_root: Path) -> None:
    # Given the export folder
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    # When DuckDB reads it as hive-partitioned Parquet
    result = con.execute(
        "SELECT billing_period, count(*), min(line_item_usage_start_date), max(line_item_usage_start_date) "
        "FROM read_parquet(?, hive_partitioning = true) GROUP BY 1 ORDER BY 1",
        [str(export_root / "data" / "*" / "*.parquet")],
    ).fetchall()
    # Then each period has its rows and usage dates inside its own month
    assert [(r[0], r[1]) for r in result] == [(PREVIOUS, ROWS), (PERIOD, ROWS)]
    assert result[1][2].strftime("%Y-%m") == PERIOD
    assert result[1][3].strftime("%Y-%m") == PERIOD


def test_large_periods_are_split_into_files_and_stale_files_are_replaced(tmp_path: Path) -> None:
    # Given a file limit of 1,000 rows
    # When generating 2,500 rows
    files = generate_cur(tmp_path, "2026-09", rows=2_500, seed=1, max_rows_per_file=1_000)
    # Then three numbered files hold 1,000 + 1,000 + 500 rows
    assert [f.name for f in files] == [f"bedrock-cost-tracker-0000{i}.snappy.parquet" for i in (1, 2, 3)]
    assert [pq.ParquetFile(f).metadata.num_rows for f in files] == [1_000, 1_000, 500]
    # When generating again with fewer rows
    again = generate_cur(tmp_path, "2026-09", rows=500, seed=1, max_rows_per_file=1_000)
    # Then no stale file of the earlier run is left to be counted twice
    assert sorted(files[0].parent.iterdir()) == again


# ---------------------------------------------------------------- determinism


def test_same_seed_gives_identical_files_and_another_seed_differs(tmp_path: Path) -> None:
    # Given three runs: seed 5 twice and seed 6 once
    first = generate_cur(tmp_path / "a", "2026-03", rows=900, seed=5)
    second = generate_cur(tmp_path / "b", "2026-03", rows=900, seed=5)
    other = generate_cur(tmp_path / "c", "2026-03", rows=900, seed=6)
    # Then the same seed writes the same bytes, and another seed other rows
    assert first[0].read_bytes() == second[0].read_bytes()
    assert pq.read_table(first[0]).equals(pq.read_table(second[0]))
    assert not pq.read_table(first[0]).equals(pq.read_table(other[0]))


def test_a_period_does_not_depend_on_how_many_periods_are_generated(tmp_path: Path, export_root: Path) -> None:
    # Given the 2-month fixture (seed 7) and a 1-month run of its last period with the same seed
    single = generate_cur(tmp_path, PERIOD, rows=ROWS, seed=7)
    # Then the shared period is identical
    both = next((export_root / "data" / f"BILLING_PERIOD={PERIOD}").glob("*.parquet"))
    assert pq.read_table(single[0]).equals(pq.read_table(both))


# ---------------------------------------------------------------- billing shapes


LISTED_USAGE_TYPES = [
    "USW2-MP:USW2_InputTokenCount-Units",
    "USW2-MP:USW2_OutputTokenCount-Units",
    "USW2-MP:USW2_InputTokenCount_Global-Units",
    "USW2-MP:USW2_CacheReadInputTokenCount-Units",
    "USW2-MP:USW2_CacheWriteInputTokenCount-Units",
    "USW2-MP:USW2_CacheWrite1hInputTokenCount_Global-Units",
    "USW2-MP:USW2_InputTokenCount_Batch-Units",
    "USE1-MP:USE1_InputTokenCount_LatencyOptimized-Units",
    "USW2-MP:USW2_Created_image-Units",
    "USE1-Claude4.6Sonnet-input-tokens",
    "USE1-Claude4.6Sonnet-cache-read-input-token-count",
    "USE1-Claude4.6Sonnet-cache-write-input-token-count",
    "USE1-Nova2.0Lite-input-tokens-flex",
    "USW2-TitanTextG1-Lite-output-tokens",
    "USE1-Llama3-1-405B-output-tokens-batch",
    "USE1-NovaPro-input-tokens-latency-optimized",
    "USE1-Claude4Sonnet-input-tokens-cross-region-global",
    "USE1-Claude4Sonnet-input-tokens-long-context-cross-region-global",
    "USE1-openai.gpt-oss-120b-mantle-input-tokens-standard",
    "EU-Claude4.5Sonnet-reserved-1-month-input-tokens-per-minute-cross-region-global",
    "USE1-NovaPro-ProvisionedThroughput-NoCommit-ModelUnits",
    "USE1-NovaMicro-input-tokens",
    "USE1-NovaLite-output-tokens",
    "USW2-Llama3-3-70B-input-tokens",
    "USE1-AgentCore-Runtime-vCPU-Hours",
    "USE1-FooBar9Ultra-input-tokens",
]


@pytest.mark.parametrize("period", [PREVIOUS, PERIOD])
def test_every_usage_type_shape_of_the_reference_is_present(
    periods: dict[str, list[dict[str, Any]]], period: str
) -> None:
    # Given one generated period
    usage_types = {row["line_item_usage_type"] for row in periods[period]}
    # Then every listed first-party, Marketplace, reserved, provisioned and AgentCore shape appears
    missing = [u for u in LISTED_USAGE_TYPES if u not in usage_types]
    assert missing == []


def test_claude_bills_through_marketplace_with_a_stable_opaque_product_code(
    bedrock_usage: list[dict[str, Any]], tmp_path: Path
) -> None:
    # Given the Marketplace Bedrock rows
    marketplace = [r for r in bedrock_usage if r["bill_billing_entity"] == "AWS Marketplace"]
    assert marketplace
    # Then each product has one opaque code, and the code does not depend on the seed
    codes: dict[str, set[str]] = defaultdict(set)
    for row in marketplace:
        codes[product_name(row) or ""].add(row["line_item_product_code"])
    assert all(len(c) == 1 and re.fullmatch(r"prod-[a-z0-9]{13}", next(iter(c))) for c in codes.values())
    assert SONNET_46 in codes
    generate_cur(tmp_path, PERIOD, rows=400, seed=99)
    other_seed = read_export(tmp_path)[PERIOD]
    sonnet_codes = {r["line_item_product_code"] for r in other_seed if product_name(r) == SONNET_46}
    assert sonnet_codes == codes[SONNET_46]


def test_marketplace_units_come_in_every_real_form(bedrock_usage: list[dict[str, Any]]) -> None:
    # Given Marketplace token rows (images are counted, not tokens)
    marketplace = [
        r
        for r in bedrock_usage
        if r["bill_billing_entity"] == "AWS Marketplace"
        and "image" not in r["line_item_usage_type"].lower()
        and r["line_item_line_item_type"] == "Usage"
    ]
    # Then the unit is 'Units' (millions, as the description says), '1M tokens', '1K tokens' or NULL
    assert {r["pricing_unit"] for r in marketplace} == {"Units", "1M tokens", "1K tokens", None}
    for row in marketplace:
        fields = row["line_item_line_item_description"].split("|")
        assert fields[0] == "AWS Marketplace software usage"
        if row["pricing_unit"] in (None, "Units"):
            assert fields[2].startswith("Million ") or fields[2] == "1M tokens", fields
        # And the one unit rule turns every row into a whole number of tokens
        factor = tokens_per_unit(row["pricing_unit"], row["line_item_line_item_description"], marketplace=True)
        tokens = row["line_item_usage_amount"] * factor
        assert abs(tokens - round(tokens)) < 1e-3, row
        assert round(tokens) >= 1, row
    assert any(
        r["pricing_unit"] == "Units" and "Million Input Tokens" in r["line_item_line_item_description"]
        for r in marketplace
    )


def test_snake_case_and_camel_case_marketplace_types_share_the_export(bedrock_usage: list[dict[str, Any]]) -> None:
    types = {r["line_item_usage_type"] for r in bedrock_usage if "MP:" in (r["line_item_usage_type"] or "")}
    assert any("_input_tokens_standard-Units" in t for t in types)
    assert any("_cache_write_tokens_1h_global_standard-Units" in t for t in types)
    assert any("_InputTokenCount-Units" in t for t in types)


def test_first_party_token_rows_are_in_thousands_or_unitless(bedrock_usage: list[dict[str, Any]]) -> None:
    # Given first-party token rows
    first_party = [
        r for r in bedrock_usage if r["bill_billing_entity"] == "AWS" and "token" in r["line_item_usage_type"].lower()
    ]
    first_party = [r for r in first_party if "reserved" not in r["line_item_usage_type"]]
    # Then their unit is '1K tokens' or NULL, and their product codes are the three Bedrock ones
    assert {r["pricing_unit"] for r in first_party} == {"1K tokens", None}
    assert {r["line_item_product_code"] for r in first_party} == {
        "AmazonBedrock",
        "AmazonBedrockService",
        "AmazonBedrockFoundationModels",
    }


def test_usage_amounts_are_whole_tokens_once_normalised(bedrock_usage: list[dict[str, Any]]) -> None:
    # Given every token row, whatever its unit
    token_rows = [r for r in bedrock_usage if classify_usage_type(r["line_item_usage_type"]).kind != "other"]
    assert len(token_rows) > 1000
    # Then amount x unit is a positive whole number of tokens
    for row in token_rows:
        tokens = tokens_of(row)
        assert tokens > 0
        assert tokens == tokens.to_integral_value(), row["line_item_usage_type"]


# USD per 1M tokens, from the reference price table and multipliers, keyed by (usage type, product name).
LIST_PRICES = {
    ("USE1-MP:USE1_input_tokens_standard-Units", SONNET_46): "3.30",  # regional = 1.1 x global
    ("USW2-MP:USW2_output_tokens_standard-Units", SONNET_46): "16.50",
    ("USW2-MP:USW2_input_tokens_global_standard-Units", SONNET_46): "3.00",
    ("USE1-MP:USE1_cache_read_tokens_standard-Units", SONNET_46): "0.33",
    ("USE1-MP:USE1_cache_write_tokens_standard-Units", SONNET_46): "4.125",
    ("USE1-MP:USE1_cache_write_tokens_1h_global_standard-Units", SONNET_46): "6.00",
    ("USE1-MP:USE1_input_tokens_batch-Units", SONNET_46): "1.65",
    ("USE1-MP:USE1_input_tokens_standard-Units", "Claude Opus 4.6 (Amazon Bedrock Edition)"): "5.50",
    ("USE1-MP:USE1_InputTokenCount-Units", "Claude Opus 4.1 (Amazon Bedrock Edition)"): "15.00",
    ("USE1-MP:USE1_OutputTokenCount-Units", "Claude 3 Haiku (Amazon Bedrock Edition)"): "1.25",
    ("USE1-MP:USE1_InputTokenCount_LatencyOptimized-Units", "Claude 3.5 Haiku (Amazon Bedrock Edition)"): "1.00",
    ("USE1-Claude4.6Sonnet-input-tokens", None): "3.30",
    ("USE1-Claude4.6Sonnet-cache-read-input-token-count", None): "0.33",
    ("USE1-Claude4.6Sonnet-cache-write-input-token-count", None): "4.125",
    ("USE1-Claude4Sonnet-input-tokens-cross-region-global", None): "3.00",
    ("USE1-Claude4Sonnet-input-tokens-long-context-cross-region-global", None): "6.00",
    ("USE1-NovaPro-input-tokens", None): "0.80",
    ("USE1-NovaPro-output-tokens", None): "3.20",
    ("USE1-NovaPro-cache-read-input-token-count", None): "0.20",
    ("USE1-NovaPro-input-tokens-latency-optimized", None): "1.00",
    ("USE1-NovaMicro-input-tokens", None): "0.035",
    ("USE1-NovaLite-input-tokens-batch", None): "0.03",
    ("USE1-Nova2.0Lite-input-tokens-flex", None): "0.15",
    ("USW2-TitanTextG1-Lite-output-tokens", None): "0.20",
    ("USE1-Llama3-1-405B-output-tokens-batch", None): "1.20",
    ("USW2-Llama3-3-70B-input-tokens", None): "0.72",
    ("USE1-openai.gpt-oss-120b-mantle-input-tokens-standard", None): "0.15",
}


def test_costs_follow_list_prices_and_multipliers(bedrock_usage: list[dict[str, Any]]) -> None:
    # Given the list price of each checked shape
    checked: dict[tuple[str, str | None], int] = defaultdict(int)
    for row in bedrock_usage:
        key = (row["line_item_usage_type"], product_name(row) if row["bill_billing_entity"] != "AWS" else None)
        if key not in LIST_PRICES:
            continue
        # Then cost = tokens x price, to the 1e-10 dollar CUR rounds to
        expected = tokens_of(row) * Decimal(LIST_PRICES[key]) / Decimal(1_000_000)
        assert abs(Decimal(repr(row["line_item_unblended_cost"])) - expected) <= Decimal("1e-10"), key
        checked[key] += 1
    assert set(checked) == set(LIST_PRICES)


def test_usage_costs_are_positive_and_net_cost_never_exceeds_it(bedrock_usage: list[dict[str, Any]]) -> None:
    # Given Bedrock usage rows
    # Then every cost is positive and the net cost is the cost less a discount
    assert all(r["line_item_unblended_cost"] > 0 for r in bedrock_usage)
    assert all(0 < r["line_item_net_unblended_cost"] <= r["line_item_unblended_cost"] for r in bedrock_usage)
    assert any(r["line_item_net_unblended_cost"] < r["line_item_unblended_cost"] for r in bedrock_usage)


def test_every_model_resolves_except_the_deliberately_unknown_one(periods: dict[str, list[dict[str, Any]]]) -> None:
    # Given the model alias table and the older period (no product map: names must come from the row itself)
    catalog = load_model_catalog()
    billing_name = re.compile(
        r"^(?:USE1|USW2|EUC1|EU)-(?P<name>.+?)-(?:input|output|cache|mantle|reserved|Provisioned)"
    )
    unresolved: set[str] = set()
    for period_rows in periods.values():
        for row in period_rows:
            if not is_bedrock_usage(row) or row["line_item_product_code"] == "AmazonBedrockAgentCore":
                continue
            # When resolving by product name, product['model'] or the usage type's billing name
            match = billing_name.match(row["line_item_usage_type"])
            names = [product_name(row), (row["product"] or {}).get("model"), match and match.group("name")]
            if not any(catalog.resolve(n) for n in names if n and n != "Amazon Bedrock"):
                unresolved.add(row["line_item_usage_type"])
    # Then only the unknown model's rows are left unresolved
    assert unresolved == {"USE1-FooBar9Ultra-input-tokens", "USE1-FooBar9Ultra-output-tokens"}


def test_product_map_keys_and_family_only_from_july_2026(periods: dict[str, list[dict[str, Any]]]) -> None:
    new_keys = {"provider", "inference_type", "feature", "product_name", "servicename", "region"}
    # Given Bedrock usage rows of June and July 2026
    june = [r for r in periods[PREVIOUS] if is_bedrock_usage(r)]
    july = [r for r in periods[PERIOD] if is_bedrock_usage(r)]
    # Then July rows carry the product-map keys (model too, except AgentCore) and family 'Amazon Bedrock'
    for row in july:
        assert new_keys <= set(row["product"]), row["line_item_usage_type"]
        assert ("model" in row["product"]) == (row["line_item_product_code"] != "AmazonBedrockAgentCore")
        assert row["product_product_family"] == "Amazon Bedrock"
    # And June rows lack them, so Marketplace rows name their product in the column
    for row in june:
        assert not (new_keys - {"region"}) & set(row["product"] or {})
        assert row["product_product_family"] is None
        if row["bill_billing_entity"] == "AWS Marketplace":
            assert row["product_product_name"].endswith("(Amazon Bedrock Edition)")
    # And some July Marketplace rows name their product only in the map
    assert any(r["product_product_name"] is None and r["bill_billing_entity"] == "AWS Marketplace" for r in july)


def test_agentcore_provisioned_and_reserved_rows_are_not_tokens(bedrock_usage: list[dict[str, Any]]) -> None:
    by_type = {r["line_item_usage_type"]: r for r in bedrock_usage}
    # Then AgentCore, provisioned throughput and reserved rows bill in their own units
    assert by_type["USE1-AgentCore-Runtime-vCPU-Hours"]["pricing_unit"] == "vCPU-Hours"
    assert by_type["USE1-AgentCore-Runtime-vCPU-Hours"]["line_item_product_code"] == "AmazonBedrockAgentCore"
    assert by_type["USE1-NovaPro-ProvisionedThroughput-NoCommit-ModelUnits"]["pricing_unit"] == "Hrs"
    reserved = by_type["EU-Claude4.5Sonnet-reserved-1-month-input-tokens-per-minute-cross-region-global"]
    assert reserved["pricing_unit"] not in TOKEN_UNITS
    assert reserved["line_item_line_item_type"] == "DiscountedUsage"


# ---------------------------------------------------------------- accounts, time, resources, callers


def test_accounts_regions_and_hours_spread_over_the_month(rows: list[dict[str, Any]]) -> None:
    usage = [r for r in rows if r["line_item_line_item_type"] in USAGE_TYPES]
    # Then one payer, 3+ linked accounts, 3 regions, hourly rows on every day of the month
    assert {r["bill_payer_account_id"] for r in rows} == {"123456789012"}
    assert len({r["line_item_usage_account_id"] for r in rows}) >= 3
    assert {r["product_region_code"] for r in rows if is_bedrock(r)} == {"us-east-1", "us-west-2", "eu-central-1"}
    assert len({r["line_item_usage_start_date"].day for r in usage}) == 31
    assert len({r["line_item_usage_start_date"].hour for r in usage}) == 24
    for row in usage:
        assert row["line_item_usage_start_date"].minute == 0
        assert (row["line_item_usage_end_date"] - row["line_item_usage_start_date"]).total_seconds() == 3600
        assert row["bill_billing_period_start_date"].strftime("%Y-%m-%d") == "2026-07-01"
        assert row["bill_billing_period_end_date"].strftime("%Y-%m-%d") == "2026-08-01"


def test_resource_ids_are_profiles_models_or_null(bedrock_usage: list[dict[str, Any]]) -> None:
    profile = re.compile(
        r"^arn:aws:bedrock:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):application-inference-profile/[a-z0-9]{12}$"
    )
    model_rows = [r for r in bedrock_usage if "ModelUnits" not in r["line_item_usage_type"]]
    profiles = [(r, profile.match(r["line_item_resource_id"] or "")) for r in model_rows]
    profiles = [(r, m) for r, m in profiles if m]
    # Then a share of rows bills an application inference profile of the row's own account and region
    assert 0.2 < len(profiles) / len(model_rows) < 0.5
    for row, match in profiles:
        assert match.group("region") == row["product_region_code"]
        assert match.group("account") == row["line_item_usage_account_id"]
    # And each profile always carries the same tags (tags live on the profile)
    tags_by_profile: dict[str, set[str]] = defaultdict(set)
    for row, _ in profiles:
        tags_by_profile[row["line_item_resource_id"]].add(repr(row["resource_tags"]))
    assert all(len(t) == 1 for t in tags_by_profile.values())
    # And other rows carry a foundation-model ARN or NULL
    ids = {r["line_item_resource_id"] for r in model_rows}
    assert None in ids
    assert any(i and ":foundation-model/" in i for i in ids)


def test_iam_principals_of_every_kind_and_null_before_april_2026(rows: list[dict[str, Any]], tmp_path: Path) -> None:
    principals = {r["line_item_iam_principal"] for r in rows}
    # Then roles, users, assumed roles and NULL appear
    assert None in principals
    assert any(p and ":role/" in p for p in principals)
    assert any(p and ":user/" in p for p in principals)
    assert any(p and ":assumed-role/" in p for p in principals)
    # And a period before the export option existed has no principal at all
    generate_cur(tmp_path, "2026-03", rows=500, seed=1)
    assert {r["line_item_iam_principal"] for r in read_export(tmp_path)["2026-03"]} == {None}


# ---------------------------------------------------------------- tags


def test_tags_come_in_every_shape(rows: list[dict[str, Any]]) -> None:
    resource_tags = [r["resource_tags"] for r in rows]
    tags = [r["tags"] for r in rows]
    # Then: user_ keys on most rows, user: keys, the tags map, NULL, empty maps, empty and blank values
    with_underscore = sum(1 for t in resource_tags if t and "user_team" in t)
    assert with_underscore / len(rows) > 0.5
    assert {"user_team", "user_project", "user_environment"} <= set().union(*(t for t in resource_tags if t))
    assert any(t and "user:team" in t for t in resource_tags)
    assert any(t and "resourceTags/user:team" in t for t in tags)
    assert any(t is None for t in resource_tags)
    assert any(t == {} for t in resource_tags)
    assert any(t and t.get("user_team") == "" for t in resource_tags)
    assert any(t and t.get("user_team") is not None and t["user_team"] != "" and not t["user_team"].strip()
               for t in resource_tags)  # fmt: skip
    assert any(t and "user_team" in t and t["user_team"] != t["user_team"].strip() != "" for t in resource_tags)
    assert any(t and t.get("user_project") and team_of(r) == "(untagged)" for r in rows if (t := r["resource_tags"]))


def test_team_totals_agree_between_plain_python_and_duckdb(export_root: Path, rows: list[dict[str, Any]]) -> None:
    # Given the per-team Bedrock usage cost computed row by row in plain Python
    expected = expected_team_costs(rows)
    # When DuckDB computes the same from the files (the engine the local report runs on)
    con = duckdb.connect()
    result = con.execute(
        """
        SELECT coalesce(nullif(trim(resource_tags['user_team']), ''), nullif(trim(resource_tags['user:team']), ''),
                        nullif(trim(tags['resourceTags/user:team']), ''), nullif(trim(tags['resourceTags/team']), ''),
                        nullif(trim(tags['iamPrincipal/team']), ''), '(untagged)') AS team,
               sum(CAST(line_item_unblended_cost AS DECIMAL(38, 10))) AS cost
        FROM read_parquet(?, hive_partitioning = true)
        WHERE billing_period = ?
          AND line_item_line_item_type IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage')
          AND (product_product_family = 'Amazon Bedrock'
               OR line_item_product_code IN ('AmazonBedrock', 'AmazonBedrockService',
                                             'AmazonBedrockFoundationModels', 'AmazonBedrockAgentCore')
               OR (bill_billing_entity = 'AWS Marketplace'
                   AND lower(trim(coalesce(product['product_name'], product_product_name, '')))
                       LIKE '%(amazon bedrock edition)'))
        GROUP BY 1
        """,
        [str(export_root / "data" / "*" / "*.parquet"), PERIOD],
    ).fetchall()
    # Then both agree to the cent, on the six teams (padding trimmed) plus '(untagged)'
    assert {team: Decimal(cost).quantize(Decimal("0.01")) for team, cost in result} == expected
    assert set(expected) == {"ml-platform", "search", "support-bot", "data-science", "marketing", "risk", "(untagged)"}


# ---------------------------------------------------------------- non-usage and noise


def test_credits_refunds_and_tax_are_separate_line_items(rows: list[dict[str, Any]]) -> None:
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_type[row["line_item_line_item_type"]].append(row)
    # Then credits and refunds are negative, tax positive, none of them with a usage amount
    assert by_type["Credit"]
    assert all(r["line_item_unblended_cost"] < 0 for r in by_type["Credit"])
    assert by_type["Refund"]
    assert all(r["line_item_unblended_cost"] < 0 for r in by_type["Refund"])
    assert by_type["Tax"]
    assert all(r["line_item_unblended_cost"] > 0 for r in by_type["Tax"])
    for kind in ("Credit", "Refund", "Tax"):
        assert all(r["line_item_usage_amount"] == 0 for r in by_type[kind])
        assert all(is_bedrock(r) for r in by_type[kind])
    assert any(r["line_item_product_code"] == "AmazonBedrock" for r in by_type["Tax"])
    assert any(r["bill_billing_entity"] == "AWS Marketplace" for r in by_type["Credit"])


def test_a_quarter_of_rows_are_other_services(rows: list[dict[str, Any]]) -> None:
    noise = [r for r in rows if not is_bedrock(r)]
    # Then 20-30 % of rows are EC2, S3, Lambda and a non-Bedrock Marketplace product, some tagged by team
    assert 0.20 <= len(noise) / len(rows) <= 0.30
    assert {"AmazonEC2", "AmazonS3", "AWSLambda"} <= {r["line_item_product_code"] for r in noise}
    assert any(r["bill_billing_entity"] == "AWS Marketplace" for r in noise)
    assert any(team_of(r) != "(untagged)" for r in noise)
    assert all(r["line_item_unblended_cost"] > 0 for r in noise)


def test_nullable_columns_hold_nulls(rows: list[dict[str, Any]]) -> None:
    # Then the columns real exports leave empty are sometimes NULL here too
    for column in (
        "pricing_unit",
        "line_item_resource_id",
        "line_item_iam_principal",
        "product_product_family",
        "product_product_name",
        "resource_tags",
        "tags",
    ):
        assert any(r[column] is None for r in rows), column
        assert any(r[column] is not None for r in rows), column


# ---------------------------------------------------------------- input checks and progress


@pytest.mark.parametrize(
    ("period", "kwargs", "field"),
    [
        ("2026-13", {}, "--period"),
        ("2026-7", {}, "--period"),
        ("July", {}, "--period"),
        ("2026-00", {}, "--period"),
        ("2026-08", {"rows": 0}, "--rows"),
        ("2026-08", {"rows": -5}, "--rows"),
        ("2026-08", {"months": 0}, "--months"),
        ("2026-08", {"seed": -1}, "--seed"),
    ],
)
def test_bad_input_is_a_user_error_naming_the_field(
    tmp_path: Path, period: str, kwargs: dict[str, int], field: str
) -> None:
    # When called with a bad period, row count, month count or seed
    arguments: dict[str, Any] = {"rows": 10, "seed": 1, **kwargs}
    with pytest.raises(UserError, match=re.escape(field)):
        generate_cur(tmp_path / "out", period, **arguments)
    # Then nothing was written
    assert not (tmp_path / "out").exists()


def test_progress_bar_only_when_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # When generating quietly, then with progress
    generate_cur(tmp_path, "2026-08", rows=300, seed=1)
    quiet = capsys.readouterr()
    generate_cur(tmp_path, "2026-08", rows=300, seed=1, progress=True)
    loud = capsys.readouterr()
    # Then only the second run draws a bar, on stderr, ending at 100 %
    assert quiet.err == ""
    assert quiet.out == ""
    assert loud.out == ""
    assert "generate-cur [" in loud.err
    assert "100%" in loud.err
    assert "300/300 rows" in loud.err


def _distinct(root: Path, column: str) -> set[str]:
    table = pq.read_table(sorted(root.rglob("*.parquet")), columns=[column])
    return {value for value in table.column(column).to_pylist() if value is not None}


def test_accounts_and_regions_knobs_spread_usage_deterministically(tmp_path: Path) -> None:
    # Given a small export spread over 50 accounts and 4 regions, written twice with one seed
    for name in ("a", "b"):
        generate_cur(tmp_path / name, "2026-08", rows=6_000, seed=3, accounts=50, regions=4)
    # Then the usage holds exactly 50 distinct accounts and 4 distinct regions
    assert len(_distinct(tmp_path / "a", "line_item_usage_account_id")) == 50
    assert _distinct(tmp_path / "a", "product_region_code") == {
        "us-east-1",
        "us-west-2",
        "eu-central-1",
        "ap-northeast-1",
    }
    # And the same seed gives the same bytes
    (first,) = sorted((tmp_path / "a").rglob("*.parquet"))
    (second,) = sorted((tmp_path / "b").rglob("*.parquet"))
    assert first.read_bytes() == second.read_bytes()


def test_without_knobs_the_catalog_accounts_and_regions_stay(tmp_path: Path) -> None:
    # When generating with the defaults
    generate_cur(tmp_path, "2026-08", rows=6_000, seed=3)
    # Then the catalog's four accounts and three regions are used, no more
    assert len(_distinct(tmp_path, "line_item_usage_account_id")) == 4
    assert len(_distinct(tmp_path, "product_region_code")) == 3


@pytest.mark.parametrize(("kwargs", "field"), [({"accounts": 0}, "--accounts"), ({"regions": 99}, "--regions")])
def test_bad_spread_is_a_user_error(tmp_path: Path, kwargs: dict[str, int], field: str) -> None:
    with pytest.raises(UserError, match=re.escape(field)):
        generate_cur(tmp_path / "out", "2026-08", rows=10, seed=1, **kwargs)  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists()
