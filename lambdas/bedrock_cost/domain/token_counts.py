"""The four token kinds Bedrock bills, as integer counts: one definition for every source.

CloudWatch minutes (``estimate.Counts``) and invocation-log requests
(``invocation_log.TokenUsage``) count the same four kinds (``pricing.TOKEN_KINDS``); the
fields, the kind -> field mapping and the sums over them live here once, so a fifth kind
or a renamed field cannot leave one source behind.
"""

from __future__ import annotations

from dataclasses import dataclass

from bedrock_cost.domain.pricing import UsageKind

KIND_FIELD: dict[UsageKind, str] = {
    "input": "input",
    "output": "output",
    "cache-read": "cache_read",
    "cache-write": "cache_write",
}


@dataclass(frozen=True, slots=True)
class TokenCounts:
    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0

    def tokens(self, kind: UsageKind) -> int:
        value: int = getattr(self, KIND_FIELD[kind])
        return value

    def counts(self) -> tuple[int, int, int, int]:
        """``(input, output, cache_read, cache_write)``."""
        return (self.input, self.output, self.cache_read, self.cache_write)

    @property
    def input_side(self) -> int:
        """Every token the model read: what the long-context threshold is measured on."""
        return self.input + self.cache_read + self.cache_write

    @property
    def total_tokens(self) -> int:
        return self.input_side + self.output
