"""Which Cost Explorer service names are Bedrock's, and what a budget's filter should list.

Each Marketplace model bills as its own service (``Claude Sonnet 4.5 (Amazon Bedrock
Edition)``, ...), and a new model brings a new name. The budgets' ``Service`` filter is
therefore refreshed daily from ``ce:GetDimensionValues`` (``handlers/budget_filters.py``):
the names seen are merged into the filter, never removed (a name that bills nothing
this month still belongs to Bedrock, and dropping it would hide next month's spend).
"""

from __future__ import annotations

from collections.abc import Iterable

from bedrock_cost.domain.aws_notifications import is_bedrock_service

FIRST_PARTY_NAMES = ("Amazon Bedrock",)
"""Always in the filter, even before it bills; other first-party names (``Amazon Bedrock
...``) are taken from Cost Explorer as they appear."""


def discovered_bedrock_services(names: Iterable[str]) -> set[str]:
    """The Bedrock names among Cost Explorer's ``SERVICE`` values."""
    return {name for name in names if is_bedrock_service(name)}


def merged_filter(current: Iterable[str], discovered: Iterable[str], extra: Iterable[str] = ()) -> list[str]:
    """The new ``Service`` filter: what is there, plus every Bedrock name discovered (sorted)."""
    return sorted({*current, *FIRST_PARTY_NAMES, *discovered_bedrock_services(discovered), *extra})
