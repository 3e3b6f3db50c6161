"""One Bedrock ``ModelInvocationLog`` record: who called, what it used, and how sure we are.

Schema (reference §4b): ``schemaType``, ``timestamp``, ``accountId``, ``identity.arn``,
``region``, ``requestId``, ``operation``, ``modelId`` (as the caller passed it),
``errorCode`` on failures, envelope counts ``input.inputTokenCount``,
``input.cacheReadInputTokenCount``, ``input.cacheWriteInputTokenCount``,
``output.outputTokenCount``, and ``requestMetadata`` (caller-set strings). With data
delivery on, ``output.outputBodyJson.usage`` carries the model's own usage block:
Converse shape (``inputTokens``, ``cacheWriteInputTokens``, ``cacheDetails`` with ``ttl``
``5m``/``1h``) or Anthropic InvokeModel shape (``input_tokens``,
``cache_creation_input_tokens``, ``cache_creation.ephemeral_1h_input_tokens``).

Decisions, on purpose:

* **Body wins over envelope** when the body's usage block is present. Peers report
  envelope counts that miss cache tokens for some operations; the body is the model's
  own account and the only place that splits 5-minute from 1-hour cache writes. Every
  record whose body and envelope disagree on any of the four counts is flagged
  (``disagreement``) and counted in reports, so the choice is visible.
* **Error records count requests, not tokens** (``errorCode`` set -> all counts 0).
* **Malformed records are never dropped**: :func:`parse_record` raises
  :class:`MalformedRecord` and callers count and keep them.
* A request is **long-context** when its input side (input + cache read + cache write)
  exceeds 200,000 tokens (how Bedrock bills the ``-long-context`` tier).
* The tier is ``batch`` when the operation names a batch job (**UNSURE**: the reference
  does not give the batch operation's name; ``*InvocationJob*`` / ``*Batch*``), else
  on-demand.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from bedrock_cost.domain.pricing import ON_DEMAND
from bedrock_cost.domain.token_counts import TokenCounts

SCHEMA_TYPE: Final = "ModelInvocationLog"
LONG_CONTEXT_THRESHOLD: Final = 200_000


class MalformedRecord(ValueError):
    """A log line that is not a usable invocation record; the message says why."""


@dataclass(frozen=True, slots=True)
class TokenUsage(TokenCounts):
    """The four billed token kinds of one request; ``cache_write_1h`` is part of ``cache_write``."""

    cache_write_1h: int = 0


@dataclass(frozen=True, slots=True)
class InvocationRecord:
    """A parsed record: identity, model as passed, usage and flags."""

    request_id: str
    timestamp: str
    """ISO-8601 as logged (UTC, ``Z``)."""
    account: str
    region: str
    principal: str
    operation: str
    model_id: str
    error_code: str | None
    usage: TokenUsage
    metadata: Mapping[str, str] = field(default_factory=dict)
    disagreement: bool = False
    """Body usage present and different from the envelope counts."""

    @property
    def is_error(self) -> bool:
        return self.error_code is not None

    @property
    def tier(self) -> str:
        return batch_or_on_demand(self.operation)

    @property
    def long_context(self) -> bool:
        return self.usage.input_side > LONG_CONTEXT_THRESHOLD

    @property
    def hour(self) -> str:
        """``YYYY-MM-DDTHH`` (the ``--by hour`` key)."""
        return self.timestamp[:13]

    @property
    def day(self) -> str:
        return self.timestamp[:10]


def batch_or_on_demand(operation: str) -> str:
    low = operation.lower()
    return "batch" if ("invocationjob" in low or "batch" in low) else ON_DEMAND


def _count(value: Any, where: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or int(value) != value:
        raise MalformedRecord(f"{where} is not a token count: {value!r}")
    return int(value)


def _first(usage: Mapping[str, Any], *names: str) -> Any:
    for name in names:
        if name in usage and usage[name] is not None:
            return usage[name]
    return None


def body_usage(output: Mapping[str, Any]) -> TokenUsage | None:
    """The body's usage block (Converse or Anthropic shape), or ``None`` when absent."""
    body = output.get("outputBodyJson")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return None
    if not isinstance(body, Mapping):
        return None
    usage = body.get("usage")
    if not isinstance(usage, Mapping):
        return None
    inp = _first(usage, "inputTokens", "input_tokens")
    out = _first(usage, "outputTokens", "output_tokens")
    if inp is None and out is None:
        return None
    read = _first(usage, "cacheReadInputTokens", "cache_read_input_tokens")
    write = _first(usage, "cacheWriteInputTokens", "cache_creation_input_tokens")
    one_hour = 0
    details = usage.get("cacheDetails")
    if isinstance(details, list):
        for item in details:
            if isinstance(item, Mapping) and item.get("ttl") == "1h":
                one_hour += _count(item.get("inputTokens"), "usage.cacheDetails[].inputTokens")
    creation = usage.get("cache_creation")
    if isinstance(creation, Mapping):
        one_hour += _count(creation.get("ephemeral_1h_input_tokens"), "usage.cache_creation.ephemeral_1h")
    write_n = _count(write, "usage.cacheWriteInputTokens")
    return TokenUsage(
        input=_count(inp, "usage.inputTokens"),
        output=_count(out, "usage.outputTokens"),
        cache_read=_count(read, "usage.cacheReadInputTokens"),
        cache_write=write_n,
        cache_write_1h=min(one_hour, write_n),
    )


def _text(record: Mapping[str, Any], name: str) -> str:
    value = record.get(name)
    return value if isinstance(value, str) else ""


def parse_record(record: Any) -> InvocationRecord:
    """Parse one decoded JSON record; raise :class:`MalformedRecord` naming what is wrong."""
    if not isinstance(record, Mapping):
        raise MalformedRecord(f"record is a {type(record).__name__}, not a JSON object")
    if record.get("schemaType") != SCHEMA_TYPE:
        raise MalformedRecord(f"schemaType is {record.get('schemaType')!r}, expected {SCHEMA_TYPE!r}")
    request_id = _text(record, "requestId")
    if not request_id:
        raise MalformedRecord("requestId is missing")
    timestamp = _text(record, "timestamp")
    if len(timestamp) < 13 or timestamp[4] != "-" or timestamp[10] != "T":
        raise MalformedRecord(f"timestamp {timestamp!r} is not ISO-8601")
    identity = record.get("identity")
    principal = identity.get("arn") if isinstance(identity, Mapping) else None
    raw_in, raw_out = record.get("input"), record.get("output")
    inp: Mapping[str, Any] = raw_in if isinstance(raw_in, Mapping) else {}
    out: Mapping[str, Any] = raw_out if isinstance(raw_out, Mapping) else {}
    error = record.get("errorCode")
    error_code = str(error) if error else None
    envelope = TokenUsage(
        input=_count(inp.get("inputTokenCount"), "input.inputTokenCount"),
        output=_count(out.get("outputTokenCount"), "output.outputTokenCount"),
        cache_read=_count(inp.get("cacheReadInputTokenCount"), "input.cacheReadInputTokenCount"),
        cache_write=_count(inp.get("cacheWriteInputTokenCount"), "input.cacheWriteInputTokenCount"),
    )
    body = body_usage(out)
    disagreement = body is not None and body.counts() != envelope.counts()
    usage = TokenUsage() if error_code else (body if body is not None else envelope)
    raw_meta = record.get("requestMetadata")
    metadata = {str(k): str(v) for k, v in raw_meta.items()} if isinstance(raw_meta, Mapping) else {}
    return InvocationRecord(
        request_id=request_id,
        timestamp=timestamp,
        account=_text(record, "accountId"),
        region=_text(record, "region"),
        principal=principal if isinstance(principal, str) else "",
        operation=_text(record, "operation"),
        model_id=_text(record, "modelId"),
        error_code=error_code,
        usage=usage,
        metadata=metadata,
        disagreement=disagreement and not error_code,
    )


def parse_line(line: str) -> InvocationRecord:
    """Parse one JSON line (S3 delivery or a CloudWatch Logs event message)."""
    try:
        decoded = json.loads(line)
    except ValueError as exc:
        raise MalformedRecord(f"not JSON: {exc}") from None
    return parse_record(decoded)
