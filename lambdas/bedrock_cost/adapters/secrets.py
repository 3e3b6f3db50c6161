"""Read secrets from Secrets Manager, cached per execution environment with a short TTL.

The Slack webhook URL lives in Secrets Manager so it never appears in the template,
the environment or the logs. Caching avoids one API call per alert; the TTL means a
rotated webhook is picked up within minutes without a redeploy. The secret may hold the
bare URL or JSON such as ``{"url": "https://hooks.slack.com/..."}`` (what people paste
in the console varies); both are accepted, anything else is a clear error.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from bedrock_cost.adapters.aws_errors import translate_client_error
from bedrock_cost.errors import BedrockCostError

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

WEBHOOK_JSON_KEYS = ("url", "webhook_url", "slack_webhook_url", "webhook")


class SecretFormatError(BedrockCostError):
    """The secret exists but does not hold what we expect (the message never echoes it)."""


class SecretCache:
    def __init__(
        self,
        client: SecretsManagerClient,
        ttl_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, str]] = {}

    def get(self, secret_id: str) -> str:
        """The secret's string value; raises ``NotFound``/``Throttled``/``BedrockCostError``."""
        cached = self._cache.get(secret_id)
        now = self._clock()
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        try:
            response = self._client.get_secret_value(SecretId=secret_id)
        except ClientError as exc:
            raise translate_client_error(exc, f"reading secret {secret_id}") from exc
        value = response.get("SecretString")
        if not value:
            raise SecretFormatError(f"secret {secret_id} has no string value (binary secrets are not supported)")
        self._cache[secret_id] = (now, value)
        return value

    def invalidate(self, secret_id: str) -> None:
        """Forget a value, e.g. after Slack said the webhook no longer exists."""
        self._cache.pop(secret_id, None)


def webhook_url_from_secret(value: str, secret_id: str) -> str:
    """Extract the webhook URL from a secret string (bare URL or a small JSON object)."""
    text = value.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            raise SecretFormatError(f"secret {secret_id} looks like JSON but does not parse") from None
        if isinstance(data, dict):
            for key in WEBHOOK_JSON_KEYS:
                candidate = data.get(key)
                if isinstance(candidate, str) and candidate.strip():
                    return candidate.strip()
        raise SecretFormatError(f"secret {secret_id} is JSON without any of the keys {', '.join(WEBHOOK_JSON_KEYS)}")
    if not text:
        raise SecretFormatError(f"secret {secret_id} is empty")
    return text
