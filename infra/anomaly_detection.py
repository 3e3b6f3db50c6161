"""Cost Anomaly Detection: AWS's own machine-learnt net under Bedrock spend.

- A ``DIMENSIONAL`` monitor on ``SERVICE`` sees every service, so Claude's Marketplace
  "Bedrock Edition" services too. AWS allows one such monitor per account, and most
  accounts have one already (the console creates it), so a declared
  ``AWS::CE::AnomalyMonitor`` would fail the deployment with "AlreadyExists". A custom
  resource (``handlers/anomaly_monitor.py``) finds the account's monitor at deploy time
  and creates one only when there is none; ``alerts.service_anomaly_monitor_arn`` skips
  the look-up. Anomalies of other services reach the topic too; the Slack notifier
  forwards only Bedrock ones unless ``alerts.forward_non_bedrock_anomalies`` is set.
- One ``CUSTOM`` monitor per report tag key that has known values (budgeted values and
  ``tag_policy.allowed_values`` lists, at most 10): the spend carrying those values, so
  a team's anomaly is not averaged away in the account total. A key with no listed
  values gets no monitor (Cost Anomaly Detection needs explicit values).
- One ``IMMEDIATE`` subscription to the alert topic for all monitors, with a threshold
  on total impact: at least ``anomaly_absolute_usd`` AND (``anomaly_match: all``,
  the default: fewer, larger alerts) or OR (``any``) at least ``anomaly_percent``.

Detection runs about three times a day on billed data and needs ~10 days of history for
a new service: it complements the minute-level CloudWatch alarms, it does not replace them.
"""

from __future__ import annotations

import json
from typing import Final

from aws_cdk import Aws, CustomResource, Duration
from aws_cdk import aws_ce as ce
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from bedrock_cost.config import Config
from infra.custom_resource import framework_provider
from infra.lambda_function import BedrockCostFunction
from infra.nag import acknowledge_wildcard_resources

MAX_TAG_VALUES: Final = 10


def monitored_tag_values(config: Config, key: str) -> list[str]:
    """Values of ``key`` worth watching: budgeted ones first, then allowed ones (max 10)."""
    values = sorted(config.budgets.per_tag.get(key, {}))
    allowed = config.tag_policy.allowed_values.get(key)
    for value in allowed.values if allowed else []:
        if value not in values:
            values.append(value)
    return values[:MAX_TAG_VALUES]


def threshold_expression(config: Config) -> str:
    """The subscription's ``ThresholdExpression`` JSON (impact in USD and in percent)."""
    thresholds = config.thresholds
    absolute = {
        "Dimensions": {
            "Key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
            "MatchOptions": ["GREATER_THAN_OR_EQUAL"],
            "Values": [str(thresholds.anomaly_absolute_usd)],
        }
    }
    percent = {
        "Dimensions": {
            "Key": "ANOMALY_TOTAL_IMPACT_PERCENTAGE",
            "MatchOptions": ["GREATER_THAN_OR_EQUAL"],
            "Values": [str(thresholds.anomaly_percent)],
        }
    }
    operator = "And" if thresholds.anomaly_match == "all" else "Or"
    return json.dumps({operator: [absolute, percent]}, separators=(",", ":"))


class CostAnomalyDetection(Construct):
    """``.service_monitor_arn``, ``.tag_monitors`` (key -> monitor), ``.subscription``."""

    def __init__(self, scope: Construct, construct_id: str, *, config: Config, topic: sns.ITopic) -> None:
        super().__init__(scope, construct_id)
        self.service_monitor: CustomResource | None = None
        if config.alerts.service_anomaly_monitor_arn:
            self.service_monitor_arn = config.alerts.service_anomaly_monitor_arn
        else:
            self.service_monitor = self._services_monitor()
            self.service_monitor_arn = self.service_monitor.get_att_string("MonitorArn")

        self.tag_monitors: dict[str, ce.CfnAnomalyMonitor] = {}
        self.skipped_tag_keys: list[str] = []
        for index, key in enumerate(config.report_tag_keys):
            values = monitored_tag_values(config, key)
            if not values:
                self.skipped_tag_keys.append(key)
                continue
            self.tag_monitors[key] = ce.CfnAnomalyMonitor(
                self,
                f"Tag{index}",
                monitor_name=f"{Aws.STACK_NAME} tag {key}",
                monitor_type="CUSTOM",
                monitor_specification=json.dumps(
                    {"Tags": {"Key": key, "Values": values, "MatchOptions": ["EQUALS"]}}, separators=(",", ":")
                ),
            )

        self.subscription = ce.CfnAnomalySubscription(
            self,
            "Immediate",
            subscription_name=f"{Aws.STACK_NAME} immediate",
            frequency="IMMEDIATE",
            monitor_arn_list=[self.service_monitor_arn, *(m.attr_monitor_arn for m in self.tag_monitors.values())],
            subscribers=[ce.CfnAnomalySubscription.SubscriberProperty(type="SNS", address=topic.topic_arn)],
            threshold_expression=threshold_expression(config),
        )
        # Cost Anomaly Detection checks it may publish when the subscription is created.
        policy = topic.node.try_find_child("Policy")
        if policy is not None:
            self.subscription.node.add_dependency(policy)

    def _services_monitor(self) -> CustomResource:
        """Find-or-create the account's one services monitor (see the module docstring)."""
        on_event = BedrockCostFunction(
            self,
            "ServicesMonitorFunction",
            handler="bedrock_cost.handlers.anomaly_monitor.handler",
            description="Finds the account's services anomaly monitor, creating it only when there is none",
            service_name="anomaly-monitor",
            timeout=Duration.minutes(2),
        )
        monitors = f"arn:{Aws.PARTITION}:ce::{Aws.ACCOUNT_ID}:anomalymonitor/*"
        on_event.add_to_role_policy(
            iam.PolicyStatement(
                sid="FindOrCreateServicesMonitor",
                actions=["ce:GetAnomalyMonitors", "ce:CreateAnomalyMonitor", "ce:DeleteAnomalyMonitor"],
                resources=[monitors],
            )
        )
        assert on_event.function.role is not None
        acknowledge_wildcard_resources(
            on_event.function.role,
            [monitors],
            "Anomaly monitor ids are random; the function lists this account's monitors and "
            "creates or deletes only the services monitor.",
        )
        provider = framework_provider(
            self, "ServicesMonitor", on_event.function, purpose="the services anomaly monitor", function_label="monitor"
        )
        return CustomResource(
            self,
            "Services",
            service_token=provider.service_token,
            resource_type="Custom::ServicesAnomalyMonitor",
            properties={"MonitorName": f"{Aws.STACK_NAME} services"},
        )
