"""A one-line text progress bar on stderr, so multi-million-row runs show they are alive.

Plain text and carriage returns only: no dependency, and nothing at all when disabled.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """Redraws ``label [#####.....]  50%  n/total rows  12.3 s`` at most ~10 times a second."""

    def __init__(self, total: int, label: str, *, enabled: bool, stream: TextIO | None = None, width: int = 30) -> None:
        self._total = max(total, 1)
        self._label = label
        self._enabled = enabled
        self._stream = stream if stream is not None else sys.stderr
        self._width = width
        self._done = 0
        self._started = time.monotonic()
        self._last_draw = 0.0
        self._drawn_done = -1

    def advance(self, rows: int) -> None:
        """Count ``rows`` more rows written and redraw when enough time has passed."""
        self._done += rows
        now = time.monotonic()
        if self._enabled and (now - self._last_draw >= 0.1 or self._done >= self._total):
            self._last_draw = now
            self._draw(now)

    def close(self) -> None:
        """Finish the line so later output starts on a fresh one."""
        if self._enabled:
            if self._drawn_done != self._done:
                self._draw(time.monotonic())
            self._stream.write("\n")
            self._stream.flush()

    def _draw(self, now: float) -> None:
        self._drawn_done = self._done
        fraction = min(self._done / self._total, 1.0)
        filled = int(fraction * self._width)
        bar = "#" * filled + "." * (self._width - filled)
        self._stream.write(
            f"\r{self._label} [{bar}] {fraction:4.0%}  {self._done:,}/{self._total:,} rows  {now - self._started:.1f} s"
        )
        self._stream.flush()
