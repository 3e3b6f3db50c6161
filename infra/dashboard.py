"""The CloudWatch dashboard, from the same body the demo writes to ``dashboard.json``.

The widgets are built by ``bedrock_cost.dashboards.body`` (plain data, tested without
CDK); this construct only serialises the body, letting CDK turn the stack region and the
names of the workgroup, database and alert topic into CloudFormation references.
"""

from __future__ import annotations

from aws_cdk import Aws, CfnOutput, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from bedrock_cost.config import Config
from bedrock_cost.dashboards.body import build_dashboard_body
from bedrock_cost.dashboards.widgets import DashboardLinks


class CostDashboard(Construct):
    """``AWS::CloudWatch::Dashboard`` generated from the config (generated name, so two stacks can coexist)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: Config,
        workgroup_name: str | None = None,
        database_name: str | None = None,
        alert_topic_arn: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        links = DashboardLinks(
            region=Aws.REGION,
            athena_workgroup=workgroup_name,
            athena_database=database_name,
            alert_topic_arn=alert_topic_arn,
        )
        self.body = build_dashboard_body(config, links)
        self.dashboard = cloudwatch.CfnDashboard(
            self, "Dashboard", dashboard_body=Stack.of(self).to_json_string(self.body)
        )
        self.dashboard_name: str = self.dashboard.ref
        CfnOutput(
            self,
            "DashboardUrl",
            description="CloudWatch dashboard of Bedrock cost, budgets, tokens and tag compliance",
            value=(
                f"https://{Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region={Aws.REGION}"
                f"#dashboards/dashboard/{self.dashboard_name}"
            ),
        )
