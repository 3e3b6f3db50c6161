"""CloudWatch Logs subscription payloads: ``{"awslogs": {"data": base64(gzip(json))}}``.

``DATA_MESSAGE`` batches carry ``logEvents`` (``id``, ``timestamp``, ``message``);
``CONTROL_MESSAGE`` batches are CloudWatch checking the destination and carry no records.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class BadPayload(ValueError):
    """The event is not a subscription payload (raised, so Lambda's on-failure path keeps it)."""


@dataclass(frozen=True)
class LogBatch:
    message_type: str
    log_group: str
    log_stream: str
    events: tuple[tuple[str, str], ...]
    """(event id, message) in delivery order."""


def decode(event: Any) -> LogBatch:
    try:
        data = event["awslogs"]["data"]
        doc = json.loads(gzip.decompress(base64.b64decode(data)))
    except (KeyError, TypeError, ValueError, OSError) as exc:
        raise BadPayload(f"not a CloudWatch Logs subscription payload: {exc}") from None
    if not isinstance(doc, Mapping):
        raise BadPayload("subscription payload is not a JSON object")
    events = tuple((str(e.get("id", "")), str(e.get("message", ""))) for e in doc.get("logEvents") or [])
    return LogBatch(
        message_type=str(doc.get("messageType", "")),
        log_group=str(doc.get("logGroup", "")),
        log_stream=str(doc.get("logStream", "")),
        events=events,
    )


def encode(
    log_group: str, messages: list[str], *, message_type: str = "DATA_MESSAGE", first_id: int = 0
) -> dict[str, Any]:
    """Build the payload CloudWatch Logs delivers (for the demo and tests)."""
    doc = {
        "messageType": message_type,
        "owner": "123456789012",
        "logGroup": log_group,
        "logStream": "aws/bedrock/modelinvocations",
        "subscriptionFilters": ["bedrock-cost-ledger"],
        "logEvents": [
            {"id": str(first_id + i), "timestamp": 1_760_000_000_000 + i, "message": m} for i, m in enumerate(messages)
        ],
    }
    return {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(doc).encode())).decode()}}
