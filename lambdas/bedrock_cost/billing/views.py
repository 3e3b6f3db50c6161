"""The Athena views, rendered for one deployment (database, table, tag keys).

The same rendered statements create the views in Athena (custom resource at deploy
time) and in DuckDB (local engine), so local reports and deployed views cannot drift.
Files are named ``NN_<view>.sql``; the number orders creation by dependency.
"""

from __future__ import annotations

from collections.abc import Sequence

from bedrock_cost.billing.sql import RenderedQuery, list_queries, quote_identifier, render, view_fragments


def _view_name(query_name: str) -> str:
    stem = query_name.rsplit("/", 1)[-1]
    return stem.split("_", 1)[1] if stem[:2].isdigit() else stem


def view_names() -> list[str]:
    """View names in creation order (dependencies first)."""
    return [_view_name(q) for q in list_queries("views")]


def render_views(database: str, table: str, tag_keys: Sequence[str]) -> list[RenderedQuery]:
    """``CREATE OR REPLACE VIEW`` statements for every file in ``queries/views``, in order."""
    fragments = view_fragments(database, table, tag_keys)
    return [render(name, fragments) for name in list_queries("views")]


def drop_view_statements(database: str) -> list[str]:
    """``DROP VIEW IF EXISTS`` for every view, dependants first (identifiers from the allow-list)."""
    schema = quote_identifier(database)
    return [f"DROP VIEW IF EXISTS {schema}.{quote_identifier(name)}" for name in reversed(view_names())]
