"""Organisation mode, central side: what the payer (or delegated) account adds.

Built into the single-account stack when the config has ``organization:``:

* **records bucket**: members' estimate (and later request) records. Its policy allows
  ``s3:PutObject`` only to roles named ``BedrockCostCollector-*`` of the organisation
  (``aws:PrincipalOrgID``), each under its own ``<kind>/account=${aws:PrincipalAccount}/``
  prefix; object ownership is enforced, so every object belongs to this account.
* **artifacts bucket**: the Lambda bundle the member collectors run. StackSets cannot
  use CDK file assets, so a small custom resource copies this stack's own code asset
  (already uploaded by ``cdk deploy``) to ``collector/<asset hash>.zip``; the StackSet
  passes that key to the collector. Readable by the organisation only.
* **event bus** ``bedrock-cost-tracker``: ``events:PutEvents`` from the organisation
  only. Rules: Bedrock tag events of this account's other regions -> tag enforcer;
  alert events (our own envelope, CloudWatch alarm state changes) -> alert topic.
* **Glue table** ``bedrock_org_estimates``: the members' estimate records in Athena, in
  the CUR database (account and region are in each object's path: ``"$path"``).
* **OAM sink**: organisation accounts may link metrics and log groups, so the dashboard
  in this account reads every member.
* **StackSets** (service-managed, auto-deployment on): the collector in the home region
  and the tag-event forwarder in every other configured region, of every account in the
  configured OUs.
* cross-account reads granted on existing resources: price catalog (``pricing/``),
  CUR calibration (``calibration/``), and publish on the alert topic and its key.
"""

from __future__ import annotations

import json
from typing import Any, Final

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_cloudformation as cfn
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_oam as oam
from aws_cdk import aws_s3 as s3
from aws_cdk import custom_resources as cr
from constructs import Construct

from bedrock_cost.config import Config, Organization
from infra.estimator import CALIBRATION_PREFIX, ESTIMATES_PREFIX, PRICING_PREFIX, estimate_records_table
from infra.lambda_function import shared_code
from infra.org_collector import (
    COLLECTOR_STACK_NAME,
    ESTIMATOR_ROLE,
    FORWARDER_STACK_NAME,
    OAM_RESOURCE_TYPES,
    RECORD_PREFIXES,
    ROLE_PREFIX,
    TAG_ENFORCER_ROLE,
    tag_event_pattern,
)

CENTRAL_BUS_NAME: Final = "bedrock-cost-tracker"
ORG_ESTIMATES_TABLE: Final = "bedrock_org_estimates"
CODE_PREFIX: Final = "collector"
ALERT_SOURCE: Final = "bedrock-cost-tracker"
STACKSET_TEMPLATE_LIMIT: Final = 51_200
"""CloudFormation's TemplateBody limit in bytes; larger templates would need a TemplateURL."""


def central_bus_arn(home_region: str) -> str:
    """The central bus ARN, known before deployment (fixed name, this account)."""
    return f"arn:{Aws.PARTITION}:events:{home_region}:{Aws.ACCOUNT_ID}:event-bus/{CENTRAL_BUS_NAME}"


def template_body(template: dict[str, Any]) -> str:
    """Compact JSON of a member template for ``TemplateBody``, without CDK's metadata.

    The full template (with the cdk-nag audit trail) stays in ``cdk.out``; metadata is
    not needed to deploy and would push the body past CloudFormation's limit.
    """
    resources = {
        logical_id: {key: value for key, value in resource.items() if key != "Metadata"}
        for logical_id, resource in template.get("Resources", {}).items()
    }
    body = json.dumps({**template, "Resources": resources}, separators=(",", ":"), sort_keys=True)
    if len(body.encode("utf-8")) > STACKSET_TEMPLATE_LIMIT:
        raise ValueError(
            f"member template is {len(body)} bytes, over the {STACKSET_TEMPLATE_LIMIT}-byte TemplateBody limit"
        )
    return body


def _org_principal(org_id: str, role_pattern: str) -> dict[str, dict[str, str]]:
    """Condition: a principal of the organisation whose role name matches ``role_pattern``."""
    return {
        "StringEquals": {"aws:PrincipalOrgID": org_id},
        "ArnLike": {"aws:PrincipalArn": f"arn:{Aws.PARTITION}:iam::*:role/{role_pattern}"},
    }


class OrganizationHub(Construct):
    """The central account's organisation resources (see the module docstring)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: Config,
        tracker: Any,
        collector_template: dict[str, Any],
        forwarder_template: dict[str, Any],
    ) -> None:
        super().__init__(scope, construct_id)
        organization = config.organization
        if organization is None:
            raise ValueError("OrganizationHub needs an 'organization' section in the config")
        self._org = organization
        logs_bucket: s3.IBucket = tracker.analytics.access_logs_bucket
        self.records_bucket = self._bucket("Records", logs_bucket, "org-records-bucket/")
        self.artifacts_bucket = self._bucket("Artifacts", logs_bucket, "org-artifacts-bucket/")
        self._records_policy()
        self.org_estimates_table = self._org_estimates_table(tracker)
        self._artifacts_policy()
        self._share_prices(tracker)
        self._share_alert_topic(tracker)
        self.bus = self._event_bus(tracker)
        self.sink = self._oam_sink()
        self.code_key, copy = self._publish_code()
        self.collector_stack_set = self._stack_set(
            "CollectorStackSet",
            COLLECTOR_STACK_NAME,
            collector_template,
            regions=[organization.home_region],
            parameters={
                "CodeBucket": self.artifacts_bucket.bucket_name,
                "CodeKey": self.code_key,
                "RecordsBucket": self.records_bucket.bucket_name,
                "CatalogBucket": tracker.estimator.bucket.bucket_name,
                "CalibrationBucket": tracker.reporter.bucket.bucket_name,
                "AlertTopicArn": tracker.alerts.topic.topic_arn,
                "AlertKeyArn": tracker.alerts.key.key_arn,
                "OamSinkArn": self.sink.attr_arn,
            },
        )
        self.collector_stack_set.node.add_dependency(copy)
        other_regions = [region for region in config.regions if region != organization.home_region]
        self.forwarder_stack_set = (
            self._stack_set(
                "ForwarderStackSet",
                FORWARDER_STACK_NAME,
                forwarder_template,
                regions=other_regions,
                parameters={"HomeRegion": organization.home_region},
            )
            if other_regions
            else None
        )

    # ------------------------------------------------------------------ buckets

    def _bucket(self, construct_id: str, logs_bucket: s3.IBucket, logs_prefix: str) -> s3.Bucket:
        return s3.Bucket(
            self,
            construct_id,
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=logs_bucket,
            server_access_logs_prefix=logs_prefix,
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[s3.LifecycleRule(abort_incomplete_multipart_upload_after=Duration.days(1))],
        )

    def _records_policy(self) -> None:
        bucket = self.records_bucket
        own_prefixes = [
            bucket.arn_for_objects(f"{kind}/account=${{aws:PrincipalAccount}}/*") for kind in RECORD_PREFIXES
        ]
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CollectorsWriteTheirOwnRecords",
                principals=[iam.AnyPrincipal()],
                actions=["s3:PutObject"],
                resources=own_prefixes,
                conditions=_org_principal(self._org.organization_id, f"{ROLE_PREFIX}*"),
            )
        )

    def _org_estimates_table(self, tracker: Any) -> Any:
        """Every member's estimate records, one table: the records' own columns, read from
        ``estimates/`` and everything below it. Not partitioned: member account ids are not
        known at synth time (partition projection needs them, or a filter in every query),
        and 30 days of hourly records per account are megabytes. ``"$path"`` names the
        account (``account=<id>``) and the region (``region=<name>``) of each row."""
        analytics = tracker.analytics
        location = f"s3://{self.records_bucket.bucket_name}/{ESTIMATES_PREFIX}/"
        return estimate_records_table(
            self,
            "OrgEstimatesTable",
            analytics,
            name=ORG_ESTIMATES_TABLE,
            description="Near-real-time Bedrock cost estimate of every member account (clock: estimate); "
            'account and region from "$path"',
            location=location,
        )

    def _artifacts_policy(self) -> None:
        # Lambda fetches the code with the credentials of whoever creates the function: the
        # StackSet execution role in the member account, whose name is AWS's, not ours.
        self.artifacts_bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="OrganizationReadsCollectorCode",
                principals=[iam.AnyPrincipal()],
                actions=["s3:GetObject"],
                resources=[self.artifacts_bucket.arn_for_objects(f"{CODE_PREFIX}/*")],
                conditions={"StringEquals": {"aws:PrincipalOrgID": self._org.organization_id}},
            )
        )

    def _share_prices(self, tracker: Any) -> None:
        condition = _org_principal(self._org.organization_id, ESTIMATOR_ROLE)
        shared = ((tracker.estimator.bucket, PRICING_PREFIX), (tracker.reporter.bucket, CALIBRATION_PREFIX))
        for index, (bucket, prefix) in enumerate(shared):
            bucket.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=f"CollectorsRead{prefix.capitalize()}{index}",
                    principals=[iam.AnyPrincipal()],
                    actions=["s3:GetObject"],
                    resources=[bucket.arn_for_objects(f"{prefix}/*")],
                    conditions=condition,
                )
            )
            # Without ListBucket a missing object answers 403, not 404 (infra/estimator.py).
            bucket.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=f"CollectorsList{prefix.capitalize()}{index}",
                    principals=[iam.AnyPrincipal()],
                    actions=["s3:ListBucket"],
                    resources=[bucket.bucket_arn],
                    conditions=condition,
                )
            )

    def _share_alert_topic(self, tracker: Any) -> None:
        condition = _org_principal(self._org.organization_id, TAG_ENFORCER_ROLE)
        tracker.alerts.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CollectorTagEnforcersPublish",
                principals=[iam.AnyPrincipal()],
                actions=["sns:Publish"],
                resources=[tracker.alerts.topic.topic_arn],
                conditions=condition,
            )
        )
        tracker.alerts.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CollectorTagEnforcersEncryptThroughSns",
                principals=[iam.AnyPrincipal()],
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions={
                    **condition,
                    "StringEquals": {
                        **condition["StringEquals"],
                        "kms:ViaService": f"sns.{Aws.REGION}.amazonaws.com",
                    },
                },
            )
        )
        # EventBridge delivers alert events from the central bus to the encrypted topic.
        tracker.alerts.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="EventBridgeEncryptsAlertEvents",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )

    # ------------------------------------------------------------------ events

    def _event_bus(self, tracker: Any) -> events.EventBus:
        bus = events.EventBus(self, "Bus", event_bus_name=CENTRAL_BUS_NAME)
        bus.add_to_resource_policy(
            iam.PolicyStatement(
                sid="OrganizationPutEvents",
                principals=[iam.AnyPrincipal()],
                actions=["events:PutEvents"],
                resources=[bus.event_bus_arn],
                conditions={"StringEquals": {"aws:PrincipalOrgID": self._org.organization_id}},
            )
        )
        enforcer = tracker.tag_enforcer
        events.Rule(
            self,
            "TagEventsToEnforcer",
            event_bus=bus,
            description="Bedrock tag events forwarded from this account's other regions -> tag enforcer",
            event_pattern=events.EventPattern(
                account=[Aws.ACCOUNT_ID],
                source=tag_event_pattern().source,
                detail_type=tag_event_pattern().detail_type,
                detail=tag_event_pattern().detail,
            ),
            targets=[
                targets.LambdaFunction(
                    enforcer.function.function,
                    retry_attempts=4,
                    max_event_age=Duration.hours(2),
                    dead_letter_queue=enforcer.dead_letters,
                )
            ],
        )
        events.Rule(
            self,
            "AlertEventsToTopic",
            event_bus=bus,
            description="Alert events from the organisation (our envelope, alarm state changes) -> alert topic",
            event_pattern=events.EventPattern(
                source=[ALERT_SOURCE, "aws.cloudwatch"],
                detail_type=["Bedrock cost alert", "CloudWatch Alarm State Change"],
            ),
            targets=[
                targets.SnsTopic(
                    tracker.alerts.topic,
                    message=events.RuleTargetInput.from_event_path("$.detail"),
                    retry_attempts=4,
                    dead_letter_queue=enforcer.dead_letters,
                )
            ],
        )
        return bus

    def _oam_sink(self) -> oam.CfnSink:
        return oam.CfnSink(
            self,
            "ObservabilitySink",
            name="bedrock-cost-tracker",
            policy={
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Resource": "*",
                        "Action": ["oam:CreateLink", "oam:UpdateLink"],
                        "Condition": {
                            "StringEquals": {"aws:PrincipalOrgID": self._org.organization_id},
                            "ForAllValues:StringEquals": {"oam:ResourceTypes": list(OAM_RESOURCE_TYPES)},
                        },
                    }
                ],
            },
        )

    # ------------------------------------------------------------------ code and StackSets

    def _publish_code(self) -> tuple[str, Construct]:
        """Copy this stack's code asset to the artifacts bucket; return its key there."""
        location = shared_code(self).bind(self).s3_location
        if location is None:
            raise ValueError("the shared code is not an S3 asset; the collector cannot be published")
        key = f"{CODE_PREFIX}/{location.object_key}"
        call = cr.AwsSdkCall(
            service="S3",
            action="copyObject",
            parameters={
                "CopySource": f"{location.bucket_name}/{location.object_key}",
                "Bucket": self.artifacts_bucket.bucket_name,
                "Key": key,
            },
            physical_resource_id=cr.PhysicalResourceId.of(key),
        )
        role = iam.Role(
            self,
            "CodeCopyRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Copies the collector's Lambda bundle to the organisation artifacts bucket",
        )
        source = f"arn:{Aws.PARTITION}:s3:::{location.bucket_name}/{location.object_key}"
        role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[source]))
        role.add_to_policy(
            iam.PolicyStatement(actions=["s3:PutObject"], resources=[self.artifacts_bucket.arn_for_objects(key)])
        )
        copy = cr.AwsCustomResource(
            self,
            "CodeCopy",
            on_create=call,
            on_update=call,
            role=role,
            install_latest_aws_sdk=False,
            timeout=Duration.minutes(2),
        )
        return key, copy

    def _stack_set(
        self,
        construct_id: str,
        name: str,
        template: dict[str, Any],
        *,
        regions: list[str],
        parameters: dict[str, str],
    ) -> cfn.CfnStackSet:
        org: Organization = self._org
        return cfn.CfnStackSet(
            self,
            construct_id,
            stack_set_name=name,
            description=f"Bedrock Cost Tracker organisation members: {name}",
            permission_model="SERVICE_MANAGED",
            auto_deployment=cfn.CfnStackSet.AutoDeploymentProperty(
                enabled=True, retain_stacks_on_account_removal=False
            ),
            call_as=org.call_as,
            managed_execution={"Active": True},
            capabilities=["CAPABILITY_NAMED_IAM"],
            operation_preferences=cfn.CfnStackSet.OperationPreferencesProperty(
                failure_tolerance_percentage=10,
                max_concurrent_percentage=25,
                region_concurrency_type="PARALLEL",
            ),
            parameters=[
                cfn.CfnStackSet.ParameterProperty(parameter_key=key, parameter_value=value)
                for key, value in parameters.items()
            ],
            stack_instances_group=[
                cfn.CfnStackSet.StackInstancesProperty(
                    deployment_targets=cfn.CfnStackSet.DeploymentTargetsProperty(
                        organizational_unit_ids=list(org.organizational_unit_ids)
                    ),
                    regions=regions,
                )
            ],
            template_body=template_body(template),
        )
