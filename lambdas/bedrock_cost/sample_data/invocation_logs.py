"""Synthetic Bedrock model invocation logs, as S3 delivery writes them.

``<out>/AWSLogs/<acct>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/<id>.json.gz``,
one JSON record per line, for the accounts and regions of the generated CUR month
(``_cur_catalog``) and its principals (``_cur_tags.principals``) plus the callers the
per-request ledger exists for: SSO developer sessions (Claude Code users), Bedrock API
key users, service roles with opaque sessions. Requests carry ``requestMetadata``
(``customer``, ``feature``); some go through application inference profiles (listed in
``<out>/profiles.json`` in the ``list-inference-profiles`` shape, with tags), some use
an unknown model (unpriced), some fail (``errorCode``), a few carry body usage with 1-hour
cache writes (data delivery on) and a few lines are malformed.
"""

from __future__ import annotations

import gzip
import json
import random
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from bedrock_cost.sample_data._cur_catalog import ACCOUNTS, REGIONS
from bedrock_cost.sample_data._cur_tags import principals

DEVELOPERS: Final = ("ana@example.com", "ben@example.com", "chen@example.com", "dara@example.com", "eli@example.com")
CUSTOMERS: Final = ("acme", "globex", "initech", "umbrella")
FEATURES: Final = ("chat", "summarise", "search", "code-review")
MODELS: Final = (
    # model id as passed, weight
    ("us.anthropic.claude-sonnet-4-6", 0.30),
    ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", 0.15),
    ("anthropic.claude-haiku-4-5-20251001-v1:0", 0.20),
    ("eu.anthropic.claude-opus-4-6-v1", 0.05),
    ("amazon.nova-pro-v1:0", 0.10),
    ("amazon.nova-micro-v1:0", 0.08),
    ("acme.unknown-model-v1", 0.02),
)
PROFILE_SHARE: Final = 0.10
ERROR_SHARE: Final = 0.02
BODY_SHARE: Final = 0.05
MALFORMED_SHARE: Final = 0.001
OPERATIONS: Final = ("Converse", "ConverseStream", "InvokeModel", "InvokeModelWithResponseStream")


def callers(account: str) -> tuple[str, ...]:
    """Every principal that calls Bedrock in one generated account."""
    sso = tuple(
        f"arn:aws:sts::{account}:assumed-role/AWSReservedSSO_ClaudeCodeDevelopers_4f1c2a9e8b7d6c5e/{dev}"
        for dev in DEVELOPERS
    )
    return (
        *sso,
        *principals(account),
        f"arn:aws:iam::{account}:user/BedrockAPIKey-7xq2",
        f"arn:aws:sts::{account}:assumed-role/rag-worker/i-0abc123def4567890",
        f"arn:aws:sts::{account}:assumed-role/support-bot/botocore-session-1712345678",
    )


def profile_arn(account: str, region: str, number: int) -> str:
    return (
        f"arn:aws:bedrock:{region}:{account}:application-inference-profile/prof{account[-4:]}{number:02d}{region[:2]}"
    )


def profiles_document() -> dict[str, Any]:
    """The ``list-inference-profiles --type-equals APPLICATION`` output for the generated profiles."""
    summaries = []
    for account, _, _ in ACCOUNTS:
        for region, _, _, _ in REGIONS:
            for number, (customer, model) in enumerate(
                (("acme", "anthropic.claude-sonnet-4-6"), ("globex", "anthropic.claude-haiku-4-5-20251001-v1:0"))
            ):
                arn = profile_arn(account, region, number)
                summaries.append(
                    {
                        "inferenceProfileName": f"{customer}-{region}",
                        "inferenceProfileArn": arn,
                        "inferenceProfileId": arn.rsplit("/", 1)[1],
                        "models": [{"modelArn": f"arn:aws:bedrock:{region}::foundation-model/{model}"}],
                        "status": "ACTIVE",
                        "type": "APPLICATION",
                        "tags": [{"key": "customer", "value": customer}, {"key": "team", "value": "platform"}],
                    }
                )
    return {"inferenceProfileSummaries": summaries}


@dataclass(frozen=True)
class LogSet:
    files: tuple[Path, ...]
    records: int
    malformed: int
    profiles: Path


def _record(rng: random.Random, when: datetime, account: str, region: str) -> dict[str, Any]:
    principal = rng.choice(callers(account))
    if rng.random() < PROFILE_SHARE:
        model_id = profile_arn(account, region, rng.randrange(2))
    else:
        model_id = rng.choices([m for m, _ in MODELS], [w for _, w in MODELS])[0]
    base_input = rng.choice((300, 1_200, 4_000, 12_000, 40_000))
    inp = int(base_input * rng.uniform(0.5, 1.5))
    if rng.random() < 0.003:
        inp = 210_000 + rng.randrange(20_000)  # long context
    out = int(rng.uniform(50, 2_000))
    cached = rng.random() < 0.4 and "anthropic" in model_id
    read = rng.randrange(1_000, 30_000) if cached else 0
    write = rng.randrange(0, 5_000) if cached else 0
    record: dict[str, Any] = {
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "accountId": account,
        "identity": {"arn": principal},
        "region": region,
        "requestId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "operation": rng.choice(OPERATIONS),
        "modelId": model_id,
        "input": {
            "inputContentType": "application/json",
            "inputTokenCount": inp,
            "cacheReadInputTokenCount": read,
            "cacheWriteInputTokenCount": write,
        },
        "output": {"outputContentType": "application/json", "outputTokenCount": out},
    }
    if "assumed-role/AWSReservedSSO" not in principal or rng.random() < 0.3:
        record["requestMetadata"] = {"customer": rng.choice(CUSTOMERS), "feature": rng.choice(FEATURES)}
    if rng.random() < ERROR_SHARE:
        record["errorCode"] = rng.choice(("ThrottlingException", "ValidationException", "ModelTimeoutException"))
        record["input"] = {"inputContentType": "application/json", "inputTokenCount": 0}
        record["output"] = {"outputContentType": "application/json"}
    elif rng.random() < BODY_SHARE and record["operation"] == "Converse":
        one_hour = write // 2
        # The envelope of some operations misses cache writes; the body has them (and the TTL split).
        record["input"]["cacheWriteInputTokenCount"] = 0 if rng.random() < 0.5 else write
        record["output"]["outputBodyJson"] = {
            "output": {"message": {"role": "assistant", "content": []}},
            "stopReason": "end_turn",
            "usage": {
                "inputTokens": inp,
                "outputTokens": out,
                "totalTokens": inp + out + read + write,
                "cacheReadInputTokens": read,
                "cacheWriteInputTokens": write,
                "cacheDetails": [
                    {"ttl": "5m", "inputTokens": write - one_hour},
                    {"ttl": "1h", "inputTokens": one_hour},
                ],
            },
        }
    return record


def _malformed(rng: random.Random, record: dict[str, Any]) -> str:
    kind = rng.randrange(3)
    if kind == 0:
        return json.dumps(record)[: rng.randrange(10, 80)]  # truncated line
    if kind == 1:
        return json.dumps({**record, "schemaType": "SomethingElse"})
    return "\x00garbage"


def iter_lines(start: datetime, hours: int, records: int, seed: int) -> Iterator[tuple[str, str, datetime, str, bool]]:
    """(account, region, hour, line, malformed) in time order."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible by seed
    accounts = [a for a, _, _ in ACCOUNTS]
    weights = [w for _, w, _ in ACCOUNTS]
    regions = [r for r, _, _, _ in REGIONS]
    region_weights = [w for _, _, _, w in REGIONS]
    span = hours * 3600
    offsets = sorted(rng.randrange(span) for _ in range(records))
    for offset in offsets:
        when = start + timedelta(seconds=offset)
        account = rng.choices(accounts, weights)[0]
        region = rng.choices(regions, region_weights)[0]
        record = _record(rng, when, account, region)
        if rng.random() < MALFORMED_SHARE:
            yield account, region, when, _malformed(rng, record), True
        else:
            yield account, region, when, json.dumps(record, separators=(",", ":")), False


def generate_logs(out: Path, *, start: datetime, hours: int = 24, records: int = 20_000, seed: int = 7) -> LogSet:
    """Write the logs and ``profiles.json`` under ``out``; returns what was written."""
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    if records < 1 or hours < 1:
        raise ValueError("records and hours must be at least 1")
    buckets: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    malformed = 0
    for account, region, when, line, bad in iter_lines(start, hours, records, seed):
        malformed += bad
        buckets[(account, region, when.strftime("%Y/%m/%d/%H"))].append(line)
    files = []
    for (account, region, hour_path), lines in sorted(buckets.items()):
        folder = out / "AWSLogs" / account / "BedrockModelInvocationLogs" / region / hour_path
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{hour_path.replace('/', '')}_{uuid.uuid5(uuid.NAMESPACE_URL, account + region + hour_path).hex[:12]}"
        path = folder / f"{name}.json.gz"
        with gzip.open(path, "wt", encoding="utf-8", compresslevel=5) as handle:
            handle.write("\n".join(lines) + "\n")
        files.append(path)
    profiles = out / "profiles.json"
    profiles.write_text(json.dumps(profiles_document(), indent=2) + "\n", encoding="utf-8")
    return LogSet(files=tuple(files), records=records, malformed=malformed, profiles=profiles)
