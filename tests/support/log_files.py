"""Real-shaped invocation-log records written as S3 delivery lays them out, for exact scenarios.

``sample_data.invocation_logs`` writes random realistic traffic; some tests need traffic with
a known shape (one caller's prompts, one user's daily spend). Records here have the
``ModelInvocationLog`` schema the generator writes (envelope counts, no body)."""

from __future__ import annotations

import gzip
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"


def sso(user: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:sts::{account}:assumed-role/AWSReservedSSO_ClaudeCodeDevelopers_4f1c2a9e8b7d6c5e/{user}"


def role(name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:sts::{account}:assumed-role/{name}/i-0abc123def4567890"


def record(
    when: datetime,
    principal: str,
    model_id: str,
    *,
    inp: int,
    out: int,
    read: int = 0,
    write: int = 0,
    metadata: dict[str, str] | None = None,
    account: str = ACCOUNT,
    region: str = REGION,
) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "accountId": account,
        "identity": {"arn": principal},
        "region": region,
        "requestId": str(uuid.uuid4()),
        "operation": "Converse",
        "modelId": model_id,
        "input": {
            "inputContentType": "application/json",
            "inputTokenCount": inp,
            "cacheReadInputTokenCount": read,
            "cacheWriteInputTokenCount": write,
        },
        "output": {"outputContentType": "application/json", "outputTokenCount": out},
    }
    if metadata:
        rec["requestMetadata"] = metadata
    return rec


def write(root: Path, records: Iterable[dict[str, Any]]) -> Path:
    """``root/AWSLogs/<acct>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/*.json.gz``."""
    buckets: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for rec in records:
        hour = rec["timestamp"][:13].replace("-", "/").replace("T", "/")
        buckets[(rec["accountId"], rec["region"], hour)].append(json.dumps(rec))
    for (account, region, hour), lines in buckets.items():
        folder = root / "AWSLogs" / account / "BedrockModelInvocationLogs" / region / hour
        folder.mkdir(parents=True, exist_ok=True)
        with gzip.open(folder / f"{uuid.uuid4().hex[:12]}.json.gz", "wt", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
    return root
