"""A Lambda context for invoking handlers in tests (the runtime passes one; we build one)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class FakeLambdaContext:
    function_name: str = "bedrock-cost-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:bedrock-cost-test"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    remaining_ms: int = 300_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def lambda_context(function_name: str, **overrides: Any) -> FakeLambdaContext:
    """The context of the named function, as the runtime would pass it (ARN included)."""
    return FakeLambdaContext(
        function_name=function_name,
        invoked_function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}",
        **overrides,
    )
