"""Claims with a lease and a token in the state table: the one primitive behind "exactly once".

A claim is an item (``pk``, ``sk``) saying "run ``token`` is doing this until
``lease_until``". Three rules make it safe under faults:

* **Any failure releases, a crash expires.** The holder deletes its claim when the work
  fails for any reason (``release``); when it cannot (the process died, DynamoDB is down)
  the lease runs out and the next run may claim again. Nothing stays claimed forever.
* **Ambiguous writes are recognised.** botocore retries a write whose response was lost;
  the retry then fails its own condition ("already claimed"). Every write carries the
  caller's random token and a failed condition is followed by a consistent read: if the
  stored token is ours, the write happened and the claim is ours.
* **Done is final.** ``complete`` turns the claim into a ``done`` record (kept until
  ``expires_at``, the table's TTL attribute) that no later claim can take over.

Used by ``AlertPublisher`` (one alert per ``dedupe_key``) and ``RunLease`` (one estimator
run at a time, instead of reserved concurrency). Anything new that must happen once per
key should call ``TokenClaims.claim``/``complete``/``release`` rather than invent its own.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from bedrock_cost.adapters.aws_errors import translate_client_error
from bedrock_cost.errors import BedrockCostError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CLAIMED = "claimed"
DONE = "done"


def new_token() -> str:
    """A random claim token (one per attempt)."""
    return uuid.uuid4().hex


class ClaimLostError(BedrockCostError):
    """The claim was taken over (its lease ran out) before the holder could complete it."""


_NAMES = {"#state": "state", "#token": "token"}
"""``state`` and ``token`` are DynamoDB reserved words: every expression names them through these."""


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class TokenClaims:
    """Claims over ``table`` (keys ``pk``/``sk``, TTL ``expires_at``)."""

    def __init__(self, client: DynamoDBClient, table: str, clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._table = table
        self._clock = clock

    @staticmethod
    def _key(pk: str, sk: str) -> dict[str, Any]:
        return {"pk": {"S": pk}, "sk": {"S": sk}}

    def read(self, pk: str, sk: str) -> dict[str, Any] | None:
        """The stored claim (consistent read), or ``None``."""
        try:
            item = self._client.get_item(TableName=self._table, Key=self._key(pk, sk), ConsistentRead=True).get("Item")
        except ClientError as exc:
            raise translate_client_error(exc, f"reading claim {pk}") from exc
        return dict(item) if item else None

    def _update(self, pk: str, sk: str, update: str, condition: str, values: dict[str, Any]) -> None:
        """One conditional write on the claim item; the caller decides what a failed condition means."""
        self._client.update_item(
            TableName=self._table,
            Key=self._key(pk, sk),
            UpdateExpression=update,
            ConditionExpression=condition,
            ExpressionAttributeNames=_NAMES,
            ExpressionAttributeValues=values,
        )

    def _is_ours(self, pk: str, sk: str, token: str, state: str) -> bool:
        item = self.read(pk, sk)
        if not item:
            return False
        return bool(item.get("token", {}).get("S") == token and item.get("state", {}).get("S") == state)

    def claim(self, pk: str, sk: str, token: str, *, lease_seconds: float, ttl_seconds: int) -> bool:
        """Take the claim for ``token``; ``False`` when someone holds it (live lease) or it is done."""
        now = self._clock()
        try:
            self._update(
                pk,
                sk,
                "SET #state = :claimed, #token = :token, lease_until = :lease, expires_at = :expires",
                "attribute_not_exists(pk) OR (#state = :claimed AND lease_until < :now)",
                {
                    ":claimed": {"S": CLAIMED},
                    ":token": {"S": token},
                    ":lease": {"N": f"{now + lease_seconds:.3f}"},
                    ":expires": {"N": str(int(now) + ttl_seconds)},
                    ":now": {"N": f"{now:.3f}"},
                },
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                # Our own earlier attempt may have landed (response lost, botocore retried).
                return self._is_ours(pk, sk, token, CLAIMED)
            raise translate_client_error(exc, f"claiming {pk}") from exc
        return True

    def complete(self, pk: str, sk: str, token: str) -> None:
        """Mark the claim done (final); ``ClaimLostError`` if another token holds it now."""
        try:
            self._update(
                pk,
                sk,
                "SET #state = :done REMOVE lease_until",
                "#token = :token",
                {":done": {"S": DONE}, ":token": {"S": token}},
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                if self._is_ours(pk, sk, token, DONE):
                    return
                raise ClaimLostError(f"claim {pk} was taken over before it was completed") from exc
            raise translate_client_error(exc, f"completing claim {pk}") from exc

    def release(self, pk: str, sk: str, token: str) -> None:
        """Delete the claim if it is still ours (a claim taken over is left to its new holder)."""
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=self._key(pk, sk),
                ConditionExpression="#token = :token AND #state = :claimed",
                ExpressionAttributeNames=_NAMES,
                ExpressionAttributeValues={":token": {"S": token}, ":claimed": {"S": CLAIMED}},
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                return
            raise translate_client_error(exc, f"releasing claim {pk}") from exc


class RunLease:
    """One holder at a time for a named job (the estimator), released at the end of a run.

    Replaces reserved concurrency 1, which fails to deploy in accounts whose concurrency
    quota is at its minimum. A run that cannot take the lease does nothing: the holder is
    working on the same windows, and the watermark makes the next run pick up the rest.
    """

    def __init__(self, claims: TokenClaims, name: str) -> None:
        self._claims = claims
        self._pk = f"lease#{name}"
        self._token: str | None = None

    def acquire(self, seconds: float) -> bool:
        token = new_token()
        ttl = int(seconds) + 24 * 3600
        if self._claims.claim(self._pk, "lease", token, lease_seconds=seconds, ttl_seconds=ttl):
            self._token = token
            return True
        return False

    def release(self) -> None:
        if self._token is not None:
            token, self._token = self._token, None
            self._claims.release(self._pk, "lease", token)
