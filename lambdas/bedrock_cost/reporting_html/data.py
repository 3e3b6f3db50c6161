"""Everything the HTML report shows, fetched through ``QueryEngine`` from the views.

One SQL file per figure in ``queries/reports/`` (``html_*.sql`` for the figures only this
page shows; the daily chart, unit prices, untagged ranking and adjustments share their
statement with the reports that need the same rows), each filtered on the billing period;
the same statements run on DuckDB locally and on Athena in the account. Rows are
turned into small typed records here so the page code never sees engine types: money
becomes ``Decimal`` whatever the driver returned, dates become ISO strings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from bedrock_cost.billing.engine import QueryEngine, Row
from bedrock_cost.billing.reporting import CostRow, build_cost_report
from bedrock_cost.billing.sql import quote_identifier, render
from bedrock_cost.domain.calibration_guard import RefusedPrice, guard_unit_prices
from bedrock_cost.domain.pricing import load_bundled_layer

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

UNTAGGED_SHOWN = 20
"""Untagged spenders the page ranks (the totals still cover every untagged group)."""


def money(value: Any) -> Decimal:
    """A money column as ``Decimal``; NULL (no rows) is zero. Floats go through ``str``."""
    if value is None:
        return Decimal(0)
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def count(value: Any) -> int:
    return 0 if value is None else int(value)


def iso_day(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)[:10]


def timestamp(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


_BY_FIELD_TYPE: dict[str, Callable[[Any], Any]] = {"str": str, "Decimal": money, "int": count}
"""How a column becomes a record field, by the field's declared type."""

_Record = TypeVar("_Record", bound="DataclassInstance")


def _records(record: type[_Record], rows: Iterable[Row], columns: tuple[str, ...]) -> list[_Record]:
    """One ``record`` per row, its fields filled in order from ``columns``, each converted
    by its declared type (money to ``Decimal``, counts to ``int``, text to ``str``)."""
    convert = [_BY_FIELD_TYPE[str(f.type)] for f in fields(record)]
    return [record(*(c(row[column]) for c, column in zip(convert, columns, strict=True))) for row in rows]


@dataclass(frozen=True)
class DayModelCost:
    day: str
    model: str
    cost: Decimal


@dataclass(frozen=True)
class TagCost:
    key: str
    value: str
    cost: Decimal


@dataclass(frozen=True)
class KindCost:
    kind: str
    cost: Decimal
    tokens: int


@dataclass(frozen=True)
class UntaggedSpend:
    resource_id: str
    principal: str
    model: str
    missing_keys: str
    cost: Decimal


@dataclass(frozen=True)
class UnitPrice:
    provider: str
    model: str
    kind: str
    scope: str
    tier: str
    tokens: int
    cost: Decimal
    usd_per_million: Decimal


@dataclass(frozen=True)
class UnknownModel:
    model: str
    usage_type: str
    cost: Decimal
    tokens: int


BREAKDOWN_KEYS = ("model", "account", "user", "region")


@dataclass(frozen=True)
class Summary:
    line_items: int
    latest_usage: datetime | None
    cost: Decimal
    tokens: int


@dataclass(frozen=True)
class ReportData:
    """The figures of one billing period, as the engine returned them."""

    period: str
    previous_period: str
    engine: str
    database: str
    summary: Summary
    previous: Summary
    daily: list[DayModelCost] = field(default_factory=list)
    tags: list[TagCost] = field(default_factory=list)
    kinds: list[KindCost] = field(default_factory=list)
    untagged: list[UntaggedSpend] = field(default_factory=list)
    untagged_total: Decimal = Decimal(0)
    untagged_groups: int = 0
    unit_prices: list[UnitPrice] = field(default_factory=list)
    adjustments: list[tuple[str, Decimal]] = field(default_factory=list)
    unknown_models: list[UnknownModel] = field(default_factory=list)
    breakdowns: dict[str, list[CostRow]] = field(default_factory=dict)
    """Per model, account, user and region: cost and tokens, largest first."""
    refused_prices: list[RefusedPrice] = field(default_factory=list)
    """CUR unit prices more than 10x from the catalog's: shown, never calibrated from."""


def previous_period(period: str) -> str:
    year, month = (int(part) for part in period.split("-"))
    return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"


def _run(engine: QueryEngine, name: str, period: str, **values: str) -> list[Row]:
    query = render(f"reports/{name}", {"database": quote_identifier(engine.database)}, {**values, "period": period})
    return engine.query(query)


def _summary(engine: QueryEngine, period: str) -> Summary:
    rows = _run(engine, "html_summary", period)
    row = rows[0] if rows else {}
    return Summary(
        line_items=count(row.get("line_items")),
        latest_usage=timestamp(row.get("latest_usage_start")),
        cost=money(row.get("usage_cost_usd")),
        tokens=count(row.get("usage_tokens")),
    )


def fetch_report_data(engine: QueryEngine, period: str) -> ReportData:
    """Run every statement the page needs for ``period`` (and the previous period's totals)."""
    prior = previous_period(period)
    untagged_rows = _run(engine, "untagged_spend_rows", period, top=str(UNTAGGED_SHOWN))
    price_rows = _run(engine, "unit_prices", period)
    catalog = {
        (k.model, str(k.usage_kind), str(k.scope), k.tier): p.usd_per_million
        for k, p in load_bundled_layer().prices.items()
    }
    _, refused = guard_unit_prices(price_rows, catalog)
    return ReportData(
        period=period,
        previous_period=prior,
        engine=engine.name,
        database=engine.database,
        summary=_summary(engine, period),
        previous=_summary(engine, prior),
        daily=[
            DayModelCost(iso_day(r["usage_date"]), str(r["model"]), money(r["cost_usd"]))
            for r in _run(engine, "cost_by_day_model", period)
        ],
        tags=_records(TagCost, _run(engine, "html_cost_by_tag", period), ("tag_key", "tag_value", "cost_usd")),
        kinds=_records(KindCost, _run(engine, "html_usage_kinds", period), ("usage_kind", "cost_usd", "tokens")),
        untagged=_records(
            UntaggedSpend, untagged_rows, ("resource_id", "principal", "model", "missing_tag_keys", "cost_usd")
        ),
        untagged_total=money(untagged_rows[0]["untagged_total_usd"]) if untagged_rows else Decimal(0),
        untagged_groups=count(untagged_rows[0]["untagged_groups"]) if untagged_rows else 0,
        unit_prices=_records(
            UnitPrice,
            price_rows,
            ("provider", "model", "usage_kind", "scope", "tier", "tokens", "cost_usd", "usd_per_million"),
        ),
        refused_prices=refused,
        breakdowns={key: build_cost_report(engine, period, key, with_adjustments=False).rows for key in BREAKDOWN_KEYS},
        adjustments=[(str(r["line_item_type"]), money(r["cost_usd"])) for r in _run(engine, "adjustments", period)],
        unknown_models=_records(
            UnknownModel, _run(engine, "html_unknown_models", period), ("model", "usage_type", "cost_usd", "tokens")
        ),
    )
