"""Source text that makes a fresh interpreter behave as if some distributions were not installed.

Tests that check what happens without an optional dependency run a child interpreter
(``python -c``); ``with_blocked_imports`` prepends a prelude defining ``block(names, reason)``,
which makes every import under those top-level names fail the way a missing package does.
"""

from __future__ import annotations

_PRELUDE = """
import sys


class BlockedImports:
    def __init__(self, blocked, reason):
        self.blocked, self.reason = set(blocked), reason

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.blocked:
            raise ModuleNotFoundError(f"No module named {name!r}{self.reason}", name=name)
        return None


def block(names, reason=""):
    sys.meta_path.insert(0, BlockedImports(names, reason))
"""


def with_blocked_imports(script: str) -> str:
    """``script`` preceded by the prelude that defines ``block(names, reason="")``."""
    return _PRELUDE + script
