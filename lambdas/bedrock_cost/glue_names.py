"""Glue database and table names as the config and the command line give them.

One pattern for ``athena.database``/``athena.table``, ``report --table`` and the SQL
renderer's identifier allow-list, kept apart from ``config`` (pydantic, slow to import)
and from ``billing`` (a layer above the config) so every one of them can use it.
"""

from __future__ import annotations

GLUE_NAME_PATTERN = r"^[a-z_][a-z0-9_]{0,254}$"
"""Lower-case letters, digits and underscores, at most 255 characters: what Glue stores
and what the SQL renderer quotes without escaping."""
