"""The Slack notifier: a Lambda subscribed to the alert topic, its dead letters and its health.

- Subscribed to the alert topic. The webhook URL is read from Secrets Manager at run
  time; the function may read only that secret (ARN pattern ``<name>-??????``). A secret
  encrypted with a customer-managed key (``alerts.slack_webhook_secret_kms_key_arn``)
  also needs ``kms:Decrypt`` on that key, granted only through Secrets Manager in this
  region (``kms:ViaService``); the key's own policy must allow the account to delegate
  (the default key policy does).
- The webhook URL is a credential: the package's tracer patches only botocore
  (``observability.TRACED_MODULES``), so no X-Ray subsegment records the HTTP call's URL.
- One event, one message: Powertools idempotency records live in a DynamoDB table of
  their own (TTL ``expiration``), keyed on the SNS ``MessageId`` and our ``dedupe_key``.
- Nothing is lost: a failed invocation is retried twice by Lambda, then lands in an
  encrypted SQS dead-letter queue (on-failure destination); SNS deliveries that never
  reach the function (throttled, permission error) land in the same queue (subscription
  DLQ). A dead letter raises an alarm to the topic, which e-mail subscribers receive
  even when Slack is the part that is broken.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from bedrock_cost.domain.aws_notifications import alarm_marker
from infra.dead_letters import dead_letter_queue
from infra.lambda_function import METRICS_NAMESPACE, BedrockCostFunction

HANDLER: Final = "bedrock_cost.handlers.slack_notifier.handler"
SERVICE_NAME: Final = "slack-notifier"
TIMEOUT: Final = Duration.seconds(60)
"""Long enough to ride out a Slack rate limit (Retry-After) and a few 5xx with backoff."""
LAMBDA_RETRIES: Final = 2
MAX_EVENT_AGE: Final = Duration.hours(6)


def secret_arn_pattern(secret_name: str) -> str:
    """Secrets Manager appends ``-`` and six random characters to a secret's name in its ARN."""
    return f"arn:{Aws.PARTITION}:secretsmanager:{Aws.REGION}:{Aws.ACCOUNT_ID}:secret:{secret_name}-??????"


class SlackNotifier(Construct):
    """``.function``, ``.dead_letters`` (SQS), ``.idempotency_table``, ``.alarms``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topic: sns.ITopic,
        secret_name: str,
        secret_kms_key_arn: str | None = None,
        forward_non_bedrock_anomalies: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letters = dead_letter_queue(
            self,
            "This queue is the dead-letter queue (Lambda on-failure destination and SNS subscription DLQ).",
        )
        self.idempotency_table = dynamodb.Table(
            self,
            "Idempotency",
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute="expiration",
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.handler = BedrockCostFunction(
            self,
            "Function",
            handler=HANDLER,
            description="Posts Bedrock cost alerts (ours, alarms, Budgets, anomalies) to Slack, once each",
            service_name=SERVICE_NAME,
            environment={
                "SLACK_WEBHOOK_SECRET_ID": secret_name,
                "IDEMPOTENCY_TABLE_NAME": self.idempotency_table.table_name,
                "FORWARD_NON_BEDROCK_ANOMALIES": "true" if forward_non_bedrock_anomalies else "false",
            },
            timeout=TIMEOUT,
        )
        self.function = self.handler.function
        self.handler.add_to_role_policy(
            iam.PolicyStatement(
                sid="ReadSlackWebhookSecret",
                actions=["secretsmanager:GetSecretValue"],
                resources=[secret_arn_pattern(secret_name)],
            )
        )
        if secret_kms_key_arn:
            self.handler.add_to_role_policy(
                iam.PolicyStatement(
                    sid="DecryptSlackWebhookSecretThroughSecretsManager",
                    actions=["kms:Decrypt"],
                    resources=[secret_kms_key_arn],
                    conditions={"StringEquals": {"kms:ViaService": f"secretsmanager.{Aws.REGION}.amazonaws.com"}},
                )
            )
        self.handler.add_to_role_policy(
            iam.PolicyStatement(
                sid="IdempotencyRecords",
                actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
                resources=[self.idempotency_table.table_arn],
            )
        )
        self.function.configure_async_invoke(
            retry_attempts=LAMBDA_RETRIES,
            max_event_age=MAX_EVENT_AGE,
            on_failure=destinations.SqsDestination(self.dead_letters),
        )
        topic.add_subscription(subscriptions.LambdaSubscription(self.function, dead_letter_queue=self.dead_letters))
        self.alarms = self._health_alarms(topic)

    def _health_alarms(self, topic: sns.ITopic) -> list[cloudwatch.Alarm]:
        action = cw_actions.SnsAction(topic)
        dead_letters = cloudwatch.Alarm(
            self,
            "DeadLettersAlarm",
            alarm_description=(
                "Alerts could not be delivered to Slack and wait in the dead-letter queue; "
                "fix the webhook, then redrive the queue. "
                + alarm_marker("anomaly", "critical", {"component": "slack-notifier"})
            ),
            metric=self.dead_letters.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(5), statistic="Maximum"
            ),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            # SQS publishes this metric every 5 minutes even when the queue is empty; a gap
            # means no data yet, not a problem.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        failures = cloudwatch.Alarm(
            self,
            "FailuresAlarm",
            alarm_description=(
                "The Slack notifier failed to deliver an alert (rejected, timed out or rate limited past its "
                "deadline); Lambda retries, then dead-letters it. "
                + alarm_marker("anomaly", "warning", {"component": "slack-notifier"})
            ),
            metric=cloudwatch.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name="NotificationFailures",
                statistic="Sum",
                period=Duration.minutes(5),
            ),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            # Emitted only when a delivery fails: no data is the healthy state.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        for alarm in (dead_letters, failures):
            alarm.add_alarm_action(action)
        return [dead_letters, failures]
