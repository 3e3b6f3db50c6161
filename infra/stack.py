"""The one stack of the product: a thin composition of constructs, one per concern."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from bedrock_cost.config import Config
from bedrock_cost.domain.forecast import targets_from_budgets
from infra.alarms import CostAlarms
from infra.alerting import AlertTopic
from infra.anomaly_detection import CostAnomalyDetection
from infra.budgets import BedrockBudgets, BurnRateForecast
from infra.cur_analytics import CurAnalytics
from infra.cur_reporter import CurReporter
from infra.dashboard import CostDashboard
from infra.estimator import ESTIMATES_PREFIX, Estimator
from infra.notifier import SlackNotifier
from infra.request_ledger import RequestLedger
from infra.state_table import StateTable
from infra.tag_enforcer import TagEnforcer


class BedrockCostTrackerStack(Stack):
    """Everything ``cdk deploy`` creates, driven by the validated ``Config``.

    Each concern is one construct built from the config; later constructs receive the
    ones they depend on (e.g. ``self.analytics.grant_query`` for a CUR reader) instead
    of reaching into each other.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: Config, **kwargs: Any) -> None:
        super().__init__(
            scope,
            construct_id,
            description="Bedrock Cost Tracker: Amazon Bedrock cost estimate, CUR 2.0 truth, alerts",
            **kwargs,
        )
        self.config = config

        # --- composition: one line per concern -----------------------------------
        self.alerts = AlertTopic(self, "Alerts", config=config)
        # One customer-managed key for the alert topic and the Athena query results ($1 a month each).
        self.analytics = CurAnalytics(self, "Analytics", config=config, key=self.alerts.key)
        self.state = StateTable(self, "State")
        self.reporter = CurReporter(
            self,
            "CurReporter",
            config=config,
            analytics=self.analytics,
            state_table=self.state.table,
            alert_topic=self.alerts.topic,
        )
        self.estimator = Estimator(
            self,
            "Estimator",
            config=config,
            analytics=self.analytics,
            state=self.state,
            calibration_bucket=self.reporter.bucket,
        )
        self.reporter.read_estimates(self.estimator.bucket, ESTIMATES_PREFIX)
        self.tag_enforcer = TagEnforcer(
            self, "TagEnforcer", config=config, alert_topic=self.alerts.topic, state_table=self.state.table
        )
        if config.alerts.slack_webhook_secret_name:
            self.notifier = SlackNotifier(
                self,
                "SlackNotifier",
                topic=self.alerts.topic,
                secret_name=config.alerts.slack_webhook_secret_name,
                secret_kms_key_arn=config.alerts.slack_webhook_secret_kms_key_arn,
                forward_non_bedrock_anomalies=config.alerts.forward_non_bedrock_anomalies,
            )
        if config.request_logs.enabled:
            self.request_ledger = RequestLedger(
                self,
                "RequestLedger",
                config=config,
                analytics=self.analytics,
                state=self.state,
                alert_topic=self.alerts.topic,
            )
        self.alarms = CostAlarms(self, "Alarms", config=config, topic=self.alerts.topic)
        self.budgets = BedrockBudgets(self, "Budgets", config=config, topic=self.alerts.topic)
        if targets_from_budgets(config.budgets):
            self.burn_rate = BurnRateForecast(
                self, "BurnRate", config=config, topic=self.alerts.topic, state_table=self.state.table
            )
        self.anomaly_detection = CostAnomalyDetection(self, "AnomalyDetection", config=config, topic=self.alerts.topic)
        self.dashboard = CostDashboard(
            self,
            "Dashboard",
            config=config,
            workgroup_name=self.analytics.workgroup_name,
            database_name=self.analytics.database_name,
            alert_topic_arn=self.alerts.topic.topic_arn,
        )
