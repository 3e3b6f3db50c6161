"""Organisation mode, member side: the collector and the regional tag-event forwarder.

Both stacks are deployed by the central stack's StackSets (service-managed permissions)
into every account of the configured OUs, so they are synthesized with the
``BootstraplessSynthesizer``: member accounts have no CDK bootstrap, hence no asset
bucket and no ``BootstrapVersion`` parameter. Everything they need from the central
account arrives as CloudFormation parameters (see ``COLLECTOR_PARAMETERS``).

* **Collector** (``organization.home_region`` of each member): the estimator (AWS/Bedrock
  token metrics of every configured region -> records in the central records bucket
  under ``estimates/account=<id>/``, only the total as a custom metric), the tag enforcer
  (alerts published to the central alert topic, cross-account, scoped by the topic's
  org policy), a state table, and an ``AWS::Oam::Link`` to the central sink so the
  central dashboard reads this account's metrics. Lambda code comes from the central
  artifacts bucket (``Code: {S3Bucket, S3Key}``): StackSets cannot carry CDK assets.
* **Forwarder** (every other configured region): one EventBridge rule sending Bedrock
  CloudTrail create/tag events to a bus in the home region, so the enforcer sees them
  within minutes instead of at the daily scan.

Role names are fixed (``BedrockCostCollector-*``): the central bucket, topic and key
policies match them with ``aws:PrincipalArn`` on top of ``aws:PrincipalOrgID``.
"""

from __future__ import annotations

from typing import Any, Final

from aws_cdk import Aws, BootstraplessSynthesizer, CfnParameter, CliCredentialsStackSynthesizer, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_oam as oam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from bedrock_cost.config import Config
from bedrock_cost.domain.estimator_run import EstimatorConfig
from bedrock_cost.domain.tag_events import TRACKED_EVENT_NAMES
from infra.dead_letters import dead_letter_queue
from infra.estimator import (
    CALIBRATION_PREFIX,
    PRICING_PREFIX,
    WATERMARK_PREFIX,
    estimator_function,
    estimator_schedule,
    grant_metric_and_profile_reads,
)
from infra.lambda_function import BedrockCostFunction, use_code
from infra.nag import acknowledge_wildcard_resources
from infra.state_table import StateTable
from infra.tag_enforcer import TagEnforcer

COLLECTOR_STACK_NAME: Final = "BedrockCostCollector"
FORWARDER_STACK_NAME: Final = "BedrockCostForwarder"
ROLE_PREFIX: Final = "BedrockCostCollector-"
ESTIMATOR_ROLE: Final = f"{ROLE_PREFIX}Estimator"
TAG_ENFORCER_ROLE: Final = f"{ROLE_PREFIX}TagEnforcer"
RECORD_PREFIXES: Final = ("estimates", "requests")
"""Top-level prefixes of the central records bucket; each member writes under ``account=<id>/``."""
OAM_RESOURCE_TYPES: Final = ("AWS::CloudWatch::Metric", "AWS::Logs::LogGroup")

COLLECTOR_PARAMETERS: Final = (
    "CodeBucket",
    "CodeKey",
    "RecordsBucket",
    "CatalogBucket",
    "CalibrationBucket",
    "AlertTopicArn",
    "AlertKeyArn",
    "OamSinkArn",
)
"""What the collector needs from the central stack; the StackSet passes each one."""


def tag_event_pattern() -> events.EventPattern:
    """Bedrock CloudTrail create/tag/untag calls: the events the tag enforcer reacts to."""
    return events.EventPattern(
        source=["aws.bedrock"],
        detail_type=["AWS API Call via CloudTrail"],
        detail={"eventSource": ["bedrock.amazonaws.com"], "eventName": list(TRACKED_EVENT_NAMES)},
    )


def record_prefix(kind: str, account: str = Aws.ACCOUNT_ID) -> str:
    """``estimates/account=<id>``: where one account's records go in the central bucket."""
    if kind not in RECORD_PREFIXES:
        raise ValueError(f"unknown record kind {kind!r}; expected one of {RECORD_PREFIXES}")
    return f"{kind}/account={account}"


class TagEventForwarder(Construct):
    """One rule: this region's Bedrock tag events -> ``target_bus_arn`` (home region)."""

    def __init__(self, scope: Construct, construct_id: str, *, target_bus_arn: str) -> None:
        super().__init__(scope, construct_id)
        self.dead_letters = dead_letter_queue(
            self,
            "This queue is itself the dead-letter destination of the forwarding rule (events the "
            "home-region bus did not accept); it needs no dead-letter queue of its own.",
        )
        self.rule = events.Rule(
            self,
            "Rule",
            description="Forwards Bedrock create/tag API calls to the tag enforcer's home-region bus",
            event_pattern=tag_event_pattern(),
        )
        self.rule.add_target(
            targets.EventBus(
                events.EventBus.from_event_bus_arn(self, "HomeBus", target_bus_arn),
                dead_letter_queue=self.dead_letters,
            )
        )


class ForwarderStack(Stack):
    """StackSet template for a member's non-home regions: the tag-event forwarder only."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(
            scope,
            construct_id,
            synthesizer=BootstraplessSynthesizer(),
            description="Bedrock Cost Tracker (organisation member): forwards Bedrock tag events home",
            **kwargs,
        )
        home = CfnParameter(self, "HomeRegion", description="Region of this account's collector (tag enforcer)")
        self.forwarder = TagEventForwarder(
            self,
            "TagEvents",
            target_bus_arn=f"arn:{Aws.PARTITION}:events:{home.value_as_string}:{Aws.ACCOUNT_ID}:event-bus/default",
        )


class CollectorStack(Stack):
    """StackSet template for a member's home region: estimator, tag enforcer, OAM link."""

    def __init__(self, scope: Construct, construct_id: str, *, config: Config, **kwargs: Any) -> None:
        super().__init__(
            scope,
            construct_id,
            synthesizer=BootstraplessSynthesizer(),
            description="Bedrock Cost Tracker (organisation member): estimator, tag enforcer, OAM link",
            **kwargs,
        )
        organization = config.organization
        if organization is None:
            raise ValueError("the collector stack needs an 'organization' section in the config")
        self.config = config
        self.params = {
            name: CfnParameter(self, name, type="String", description=f"Set by the central StackSet: {name}")
            for name in COLLECTOR_PARAMETERS
        }
        code_bucket = s3.Bucket.from_bucket_name(self, "CodeBucketRef", self._param("CodeBucket"))
        use_code(self, lambda_.Code.from_bucket(code_bucket, self._param("CodeKey")))
        self.records_bucket = s3.Bucket.from_bucket_name(self, "RecordsBucketRef", self._param("RecordsBucket"))

        self.state = StateTable(self, "State")
        self.estimator = self._estimator(config, organization.collector_schedule_minutes)
        alert_topic = sns.Topic.from_topic_arn(self, "CentralAlertTopic", self._param("AlertTopicArn"))
        self.tag_enforcer = TagEnforcer(
            self, "TagEnforcer", config=config, alert_topic=alert_topic, state_table=self.state.table
        )
        enforcer_role = self.tag_enforcer.function.role
        enforcer_role.add_to_principal_policy(
            iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[self._param("AlertKeyArn")])
        )
        _name_role(enforcer_role, TAG_ENFORCER_ROLE)
        self.link = oam.CfnLink(
            self,
            "ObservabilityLink",
            label_template="$AccountName",
            resource_types=list(OAM_RESOURCE_TYPES),
            sink_identifier=self._param("OamSinkArn"),
        )

    def _param(self, name: str) -> str:
        return self.params[name].value_as_string

    def _estimator(self, config: Config, schedule_minutes: int) -> BedrockCostFunction:
        """The estimator, publishing only the total (no budgeted tag series: alarms are central)."""
        base = EstimatorConfig.from_config(config)
        settings = base.model_copy(
            update={
                "estimator": config.estimator.model_copy(update={"schedule_minutes": schedule_minutes}),
                "pinned_tag_values": {},
            }
        )
        estimates = record_prefix("estimates")
        function = estimator_function(
            self,
            "Estimator",
            "Bedrock cost estimate of this account, records to the organisation's central bucket",
            {
                "STATE_TABLE": self.state.table.table_name,
                "ESTIMATES_BUCKET": self._param("RecordsBucket"),
                "ESTIMATES_PREFIX": estimates,
                "CATALOG_BUCKET": self._param("CatalogBucket"),
                "CALIBRATION_BUCKET": self._param("CalibrationBucket"),
                "ESTIMATOR_CONFIG": settings.to_json(),
            },
        )
        cfn_function = function.function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        cfn_function.reserved_concurrent_executions = 1
        _name_role(function.role, ESTIMATOR_ROLE)
        self._grant_estimator(function.role, config, estimates)
        estimator_schedule(self, function, schedule_minutes, "Runs the Bedrock cost estimator of this member account")
        return function

    def _grant_estimator(self, role: iam.IRole, config: Config, estimates: str) -> None:
        profiles = grant_metric_and_profile_reads(self, role, config.regions)
        self.state.grant_prefix(role, WATERMARK_PREFIX, "dynamodb:GetItem", "dynamodb:PutItem")
        records = f"arn:{Aws.PARTITION}:s3:::{self._param('RecordsBucket')}/{estimates}/*"
        prices = f"arn:{Aws.PARTITION}:s3:::{self._param('CatalogBucket')}/{PRICING_PREFIX}/*"
        calibration = f"arn:{Aws.PARTITION}:s3:::{self._param('CalibrationBucket')}/{CALIBRATION_PREFIX}/*"
        role.add_to_principal_policy(iam.PolicyStatement(actions=["s3:PutObject"], resources=[records]))
        role.add_to_principal_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[prices, calibration]))
        # ListBucket turns "no refreshed catalog yet" into a 404 instead of a 403 (see infra/estimator.py).
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[
                    f"arn:{Aws.PARTITION}:s3:::{self._param('CatalogBucket')}",
                    f"arn:{Aws.PARTITION}:s3:::{self._param('CalibrationBucket')}",
                ],
            )
        )
        acknowledge_wildcard_resources(
            role,
            [*profiles, records, prices, calibration],
            "Application inference profiles of this account (created by teams at any time), this "
            "account's hourly record objects in the central bucket, and the central price and "
            "calibration prefixes: each pattern is one prefix, nothing wider.",
        )

    def grant_request_records(self, grantee: iam.IGrantable) -> str:
        """Let ``grantee`` write this account's request records; return their key prefix.

        The extension point for the invocation-log ingest: its function calls this to write
        ``requests/account=<id>/...`` into the central records bucket, whose policy already
        admits that prefix for ``BedrockCostCollector-*`` roles of the organisation.
        """
        prefix = record_prefix("requests")
        objects = f"arn:{Aws.PARTITION}:s3:::{self._param('RecordsBucket')}/{prefix}/*"
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["s3:PutObject"], resources=[objects])
        )
        acknowledge_wildcard_resources(
            grantee.grant_principal,  # type: ignore[arg-type]
            [objects],
            "Request record objects of this account only, under its own prefix of the central bucket.",
        )
        return prefix


def _name_role(role: iam.IRole, name: str) -> None:
    """Give a collector role its fixed name, which the central policies match on."""
    cfn_role = role.node.default_child
    assert isinstance(cfn_role, iam.CfnRole)
    cfn_role.role_name = name


class RegionForwarderStack(Stack):
    """The central account's own non-home regions: tag events -> the central bus (``cdk deploy``).

    Deployed with the CLI's credentials and no assets, so those regions need no CDK bootstrap.
    """

    def __init__(self, scope: Construct, construct_id: str, *, target_bus_arn: str, **kwargs: Any) -> None:
        super().__init__(
            scope,
            construct_id,
            synthesizer=CliCredentialsStackSynthesizer(),
            description="Bedrock Cost Tracker: forwards this region's Bedrock tag events to the home region",
            **kwargs,
        )
        self.forwarder = TagEventForwarder(self, "TagEvents", target_bus_arn=target_bus_arn)
