"""Building blocks of the CloudWatch dashboard body: metrics, metric math, SEARCH, the grid.

Kept apart from the layout (``body.py``) so each section reads as what it shows, and so
the one place that spells CloudWatch's JSON shapes is small enough to check against the
dashboard body schema.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from bedrock_cost.config import Budget
from bedrock_cost.money import CENT, DOLLAR, display_usd

GRID_COLUMNS = 24

TOKEN_KINDS: tuple[tuple[str, str, str], ...] = (
    # (metric id, TokenKind dimension value, label)
    ("tok_in", "input", "Input"),
    ("tok_out", "output", "Output"),
    ("tok_cr", "cache-read", "Cache read"),
    ("tok_cw", "cache-write", "Cache write"),
)

BEDROCK_TOKEN_KINDS: tuple[tuple[str, str, str], ...] = (
    # (metric id, AWS/Bedrock metric name, label)
    ("tok_in", "InputTokenCount", "Input"),
    ("tok_out", "OutputTokenCount", "Output"),
    ("tok_cr", "CacheReadInputTokenCount", "Cache read"),
    ("tok_cw", "CacheWriteInputTokenCount", "Cache write"),
)

HOUR = 3600
DAY = 86_400
MONTH_WINDOW = "-P35D"
"""Gauges read this far back; longer than any month, so the month start is always in range."""
TODAY_WINDOW = "-PT30H"

COLOR_OK = "#2ca02c"
COLOR_WARN = "#ff7f0e"
COLOR_BAD = "#d62728"
COLOR_ESTIMATE = "#1f77b4"
COLOR_BILLED = "#9467bd"

View = Literal["timeSeries", "singleValue", "gauge", "bar", "pie"]
Metric = list[Any]
Widget = dict[str, Any]


@dataclass(frozen=True)
class DashboardLinks:
    """Where the header links point. Values may be CDK tokens: they are only pasted into text."""

    region: str
    athena_workgroup: str | None = None
    athena_database: str | None = None
    alert_topic_arn: str | None = None


# --------------------------------------------------------------------------- metric helpers


def metric(namespace: str, name: str, dims: Sequence[tuple[str, str]] = (), **options: Any) -> Metric:
    """One entry of a widget's ``metrics`` array: namespace, name, dimension pairs, options."""
    entry: Metric = [namespace, name]
    for dim_name, dim_value in dims:
        entry += [dim_name, dim_value]
    if options:
        entry.append(dict(options))
    return entry


def expression(expr: str, expr_id: str, label: str | None = None, **options: Any) -> Metric:
    """A metric-math (or ``SEARCH``) entry of a widget's ``metrics`` array."""
    body: dict[str, Any] = {"expression": expr, "id": expr_id}
    if label is not None:
        body["label"] = label
    body.update(options)
    return [body]


def search(namespace: str, dims: Sequence[str], metric_name: str, stat: str, period: int, **match: str) -> str:
    """``SEARCH('{ns,dims} MetricName="x" Dim="v"', 'stat', period)`` with exact-match terms.

    The schema braces pin the dimension set, so ``EstimatedCostUSD`` by ``Model`` never
    mixes with the same metric by tag.
    """
    schema = ",".join([namespace, *dims])
    terms = [f'MetricName="{metric_name}"'] + [f'{key}="{_search_literal(value)}"' for key, value in match.items()]
    return f"SEARCH('{{{schema}}} {' '.join(terms)}', '{stat}', {period})"


def _search_literal(value: str) -> str:
    if any(ch in value for ch in "\"'\\"):
        raise ValueError(f"{value!r} cannot be used in a SEARCH expression")
    return value


def month_to_date(series_id: str) -> str:
    """Sum of ``series_id`` since 00:00 UTC on the 1st of the newest point's month.

    ``series_id`` must be hourly and gap-free (wrap it in ``FILL(x, 0)``): each point's
    month start is its epoch minus the elapsed days, hours and minutes; the newest month
    start is the ``MAX`` of those, and the sum keeps the points at or after it.
    """
    s = series_id
    return f"SUM(IF(EPOCH({s}) >= {_month_start(s)}, {s}, 0))"


def _month_start(series_id: str) -> str:
    s = series_id
    return f"MAX(EPOCH({s}) - (DATE({s}) - 1) * {DAY} - HOUR({s}) * {HOUR} - MINUTE({s}) * 60)"


def month_peak(series_id: str) -> str:
    """Highest value of ``series_id`` since the start of the newest point's month (0 if none).

    For month-to-date gauges such as ``BilledCostUSD`` (the CUR reporter publishes the
    running total once a day): the figure only grows within a month, so its peak is the
    latest total, and last month's total never shows on the 1st.
    """
    s = series_id
    return f"MAX(IF(EPOCH({s}) >= {_month_start(s)}, {s}, 0))"


AVERAGE_MONTH_DAYS = 30.4375
"""Days in an average month: metric math has no calendar, so the projection uses the mean."""


def month_end_projection(series_id: str) -> str:
    """Month-to-date of ``series_id`` plus the month's pace so far times the days left.

    The dashboard's forecast: the month's mean daily rate (not weekday-aware; ``bedrock-cost
    forecast`` and the burn-rate alert are) carried to the end of an average-length month.
    """
    s = series_id
    elapsed_days = f"MAX((EPOCH({s}) - {_month_start(s)} + {HOUR}) / {DAY})"
    return f"{month_to_date(s)} * {AVERAGE_MONTH_DAYS} / {elapsed_days}"


def day_to_date(series_id: str) -> str:
    """Sum of ``series_id`` since 00:00 UTC of the newest point's day (see ``month_to_date``)."""
    s = series_id
    day_start = f"MAX(EPOCH({s}) - HOUR({s}) * {HOUR} - MINUTE({s}) * 60)"
    return f"SUM(IF(EPOCH({s}) >= {day_start}, {s}, 0))"


def number(value: Decimal) -> int | float:
    """Chart bounds and annotation lines are display numbers; JSON has no Decimal."""
    return int(value) if value == value.to_integral_value() else float(value)


def budget_usd(value: Decimal) -> str:
    """A budget as people write it: ``$5,000``, or ``$5,000.50`` when it has cents."""
    return display_usd(value, DOLLAR if value == value.to_integral_value() else CENT)


def threshold_bands(budget: Budget) -> list[dict[str, Any]]:
    """Horizontal annotations at each alert threshold, coloured by how close to the budget."""
    bands = []
    for pct in budget.thresholds_pct:
        color = COLOR_OK if pct < 75 else COLOR_WARN if pct < 100 else COLOR_BAD
        bands.append(
            {
                "value": number(budget.monthly_usd * pct / 100),
                "label": f"{pct} % of {budget_usd(budget.monthly_usd)}",
                "color": color,
            }
        )
    return bands


# --------------------------------------------------------------------------- layout


@dataclass
class Grid:
    """Flow layout on CloudWatch's 24-column grid: left to right, wrap, never overlap."""

    widgets: list[Widget] = field(default_factory=list)
    x: int = 0
    y: int = 0
    row_height: int = 0

    def place(self, widget_type: str, width: int, height: int, properties: dict[str, Any]) -> None:
        if not 1 <= width <= GRID_COLUMNS:
            raise ValueError(f"widget width {width} outside 1-{GRID_COLUMNS}")
        if self.x + width > GRID_COLUMNS:
            self.new_row()
        self.widgets.append(
            {"type": widget_type, "x": self.x, "y": self.y, "width": width, "height": height, "properties": properties}
        )
        self.x += width
        self.row_height = max(self.row_height, height)

    def new_row(self) -> None:
        if self.x:
            self.y += self.row_height
        self.x = 0
        self.row_height = 0


def metric_props(
    title: str,
    region: str,
    metrics: list[Metric],
    *,
    view: View = "timeSeries",
    stacked: bool = False,
    period: int = 300,
    stat: str = "Sum",
    **extra: Any,
) -> dict[str, Any]:
    props: dict[str, Any] = {
        "title": title,
        "region": region,
        "view": view,
        "stacked": stacked,
        "period": period,
        "stat": stat,
        "metrics": metrics,
    }
    props.update(extra)
    return props
