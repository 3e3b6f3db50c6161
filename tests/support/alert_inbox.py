"""The alert topic as a subscriber sees it: an SNS topic with an SQS queue subscribed, in moto.

moto's SNS delivers to SQS subscriptions, so a test reads back exactly what the tracker
published, message by message, instead of inspecting the publisher's arguments.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bedrock_cost.domain.alerts import Alert


@dataclass
class AlertInbox:
    sqs: Any
    topic_arn: str
    queue_url: str
    raw: bool = False

    @classmethod
    def subscribe(
        cls, sns: Any, sqs: Any, *, topic: str = "alerts", queue: str = "alerts", raw: bool = False
    ) -> AlertInbox:
        """Create the topic and the queue, and subscribe the queue (raw: no SNS envelope)."""
        topic_arn = sns.create_topic(Name=topic)["TopicArn"]
        queue_url = sqs.create_queue(QueueName=queue)["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attributes = {"Attributes": {"RawMessageDelivery": "true"}} if raw else {}
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, **attributes)
        return cls(sqs, topic_arn, queue_url, raw)

    def messages(self) -> list[str]:
        """Drain the queue: every published ``Message`` not read yet, in delivery order."""
        out: list[str] = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return out
            for message in batch:
                out.append(message["Body"] if self.raw else json.loads(message["Body"])["Message"])
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def documents(self) -> list[dict[str, Any]]:
        """The drained messages as JSON documents."""
        return [json.loads(message) for message in self.messages()]

    def alerts(self) -> list[Alert]:
        """The drained messages as the alerts they carry."""
        return [Alert.from_json(message) for message in self.messages()]
