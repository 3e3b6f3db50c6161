"""The one interface every query engine offers: run a rendered statement, get rows.

Reports and handlers depend on this protocol only; ``adapters.duckdb_engine`` (local
CUR Parquet) and ``adapters.athena`` (the deployed views) implement it, so the same
SQL and the same report code run on a laptop and in the account.
"""

from __future__ import annotations

from typing import Any, Protocol

from bedrock_cost.billing.sql import RenderedQuery

Row = dict[str, Any]


class QueryEngine(Protocol):
    name: str
    """``duckdb`` or ``athena``: shown in outputs so a reader knows which clock they see."""

    database: str
    """Database (schema) holding the views."""

    def query(self, query: RenderedQuery) -> list[Row]:
        """Run one statement with its parameters and return rows as dicts.

        Decimal columns come back as ``decimal.Decimal``; raise ``QueryError`` carrying
        the engine's reason on failure.
        """
        ...
