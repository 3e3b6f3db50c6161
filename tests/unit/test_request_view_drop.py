"""Dropping the ledger's views quotes every identifier and refuses one that is not allowed."""

from __future__ import annotations

import pytest

from bedrock_cost.billing.request_views import drop_request_view_statements, request_view_names

pytestmark = pytest.mark.unit


def test_views_are_dropped_dependants_first_with_quoted_identifiers() -> None:
    statements = drop_request_view_statements("bedrock_cost")
    names = request_view_names()
    assert statements == [f'DROP VIEW IF EXISTS "bedrock_cost"."{n}"' for n in reversed(names)]
    # The base view every aggregate reads goes last
    assert statements[-1].endswith(f'"{names[0]}"')


@pytest.mark.parametrize("database", ['db"; DROP TABLE x; --', "Bedrock-Cost", ""])
def test_a_database_name_outside_the_allow_list_is_refused(database: str) -> None:
    with pytest.raises(ValueError, match="not an allowed SQL identifier"):
        drop_request_view_statements(database)
