"""Slack notifier: every message on the alert topic becomes one Slack message.

Subscribed to the alert topic. For each SNS record it parses the message (our
envelope, a CloudWatch alarm, a Cost Anomaly Detection anomaly or an AWS Budgets
notification) into an ``Alert``, renders it as Block Kit and posts it to the webhook
whose URL is read from Secrets Manager.

One event, one message:
- SNS delivers at least once and Lambda retries failed async invocations, so delivery
  is idempotent on the SNS ``MessageId`` (Powertools idempotency, DynamoDB table with
  TTL);
- our producers may publish the same alert twice (a retried run after a partial
  failure), so envelopes are also idempotent on their ``dedupe_key``.

A post Slack received but did not answer in time is recorded as ``unconfirmed`` and not
re-posted (incoming webhooks have no idempotency key; see ``adapters/slack_webhook``):
the idempotency record is stored, so neither Lambda's retry nor SNS's redelivery posts it
a second time; the log line and ``NotificationsUnconfirmed`` say which message to check.

Cost anomalies of services other than Bedrock (the services monitor sees them all) are
not posted unless ``FORWARD_NON_BEDROCK_ANOMALIES`` is ``true``.

Nothing else is dropped: a message no parser recognises is posted verbatim; a message Slack
refuses (4xx) or that still fails when retries run out of the invocation's time raises,
which fails the invocation and sends the event to the on-failure destination (an SQS
dead-letter queue) after Lambda's own retries, and counts ``NotificationFailures``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import SnsModel, SnsRecordModel
from botocore.config import Config as BotoConfig
from pydantic import BaseModel, ConfigDict, Field

from bedrock_cost.adapters.secrets import SecretCache, webhook_url_from_secret
from bedrock_cost.adapters.slack_webhook import (
    RetryPolicy,
    SlackDeliveryError,
    SlackRejectedError,
    SlackUnconfirmedError,
    SlackWebhook,
)
from bedrock_cost.domain.alerts import Alert
from bedrock_cost.domain.aws_notifications import (
    UnrecognisedNotificationError,
    anomaly_concerns_bedrock,
    parse_notification,
)
from bedrock_cost.domain.slack_messages import render, render_unrecognised
from bedrock_cost.handlers.wiring import container_wiring, environment_loader
from bedrock_cost.observability import logger, metrics, tracer

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_secretsmanager import SecretsManagerClient

MESSAGE_IDEMPOTENCY_SECONDS = 24 * 3600
"""SNS redelivery and Lambda retries happen within hours; a day is ample."""
ALERT_IDEMPOTENCY_SECONDS = 45 * 24 * 3600
"""Same horizon as the publishers' claims: one message per threshold per billing period."""
SAFETY_MARGIN_SECONDS = 3.0
"""Time kept back from the Lambda timeout to record the outcome and flush metrics."""
REVOKED_WEBHOOK_STATUS = frozenset({403, 404, 410})

Status = Literal["sent", "duplicate", "unconfirmed", "skipped"]


class SlackNotifierEnvironment(BaseModel):
    """Environment of the notifier function, validated on first use."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    SLACK_WEBHOOK_SECRET_ID: str = Field(min_length=1)
    IDEMPOTENCY_TABLE_NAME: str = Field(min_length=1)
    FORWARD_NON_BEDROCK_ANOMALIES: bool = False


@dataclass(frozen=True)
class RecordOutcome:
    message_id: str
    status: Status
    origin: str
    kind: str
    attempts: int = 0


@dataclass
class NotifierResult:
    delivered: list[RecordOutcome] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"delivered": [asdict(outcome) for outcome in self.delivered], "failed": self.failed}


def _mark_duplicate(response: Any, idempotent_data: DataRecord) -> Any:
    """Powertools calls this when it answers from the store: the message was sent before."""
    del idempotent_data  # the stored response says everything we report
    if isinstance(response, dict):
        return {**response, "status": "duplicate", "attempts": 0}
    return response


@dataclass(frozen=True)
class _AtMostOnce:
    """How one delivery is made idempotent: which keyword argument holds the data, which of
    its fields is the key, the stored keys' prefix (changing it would resend everything
    delivered within ``expires_after_seconds``) and how long a delivery is remembered."""

    data_keyword_argument: str
    event_key_jmespath: str
    key_prefix: str
    expires_after_seconds: int

    def wrap(
        self, function: Callable[..., Any], store: BasePersistenceLayer
    ) -> tuple[IdempotencyConfig, Callable[..., Any]]:
        """``function`` run at most once per key, and its config (it needs each invocation's context)."""
        config = IdempotencyConfig(
            event_key_jmespath=self.event_key_jmespath,
            raise_on_no_idempotency_key=True,
            expires_after_seconds=self.expires_after_seconds,
            response_hook=_mark_duplicate,
        )
        wrapped = idempotent_function(
            function,
            data_keyword_argument=self.data_keyword_argument,
            persistence_store=store,
            config=config,
            key_prefix=self.key_prefix,
        )
        return config, wrapped


_ONCE_PER_MESSAGE = _AtMostOnce("notification", "message_id", "sns-message", MESSAGE_IDEMPOTENCY_SECONDS)
_ONCE_PER_ALERT = _AtMostOnce("envelope", "dedupe_key", "alert-dedupe", ALERT_IDEMPOTENCY_SECONDS)


class SlackNotifier:
    """Parse, render and post SNS records exactly once each."""

    def __init__(
        self,
        *,
        secrets: SecretCache,
        secret_id: str,
        message_store: BasePersistenceLayer,
        alert_store: BasePersistenceLayer,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        forward_non_bedrock_anomalies: bool = False,
    ) -> None:
        self._forward_all_anomalies = forward_non_bedrock_anomalies
        self._secrets = secrets
        self._secret_id = secret_id
        self._retry = retry or RetryPolicy()
        self._clock = clock
        self._sleep = sleep
        self._deadline = 0.0
        # Two stores: Powertools configures a store per call, so nested idempotent calls
        # must not share one.
        self._message_config, self._deliver_message = _ONCE_PER_MESSAGE.wrap(self._deliver_message_once, message_store)
        self._alert_config, self._deliver_alert = _ONCE_PER_ALERT.wrap(self._deliver_alert_once, alert_store)

    def handle(self, records: Sequence[SnsRecordModel], context: LambdaContext) -> NotifierResult:
        """Deliver every record; raise ``SlackDeliveryError`` at the end if any could not be delivered."""
        self._message_config.register_lambda_context(context)
        self._alert_config.register_lambda_context(context)
        self._deadline = self._clock() + context.get_remaining_time_in_millis() / 1000 - SAFETY_MARGIN_SECONDS
        result = NotifierResult()
        errors: list[SlackDeliveryError] = []
        for record in records:
            sns = record.Sns
            notification = {
                "message_id": sns.MessageId,
                "message": str(sns.Message),
                "subject": sns.Subject,
            }
            try:
                outcome = self._deliver_message(notification=notification)
            except SlackDeliveryError as exc:
                metrics.add_metric(name="NotificationFailures", unit=MetricUnit.Count, value=1)
                logger.error("slack delivery failed", message_id=sns.MessageId, error=str(exc), attempts=exc.attempts)
                result.failed.append(sns.MessageId)
                errors.append(exc)
                continue
            delivered = RecordOutcome(
                message_id=sns.MessageId,
                status=outcome["status"],
                origin=outcome["origin"],
                kind=outcome["kind"],
                attempts=int(outcome.get("attempts", 0)),
            )
            result.delivered.append(delivered)
            metric = {
                "sent": "NotificationsSent",
                "duplicate": "NotificationsDeduplicated",
                "unconfirmed": "NotificationsUnconfirmed",
                "skipped": "NotificationsSkipped",
            }[delivered.status]
            metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
            logger.info("notification handled", **asdict(delivered))
        if len(errors) == 1:
            raise errors[0]
        if errors:
            pairs = zip(result.failed, errors, strict=True)
            summary = "; ".join(f"{message_id}: {error}" for message_id, error in pairs)
            raise SlackDeliveryError(summary, attempts=sum(error.attempts for error in errors))
        return result

    # -- idempotent units ---------------------------------------------------------------

    def _deliver_message_once(self, notification: dict[str, Any]) -> dict[str, Any]:
        message = str(notification["message"])
        subject = notification.get("subject")
        try:
            parsed = parse_notification(message, subject)
        except UnrecognisedNotificationError as exc:
            metrics.add_metric(name="UnrecognisedNotifications", unit=MetricUnit.Count, value=1)
            logger.warning("unrecognised notification forwarded verbatim", reason=str(exc))
            status, attempts = self._post(render_unrecognised(message, subject, str(exc)))
            return {"status": status, "origin": "unrecognised", "kind": "unrecognised", "attempts": attempts}
        if parsed.origin == "envelope":
            outcome = self._deliver_alert(envelope={"dedupe_key": parsed.alert.dedupe_key, "alert": message})
            return {**outcome, "origin": "envelope"}
        if (
            parsed.origin == "cost_anomaly"
            and not self._forward_all_anomalies
            and not anomaly_concerns_bedrock(message)
        ):
            logger.info("cost anomaly of another service not forwarded", dedupe_key=parsed.alert.dedupe_key)
            return {"status": "skipped", "origin": parsed.origin, "kind": parsed.alert.kind, "attempts": 0}
        status, attempts = self._post(render(parsed.alert))
        return {"status": status, "origin": parsed.origin, "kind": parsed.alert.kind, "attempts": attempts}

    def _deliver_alert_once(self, envelope: dict[str, Any]) -> dict[str, Any]:
        alert = Alert.from_json(str(envelope["alert"]))
        status, attempts = self._post(render(alert))
        return {"status": status, "kind": alert.kind, "attempts": attempts}

    def _post(self, payload: dict[str, Any]) -> tuple[Status, int]:
        """Post once; ``("unconfirmed", n)`` when Slack got it but never answered (not re-posted)."""
        url = webhook_url_from_secret(self._secrets.get(self._secret_id), self._secret_id)
        webhook = SlackWebhook(url, self._retry, clock=self._clock, sleep=self._sleep)
        try:
            return "sent", webhook.post(payload, deadline=self._deadline)
        except SlackUnconfirmedError as exc:
            logger.warning("slack delivery unconfirmed; not re-posted, check the channel", error=str(exc))
            return "unconfirmed", exc.attempts
        except SlackRejectedError as exc:
            if exc.status in REVOKED_WEBHOOK_STATUS:
                self._secrets.invalidate(self._secret_id)  # pick up a rotated webhook next time
            raise


load_environment = environment_loader(SlackNotifierEnvironment, "slack-notifier")


def build_notifier(
    *,
    secrets_client: SecretsManagerClient,
    dynamodb_client: DynamoDBClient,
    env: SlackNotifierEnvironment,
    retry: RetryPolicy | None = None,
) -> SlackNotifier:
    """Wire a notifier from clients and the environment model (the demo passes emulator clients)."""
    table = env.IDEMPOTENCY_TABLE_NAME
    return SlackNotifier(
        secrets=SecretCache(secrets_client),
        secret_id=env.SLACK_WEBHOOK_SECRET_ID,
        message_store=DynamoDBPersistenceLayer(table_name=table, boto3_client=dynamodb_client),
        alert_store=DynamoDBPersistenceLayer(table_name=table, boto3_client=dynamodb_client),
        retry=retry,
        forward_non_bedrock_anomalies=env.FORWARD_NON_BEDROCK_ANOMALIES,
    )


def build_dependencies(env: SlackNotifierEnvironment) -> SlackNotifier:
    """The deployed wiring: Secrets Manager and DynamoDB clients with short timeouts."""
    boto_config = BotoConfig(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=3, read_timeout=5)
    return build_notifier(
        secrets_client=boto3.client("secretsmanager", config=boto_config),
        dynamodb_client=boto3.client("dynamodb", config=boto_config),
        env=env,
    )


configure, current_dependencies = container_wiring(lambda: build_dependencies(load_environment()))


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Deliver every SNS record of the event to Slack, once each."""
    notifier = current_dependencies()
    sns_event = parse(event=event, model=SnsModel)
    return notifier.handle(sns_event.Records, context).as_dict()
