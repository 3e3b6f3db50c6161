"""One cached set of adapters per Lambda container, built on first use.

Handlers wire their adapters once (clients, caches) and reuse them across invocations,
like boto3 clients; tests and the demo swap in their own with ``configure``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class LazyWiring(Generic[T]):
    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None

    def configure(self, value: T | None) -> None:
        """Use ``value`` for the next invocations (``None``: rebuild from the environment)."""
        self._value = value

    def get(self) -> T:
        if self._value is None:
            self._value = self._build()
        return self._value
