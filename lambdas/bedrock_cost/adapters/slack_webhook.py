"""Post to a Slack incoming webhook, retrying what is worth retrying, within a deadline.

Slack answers 200 ``ok`` on success, 429 with ``Retry-After`` when rate limited
(one message per second per webhook), 5xx when it is having a bad day, and 4xx for
problems a retry cannot fix (``invalid_blocks``, ``no_service`` for a revoked webhook,
``channel_is_archived``). So: 429, 5xx, timeouts and connection errors are retried with
capped exponential backoff (full jitter; ``Retry-After`` wins when present); any other
status fails at once with ``SlackRejectedError``. Every wait is bounded by a deadline that
the caller derives from the Lambda's remaining time, and ``SlackDeliveryError`` says why we
gave up, so the invocation fails and the event lands in the dead-letter queue instead
of vanishing.

**A post Slack may have accepted is never blindly re-posted.** Incoming webhooks have
no idempotency key. A timeout *while waiting for the answer* (the request was sent in
full; ``urllib`` raises a bare ``TimeoutError`` from ``getresponse``) may mean Slack
posted the message and answered late, so it is not retried: ``SlackUnconfirmedError``
says so and the notifier records the delivery as *unconfirmed* (logged with the SNS
message id, counted in ``NotificationsUnconfirmed``) instead of letting Lambda retry it
into a duplicate. A timeout or refusal while *connecting* (``URLError``) means nothing
was sent, and is retried. The rule errs on "at most once" for exactly one case (Slack
silent after receiving the request), which an operator sees in the metric and the log.

**The URL is a credential.** It never appears in an exception message, a log line or a
trace: ``validate_webhook_url`` rejects whitespace and control characters (which
``http.client`` would otherwise echo back in its error), messages never quote it, and
the host is excluded from X-Ray's ``httplib`` patch in case something patched it (the
package's tracer patches only botocore, see ``observability.py``).

HTTP goes through ``urllib`` on purpose: one POST does not justify a dependency in
every Lambda bundle.
"""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bedrock_cost.errors import BedrockCostError, UserError

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class SlackDeliveryError(BedrockCostError):
    """Slack did not accept the message; ``attempts`` posts were made."""

    def __init__(self, message: str, attempts: int, status: int | None = None) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.status = status


class SlackRejectedError(SlackDeliveryError):
    """Slack refused the message for a reason a retry cannot fix (4xx other than 429)."""


class SlackUnconfirmedError(SlackDeliveryError):
    """The request reached Slack but no answer came in time: it may have been posted."""


class InvalidWebhookUrlError(UserError):
    """The configured webhook is not an http(s) URL (the message never quotes it)."""


@dataclass(frozen=True)
class RetryPolicy:
    attempt_timeout_seconds: float = 5.0
    """Socket timeout for one POST; a hung Slack must not eat the whole Lambda timeout."""
    base_delay_seconds: float = 0.5
    max_delay_seconds: float = 20.0
    max_attempts: int = 8
    min_attempt_seconds: float = 1.0
    """Don't start an attempt with less time than this before the deadline."""


@dataclass(frozen=True)
class _Outcome:
    status: int | None
    body: str
    retry_after: float | None
    error: str | None
    maybe_delivered: bool = False
    """The request was sent in full and the answer timed out."""


def validate_webhook_url(url: str) -> str:
    """Accept only http(s) URLs with a host and no whitespace or control characters.

    urllib would otherwise open ``file://`` too, and ``http.client`` rejects a URL with
    a space or control character with an error that quotes the URL.
    """
    text = url.strip()
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
        raise InvalidWebhookUrlError("the Slack webhook secret holds a URL with whitespace or control characters")
    parts = urlsplit(text)
    if parts.scheme not in {"https", "http"} or not parts.netloc:
        raise InvalidWebhookUrlError("the Slack webhook secret must hold an https:// URL")
    _exclude_from_tracing(parts.hostname or "")
    return text


def _exclude_from_tracing(hostname: str) -> None:
    """Ask X-Ray's httplib patch (if installed) never to record requests to the webhook host."""
    try:
        from aws_xray_sdk.ext.httplib import add_ignored  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - the tracer extra is part of the runtime
        return
    if hostname:
        add_ignored(hostname=hostname)


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


class SlackWebhook:
    """One webhook URL; ``post`` returns the number of attempts it took."""

    def __init__(
        self,
        url: str,
        policy: RetryPolicy | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self._url = validate_webhook_url(url)
        self._policy = policy or RetryPolicy()
        self._clock = clock
        self._sleep = sleep
        self._jitter = jitter

    def post(self, payload: dict[str, Any], deadline: float) -> int:
        """POST ``payload`` as JSON until Slack says ok, a permanent error, or ``deadline`` (clock time)."""
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        policy = self._policy
        last: _Outcome | None = None
        for attempt in range(1, policy.max_attempts + 1):
            remaining = deadline - self._clock()
            if remaining < policy.min_attempt_seconds:
                raise self._gave_up(last, attempt - 1, "deadline reached before the next attempt")
            last = self._attempt(body, timeout=min(policy.attempt_timeout_seconds, remaining))
            if last.status == 200:
                return attempt
            if last.maybe_delivered:
                raise SlackUnconfirmedError(
                    f"Slack received the message but did not answer in time ({last.error}); not re-posted, "
                    "it may have been delivered",
                    attempts=attempt,
                )
            if last.status is not None and last.status not in RETRYABLE_STATUS:
                raise SlackRejectedError(
                    f"Slack rejected the message: HTTP {last.status} {last.body[:200]}".rstrip(),
                    attempts=attempt,
                    status=last.status,
                )
            if attempt == policy.max_attempts:
                break
            delay = self._delay(attempt, last)
            if self._clock() + delay + policy.min_attempt_seconds > deadline:
                raise self._gave_up(last, attempt, "no time left for another attempt")
            self._sleep(delay)
        raise self._gave_up(last, policy.max_attempts, "retries exhausted")

    def _delay(self, attempt: int, outcome: _Outcome) -> float:
        if outcome.retry_after is not None:
            return outcome.retry_after  # Slack knows best; the deadline check bounds it
        cap = min(self._policy.max_delay_seconds, self._policy.base_delay_seconds * 2 ** (attempt - 1))
        return self._jitter(0.0, cap)

    @staticmethod
    def _gave_up(outcome: _Outcome | None, attempts: int, why: str) -> SlackDeliveryError:
        if outcome is None:
            return SlackDeliveryError(f"Slack delivery not attempted: {why}", attempts=attempts)
        last = outcome.error or f"HTTP {outcome.status} {outcome.body[:200]}".rstrip()
        return SlackDeliveryError(
            f"Slack delivery failed after {attempts} attempt(s), {why}; last: {last}",
            attempts=attempts,
            status=outcome.status,
        )

    def _attempt(self, body: bytes, timeout: float) -> _Outcome:
        request = urllib.request.Request(  # noqa: S310 - scheme checked by validate_webhook_url
            self._url, data=body, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - see above
                return _Outcome(response.status, response.read(2048).decode("utf-8", "replace"), None, None)
        except urllib.error.HTTPError as exc:
            text = exc.read(2048).decode("utf-8", "replace") if exc.fp else ""
            return _Outcome(exc.code, text, _retry_after(exc.headers.get("Retry-After")), None)
        except TimeoutError:
            # Raised by getresponse(): the request was sent, the answer is late.
            return _Outcome(None, "", None, f"no answer within {timeout:.1f}s", maybe_delivered=True)
        except urllib.error.URLError as exc:
            # Raised around the send: nothing (or not all) reached Slack; safe to retry.
            return _Outcome(None, "", None, f"connection error: {type(exc.reason).__name__}")
        except (ConnectionError, OSError) as exc:
            return _Outcome(None, "", None, f"connection error: {type(exc).__name__}")
