"""DynamoDB running totals, idempotent on ``requestId``; IAM deny for one principal.

A request counts once: its marker ``req#<requestId>`` is a conditional put in the *same*
``TransactWriteItems`` as its counter increments, so a crash leaves either both or neither,
and a redelivered record fails the condition and adds nothing. Records go in chunks (one
transaction, markers plus summed increments, at most 100 items) to cut request overhead;
a chunk cancelled because markers exist is rewritten once without those records (the
cancellation reasons name them).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from bedrock_cost.adapters.aws_errors import translate_client_error
from bedrock_cost.domain.identity import Identity
from bedrock_cost.domain.request_budgets import deny_policy_json, deny_policy_name

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

MARKER_TTL_SECONDS = 40 * 24 * 3600
"""Markers outlive CloudWatch Logs redelivery by far. Counters are per subject value and day;
a month's total is the sum of its days."""
MAX_ITEMS = 100
BLOCKS_PK = "blocks"
"""Partition of the enforcement blocks (sort key: the user)."""
SUBJECTS_PK = "ledger#subjects"
"""Which subject values spent on a day (sort key ``day#YYYY-MM-DD``, a string set): what the
daily slow-burn check reads instead of scanning a table full of request markers."""


@dataclass(frozen=True)
class Increment:
    request_id: str
    counters: tuple[tuple[str, str], ...]
    """(pk, sk) of every counter this request adds to."""
    micro_usd: int
    unpriced: int


def _counter_pk(subject: str, value: str) -> str:
    return f"ledger#{subject}={value}"


def counter_key(subject: str, value: str, period_key: str) -> tuple[str, str]:
    return _counter_pk(subject, value), f"total#{period_key}"


class LedgerStore:
    def __init__(self, dynamodb: DynamoDBClient, table: str) -> None:
        self._db = dynamodb
        self._table = table

    def _items(self, batch: Sequence[Increment]) -> list[dict[str, Any]]:
        expires = str(int(time.time()) + MARKER_TTL_SECONDS)
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {"pk": {"S": f"req#{inc.request_id}"}, "sk": {"S": "req"}, "expires_at": {"N": expires}},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
            for inc in batch
        ]
        sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
        for inc in batch:
            for key in inc.counters:
                sums[key][0] += inc.micro_usd
                sums[key][1] += 1
                sums[key][2] += inc.unpriced
        for (pk, sk), (micro, requests, unpriced) in sorted(sums.items()):
            items.append(
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
                        "UpdateExpression": "ADD cost_micro_usd :c, requests :r, unpriced_requests :u",
                        "ExpressionAttributeValues": {
                            ":c": {"N": str(micro)},
                            ":r": {"N": str(requests)},
                            ":u": {"N": str(unpriced)},
                        },
                    }
                }
            )
        return items

    def _write(self, batch: Sequence[Increment]) -> set[int] | None:
        """``None`` when written; else the positions in ``batch`` whose marker already existed.

        DynamoDB's cancellation reasons line up with the transaction items (markers first),
        so a redelivered chunk is rewritten once without its duplicates, not record by
        record. An empty set means the reasons named no marker (then the caller replays
        the chunk one record at a time).
        """
        try:
            self._db.transact_write_items(TransactItems=self._items(batch))  # type: ignore[arg-type]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "TransactionCanceledException":
                reasons = exc.response.get("CancellationReasons") or []
                return {
                    i
                    for i, reason in enumerate(reasons[: len(batch)])
                    if (reason or {}).get("Code") == "ConditionalCheckFailed"
                }
            raise translate_client_error(exc, "writing request totals") from exc
        return None

    def apply(self, increments: Sequence[Increment]) -> tuple[int, int]:
        """Count every new request once; return (counted, duplicates).

        Requests are grouped by the counters they add to before they are cut into chunks, so
        one user's (or customer's) requests share a transaction and its counter items: every
        item is two write units, and a chunk holds at most 100.
        """
        chunks: list[list[Increment]] = []
        current: list[Increment] = []
        keys: set[tuple[str, str]] = set()
        for inc in sorted(increments, key=lambda i: (i.counters, i.request_id)):
            new_keys = keys | set(inc.counters)
            if current and len(current) + 1 + len(new_keys) > MAX_ITEMS:
                chunks.append(current)
                current, new_keys = [], set(inc.counters)
            current.append(inc)
            keys = new_keys
        if current:
            chunks.append(current)
        counted = duplicates = 0
        for chunk in chunks:
            pending = list(chunk)
            while pending:
                existing = self._write(pending)
                if existing is None:
                    counted += len(pending)
                    break
                if not existing:  # no usable reasons: one record per transaction
                    for inc in pending:
                        if self._write([inc]) is None:
                            counted += 1
                        else:
                            duplicates += 1
                    break
                duplicates += len(existing)
                pending = [inc for i, inc in enumerate(pending) if i not in existing]
        return counted, duplicates

    def totals(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Micro-dollar totals of the given counters (strongly consistent reads).

        Only day counters are written (``total#YYYY-MM-DD``); a month key (``total#YYYY-MM``)
        is answered with the sum of that month's day counters, read by one Query. A key
        with no counter is absent from the answer.
        """
        out: dict[tuple[str, str], int] = {}
        months = sorted({key for key in keys if len(key[1]) == len("total#YYYY-MM")})
        for pk, sk in months:
            days = self._month_days(pk, sk)
            if days:
                out[(pk, sk)] = sum(days)
        unique = sorted(set(keys) - set(months))
        for start in range(0, len(unique), 100):
            request: dict[str, Any] = {
                self._table: {
                    "Keys": [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in unique[start : start + 100]],
                    "ConsistentRead": True,
                }
            }
            while request:
                response = self._db.batch_get_item(RequestItems=request)
                for item in response["Responses"].get(self._table, []):
                    out[(item["pk"]["S"], item["sk"]["S"])] = int(item["cost_micro_usd"]["N"])
                request = dict(response.get("UnprocessedKeys") or {})
        return out

    def _query(self, condition: str, values: dict[str, Any], **extra: Any) -> Iterator[dict[str, Any]]:
        """Every item of one strongly consistent Query, page after page."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ConsistentRead": True,
            **extra,
        }
        while True:
            response = self._db.query(**request)
            yield from response["Items"]
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _month_days(self, pk: str, month_sk: str) -> list[int]:
        items = self._query(
            "pk = :p AND begins_with(sk, :m)",
            {":p": {"S": pk}, ":m": {"S": month_sk + "-"}},
            ProjectionExpression="cost_micro_usd",
        )
        return [int(item["cost_micro_usd"]["N"]) for item in items]

    def note_subjects(self, members_by_day: Mapping[str, Iterable[str]]) -> None:
        """Add ``subject=value`` members to each day's set (``ADD`` to a string set: a retry or a
        redelivered batch adds nothing new, so this write needs no marker). Written after the
        counters: a crash in between is repaired by the redelivery, which notes them again."""
        expires = str(int(time.time()) + MARKER_TTL_SECONDS)
        for day, members in sorted(members_by_day.items()):
            listed = sorted(set(members))
            if not listed:
                continue
            self._db.update_item(
                TableName=self._table,
                Key={"pk": {"S": SUBJECTS_PK}, "sk": {"S": f"day#{day}"}},
                UpdateExpression="ADD members :m SET expires_at = :e",
                ExpressionAttributeValues={":m": {"SS": listed}, ":e": {"N": expires}},
            )

    def subjects(self, day: str) -> list[tuple[str, str]]:
        """(subject, value) pairs that spent on ``day`` (``YYYY-MM-DD``)."""
        item = self._db.get_item(
            TableName=self._table, Key={"pk": {"S": SUBJECTS_PK}, "sk": {"S": f"day#{day}"}}, ConsistentRead=True
        ).get("Item", {})
        members = item.get("members", {}).get("SS", [])
        return sorted((subject, value) for subject, _, value in (m.partition("=") for m in members))

    def record_block(self, user: str, period_key: str, principal: str, state: str) -> None:
        """Record ``state`` (``blocked``, or ``lifted`` by hand until the period resets) for ``user``.

        Blocks live under one partition (``blocks``, one item per user) so listing them is a
        Query, which IAM can scope to the key prefix (a Scan could read every item).
        """
        self._db.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": BLOCKS_PK},
                "sk": {"S": user},
                "period": {"S": period_key},
                "principal": {"S": principal},
                "state": {"S": state},
            },
        )

    def forget_block(self, user: str) -> None:
        """The period reset: no deny, no hand-lift to remember."""
        self._db.delete_item(TableName=self._table, Key={"pk": {"S": BLOCKS_PK}, "sk": {"S": user}})

    def blocks(self) -> list[dict[str, str]]:
        return [
            {
                "user": i["sk"]["S"],
                "period": i["period"]["S"],
                "principal": i["principal"]["S"],
                "state": i.get("state", {"S": "blocked"})["S"],
            }
            for i in self._query("pk = :b", {":b": {"S": BLOCKS_PK}})
        ]


class PrincipalDeny:
    """Puts or removes the inline deny policy on the role or user behind one identity."""

    def __init__(self, iam: Any) -> None:  # mypy_boto3_iam is not among the installed stubs
        self._iam = iam

    def _target(self, who: Identity) -> tuple[str, str]:
        resource = who.principal.split(":", 5)[5] if who.principal.count(":") >= 5 else ""
        parts = resource.split("/")
        if parts[0] == "assumed-role" and len(parts) == 3:
            return "role", parts[1]
        if parts[0] in ("user", "role") and len(parts) >= 2:
            return parts[0], parts[-1]
        raise ValueError(f"cannot enforce on principal {who.principal!r}")

    def block(self, who: Identity) -> None:
        kind, name = self._target(who)
        document = deny_policy_json(who)
        policy = deny_policy_name(who.user)
        if kind == "role":
            self._iam.put_role_policy(RoleName=name, PolicyName=policy, PolicyDocument=document)
        else:
            self._iam.put_user_policy(UserName=name, PolicyName=policy, PolicyDocument=document)

    def unblock(self, who: Identity) -> None:
        kind, name = self._target(who)
        policy = deny_policy_name(who.user)
        try:
            if kind == "role":
                self._iam.delete_role_policy(RoleName=name, PolicyName=policy)
            else:
                self._iam.delete_user_policy(UserName=name, PolicyName=policy)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "NoSuchEntity":
                raise translate_client_error(exc, f"removing deny policy from {name}") from exc
