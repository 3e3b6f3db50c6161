"""Exceptions shared by every layer.

``UserError`` is what the CLI turns into exit code 2 with a one-line message; anything
else is a bug or an outage (exit code 1). Adapters translate AWS errors into the domain
exceptions below in one place, so callers never inspect ``ClientError`` codes.
"""

from __future__ import annotations


class BedrockCostError(Exception):
    """Base class for every error this package raises on purpose."""


class UserError(BedrockCostError):
    """Bad input from the user: a path, a flag, a config field. Exit code 2."""


class ConfigError(UserError):
    """The configuration is invalid; the message names the field."""


class Throttled(BedrockCostError):
    """AWS asked us to slow down; the caller may retry with backoff."""


class NotFound(BedrockCostError):
    """The AWS resource does not exist (or is not visible to us)."""


class QueryError(BedrockCostError):
    """A query failed in the engine; the message carries the engine's reason."""


class QueryTimeout(QueryError):
    """A query did not finish before its deadline and was cancelled."""
