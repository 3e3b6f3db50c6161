"""Publish alerts to the SNS topic exactly once per ``dedupe_key``.

A conditional put in the state table claims the key first; only the claimant
publishes. If the publish fails the claim is released so the next run retries: an
alert may be late, but is never lost and never sent twice.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from bedrock_cost.adapters.aws_errors import translate_client_error
from bedrock_cost.domain.alerts import Alert

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sns import SNSClient

DEDUPE_TTL_SECONDS = 45 * 24 * 3600
"""Keep claims a little longer than a billing period so monthly thresholds fire once."""


class AlertPublisher:
    def __init__(self, sns: SNSClient, topic_arn: str, dynamodb: DynamoDBClient, state_table: str) -> None:
        self._sns = sns
        self._topic_arn = topic_arn
        self._dynamodb = dynamodb
        self._table = state_table

    def publish(self, alert: Alert) -> bool:
        """Send ``alert`` unless its key was sent before; return whether it was sent."""
        if not self._claim(alert.dedupe_key):
            return False
        try:
            self._sns.publish(
                TopicArn=self._topic_arn,
                Message=alert.to_json(),
                Subject=alert.sns_subject,
                MessageAttributes={
                    "kind": {"DataType": "String", "StringValue": alert.kind},
                    "severity": {"DataType": "String", "StringValue": alert.severity},
                },
            )
        except ClientError as exc:
            self._release(alert.dedupe_key)
            raise translate_client_error(exc, f"publishing alert {alert.dedupe_key}") from exc
        return True

    def _claim(self, key: str) -> bool:
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": f"alert#{key}"},
                    "sk": {"S": "alert"},
                    "expires_at": {"N": str(int(time.time()) + DEDUPE_TTL_SECONDS)},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise translate_client_error(exc, f"claiming alert {key}") from exc
        return True

    def _release(self, key: str) -> None:
        try:
            self._dynamodb.delete_item(TableName=self._table, Key={"pk": {"S": f"alert#{key}"}, "sk": {"S": "alert"}})
        except ClientError as exc:
            raise translate_client_error(exc, f"releasing alert {key}") from exc
