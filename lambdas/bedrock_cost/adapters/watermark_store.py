"""The estimator's watermark per region, in the state table.

Item ``pk = watermark#<region>``, ``sk = watermark``: the first minute not yet processed
(``minute``, ISO text, and ``epoch``) and the ``ModelId`` values known at that point
(``model_ids``, a string set; omitted when empty because DynamoDB sets cannot be
empty). While a run emits its metrics the item also holds the *pending* window
(``pending_start``, ``pending_epoch``, ``pending_model_ids``, ``pending_token``; see
``domain/estimator_run.py`` for why). Every write is conditional on the minute this run
read, so two overlapping runs cannot both claim a window, and carries a random token:
when botocore retries a write whose response was lost, the retry's failed condition is
checked against the stored token and recognised as our own write. The item has no
``expires_at``: a watermark never expires.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from bedrock_cost.adapters.aws_errors import translate_client_error
from bedrock_cost.domain.estimator_run import WatermarkConflictError, WatermarkState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PK_PREFIX = "watermark#"
SORT_KEY = "watermark"


def _key(region: str) -> dict[str, Any]:
    return {"pk": {"S": f"{PK_PREFIX}{region}"}, "sk": {"S": SORT_KEY}}


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(moment: datetime) -> dict[str, str]:
    return {"N": str(int(moment.timestamp()))}


def _minute(item: dict[str, Any], name: str) -> datetime | None:
    value = item.get(name, {}).get("N")
    return datetime.fromtimestamp(int(value), tz=UTC) if value is not None else None


def _condition(previous: WatermarkState | None) -> tuple[str, dict[str, Any]]:
    """The stored watermark is still ``previous`` (a first run: there is none yet)."""
    if previous is None:
        return "attribute_not_exists(epoch)", {}
    return (
        "epoch = :previous OR (attribute_not_exists(epoch) AND pending_start = :previous)",
        {":previous": _epoch(previous.minute)},
    )


class DynamoWatermarkStore:
    """``WatermarkStore`` over the DynamoDB state table."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def _read(self, region: str) -> dict[str, Any] | None:
        try:
            item = self._client.get_item(TableName=self._table, Key=_key(region), ConsistentRead=True).get("Item")
        except ClientError as exc:
            raise translate_client_error(exc, f"reading the estimator watermark of {region}") from exc
        return dict(item) if item else None

    def load(self, region: str) -> WatermarkState | None:
        item = self._read(region)
        if not item:
            return None
        minute = _minute(item, "epoch") or _minute(item, "pending_start")
        if minute is None:
            return None
        return WatermarkState(
            minute=minute,
            model_ids=frozenset(item.get("model_ids", {}).get("SS", [])),
            emitted_until=_minute(item, "pending_epoch"),
            emitted_model_ids=frozenset(item.get("pending_model_ids", {}).get("SS", [])),
        )

    def _update(
        self,
        region: str,
        previous: WatermarkState | None,
        expression: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
    ) -> None:
        token = uuid.uuid4().hex
        condition, condition_values = _condition(previous)
        extra: dict[str, Any] = {"ExpressionAttributeNames": names} if names else {}
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_key(region),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeValues={**values, **condition_values, ":token": {"S": token}},
                **extra,
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                stored = self._read(region) or {}
                if stored.get("last_token", {}).get("S") == token:
                    return  # our own write, applied before botocore retried it
                raise WatermarkConflictError(
                    f"the watermark of {region} moved since this run read it; another run processed the window"
                ) from exc
            raise translate_client_error(exc, f"writing the estimator watermark of {region}") from exc

    def mark_emitting(self, region: str, previous: WatermarkState | None, new: WatermarkState) -> None:
        """Record the window about to be emitted (``new.emitted_until``) before emitting it."""
        until = new.emitted_until or new.minute
        values: dict[str, Any] = {":end": _epoch(until), ":start": _epoch(previous.minute if previous else until)}
        expression = "SET pending_epoch = :end, pending_start = :start, last_token = :token"
        if new.emitted_model_ids:
            values[":ids"] = {"SS": sorted(new.emitted_model_ids)}
            expression += ", pending_model_ids = :ids"
        else:
            expression += " REMOVE pending_model_ids"
        self._update(region, previous, expression, values)

    def advance(self, region: str, previous: WatermarkState | None, new: WatermarkState) -> None:
        values: dict[str, Any] = {
            ":epoch": _epoch(new.minute),
            ":minute": {"S": _text(new.minute)},
            ":now": {"S": _text(datetime.now(UTC))},
        }
        expression = "SET epoch = :epoch, #minute = :minute, updated_at = :now, last_token = :token"
        if new.model_ids:
            values[":ids"] = {"SS": sorted(new.model_ids)}
            expression += ", model_ids = :ids"
        remove = "pending_epoch, pending_start, pending_model_ids"
        if not new.model_ids:
            remove += ", model_ids"
        expression += f" REMOVE {remove}"
        # ``minute`` is a DynamoDB reserved word.
        self._update(region, previous, expression, values, names={"#minute": "minute"})
