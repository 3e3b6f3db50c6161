"""The demo's story: one "now", and a bill that agrees with the traffic the estimator sees.

The CUR generator draws rows at random and the metrics generator draws per-minute traffic
at random; on their own the two clocks would never meet. This module makes them meet,
so reconciliation has something true to prove:

- **One now**: the demo replays its billing period as if it were the 20th, 00:10 UTC
  (``demo_now``). The estimator covers the day before; CUR, which lags 8-24 h, holds
  usage up to the end of that day and nothing after (``truncate_after``).
- **The collector's account and region** (``123456789012``, ``us-east-1``) are billed
  exactly for the traffic the metrics generator produced there, hour by hour, for the
  last ``BILLED_TRUTH_DAYS`` days: the generator's random token rows for that
  account-region are replaced by rows derived from the traffic (``derived_rows``).
- **What the customer really pays** differs from the list: a negotiated
  ``CLAUDE_DISCOUNT_PCT`` % on every Claude row of the export, the 10 % regional premium
  of newer Claude models (the catalog knows that one), and ``LONG_CONTEXT_SHARE`` of the
  Claude Sonnet 4.6 tokens billed at the long-context rates (2x input, 1.5x output).

The estimate records of the days before the estimator's own day (``history_records``) are
computed with the same ``hour_records`` function the estimator Lambda writes them with,
from the same traffic: the estimator in the demo runs one day for real, and a deployment
that has run for a few days would have these records in S3.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bedrock_cost.domain.estimate import Counts, hour_records
from bedrock_cost.domain.estimator_run import resolve_all
from bedrock_cost.domain.model_catalog import load_model_catalog
from bedrock_cost.domain.model_resolution import InMemoryProfileDirectory, ResolvedModel
from bedrock_cost.domain.pricing import PriceCatalog, load_bundled_layer
from bedrock_cost.sample_data.cur_generator import arrow_schema
from bedrock_cost.sample_data.metrics_generator import DEFAULT_ACCOUNT, GeneratedMetrics, generate_metrics

NOW_DAY = 20
NOW_TIME = time(0, 10)
BILLED_TRUTH_DAYS = 10
"""Days (ending yesterday) the collector's account-region is billed from the traffic: a
week of price history before the days reconciled, so calibration is out of sample."""
HISTORY_DAYS = 3
"""Days before the estimator's own day whose estimate records are back-filled."""
CLAUDE_DISCOUNT_PCT = Decimal(12)
LONG_CONTEXT_SHARE = Decimal("0.08")
LONG_CONTEXT_MODEL = "Claude Sonnet 4.6"
LONG_CONTEXT_RATE = {"input": Decimal(2), "output": Decimal("1.5")}
ESTIMATOR_SEED = 7
"""The metrics generator's default seed: the estimator's own day is generated with it."""
REGION_CODES = {"us-east-1": "USE1", "us-west-2": "USW2", "eu-central-1": "EUC1"}
KIND_SUFFIX = {
    "input": "input-tokens",
    "output": "output-tokens",
    "cache-read": "cache-read-input-token-count",
    "cache-write": "cache-write-input-token-count",
}


PROVISIONED_TOKENS_SERVED: Mapping[str, Mapping[str, int]] = {
    "Nova Pro": {"input": 900_000_000, "output": 90_000_000},
}
"""Tokens the provisioned Nova Pro endpoint served in the period (its CloudWatch metrics):
worth about $1,000 on demand, against the model-unit hours the bill shows."""


def provisioned_tokens_served() -> dict[str, dict[str, int]]:
    return {model: dict(kinds) for model, kinds in PROVISIONED_TOKENS_SERVED.items()}


def demo_now(period: str) -> datetime:
    """The single "now" of a demo run: the period's 20th, 00:10 UTC."""
    year, month = (int(x) for x in period.split("-"))
    return datetime.combine(date(year, month, NOW_DAY), NOW_TIME, tzinfo=UTC)


@dataclass(frozen=True)
class Scenario:
    now: datetime
    region: str
    account: str
    traffic: dict[date, GeneratedMetrics]
    """Per-day traffic of the collector's account-region, oldest first; the last day is the
    estimator's own (what the estimate step puts into CloudWatch)."""

    @property
    def estimator_day(self) -> date:
        return max(self.traffic)

    @property
    def history_days(self) -> list[date]:
        return sorted(self.traffic)[-(HISTORY_DAYS + 1) : -1]


def build_scenario(period: str, region: str, tag_keys: tuple[str, ...], account: str = DEFAULT_ACCOUNT) -> Scenario:
    now = demo_now(period)
    today = now.date()
    traffic = {}
    for offset in range(BILLED_TRUTH_DAYS, 0, -1):
        day = today - timedelta(days=offset)
        seed = ESTIMATOR_SEED if offset == 1 else ESTIMATOR_SEED + 100 + offset
        start = datetime.combine(day, time.min, tzinfo=UTC)
        traffic[day] = generate_metrics(start, 24, region=region, account=account, seed=seed, tag_keys=tag_keys)
    return Scenario(now=now, region=region, account=account, traffic=traffic)


def _resolved(generated: GeneratedMetrics) -> dict[str, ResolvedModel]:
    return resolve_all(generated.usage, InMemoryProfileDirectory(generated.profiles), load_model_catalog())


def history_records(
    scenario: Scenario, generated_at: datetime, days: list[date] | None = None
) -> dict[datetime, list[dict[str, Any]]]:
    """The estimator's hour records for the ``HISTORY_DAYS`` before its own day (or ``days``),
    priced with list prices, keyed by UTC hour."""
    catalog = PriceCatalog(bundled=load_bundled_layer())
    out: dict[datetime, list[dict[str, Any]]] = {}
    for day in scenario.history_days if days is None else days:
        generated = scenario.traffic[day]
        resolved = _resolved(generated)
        for hour_index in range(24):
            hour = generated.start + timedelta(hours=hour_index)
            records = hour_records(
                region=scenario.region,
                hour=hour,
                covered_until=hour + timedelta(hours=1),
                usage=generated.usage,
                resolved=resolved,
                catalog=catalog,
                generated_at=generated_at,
            )
            if records:
                out[hour] = records
    return out


def write_records(folder: Path, records: Mapping[datetime, list[dict[str, Any]]], region: str) -> int:
    """Write hour records where the estimator's S3 sink puts them (same keys, same JSON)."""
    from bedrock_cost.adapters.estimate_sink import dumps_exact, hour_key

    for hour, items in records.items():
        path = folder / hour_key("estimates", region, hour)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(dumps_exact(item) + "\n" for item in items), encoding="utf-8")
    return sum(len(items) for items in records.values())


# --- the bill ------------------------------------------------------------------------------


def effective_price(catalog: PriceCatalog, resolved: ResolvedModel, kind: str) -> Decimal | None:
    """What the scenario's customer pays per 1M tokens: list (regional premium included),
    less the negotiated Claude discount; ``None`` for a model without a list price."""
    price = catalog.price(resolved.model, kind, resolved.scope)  # type: ignore[arg-type]
    if price is None:
        return None
    usd = price.usd_per_million
    if resolved.provider == "Anthropic":
        usd = usd * (100 - CLAUDE_DISCOUNT_PCT) / 100
    return usd


def derived_rows(scenario: Scenario) -> list[dict[str, Any]]:
    """CUR line items (first-party shape, hourly) billing the scenario's traffic."""
    catalog = PriceCatalog(bundled=load_bundled_layer())
    models = load_model_catalog()
    code = REGION_CODES.get(scenario.region, "USE1")
    rows: list[dict[str, Any]] = []
    for generated in scenario.traffic.values():
        resolved = _resolved(generated)
        hourly: dict[tuple[str, datetime], Counts] = {}
        for model_id, minutes in generated.usage.items():
            for minute, counts in minutes.items():
                key = (model_id, minute.replace(minute=0))
                hourly[key] = hourly.get(key, Counts()) + counts
        for (model_id, hour), counts in sorted(hourly.items()):
            model = resolved[model_id]
            billing = _billing_name(models, model)
            for kind, suffix in KIND_SUFFIX.items():
                tokens = counts.tokens(kind)  # type: ignore[arg-type]
                if tokens <= 0:
                    continue
                price = effective_price(catalog, model, kind) if model.known else None
                if price is None:  # the model nobody prices: the estimate keeps it unpriced
                    continue
                scope_suffix = "-cross-region-global" if model.scope == "global" else ""
                parts = [(tokens, f"{code}-{billing}-{suffix}{scope_suffix}", price)]
                if model.model == LONG_CONTEXT_MODEL and kind in LONG_CONTEXT_RATE:
                    long_tokens = int(Decimal(tokens) * LONG_CONTEXT_SHARE)
                    parts = [
                        (tokens - long_tokens, parts[0][1], price),
                        (long_tokens, f"{code}-{billing}-{suffix}-long-context{scope_suffix}",
                         price * LONG_CONTEXT_RATE[kind]),
                    ]  # fmt: skip
                for part_tokens, usage_type, usd in parts:
                    if part_tokens:
                        rows.append(_row(scenario, model, hour, usage_type, part_tokens, usd))
    return rows


def _billing_name(models: Any, model: ResolvedModel) -> str:
    if not model.known:
        return model.model
    names = [alias for alias, info in models.aliases.items() if info.model == model.model and alias.isalnum()]
    billing = {
        "Claude Sonnet 4.6": "Claude4.6Sonnet",
        "Claude Sonnet 4.5": "Claude4.5Sonnet",
        "Claude Haiku 4.5": "Claude4.5Haiku",
        "Nova Pro": "NovaPro",
        "Nova Lite": "NovaLite",
    }
    return billing.get(model.model, names[0] if names else model.model)


def _row(  # noqa: PLR0917 - one CUR line item, field by field
    scenario: Scenario, model: ResolvedModel, hour: datetime, usage_type: str, tokens: int, usd_per_million: Decimal
) -> dict[str, Any]:
    cost = float(Decimal(tokens) * usd_per_million / 1_000_000)
    start = hour.replace(tzinfo=None)
    period_start = start.replace(day=1, hour=0)
    period_end = (period_start + timedelta(days=32)).replace(day=1)
    product_code = "AmazonBedrockFoundationModels" if model.provider == "Anthropic" else "AmazonBedrock"
    return {
        "bill_billing_entity": "AWS",
        "bill_billing_period_start_date": period_start,
        "bill_billing_period_end_date": period_end,
        "bill_payer_account_id": scenario.account,
        "line_item_usage_start_date": start,
        "line_item_usage_end_date": start + timedelta(hours=1),
        "line_item_usage_account_id": scenario.account,
        "line_item_line_item_type": "Usage",
        "line_item_product_code": product_code,
        "line_item_usage_type": usage_type,
        "line_item_operation": "InvokeModelInference",
        "line_item_resource_id": model.profile_arn,
        "line_item_line_item_description": f"Amazon Bedrock {model.model} {usage_type}",
        "line_item_usage_amount": tokens / 1000,
        "line_item_unblended_cost": cost,
        "line_item_net_unblended_cost": cost,
        "line_item_currency_code": "USD",
        "line_item_iam_principal": f"arn:aws:iam::{scenario.account}:role/ml-assistant-service",
        "pricing_unit": "1K tokens",
        "product": None,
        "product_product_family": "Amazon Bedrock",
        "product_product_name": None,
        "product_region_code": scenario.region,
        "product_servicecode": product_code,
        "resource_tags": {f"user_{k}": v for k, v in model.tags.items()} or None,
        "tags": None,
    }


def _is_claude(table: pa.Table) -> Any:
    masks = []
    for column in ("line_item_usage_type", "product_product_name"):
        masks.append(pc.fill_null(pc.match_substring(pc.utf8_lower(table[column]), "claude"), False))
    for key in ("product_name", "model", "provider"):
        values = pc.utf8_lower(pc.list_element(pc.map_lookup(table["product"], key, "all"), 0))
        masks.append(pc.fill_null(pc.match_substring(values, "claude"), False))
        masks.append(pc.fill_null(pc.match_substring(values, "anthropic"), False))
    mask = masks[0]
    for other in masks[1:]:
        mask = pc.or_(mask, other)
    return mask


def apply_to_export(cur_dir: Path, scenario: Scenario) -> dict[str, int]:
    """Rewrite the generated export in place: Claude discount in every period, usage after
    yesterday dropped, the collector's account-region token rows replaced by the bill of
    its traffic. Returns counts for the demo's log."""
    files = sorted(cur_dir.rglob("*.parquet"))
    derived = derived_rows(scenario)
    first_truth = min(scenario.traffic)
    cutoff = datetime.combine(scenario.now.date(), time.min)
    truth_from = datetime.combine(first_truth, time.min)
    region_code = REGION_CODES.get(scenario.region, "USE1").lower()
    period_dir = f"BILLING_PERIOD={scenario.now:%Y-%m}"
    counts = {"derived_rows": len(derived), "dropped_rows": 0}
    for path in files:
        table = pq.read_table(path)
        factor = float((100 - CLAUDE_DISCOUNT_PCT) / 100)
        claude = _is_claude(table)
        for column in ("line_item_unblended_cost", "line_item_net_unblended_cost"):
            index = table.schema.get_field_index(column)
            discounted = pc.if_else(claude, pc.multiply(table[column], factor), table[column])
            table = table.set_column(index, column, discounted)
        if period_dir in path.parts:
            start = table["line_item_usage_start_date"]
            usage_type = pc.utf8_lower(pc.fill_null(table["line_item_usage_type"], ""))
            replaced = pc.and_(
                pc.and_(
                    pc.equal(table["line_item_usage_account_id"], scenario.account),
                    pc.starts_with(usage_type, region_code + "-"),
                ),
                pc.and_(pc.match_substring(usage_type, "token"), pc.greater_equal(start, pa.scalar(truth_from))),
            )
            late = pc.greater_equal(start, pa.scalar(cutoff))
            keep = pc.invert(pc.or_(replaced, late))
            counts["dropped_rows"] += len(table) - pc.sum(pc.cast(keep, pa.int64())).as_py()
            table = table.filter(keep)
            if path == min(p for p in files if period_dir in p.parts):
                table = pa.concat_tables([table, pa.Table.from_pylist(derived, schema=arrow_schema())])
        pq.write_table(table, path, compression="snappy")
    return counts


def billed_truth_usd(scenario: Scenario) -> Mapping[date, Decimal]:
    """The derived bill per day (tests compare the reconciled billed side with it)."""
    out: dict[date, Decimal] = {}
    for row in derived_rows(scenario):
        day = row["line_item_usage_start_date"].date()
        out[day] = out.get(day, Decimal(0)) + Decimal(str(row["line_item_unblended_cost"]))
    return out
