"""Inline SVG charts, drawn in Python so the report needs no script or CDN to show them.

Coordinates are floats (they are pixels, not money); every label and tooltip is escaped
because model names, tag values and resource ids come from billing data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from bedrock_cost.money import DOLLAR, display_usd

PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
)
OTHER_COLOR = "#9e9e9e"
UNTAGGED_COLOR = "#b0b0b0"
OVER_COLOR = "#d62728"
NEAR_COLOR = "#ff7f0e"
OK_COLOR = "#2ca02c"
AXIS_COLOR = "#5f6368"


def nice_ceiling(value: float) -> float:
    """The smallest 1/2/2.5/5 x 10^n at or above ``value`` (a readable axis maximum)."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value * (1 - 1e-9):
            return float(candidate)
    return float(10 ** (exponent + 1))


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 11, cls: str = "") -> str:
    klass = f' class="{cls}"' if cls else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}"{klass}>{escape(text)}</text>'


@dataclass(frozen=True)
class Series:
    """One stacked layer: a name, a colour and one value per category."""

    name: str
    color: str
    values: Sequence[Decimal]


def stacked_columns(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    reference: tuple[Decimal, str] | None = None,
    width: int = 960,
    height: int = 340,
) -> str:
    """Stacked columns, one per category (a day), with a legend and an optional reference line."""
    left, right, top, bottom = 64, 12, 12, 64
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum((s.values[i] for s in series), Decimal(0)) for i in range(len(categories))]
    peak = max([float(t) for t in totals] + ([float(reference[0])] if reference else []) + [0.0])
    y_max = nice_ceiling(peak)
    parts = [
        f'<svg viewBox="0 0 {width} {height + 22 * _legend_rows(series, width)}" '
        f'role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(5):
        value = y_max * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" class="grid"/>')
        parts.append(_text(left - 6, y + 4, display_usd(Decimal(str(value)), DOLLAR), anchor="end", cls="axis"))
    n = max(len(categories), 1)
    slot = plot_w / n
    bar_w = max(slot * 0.75, 1.0)
    label_every = max(1, math.ceil(n / 16))
    for i, category in enumerate(categories):
        x = left + i * slot + (slot - bar_w) / 2
        base = float(0)
        for s in series:
            value = float(s.values[i])
            if value <= 0:
                continue
            h = plot_h * value / y_max
            y = top + plot_h - plot_h * base / y_max - h
            tooltip = f"{category} · {s.name}: {display_usd(s.values[i])}"
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{s.color}">'
                f"<title>{escape(tooltip)}</title></rect>"
            )
            base += value
        if i % label_every == 0:
            parts.append(_text(x + bar_w / 2, top + plot_h + 16, category[5:], anchor="middle", cls="axis"))
    if reference is not None:
        line_value, label = reference
        y = top + plot_h - plot_h * float(line_value) / y_max
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" class="budget"/>')
        parts.append(
            _text(left + plot_w - 4, y - 4, f"{label} {display_usd(line_value, DOLLAR)}", anchor="end", cls="budget")
        )
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" class="axisline"/>')
    parts += _legend(series, left, height - 20, width - left)
    parts.append("</svg>")
    return "".join(parts)


def _legend_rows(series: Sequence[Series], width: int) -> int:
    per_row = max(1, (width - 64) // 180)
    return max(0, (len(series) - 1) // per_row)


def _legend(series: Sequence[Series], x0: float, y0: float, width: float) -> list[str]:
    parts = []
    per_row = max(1, int(width // 180))
    for i, s in enumerate(series):
        x = x0 + (i % per_row) * 180
        y = y0 + (i // per_row) * 22
        parts.append(f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="12" height="12" fill="{s.color}"/>')
        label = s.name if len(s.name) <= 24 else s.name[:23] + "…"
        parts.append(_text(x + 17, y, label, cls="legend"))
    return parts


@dataclass(frozen=True)
class Bar:
    """One horizontal bar: a label, its value, an optional budget, and a colour override."""

    label: str
    value: Decimal
    budget: Decimal | None = None
    muted: bool = False


def bar_color(bar: Bar, index: int) -> str:
    if bar.budget is not None:
        if bar.value > bar.budget:
            return OVER_COLOR
        return NEAR_COLOR if bar.value >= bar.budget * Decimal("0.9") else OK_COLOR
    if bar.muted:
        return UNTAGGED_COLOR
    return PALETTE[0]


def horizontal_bars(bars: Sequence[Bar], *, title: str, width: int = 960) -> str:
    """Horizontal bars with budget markers: red past the budget, amber from 90 %, green below."""
    row_h, left, right, top = 26, 200, 250, 8
    height = top * 2 + row_h * max(len(bars), 1)
    plot_w = width - left - right
    peak = max([float(b.value) for b in bars] + [float(b.budget) for b in bars if b.budget is not None] + [0.0])
    x_max = nice_ceiling(peak)
    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
    ]
    for i, bar in enumerate(bars):
        y = top + i * row_h
        label = bar.label if len(bar.label) <= 28 else bar.label[:27] + "…"
        parts.append(_text(left - 8, y + 17, label, anchor="end", cls="legend"))
        w = plot_w * max(float(bar.value), 0.0) / x_max
        note = display_usd(bar.value)
        if bar.budget is not None:
            pct = bar.value / bar.budget * 100 if bar.budget else Decimal(0)
            note += f" of {display_usd(bar.budget, DOLLAR)} ({pct:.0f} %)"
        parts.append(
            f'<rect x="{left}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" fill="{bar_color(bar, i)}">'
            f"<title>{escape(bar.label)}: {escape(note)}</title></rect>"
        )
        if bar.budget is not None:
            bx = left + plot_w * float(bar.budget) / x_max
            parts.append(f'<line x1="{bx:.1f}" y1="{y + 1}" x2="{bx:.1f}" y2="{y + row_h - 1}" class="budget"/>')
        parts.append(_text(left + w + 6, y + 17, note, cls="value"))
    parts.append("</svg>")
    return "".join(parts)


def share_bar(parts_in: Sequence[tuple[str, Decimal, str]], *, title: str, width: int = 960) -> str:
    """One 100 % bar split by share (label, value, colour); negative values are ignored."""
    total = sum((max(v, Decimal(0)) for _, v, _ in parts_in), Decimal(0))
    height = 44
    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
    ]
    x = 0.0
    for label, value, color in parts_in:
        if value <= 0 or total <= 0:
            continue
        share = value / total
        w = width * float(share)
        parts.append(
            f'<rect x="{x:.1f}" y="4" width="{w:.1f}" height="36" fill="{color}">'
            f"<title>{escape(label)}: {escape(display_usd(value))} ({share * 100:.1f} %)</title></rect>"
        )
        if w > 70:
            parts.append(_text(x + w / 2, 27, f"{label} {share * 100:.0f} %", anchor="middle", cls="inbar"))
        x += w
    parts.append("</svg>")
    return "".join(parts)
