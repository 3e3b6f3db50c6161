"""The Athena views of the per-request ledger, rendered for one deployment.

Deployed, Athena reads the S3 delivery of model invocation logs through the Glue table the
``RequestLedger`` construct creates; these views sit on it: the normalised usage view (the
same file ``bedrock-cost requests`` runs on DuckDB), the unit prices rendered from the price
catalog, the per-request cost (with the shared identity rule written in SQL), and cost by
user, principal, request-metadata key and value, model and hour. The same rendered
statements run on DuckDB in the tests, against the Python pricing of every record.

Prices are the catalog's at deploy time (per token, ``DECIMAL(20,12)``: exact for prices
with up to six decimals per million tokens, checked here); a model the catalog lacks has
no row, so its requests are unpriced (``cost_usd`` NULL), never $0.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from bedrock_cost.billing.sql import (
    RenderedQuery,
    list_queries,
    model_alias_rows,
    quote_identifier,
    render,
    string_literal,
)
from bedrock_cost.domain.pricing import PriceCatalog
from bedrock_cost.domain.request_pricing import LONG_CONTEXT_MULTIPLIERS

USAGE_VIEW: Final = "requests/00_bedrock_invocation_usage"
KINDS: Final = ("input", "output", "cache-read", "cache-write")
_MILLION: Final = Decimal(1_000_000)


def request_view_queries() -> list[str]:
    """Query names in creation order (dependencies first)."""
    return [USAGE_VIEW, *list_queries("request_views")]


def request_view_names() -> list[str]:
    return [q.rsplit("/", 1)[-1].split("_", 1)[1] for q in request_view_queries()]


def _per_token(usd_per_million: Decimal | None) -> str:
    if usd_per_million is None:
        return "CAST(NULL AS DECIMAL(20,12))"
    exponent = usd_per_million.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -6:
        raise ValueError(f"price {usd_per_million} has more than 6 decimals: not exact as DECIMAL(20,12)")
    per_token = (usd_per_million / _MILLION).quantize(Decimal("1e-12"))
    return f"CAST('{per_token:f}' AS DECIMAL(20,12))"


def request_price_rows(catalog: PriceCatalog) -> str:
    """``VALUES`` rows (model, scope, tier, four per-token prices) for every priced key."""
    combos = sorted({(k.model, k.scope, k.tier) for k in catalog.keys()})  # noqa: SIM118 (PriceCatalog is not a dict)
    rows = []
    for model, scope, tier in combos:
        units = []
        for kind in KINDS:
            price = catalog.price(model, kind, scope, tier)
            units.append(_per_token(price.usd_per_million if price is not None else None))
        rows.append(f"({string_literal(model)}, {string_literal(scope)}, {string_literal(tier)}, {', '.join(units)})")
    if not rows:
        raise ValueError("the price catalog is empty: every request would be unpriced")
    return ",\n    ".join(rows)


def long_context_rows() -> str:
    return ",\n    ".join(
        f"({string_literal(model)}, CAST('{i}' AS DECIMAL(4,2)), CAST('{o}' AS DECIMAL(4,2)))"
        for model, (i, o) in sorted(LONG_CONTEXT_MULTIPLIERS.items())
    )


REQUEST_SUMS = (
    "SUM(cost_usd) AS cost_usd,\n"
    "  COUNT(*) AS requests,\n"
    "  SUM(input_tokens) AS input_tokens,\n"
    "  SUM(output_tokens) AS output_tokens,\n"
    "  SUM(cache_read_tokens) AS cache_read_tokens,\n"
    "  SUM(cache_write_tokens) AS cache_write_tokens,\n"
    "  SUM(CASE WHEN cost_usd IS NULL THEN 1 ELSE 0 END) AS unpriced_requests"
)
"""The sums every per-request aggregate view shares: the ``requests`` CLI's columns, unpriced counted apart."""


def render_request_views(database: str, table: str, catalog: PriceCatalog) -> list[RenderedQuery]:
    """``CREATE OR REPLACE VIEW`` statements for the ledger views, in dependency order."""
    fragments = {
        "database": quote_identifier(database),
        "table": quote_identifier(table),
        "request_price_rows": request_price_rows(catalog),
        "model_alias_rows": model_alias_rows(),
        "long_context_rows": long_context_rows(),
        "request_sums": REQUEST_SUMS,
    }
    return [render(name, fragments) for name in request_view_queries()]


def drop_request_view_statements(database: str) -> list[str]:
    """``DROP VIEW`` for every ledger view, dependants first, identifiers quoted by the one quoting function."""
    schema = quote_identifier(database)
    return [f"DROP VIEW IF EXISTS {schema}.{quote_identifier(name)}" for name in reversed(request_view_names())]
