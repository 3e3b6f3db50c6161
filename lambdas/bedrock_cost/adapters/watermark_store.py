"""The estimator's watermark per region, in the state table.

Item ``pk = watermark#<region>``, ``sk = watermark``: the first minute not yet processed
(``minute``, ISO text, and ``epoch``) and the ``ModelId`` values known at that point
(``model_ids``, a string set; omitted when empty because DynamoDB sets cannot be
empty). Writes are conditional on the previous minute, so two overlapping runs cannot
both claim a window. The item has no ``expires_at``: a watermark never expires.
"""

from __future__ import annotations

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


class DynamoWatermarkStore:
    """``WatermarkStore`` over the DynamoDB state table."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def load(self, region: str) -> WatermarkState | None:
        try:
            item = self._client.get_item(TableName=self._table, Key=_key(region), ConsistentRead=True).get("Item")
        except ClientError as exc:
            raise translate_client_error(exc, f"reading the estimator watermark of {region}") from exc
        if not item:
            return None
        minute = datetime.fromtimestamp(int(item["epoch"]["N"]), tz=UTC)
        model_ids = frozenset(item.get("model_ids", {}).get("SS", []))
        return WatermarkState(minute=minute, model_ids=model_ids)

    def advance(self, region: str, previous: WatermarkState | None, new: WatermarkState) -> None:
        item: dict[str, Any] = {
            **_key(region),
            "minute": {"S": _text(new.minute)},
            "epoch": {"N": str(int(new.minute.timestamp()))},
            "updated_at": {"S": _text(datetime.now(UTC))},
        }
        if new.model_ids:
            item["model_ids"] = {"SS": sorted(new.model_ids)}
        if previous is None:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            condition = {
                "ConditionExpression": "epoch = :previous",
                "ExpressionAttributeValues": {":previous": {"N": str(int(previous.minute.timestamp()))}},
            }
        try:
            self._client.put_item(TableName=self._table, Item=item, **condition)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise WatermarkConflictError(
                    f"the watermark of {region} moved since this run read it; another run processed the window"
                ) from exc
            raise translate_client_error(exc, f"advancing the estimator watermark of {region}") from exc
