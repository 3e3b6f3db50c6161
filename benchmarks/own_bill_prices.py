"""List prices and the reference workload of the own-bill benchmark (a data table).

us-east-1 list prices, dated; ``own_bill.py`` and ``scale_costs.py`` price with them.
"""

from __future__ import annotations

from decimal import Decimal

from benchmarks.own_bill_counts import ANOMALY_ALARM_METRICS

PRICES_AS_OF = "2026-11-24"
PRICES: dict[str, Decimal] = {
    # us-east-1 list prices (AWS pricing pages; re-check before quoting)
    "custom_metric_month": Decimal("0.30"),  # first 10,000 metrics, prorated by the hour
    "get_metric_data_per_1000": Decimal("0.01"),
    "list_metrics_per_1000": Decimal("0.01"),
    "alarm_metric_month": Decimal("0.10"),  # standard resolution, per metric evaluated
    "anomaly_alarm_metrics": ANOMALY_ALARM_METRICS,
    "composite_alarm_month": Decimal("0.50"),
    "dashboard_month": Decimal("3.00"),  # beyond 3 free dashboards per account
    "logs_ingest_per_gb": Decimal("0.50"),
    "athena_per_tb": Decimal("5.00"),  # minimum 10 MB per query
    "lambda_gb_second_arm": Decimal("0.0000133334"),
    "lambda_per_million_requests": Decimal("0.20"),
    "dynamodb_per_million_writes": Decimal("0.625"),
    "s3_put_per_1000": Decimal("0.005"),
    "kms_key_month": Decimal("1.00"),
    "logs_storage_gb_month": Decimal("0.03"),
    "sqs_per_million_requests": Decimal("0.40"),  # first 1M a month free; DLQs see none when quiet
    "secret_month": Decimal("0.40"),
    "s3_storage_gb_month": Decimal("0.023"),
    "budget_day": Decimal(0),  # AWS Price List (effective 2020-10-01): budget-days are free
    "action_budget_day": Decimal("0.10"),  # action-enabled budgets beyond the first 62 budget-days
}
HOURS_PER_MONTH = 730
FREE_DASHBOARDS = 3

REFERENCE: dict[str, int] = {
    "models": 20,
    "application_profiles": 100,
    "report_tag_keys": 3,
    "values_per_key": 10,
    "regions": 2,
    "accounts": 3,
    "requests_per_month": 1_000_000,
}
MODEL_IDS_PER_ACCOUNT_REGION = (REFERENCE["models"] + REFERENCE["application_profiles"]) // (
    REFERENCE["regions"] * REFERENCE["accounts"]
)
