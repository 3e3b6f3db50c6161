"""The CUR 2.0 columns this product reads, with their Glue/Athena types.

One list serves three readers: the Glue table the stack creates, the local DuckDB
relation that stands in for it (missing columns become typed NULLs, as Athena returns
for a Parquet file without them), and the synthetic CUR generator.
"""

from __future__ import annotations

from typing import Final

PARTITION_COLUMN: Final = "billing_period"
"""Hive partition ``BILLING_PERIOD=YYYY-MM`` of a Data Export; a string."""

CUR_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("bill_billing_entity", "string"),
    ("bill_billing_period_start_date", "timestamp"),
    ("bill_billing_period_end_date", "timestamp"),
    ("bill_payer_account_id", "string"),
    ("line_item_usage_start_date", "timestamp"),
    ("line_item_usage_end_date", "timestamp"),
    ("line_item_usage_account_id", "string"),
    ("line_item_line_item_type", "string"),
    ("line_item_product_code", "string"),
    ("line_item_usage_type", "string"),
    ("line_item_operation", "string"),
    ("line_item_resource_id", "string"),
    ("line_item_line_item_description", "string"),
    ("line_item_usage_amount", "double"),
    ("line_item_unblended_cost", "double"),
    ("line_item_net_unblended_cost", "double"),
    ("line_item_currency_code", "string"),
    ("line_item_iam_principal", "string"),
    ("pricing_unit", "string"),
    ("product", "map<string,string>"),
    ("product_product_family", "string"),
    ("product_product_name", "string"),
    ("product_region_code", "string"),
    ("product_servicecode", "string"),
    ("resource_tags", "map<string,string>"),
    ("tags", "map<string,string>"),
)

REQUIRED_COLUMNS: Final = frozenset(
    {
        "line_item_usage_type",
        "line_item_unblended_cost",
        "line_item_usage_amount",
        "line_item_line_item_type",
        "line_item_product_code",
    }
)
"""Without these a file is not a CUR 2.0 export we can read."""
