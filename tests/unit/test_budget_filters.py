"""Budget filter refresh: a new Bedrock Edition service is inside every budget after one run.

moto implements neither ``ce:GetDimensionValues`` nor ``budgets:UpdateBudget``, so
botocore's Stubber answers both services (requests and responses validated against the
real service models).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from bedrock_cost.domain.bedrock_services import merged_filter
from bedrock_cost.errors import BedrockCostError
from bedrock_cost.handlers import budget_filters
from bedrock_cost.handlers.budget_filters import BudgetFiltersEnvironment, Dependencies, refresh_filters
from tests.support.lambda_context import FakeLambdaContext

pytestmark = pytest.mark.unit

ACCOUNT = "123456789012"
NEW_MODEL = "Claude Opus 9 (Amazon Bedrock Edition)"
KNOWN = ["Amazon Bedrock", "Claude Sonnet 4.5 (Amazon Bedrock Edition)"]


def budget(name: str, services: list[str], tag: str | None = None) -> dict[str, Any]:
    filters: dict[str, list[str]] = {"Service": services}
    if tag:
        filters["TagKeyValue"] = [tag]
    return {
        "BudgetName": name,
        "BudgetLimit": {"Amount": "8000.0", "Unit": "USD"},
        "CostFilters": filters,
        "CostTypes": {"IncludeCredit": False, "IncludeRefund": False, "IncludeTax": False},
        "TimeUnit": "MONTHLY",
        "BudgetType": "COST",
    }


@pytest.fixture
def clients() -> Iterator[tuple[Any, Stubber, Any, Stubber]]:
    ce = boto3.client("ce", region_name="us-east-1")
    budgets = boto3.client("budgets", region_name="us-east-1")
    with Stubber(ce) as ce_stub, Stubber(budgets) as budgets_stub:
        yield ce, ce_stub, budgets, budgets_stub
        ce_stub.assert_no_pending_responses()
        budgets_stub.assert_no_pending_responses()


def deps(ce: Any, budgets: Any, names: list[str]) -> Dependencies:
    env = BudgetFiltersEnvironment.model_validate(
        {"BUDGET_NAMES": names, "ACCOUNT_ID": ACCOUNT, "EXTRA_SERVICE_NAMES": "[]"}
    )
    return Dependencies(ce=ce, budgets=budgets, env=env, today=lambda: date(2026, 11, 24))


def dimension_page(values: list[str], token: str | None = None) -> dict[str, Any]:
    page: dict[str, Any] = {
        "DimensionValues": [{"Value": v} for v in values],
        "ReturnSize": len(values),
        "TotalSize": 9,
    }
    if token:
        page["NextPageToken"] = token
    return page


def nothing_new(ce_stub: Stubber, budgets_stub: Stubber) -> None:
    """Cost Explorer lists only names the 'total monthly' budget already filters on."""
    ce_stub.add_response(
        "get_dimension_values",
        dimension_page(KNOWN),
        {"TimePeriod": ANY, "Dimension": "SERVICE", "SearchString": "Bedrock"},
    )
    budgets_stub.add_response(
        "describe_budget",
        {"Budget": budget("total monthly", KNOWN)},
        {"AccountId": ACCOUNT, "BudgetName": "total monthly"},
    )


def test_a_new_marketplace_model_is_added_to_every_budget(clients: tuple[Any, Stubber, Any, Stubber]) -> None:
    ce, ce_stub, budgets, budgets_stub = clients
    # Given Cost Explorer lists a model newer than the bundled table (on page 2) and a non-Bedrock match
    query = {
        "TimePeriod": {"Start": "2026-08-26", "End": "2026-11-25"},
        "Dimension": "SERVICE",
        "SearchString": "Bedrock",
    }
    ce_stub.add_response("get_dimension_values", dimension_page(KNOWN, "p2"), query)
    ce_stub.add_response(
        "get_dimension_values", dimension_page([NEW_MODEL, "Bedrock Consulting LLC"]), {**query, "NextPageToken": "p2"}
    )
    # And two budgets: one already complete, one missing the new model
    budgets_stub.add_response(
        "describe_budget",
        {"Budget": budget("total monthly", [*KNOWN, NEW_MODEL])},
        {"AccountId": ACCOUNT, "BudgetName": "total monthly"},
    )
    budgets_stub.add_response(
        "describe_budget",
        {"Budget": budget("team=ml monthly", KNOWN, "user:team$ml")},
        {"AccountId": ACCOUNT, "BudgetName": "team=ml monthly"},
    )
    expected = budget("team=ml monthly", sorted([*KNOWN, NEW_MODEL]), "user:team$ml")
    budgets_stub.add_response("update_budget", {}, {"AccountId": ACCOUNT, "NewBudget": expected})
    # When the daily refresh runs
    result = refresh_filters(deps(ce, budgets, ["total monthly", "team=ml monthly"]))
    # Then only the incomplete budget is updated, keeping its tag filter; junk names stay out
    assert result["updated"] == {"team=ml monthly": [NEW_MODEL]}
    assert "Bedrock Consulting LLC" not in expected["CostFilters"]["Service"]


def test_nothing_new_means_no_update_call(clients: tuple[Any, Stubber, Any, Stubber]) -> None:
    ce, ce_stub, budgets, budgets_stub = clients
    nothing_new(ce_stub, budgets_stub)
    assert refresh_filters(deps(ce, budgets, ["total monthly"]))["updated"] == {}


def test_an_access_error_names_the_api(clients: tuple[Any, Stubber, Any, Stubber]) -> None:
    ce, ce_stub, budgets, _ = clients
    ce_stub.add_client_error("get_dimension_values", "AccessDeniedException", "no")
    with pytest.raises(BedrockCostError, match="ce:GetDimensionValues: AccessDeniedException"):
        refresh_filters(deps(ce, budgets, ["total monthly"]))


def test_names_are_merged_never_removed() -> None:
    assert merged_filter(["Old Model (Amazon Bedrock Edition)"], ["Amazon EC2", NEW_MODEL]) == [
        "Amazon Bedrock",
        NEW_MODEL,
        "Old Model (Amazon Bedrock Edition)",
    ]


def test_the_handler_has_the_shared_shape(
    clients: tuple[Any, Stubber, Any, Stubber], monkeypatch: pytest.MonkeyPatch
) -> None:
    ce, ce_stub, budgets, budgets_stub = clients
    monkeypatch.setenv("BUDGET_NAMES", '["total monthly"]')
    monkeypatch.setenv("ACCOUNT_ID", ACCOUNT)
    assert budget_filters.load_environment().budget_names == ["total monthly"]
    monkeypatch.setenv("ACCOUNT_ID", "nope")
    with pytest.raises(Exception, match="ACCOUNT_ID"):
        budget_filters.load_environment()
    budget_filters.configure(deps(ce, budgets, ["total monthly"]))
    try:
        nothing_new(ce_stub, budgets_stub)
        assert budget_filters.handler({}, FakeLambdaContext())["updated"] == {}
    finally:
        budget_filters.configure(None)
