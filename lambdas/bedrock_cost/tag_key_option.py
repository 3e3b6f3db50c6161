"""Report tag keys as the config and the command line give them.

Kept apart from ``config`` (pydantic models, about 0.1 s to import) so that a local
command checks ``--tag-keys`` and ``--by tag:<key>`` without loading the config schema.
"""

from __future__ import annotations

import re

from bedrock_cost.errors import ConfigError

SQL_SAFE_TAG_KEY_RE = re.compile(r"^[A-Za-z0-9_.:/=+\-@]{1,128}$")
"""A report tag key: it becomes a view column name and a query parameter."""


def parse_tag_keys_option(text: str, flag: str = "--tag-keys") -> list[str]:
    """A comma-separated list of tag keys from the command line, each checked like ``report_tag_keys``."""
    keys = [key.strip() for key in text.split(",") if key.strip()]
    for key in keys:
        if not SQL_SAFE_TAG_KEY_RE.match(key):
            raise ConfigError(f"{flag}: tag key {key!r} must match {SQL_SAFE_TAG_KEY_RE.pattern}")
    if len(set(keys)) != len(keys):
        raise ConfigError(f"{flag}: tag keys must be distinct")
    return keys
