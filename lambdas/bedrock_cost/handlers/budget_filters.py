"""Budget filter refresh: every Bedrock service name Cost Explorer knows is in every budget.

Daily (EventBridge schedule). ``ce:GetDimensionValues`` on ``SERVICE`` over the last 90
days, searching "Bedrock", pages followed; the Bedrock names (``domain/bedrock_services``)
are merged into the ``Service`` cost filter of each of the stack's budgets with
``budgets:UpdateBudget``, only when something is new. A model released today bills
under a new "(Amazon Bedrock Edition)" name: within a day it is inside every budget.

Cost: one ``GetDimensionValues`` request ($0.01) per page per day, one
``DescribeBudget`` per budget, ``UpdateBudget`` only on change.

Environment: ``BUDGET_NAMES`` (JSON list), ``ACCOUNT_ID``, ``EXTRA_SERVICE_NAMES`` (JSON list).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from bedrock_cost.adapters.aws_errors import translate_client_error
from bedrock_cost.domain.bedrock_services import merged_filter
from bedrock_cost.handlers.wiring import JSON_TEXT, container_wiring, environment_loader
from bedrock_cost.observability import logger, metrics, tracer

if TYPE_CHECKING:
    from mypy_boto3_budgets import BudgetsClient
    from mypy_boto3_ce import CostExplorerClient

LOOKBACK_DAYS = 90


class BudgetFiltersEnvironment(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    budget_names: Annotated[list[str], JSON_TEXT] = Field(alias="BUDGET_NAMES", min_length=1)
    account_id: str = Field(alias="ACCOUNT_ID", pattern=r"^\d{12}$")
    extra_service_names: Annotated[list[str], JSON_TEXT] = Field(default_factory=list, alias="EXTRA_SERVICE_NAMES")


@dataclass
class Dependencies:
    ce: CostExplorerClient
    budgets: BudgetsClient
    env: BudgetFiltersEnvironment
    today: Any = field(default=lambda: datetime.now(UTC).date())


load_environment = environment_loader(BudgetFiltersEnvironment, "budget-filters")


def build_dependencies(env: BudgetFiltersEnvironment) -> Dependencies:
    return Dependencies(
        ce=boto3.client("ce", region_name="us-east-1"),
        budgets=boto3.client("budgets", region_name="us-east-1"),
        env=env,
    )


configure, current_dependencies = container_wiring(lambda: build_dependencies(load_environment()))


def service_names(ce: CostExplorerClient, today: date) -> list[str]:
    """Every ``SERVICE`` value matching "Bedrock" in the last ``LOOKBACK_DAYS`` days."""
    period = {
        "Start": (today - timedelta(days=LOOKBACK_DAYS)).isoformat(),
        "End": (today + timedelta(days=1)).isoformat(),
    }
    names: list[str] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"TimePeriod": period, "Dimension": "SERVICE", "SearchString": "Bedrock"}
        if token:
            kwargs["NextPageToken"] = token
        try:
            page = ce.get_dimension_values(**kwargs)
        except ClientError as exc:
            raise translate_client_error(exc, "ce:GetDimensionValues") from exc
        names += [str(v["Value"]) for v in page.get("DimensionValues", [])]
        token = page.get("NextPageToken")
        if not token:
            return names


def refresh_filters(deps: Dependencies) -> dict[str, Any]:
    """Merge the discovered names into every budget's ``Service`` filter; return what changed."""
    discovered = service_names(deps.ce, deps.today())
    updated: dict[str, list[str]] = {}
    for name in deps.env.budget_names:
        try:
            budget = deps.budgets.describe_budget(AccountId=deps.env.account_id, BudgetName=name)["Budget"]
        except ClientError as exc:
            raise translate_client_error(exc, f"budgets:DescribeBudget {name}") from exc
        filters = dict(budget.get("CostFilters") or {})
        current = list(filters.get("Service", []))
        wanted = merged_filter(current, discovered, deps.env.extra_service_names)
        if wanted == sorted(current):
            continue
        filters["Service"] = wanted
        new_budget = {k: v for k, v in budget.items() if k not in {"CalculatedSpend", "LastUpdatedTime"}}
        new_budget["CostFilters"] = filters
        try:
            deps.budgets.update_budget(AccountId=deps.env.account_id, NewBudget=new_budget)  # type: ignore[arg-type]
        except ClientError as exc:
            raise translate_client_error(exc, f"budgets:UpdateBudget {name}") from exc
        updated[name] = sorted(set(wanted) - set(current))
        logger.info("budget filter extended", extra={"budget": name, "added": updated[name]})
    metrics.add_metric(name="BudgetFiltersUpdated", unit=MetricUnit.Count, value=len(updated))
    return {"discovered": sorted(set(discovered)), "updated": updated}


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Scheduled entry point (the event carries nothing we need)."""
    del event, context
    return refresh_filters(current_dependencies())
