"""AWS Budgets for Bedrock spend, the opt-in deny action, and our own burn-rate forecast.

**Every Bedrock dollar, also tomorrow's model.** A daily function
(``handlers/budget_filters.py``) asks Cost Explorer for every ``SERVICE`` name matching
"Bedrock" and adds the new ones to every budget's ``Service`` filter, so a model released
after this table was written is inside every budget within a day.

**Which spend a budget sees.** Claude and the other third-party models are AWS
Marketplace products: Cost Explorer lists them as services named
``<model> (Amazon Bedrock Edition)``, not under ``Amazon Bedrock``. A budget filtered on
``Amazon Bedrock`` alone misses every Claude dollar. The filter here lists ``Amazon
Bedrock`` plus every ``... (Amazon Bedrock Edition)`` product name of the bundled model
table (``data/models.json``) plus ``budgets.extra_service_names``. Limit: a model newer
than the table is not in the filter until the table (or the config) lists it; the
unpriced-model and anomaly alerts make such a model visible. A tag filter alone
(``TagKeyValue``) would catch every model but no untagged spend, so per-tag budgets use
service names AND the tag.

**What is notified.** Each budget: ``thresholds_pct`` on ACTUAL spend and
``forecast_pct`` on FORECASTED spend (monthly budgets only: AWS does not forecast
daily budgets), to the alert topic only: its e-mail subscribers receive Budgets' own
message through it, once. Credits, refunds and taxes are excluded, as in every report
of the product.

**Enforcement (opt-in).** ``budget_action: deny`` adds an ``AWS::Budgets::BudgetsAction``
that attaches a managed policy denying ``bedrock:InvokeModel*`` to the configured roles
when ACTUAL spend reaches 100 % of the total monthly budget, without approval. Budgets
evaluates a few times a day (8-12 h apart), so this is a backstop, not a real-time
brake. Undo: reset the action in the Budgets console (or ``aws budgets
execute-budget-action --execution-type RESET_BUDGET_ACTION``), or detach the policy from
the roles; it is reset automatically when a new budget period starts.

**Burn-rate forecast.** A scheduled Lambda projects month-end spend per budgeted tag
value (and the total) from the near-real-time estimate and alerts once per month per
target when the projection crosses ``forecast_pct`` of the budget: days before the
Budgets forecast, which follows billed data.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Final

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from bedrock_cost.config import Budget, Config
from bedrock_cost.domain.forecast import targets_from_budgets, targets_to_json
from infra.lambda_function import BedrockCostFunction
from infra.nag import acknowledge, resource_star_policy
from infra.state_table import CLAIM_ACTIONS
from infra.storage import service_role

BEDROCK_SERVICE_NAME: Final = "Amazon Bedrock"
MARKETPLACE_SUFFIX: Final = "(Amazon Bedrock Edition)"
MAX_NOTIFICATIONS: Final = 5
MAX_EMAIL_SUBSCRIBERS: Final = 10
DENIED_ACTIONS: Final = ["bedrock:InvokeModel*"]
"""``InvokeModel`` and ``InvokeModelWithResponseStream``; Converse/ConverseStream are
authorised by the same two actions."""
BURN_RATE_HANDLER: Final = "bedrock_cost.handlers.burn_rate.handler"
FILTER_REFRESH_HANDLER: Final = "bedrock_cost.handlers.budget_filters.handler"


def bedrock_service_names(extra: list[str] | None = None) -> list[str]:
    """``Amazon Bedrock`` + every Bedrock Edition product name of the model table + ``extra``."""
    raw = json.loads(resources.files("bedrock_cost.data").joinpath("models.json").read_text("utf-8"))
    names = {BEDROCK_SERVICE_NAME, *(extra or [])}
    for entry in raw["models"]:
        names.update(name for name in entry.get("product_names", []) if name.endswith(MARKETPLACE_SUFFIX))
    return sorted(names)


def budget_name(label: str, time_unit: str) -> str:
    """``<stack> <label> <monthly|daily>``; Budgets forbids ':' and '\\' in names."""
    name = f"{Aws.STACK_NAME} {label} {time_unit.lower()}"
    return name.replace(":", "-").replace("\\", "-")


class BedrockBudgets(Construct):
    """``.budgets`` (label -> CfnBudget), ``.deny_action`` and ``.deny_policy`` when enabled."""

    def __init__(self, scope: Construct, construct_id: str, *, config: Config, topic: sns.ITopic) -> None:
        super().__init__(scope, construct_id)
        self._topic = topic
        self._emails = config.alerts.emails[:MAX_EMAIL_SUBSCRIBERS]
        self._services = bedrock_service_names(config.budgets.extra_service_names)
        self.service_names = self._services
        self.budgets: dict[str, budgets.CfnBudget] = {}
        self.deny_action: budgets.CfnBudgetsAction | None = None
        self.deny_policy: iam.ManagedPolicy | None = None

        total = config.budgets.total
        if total is not None:
            self._add("total", "Total", total, tag=None)
        for key, values in sorted(config.budgets.per_tag.items()):
            for value, budget in sorted(values.items()):
                self._add(f"{key}={value}", f"Tag{len(self.budgets)}", budget, tag=(key, value))

        if config.budgets.budget_action == "deny" and total is not None:
            self._add_deny_action(config.budgets.deny_role_names)
        if self.budgets:
            self._filter_refresh(config)

    def _filter_refresh(self, config: Config) -> None:
        """The daily function that adds newly seen Bedrock service names to every budget."""
        names = [str(b.budget.budget_name) for b in self.budgets.values()]  # type: ignore[union-attr]
        self.filter_refresh = BedrockCostFunction(
            self,
            "FilterRefreshFunction",
            handler=FILTER_REFRESH_HANDLER,
            description="Adds newly seen Bedrock Cost Explorer service names to every budget's filter",
            service_name="budget-filters",
            environment={
                "BUDGET_NAMES": Stack.of(self).to_json_string(names),
                "ACCOUNT_ID": Aws.ACCOUNT_ID,
                "EXTRA_SERVICE_NAMES": json.dumps(list(config.budgets.extra_service_names)),
            },
            timeout=Duration.minutes(2),
        )
        budget_arns = [f"arn:{Aws.PARTITION}:budgets::{Aws.ACCOUNT_ID}:budget/{name}" for name in names]
        self.filter_refresh.add_to_role_policy(
            iam.PolicyStatement(
                sid="ReadAndExtendTheStacksBudgets",
                actions=["budgets:ViewBudget", "budgets:ModifyBudget"],
                resources=budget_arns,
            )
        )
        resource_star_policy(
            self,
            "DimensionValuesPolicy",
            self.filter_refresh.role,
            ["ce:GetDimensionValues"],
            "ce:GetDimensionValues supports no resource-level permissions; this policy holds only that read.",
        )
        events.Rule(
            self,
            "FilterRefreshSchedule",
            description="Daily refresh of the Bedrock service names in the budgets' filters",
            schedule=events.Schedule.cron(minute="15", hour="6"),
            targets=[targets.LambdaFunction(self.filter_refresh.function, retry_attempts=2)],
        )

    def _subscribers(self) -> list[budgets.CfnBudget.SubscriberProperty]:
        # The topic's e-mail subscribers get Budgets' message through the topic, once.
        return [budgets.CfnBudget.SubscriberProperty(subscription_type="SNS", address=self._topic.topic_arn)]

    def _notifications(
        self, budget: Budget, forecast: bool
    ) -> list[budgets.CfnBudget.NotificationWithSubscribersProperty]:
        specs = [("ACTUAL", pct) for pct in budget.thresholds_pct]
        if forecast and budget.forecast_pct is not None:
            specs.append(("FORECASTED", budget.forecast_pct))
        return [
            budgets.CfnBudget.NotificationWithSubscribersProperty(
                notification=budgets.CfnBudget.NotificationProperty(
                    notification_type=kind,
                    comparison_operator="GREATER_THAN",
                    threshold=pct,
                    threshold_type="PERCENTAGE",
                ),
                subscribers=self._subscribers(),
            )
            for kind, pct in specs[:MAX_NOTIFICATIONS]
        ]

    def _add(self, label: str, construct_id: str, budget: Budget, tag: tuple[str, str] | None) -> None:
        filters: dict[str, list[str]] = {"Service": self._services}
        if tag is not None:
            filters["TagKeyValue"] = [f"user:{tag[0]}${tag[1]}"]
        periods = [("MONTHLY", budget.monthly_usd, True)]
        if budget.daily_usd is not None:
            periods.append(("DAILY", budget.daily_usd, False))
        for time_unit, amount, forecast in periods:
            resource = budgets.CfnBudget(
                self,
                f"{construct_id}{time_unit.capitalize()}",
                budget=budgets.CfnBudget.BudgetDataProperty(
                    budget_name=budget_name(label, time_unit),
                    budget_type="COST",
                    time_unit=time_unit,
                    budget_limit=budgets.CfnBudget.SpendProperty(amount=float(amount), unit="USD"),
                    cost_filters=filters,
                    cost_types=budgets.CfnBudget.CostTypesProperty(
                        include_credit=False, include_refund=False, include_tax=False
                    ),
                ),
                notifications_with_subscribers=self._notifications(budget, forecast),
            )
            # Budgets checks it may publish when the budget is created.
            policy = self._topic.node.try_find_child("Policy")
            if policy is not None:
                resource.node.add_dependency(policy)
            self.budgets[f"{label} {time_unit.lower()}"] = resource

    def _add_deny_action(self, role_names: list[str]) -> None:
        total = self.budgets["total monthly"]
        self.deny_policy = iam.ManagedPolicy(
            self,
            "DenyBedrockInvoke",
            description="Attached by AWS Budgets when Bedrock spend reaches 100 % of the total budget",
            statements=[
                iam.PolicyStatement(
                    sid="DenyBedrockInvocationOverBudget",
                    effect=iam.Effect.DENY,
                    actions=DENIED_ACTIONS,
                    resources=["*"],
                )
            ],
        )
        acknowledge(
            self.deny_policy,
            "IAM5[Action::bedrock:InvokeModel*]",
            "A Deny statement: the wildcard covers InvokeModel and InvokeModelWithResponseStream, "
            "on every model and profile, which is the point of the budget brake.",
        )
        acknowledge(
            self.deny_policy,
            "IAM5[Resource::*]",
            "A Deny statement on every Bedrock model and inference profile: it removes access, grants none.",
        )
        role_arns = [f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role/{name}" for name in role_names]
        execution_role = service_role(
            self,
            "ActionRole",
            service="budgets.amazonaws.com",
            source_arn=f"arn:{Aws.PARTITION}:budgets::{Aws.ACCOUNT_ID}:budget/*",
            description="Lets AWS Budgets attach/detach the Bedrock deny policy on the configured roles",
        )
        execution_role.add_to_policy(
            iam.PolicyStatement(
                sid="AttachOnlyTheDenyPolicyToTheConfiguredRoles",
                actions=["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
                resources=role_arns,
                conditions={"ArnEquals": {"iam:PolicyARN": self.deny_policy.managed_policy_arn}},
            )
        )
        self.deny_action = budgets.CfnBudgetsAction(
            self,
            "DenyAtTotal100",
            budget_name=str(total.budget.budget_name),  # type: ignore[union-attr]
            notification_type="ACTUAL",
            action_type="APPLY_IAM_POLICY",
            action_threshold=budgets.CfnBudgetsAction.ActionThresholdProperty(type="PERCENTAGE", value=100),
            execution_role_arn=execution_role.role_arn,
            approval_model="AUTOMATIC",
            definition=budgets.CfnBudgetsAction.DefinitionProperty(
                iam_action_definition=budgets.CfnBudgetsAction.IamActionDefinitionProperty(
                    policy_arn=self.deny_policy.managed_policy_arn, roles=list(role_names)
                )
            ),
            subscribers=[budgets.CfnBudgetsAction.SubscriberProperty(type="SNS", address=self._topic.topic_arn)],
        )
        self.deny_action.node.add_dependency(total)
        # The role's policy must exist before Budgets validates the action.
        self.deny_action.node.add_dependency(execution_role)


class BurnRateForecast(Construct):
    """The scheduled burn-rate Lambda (``.function``) and its rule (``.rule``)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: Config,
        topic: sns.ITopic,
        state_table: dynamodb.ITable,
    ) -> None:
        super().__init__(scope, construct_id)
        budget_targets = targets_from_budgets(config.budgets)
        self.handler = BedrockCostFunction(
            self,
            "Function",
            handler=BURN_RATE_HANDLER,
            description="Projects month-end Bedrock spend from the estimate; alerts before budgets are overrun",
            service_name="burn-rate-forecast",
            environment={
                "ALERT_TOPIC_ARN": topic.topic_arn,
                "STATE_TABLE": state_table.table_name,
                "BUDGET_TARGETS": targets_to_json(budget_targets),
                "FORECAST_TRAILING_DAYS": str(config.budgets.forecast_trailing_days),
                "FORECAST_MIN_DAYS": str(config.budgets.forecast_min_days),
            },
            timeout=Duration.minutes(2),
        )
        self.function = self.handler.function
        resource_star_policy(
            self,
            "ReadEstimateMetrics",
            self.handler.role,
            ["cloudwatch:ListMetrics", "cloudwatch:GetMetricData"],
            "cloudwatch:ListMetrics and cloudwatch:GetMetricData support no resource-level permissions; "
            "this policy grants only those two read actions.",
        )
        topic.grant_publish(self.function)
        self.handler.add_to_role_policy(
            iam.PolicyStatement(
                sid="ClaimAndReleaseAlertKeys",
                actions=list(CLAIM_ACTIONS),
                resources=[state_table.table_arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["alert#*"]}},
            )
        )
        self.rule = events.Rule(
            self,
            "Schedule",
            description="Burn-rate forecast of Bedrock spend against its budgets",
            schedule=events.Schedule.rate(Duration.minutes(config.budgets.forecast_schedule_minutes)),
            targets=[targets.LambdaFunction(self.function, retry_attempts=2, max_event_age=Duration.hours(1))],
        )
