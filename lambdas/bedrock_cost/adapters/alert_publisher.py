"""Publish alerts to the SNS topic exactly once per ``dedupe_key``, under any fault.

The protocol (``adapters/claims.py`` holds the primitive):

1. **Claim** ``alert#<dedupe_key>`` with a random token and a lease
   (``CLAIM_LEASE_SECONDS``). A claim already done, or held under a live lease, means
   someone else sends it: return ``False``. A failed condition whose stored token is
   ours is our own write landing twice (botocore retried after a lost response).
2. **Publish**. If it raises *anything* (``ClientError``, ``EndpointConnectionError``,
   ``ReadTimeoutError``, a bug) the claim is released at once and the error re-raised:
   the next run sends the alert. If the process dies before it can release, the lease
   expires and the next run after ``CLAIM_LEASE_SECONDS`` sends it. Never suppressed
   for the 45-day TTL.
3. **Complete** the claim (``done``, kept ``DEDUPE_TTL_SECONDS``): from then on the key
   is never sent again.

What remains at-least-once, and why it is harmless downstream: SNS has no idempotency
key for standard topics, so a publish that timed out *after* SNS accepted it, or a
crash between a successful publish and step 3, can send the alert a second time once
the lease runs out. The Slack notifier de-duplicates on ``dedupe_key`` (Powertools
idempotency), so Slack still shows it once; an e-mail subscriber may get two copies
in that one case. We chose that over the opposite (an alert lost for 45 days).

The message is ``MessageStructure=json``: a plain-text body for e-mail, the JSON
envelope for every other protocol (``domain/alert_email.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from bedrock_cost.adapters.aws_errors import translate_client_error
from bedrock_cost.adapters.claims import TokenClaims, new_token
from bedrock_cost.domain.alert_email import sns_message
from bedrock_cost.domain.alerts import Alert
from bedrock_cost.errors import BedrockCostError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sns import SNSClient

DEDUPE_TTL_SECONDS = 45 * 24 * 3600
"""Keep claims a little longer than a billing period so monthly thresholds fire once."""
CLAIM_LEASE_SECONDS = 15 * 60.0
"""Longer than any publisher's Lambda timeout (a live run is never overtaken), short
enough that an alert whose run crashed goes out on the next run."""
CLAIM_SORT_KEY = "alert"


class AlertPublishError(BedrockCostError):
    """Publishing failed; the claim was released and the next run retries."""


class AlertPublisher:
    def __init__(
        self,
        sns: SNSClient,
        topic_arn: str,
        dynamodb: DynamoDBClient,
        state_table: str,
        *,
        clock: Callable[[], float] = time.time,
        lease_seconds: float = CLAIM_LEASE_SECONDS,
    ) -> None:
        self._sns = sns
        self._topic_arn = topic_arn
        self._claims = TokenClaims(dynamodb, state_table, clock=clock)
        self._lease = lease_seconds

    def publish(self, alert: Alert) -> bool:
        """Send ``alert`` unless its key was (or is being) sent; return whether this call sent it."""
        pk = f"alert#{alert.dedupe_key}"
        token = new_token()
        if not self._claims.claim(pk, CLAIM_SORT_KEY, token, lease_seconds=self._lease, ttl_seconds=DEDUPE_TTL_SECONDS):
            return False
        try:
            self._sns.publish(
                TopicArn=self._topic_arn,
                Message=sns_message(alert),
                MessageStructure="json",
                Subject=alert.sns_subject,
                MessageAttributes={
                    "kind": {"DataType": "String", "StringValue": alert.kind},
                    "severity": {"DataType": "String", "StringValue": alert.severity},
                },
            )
        except BaseException as exc:
            self._release_quietly(pk, token)
            if isinstance(exc, ClientError):
                raise translate_client_error(exc, f"publishing alert {alert.dedupe_key}") from exc
            if isinstance(exc, Exception) and not isinstance(exc, BedrockCostError):
                raise AlertPublishError(f"publishing alert {alert.dedupe_key}: {type(exc).__name__}: {exc}") from exc
            raise
        self._claims.complete(pk, CLAIM_SORT_KEY, token)
        return True

    def _release_quietly(self, pk: str, token: str) -> None:
        """Release after a failed publish; if even that fails, the lease expiry releases it."""
        try:
            self._claims.release(pk, CLAIM_SORT_KEY, token)
        except Exception:  # the publish error is the one to report
            return
