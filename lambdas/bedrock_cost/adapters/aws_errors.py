"""Translate botocore ``ClientError`` codes into this package's exceptions, in one place."""

from __future__ import annotations

from botocore.exceptions import ClientError

from bedrock_cost.errors import BedrockCostError, NotFound, Throttled

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "RequestThrottled",
        "SlowDown",
        "LimitExceededException",
    }
)
NOT_FOUND_CODES = frozenset(
    {"ResourceNotFoundException", "NotFoundException", "NoSuchKey", "NoSuchBucket", "EntityNotFoundException"}
)


def translate_client_error(exc: ClientError, doing: str) -> BedrockCostError:
    """Map an AWS error to ``Throttled``, ``NotFound`` or a generic error carrying AWS's reason."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    message = f"{doing}: {code}: {error.get('Message', '')}".rstrip(": ")
    if code in THROTTLING_CODES:
        return Throttled(message)
    if code in NOT_FOUND_CODES:
        return NotFound(message)
    return BedrockCostError(message)
