"""Burn-rate forecast Lambda (scheduled): warn before a budget is overrun.

Thin adapter: validate the environment, read each budgeted tag value's (and the total's)
daily estimated spend from CloudWatch, let ``domain.forecast.evaluate`` project the
month end, publish each overrun once through ``AlertPublisher`` (dedupe key per target
per month, so an hourly schedule still sends one message per month).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from botocore.config import Config as BotoConfig
from pydantic import BaseModel, ConfigDict, Field, field_validator

from bedrock_cost.adapters.alert_publisher import AlertPublisher
from bedrock_cost.adapters.burn_rate_metrics import EstimateSpendReader
from bedrock_cost.domain.forecast import (
    BudgetTarget,
    ForecastPolicy,
    evaluate,
    targets_from_json,
    window_start,
)
from bedrock_cost.handlers.wiring import container_wiring, environment_loader
from bedrock_cost.observability import logger, metrics, tracer

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

BUDGETS_CONSOLE_URL = "https://console.aws.amazon.com/costmanagement/home#/budgets"


class BurnRateEnvironment(BaseModel):
    """The function's environment, validated on the first invocation."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    alert_topic_arn: str = Field(alias="ALERT_TOPIC_ARN", pattern=r"^arn:aws[a-z-]*:sns:")
    state_table: str = Field(alias="STATE_TABLE", min_length=1)
    targets: list[BudgetTarget] = Field(alias="BUDGET_TARGETS")
    trailing_days: int = Field(alias="FORECAST_TRAILING_DAYS", ge=1, le=28)
    min_days: int = Field(alias="FORECAST_MIN_DAYS", ge=1, le=28)

    @field_validator("targets", mode="before")
    @classmethod
    def _targets(cls, value: Any) -> Any:
        return targets_from_json(value) if isinstance(value, str) else value

    @property
    def policy(self) -> ForecastPolicy:
        return ForecastPolicy(trailing_days=self.trailing_days, min_days=self.min_days)


class ScheduleEvent(BaseModel):
    """An EventBridge scheduled event (its ``time`` is the evaluation instant) or ``{}``."""

    model_config = ConfigDict(extra="ignore")

    time: datetime | None = None


@dataclass
class BurnRateResult:
    as_of: str
    projections: dict[str, dict[str, str]] = field(default_factory=dict)
    insufficient: dict[str, str] = field(default_factory=dict)
    alerts_sent: list[str] = field(default_factory=list)
    alerts_already_sent: list[str] = field(default_factory=list)


def run_burn_rate(
    as_of: datetime,
    targets: list[BudgetTarget],
    policy: ForecastPolicy,
    reader: EstimateSpendReader,
    publisher: AlertPublisher,
) -> BurnRateResult:
    """Project every target from CloudWatch, publish new overruns, report what happened."""
    start = window_start(as_of, policy)
    series: list[tuple[BudgetTarget, dict[date, Decimal]]] = []
    for target in targets:
        if target.tag_key is None or target.tag_value is None:
            daily = reader.daily_spend_total(start, as_of)
        else:
            daily = reader.daily_spend_by_tag(target.tag_key, target.tag_value, start, as_of)
        series.append((target, daily))
    report = evaluate(series, as_of, policy, console_url=BUDGETS_CONSOLE_URL)
    result = BurnRateResult(as_of=as_of.isoformat())
    for key, projection in report.projections.items():
        result.projections[key] = {
            "month_to_date_usd": str(projection.month_to_date_usd.quantize(Decimal("0.01"))),
            "daily_rate_usd": str(projection.daily_rate_usd.quantize(Decimal("0.01"))),
            "projected_usd": str(projection.projected_usd.quantize(Decimal("0.01"))),
        }
    result.insufficient = {key: item.reason for key, item in report.insufficient.items()}
    for alert in report.alerts:
        if publisher.publish(alert):
            result.alerts_sent.append(alert.dedupe_key)
        else:
            result.alerts_already_sent.append(alert.dedupe_key)
    return result


load_environment = environment_loader(BurnRateEnvironment, "burn-rate")


@dataclass
class Dependencies:
    """What one container reuses; ``configure`` swaps it (tests)."""

    targets: list[BudgetTarget]
    policy: ForecastPolicy
    reader: EstimateSpendReader
    publisher: AlertPublisher


def build_dependencies(env: BurnRateEnvironment) -> Dependencies:
    boto_config = BotoConfig(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=3, read_timeout=10)
    return Dependencies(
        targets=env.targets,
        policy=env.policy,
        reader=EstimateSpendReader(boto3.client("cloudwatch", config=boto_config)),
        publisher=AlertPublisher(
            boto3.client("sns", config=boto_config),
            env.alert_topic_arn,
            boto3.client("dynamodb", config=boto_config),
            env.state_table,
        ),
    )


configure, current_dependencies = container_wiring(lambda: build_dependencies(load_environment()))


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Project every budget target as of the scheduled time; alert each overrun once a month."""
    deps = current_dependencies()
    request = ScheduleEvent.model_validate(event if isinstance(event, dict) else {})
    as_of = (request.time or datetime.now(UTC)).astimezone(UTC)
    result = run_burn_rate(as_of, deps.targets, deps.policy, deps.reader, deps.publisher)
    if result.alerts_sent:
        # Only when an alert went out: an hourly zero would be a full-month series ($0.30)
        # that says nothing the alert itself does not.
        metrics.add_metric(name="ForecastOverrunAlerts", unit=MetricUnit.Count, value=len(result.alerts_sent))
    logger.info("burn-rate forecast", **asdict(result))
    return asdict(result)
