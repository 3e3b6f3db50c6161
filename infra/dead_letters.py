"""The dead-letter queue every asynchronous path of the product ends in, built one way.

Failed invocations, undeliverable events and batches that failed every retry land in an
encrypted, TLS-only queue kept for 14 days (SQS's maximum), so nothing is dropped silently.
The queue is itself the last stop, hence cdk-nag's SQS3 is acknowledged with the caller's
reason.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.nag import acknowledge

DEAD_LETTER_RETENTION: Final = Duration.days(14)


def dead_letter_queue(scope: Construct, reason: str) -> sqs.Queue:
    """A ``DeadLetters`` queue under ``scope``; ``reason`` says what it is the destination of."""
    queue = sqs.Queue(
        scope,
        "DeadLetters",
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=DEAD_LETTER_RETENTION,
    )
    acknowledge(queue, "SQS3", reason)
    return queue
