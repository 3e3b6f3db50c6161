"""Deliver what was published to an SNS topic to a Lambda handler, without Lambda.

In AWS the alert topic invokes the Slack notifier itself. The emulator cannot run
Lambda functions, so the demo (and the notifier's integration tests) subscribe an SQS
queue to the topic, read what SNS delivered there and turn each delivery into the
event SNS would have sent to Lambda: same ``MessageId``, ``Subject``, ``Message``,
attributes, timestamps and signature fields, only renamed the way the Lambda event
names them (``SigningCertURL`` -> ``SigningCertUrl``...).
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient

MAX_BATCH = 10


def lambda_record(delivery: dict[str, Any], subscription_arn: str) -> dict[str, Any]:
    """One ``Records[]`` entry of an SNS->Lambda event from an SNS->SQS delivery body."""
    attributes = {
        name: {"Type": value.get("Type", "String"), "Value": value.get("Value", "")}
        for name, value in (delivery.get("MessageAttributes") or {}).items()
    }
    return {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription_arn,
        "Sns": {
            "Type": delivery["Type"],
            "MessageId": delivery["MessageId"],
            "TopicArn": delivery["TopicArn"],
            "Subject": delivery.get("Subject"),
            "Message": delivery["Message"],
            "Timestamp": delivery["Timestamp"],
            "SignatureVersion": delivery.get("SignatureVersion", "1"),
            "Signature": delivery.get("Signature", ""),
            "SigningCertUrl": delivery.get("SigningCertURL") or delivery.get("SigningCertUrl"),
            "UnsubscribeUrl": delivery.get("UnsubscribeURL") or delivery.get("UnsubscribeUrl"),
            "MessageAttributes": attributes,
        },
    }


class SnsRelay:
    """An SQS queue subscribed to ``topic_arn``; ``drain`` returns Lambda events."""

    def __init__(self, sns: SNSClient, sqs: SQSClient, topic_arn: str, name: str | None = None) -> None:
        self._sqs = sqs
        self._sns = sns
        queue_name = name or f"sns-relay-{uuid.uuid4().hex[:12]}"
        self.queue_url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self.subscription_arn = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]

    def drain(self) -> list[dict[str, Any]]:
        """Every delivery waiting in the queue, oldest first, one Lambda event each."""
        events: list[dict[str, Any]] = []
        while True:
            response = self._sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=MAX_BATCH)
            messages = response.get("Messages", [])
            if not messages:
                return events
            for message in messages:
                delivery = json.loads(message["Body"])
                events.append({"Records": [lambda_record(delivery, self.subscription_arn)]})
                self._sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def close(self) -> None:
        """Unsubscribe and delete the queue."""
        self._sns.unsubscribe(SubscriptionArn=self.subscription_arn)
        self._sqs.delete_queue(QueueUrl=self.queue_url)
