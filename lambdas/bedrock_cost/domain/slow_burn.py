"""Slow burn: a day's spend against its own trailing, weekday-aware baseline.

A prompt that grows threefold over two weeks never trips a spike alarm (each day looks like
the one before). For each user or customer we compare today with the same weekday's
spend *and* the other days of the last 14: the baseline is the mean and standard deviation
of the trailing 14 days, each day first scaled by its weekday factor (weekday mean over the
window divided by the window mean), so a quiet weekend does not make Monday look like a
burn. One alert when today is more than ``sigmas`` standard deviations above the mean.
Money in integer micro-dollars; statistics in Decimal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

WINDOW_DAYS = 14
MIN_HISTORY_DAYS = 7


@dataclass(frozen=True)
class SlowBurn:
    subject: str
    day: date
    spend_micro: int
    mean_micro: Decimal
    std_micro: Decimal
    sigmas_above: Decimal


def _mean(values: list[Decimal]) -> Decimal:
    return sum(values, Decimal(0)) / len(values)


def check(subject: str, day: date, daily_micro: Mapping[date, int], sigmas: Decimal) -> SlowBurn | None:
    """A :class:`SlowBurn` when ``day`` is over ``sigmas`` std above its baseline, else ``None``."""
    history = [day - timedelta(days=i) for i in range(1, WINDOW_DAYS + 1)]
    values = {d: Decimal(daily_micro.get(d, 0)) for d in history}
    if sum(1 for d in history if d in daily_micro) < MIN_HISTORY_DAYS:
        return None
    overall = _mean(list(values.values()))
    if overall == 0:
        return None

    def factor(weekday: int) -> Decimal:
        same = [v for d, v in values.items() if d.weekday() == weekday]
        f = _mean(same) / overall if same else Decimal(1)
        return f if f > 0 else Decimal(1)

    scaled = [v / factor(d.weekday()) for d, v in values.items()]
    mean = _mean(scaled)
    variance = _mean([(v - mean) ** 2 for v in scaled])
    std = variance.sqrt()
    today = Decimal(daily_micro.get(day, 0)) / factor(day.weekday())
    above = (Decimal("Infinity") if today > mean * Decimal("1.5") else Decimal(0)) if std == 0 else (today - mean) / std
    if above <= sigmas:
        return None
    return SlowBurn(subject, day, daily_micro.get(day, 0), mean, std, above)
