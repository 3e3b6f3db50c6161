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

from bedrock_cost.domain.alerts import Alert

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


DEFAULT_SIGMAS = Decimal(3)
SUBJECTS = ("user", "meta:customer")
"""Ledger subjects judged for slow burn: each user and each ``customer`` request-metadata value."""
MICRO = Decimal(1_000_000)
CENT = Decimal("0.01")


def history_days(day: date) -> list[date]:
    """``day`` and the ``WINDOW_DAYS`` before it: the counters one judgement reads."""
    return [day - timedelta(days=i) for i in range(WINDOW_DAYS + 1)]


def slow_burn_alert(burn: SlowBurn, subject: str, value: str, sigmas: Decimal) -> Alert:
    """One alert per subject value and day (the publisher's dedupe key)."""
    label = f"{subject}={value}"
    times = "" if burn.mean_micro == 0 else f" ({Decimal(burn.spend_micro) / burn.mean_micro:.1f}x its baseline)"
    above = "a flat baseline" if burn.sigmas_above.is_infinite() else f"{burn.sigmas_above:.1f} standard deviations"
    return Alert(
        kind="slow_burn",
        dedupe_key=f"slow_burn#{label}#{burn.day.isoformat()}",
        title=f"{label} spent ${Decimal(burn.spend_micro) / MICRO:.2f} on {burn.day.isoformat()}{times}, a slow burn",
        severity="warning",
        period=burn.day.isoformat(),
        figures={
            "spent_usd": f"{Decimal(burn.spend_micro) / MICRO:.2f}",
            "baseline_usd": f"{burn.mean_micro / MICRO:.2f}",
            "std_usd": f"{burn.std_micro / MICRO:.2f}",
            "sigmas_above": "flat baseline" if burn.sigmas_above.is_infinite() else f"{burn.sigmas_above:.1f}",
            "threshold_sigma": f"{sigmas}",
        },
        subject={"subject": subject, "value": value, "clock": "invocation-logs"},
        details=[
            f"The day's spend is {above} above the mean of the {WINDOW_DAYS} days before, each scaled by its "
            "weekday, so a quiet weekend does not make Monday look like a burn.",
            "Per-request estimate from Bedrock invocation logs (list or CUR-calibrated prices).",
        ],
    )


def judge(day: date, daily_micro: Mapping[tuple[str, str], Mapping[date, int]], sigmas: Decimal) -> list[Alert]:
    """Alerts for every (subject, value) whose ``day`` burns above its baseline."""
    out = []
    for (subject, value), series in sorted(daily_micro.items()):
        burn = check(f"{subject}={value}", day, series, sigmas)
        if burn is not None:
            out.append(slow_burn_alert(burn, subject, value, sigmas))
    return out
