"""Say so when ``--by tag:<key>`` found nothing: a silent 100 % ``(untagged)`` misleads.

Tag keys are case-sensitive in AWS (``Team`` and ``team`` are two keys), so a report keeps
the key as given; but a key that matches only under another case, or not at all, is almost
always a typo or a tag never activated for cost allocation. The check runs only when the
report found no value for the key (one extra query on that path, none otherwise).
"""

from __future__ import annotations

from collections.abc import Iterable

from bedrock_cost.billing.engine import QueryEngine
from bedrock_cost.billing.sql import quote_identifier, render

_PREFIXES = ("resourceTags/user:", "resourceTags/", "iamPrincipal/", "user_", "user:")
"""How CUR 2.0 stores user tag keys (longest prefix first)."""


def user_key(stored: str) -> str | None:
    """``user_team``, ``resourceTags/user:team``, ``iamPrincipal/team`` -> ``team``; other keys -> None."""
    for prefix in _PREFIXES:
        if stored.startswith(prefix):
            return stored[len(prefix) :]
    return None


def tag_key_warning(key: str, stored_keys: Iterable[str], period: str) -> str | None:
    """The warning for ``key`` given the keys stored in the period (None when it matches exactly)."""
    keys = {k for s in stored_keys if (k := user_key(s))}
    if key in keys:
        return None
    near = sorted(k for k in keys if k.lower() == key.lower())
    if near:
        return (
            f"warning: --by tag:{key}: no tag '{key}' in {period}, but {', '.join(repr(k) for k in near)} "
            f"differs only in case (tag keys are case-sensitive): try --by tag:{near[0]}"
        )
    shown = ", ".join(sorted(keys)[:10]) or "none"
    return f"warning: --by tag:{key}: no tag '{key}' on any Bedrock usage in {period} (tag keys present: {shown})"


def check_tag_key(engine: QueryEngine, period: str, key: str) -> str | None:
    """Query the period's stored tag keys and return :func:`tag_key_warning`'s answer."""
    rows = engine.query(render("reports/tag_keys", {"database": quote_identifier(engine.database)}, {"period": period}))
    return tag_key_warning(key, (str(r["stored_key"]) for r in rows if r.get("stored_key")), period)
