"""The report page: one self-contained HTML file (inline CSS, inline SVG, a few lines of JS).

Nothing is fetched when the file opens, so it can be mailed, attached to a ticket or
opened offline. The only external link is the optional one to the Athena console.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from html import escape

from bedrock_cost.config import Config
from bedrock_cost.money import DOLLAR, display_usd
from bedrock_cost.reporting_html import svg
from bedrock_cost.reporting_html.data import ReportData

TOP_MODELS = 8
TOP_TAG_VALUES = 12
ATHENA_CONSOLE = "https://console.aws.amazon.com/athena/home#/query-editor"
KIND_COLORS = {
    "input": "#1f77b4",
    "output": "#ff7f0e",
    "cache-read": "#2ca02c",
    "cache-write": "#9467bd",
    "other": "#9e9e9e",
}

CSS = """
:root { --fg:#202124; --muted:#5f6368; --line:#dadce0; --bg:#fff; --card:#f8f9fa; --bad:#d62728; --warn:#ff7f0e;
  --ok:#2ca02c; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
  color:var(--fg); background:var(--bg); }
main { max-width:1040px; margin:0 auto; padding:24px; }
h1 { font-size:24px; margin:0 0 4px; } h2 { font-size:18px; margin:32px 0 8px; border-bottom:1px solid var(--line);
  padding-bottom:4px; } h3 { font-size:15px; margin:20px 0 6px; }
.sub, .note { color:var(--muted); } .note { font-size:12px; }
.cards { display:grid; grid-template-columns:repeat(auto-fit, minmax(180px, 1fr)); gap:12px; margin:16px 0; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px; }
.card .label { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.card .value { font-size:22px; font-weight:600; margin-top:2px; } .card .delta { font-size:12px; color:var(--muted); }
.bad { color:var(--bad); } .warn { color:var(--warn); } .ok { color:var(--ok); }
.alert { border:2px solid var(--bad); background:#fdecea; border-radius:8px; padding:10px 14px; margin:12px 0; }
.alert strong { color:var(--bad); }
table { border-collapse:collapse; width:100%; margin:8px 0; font-size:13px; }
th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:var(--card); font-weight:600; } td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
table.sortable th { cursor:pointer; user-select:none; } table.sortable th:after { content:" \\2195"; color:#bbb; }
td.id { font-family:ui-monospace, Menlo, Consolas, monospace; font-size:12px; word-break:break-all; }
.chart { width:100%; height:auto; display:block; }
.chart .grid { stroke:#eee; } .chart .axisline { stroke:#888; }
.chart .axis { fill:var(--muted); } .chart .legend { fill:var(--fg); } .chart .value { fill:var(--fg); font-size:11px; }
.chart .budget { stroke:var(--bad); stroke-width:2; stroke-dasharray:5 3; fill:var(--bad); }
.chart text.budget { stroke:#fff; stroke-width:4px; paint-order:stroke; stroke-dasharray:none; font-weight:600; }
.chart .inbar { fill:#fff; font-weight:600; }
.meter { display:inline-block; height:8px; background:#c9d7f0; border-radius:2px; vertical-align:middle; }
footer { margin-top:40px; color:var(--muted); font-size:12px; border-top:1px solid var(--line); padding-top:8px; }
@media print { main { max-width:none; } h2 { break-after:avoid; } svg { break-inside:avoid; } }
"""

JS = """
(function () {
  "use strict";
  function sortKey(cell) {
    var raw = cell.getAttribute("data-sort");
    return raw === null ? cell.textContent.trim().toLowerCase() : parseFloat(raw);
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.addEventListener("click", function () {
        var body = table.tBodies[0], index = th.cellIndex, desc = th.getAttribute("data-dir") !== "desc";
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = sortKey(a.cells[index]), y = sortKey(b.cells[index]);
          var order = x < y ? -1 : x > y ? 1 : 0;
          return desc ? -order : order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
        th.setAttribute("data-dir", desc ? "desc" : "asc");
      });
    });
  });
  document.documentElement.setAttribute("data-report-ready", "1");
})();
"""


def _pct(part: Decimal, whole: Decimal) -> str:
    return f"{part / whole * 100:.1f} %" if whole else "n/a"


def _tokens(n: int) -> str:
    for limit, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K")):
        if abs(n) >= limit:
            return f"{n / limit:.2f} {suffix}"
    return str(n)


def _num_cell(text: str, sort_value: Decimal | int) -> str:
    return f'<td class="num" data-sort="{sort_value}">{escape(text)}</td>'


def _table(headers: Sequence[tuple[str, bool]], rows: Iterable[str], *, sortable: bool = True) -> str:
    num = ' class="num"'
    head = "".join(f"<th{num if numeric else ''}>{escape(h)}</th>" for h, numeric in headers)
    klass = ' class="sortable"' if sortable else ""
    return f"<table{klass}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _card(label: str, value: str, delta: str = "", klass: str = "") -> str:
    cls = f" {klass}" if klass else ""
    delta_html = f'<div class="delta">{delta}</div>' if delta else ""
    return (
        f'<div class="card"><div class="label">{escape(label)}</div>'
        f'<div class="value{cls}">{escape(value)}</div>{delta_html}</div>'
    )


def _period_title(period: str) -> str:
    year, month = (int(part) for part in period.split("-"))
    return f"{calendar.month_name[month]} {year}"


def _header(data: ReportData, config: Config | None, generated_at: datetime) -> str:
    s = data.summary
    fresh = (
        f"data up to <strong>{s.latest_usage:%Y-%m-%d %H:%M} UTC</strong> (newest usage hour)"
        if s.latest_usage
        else "<strong>no Bedrock usage in this period</strong>"
    )
    cards = [_card("Billed usage cost", display_usd(s.cost))]
    if data.previous.cost:
        change = (s.cost - data.previous.cost) / data.previous.cost * 100
        cards[0] = _card(
            "Billed usage cost",
            display_usd(s.cost),
            f"{change:+.1f} % vs {escape(data.previous_period)} ({escape(display_usd(data.previous.cost))})",
        )
    cards.append(_card("Tokens", _tokens(s.tokens), f"{s.line_items:,} line items"))
    total_budget = config.budgets.total if config else None
    if total_budget is not None:
        used = s.cost / total_budget.monthly_usd * 100
        klass = "bad" if used > 100 else "warn" if used >= 90 else "ok"
        cards.append(
            _card(
                "Monthly budget used",
                f"{used:.0f} %",
                f"of {escape(display_usd(total_budget.monthly_usd, DOLLAR))}",
                klass,
            )
        )
    adjustments = sum((cost for _, cost in data.adjustments), Decimal(0))
    cards.append(
        _card(
            "Credits, refunds, tax",
            display_usd(adjustments),
            "reported apart; not in usage cost",
        )
    )
    cards.append(
        _card("Untagged spend", display_usd(data.untagged_total), f"{_pct(data.untagged_total, s.cost)} of usage")
    )
    return (
        f"<header><h1>Amazon Bedrock cost: {escape(_period_title(data.period))}</h1>"
        f'<div class="sub">Billing period <strong id="period">{escape(data.period)}</strong> · billed usage from '
        f"CUR 2.0 ({escape(data.engine)}, database <code>{escape(data.database)}</code>) · {fresh} · "
        f'generated <span id="generated-at">{generated_at:%Y-%m-%d %H:%M} UTC</span></div>'
        f'<div class="cards">{"".join(cards)}</div></header>'
    )


def _unknown_models(data: ReportData) -> str:
    if not data.unknown_models:
        return ""
    total = sum((u.cost for u in data.unknown_models), Decimal(0))
    rows = [
        f'<tr><td>{escape(u.model)}</td><td class="id">{escape(u.usage_type)}</td>'
        f"{_num_cell(_tokens(u.tokens), u.tokens)}{_num_cell(display_usd(u.cost), u.cost)}</tr>"
        for u in data.unknown_models
    ]
    return (
        '<section class="alert" id="unknown-models"><strong>Unpriced models:</strong> '
        f"{escape(display_usd(total))} of token usage comes from models the price catalog does not know. "
        "The bill is right, but the near-real-time estimate cannot price these tokens until the model is added "
        "to the catalog (or a price override is configured)."
        + _table([("Model", False), ("Usage type", False), ("Tokens", True), ("Billed", True)], rows, sortable=False)
        + "</section>"
    )


def _daily_chart(data: ReportData, config: Config | None) -> str:
    if not data.daily:
        return '<h2>Cost by day</h2><p class="note">No usage in this period.</p>'
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in data.daily:
        totals[row.model] += row.cost
    ranked = sorted(totals, key=lambda m: (-totals[m], m))
    top = ranked[:TOP_MODELS]
    days = sorted({row.day for row in data.daily})
    grid: dict[str, dict[str, Decimal]] = {name: defaultdict(Decimal) for name in [*top, "Other models"]}
    for row in data.daily:
        grid[row.model if row.model in top else "Other models"][row.day] += row.cost
    series = [
        svg.Series(name, svg.PALETTE[i % len(svg.PALETTE)], [grid[name][d] for d in days]) for i, name in enumerate(top)
    ]
    if len(ranked) > TOP_MODELS:
        series.append(svg.Series("Other models", svg.OTHER_COLOR, [grid["Other models"][d] for d in days]))
    daily_budget = config.budgets.total.daily_usd if config and config.budgets.total else None
    reference = (daily_budget, "daily budget") if daily_budget else None
    chart = svg.stacked_columns(days, series, title="Billed usage cost per day, stacked by model", reference=reference)
    others = f" ({len(ranked) - TOP_MODELS} more models grouped as Other)" if len(ranked) > TOP_MODELS else ""
    return (
        '<section id="cost-by-day"><h2>Cost by day, by model</h2>'
        f'<p class="note">Billed usage cost (UTC days), top {TOP_MODELS} models by cost{others}. '
        "Hover a bar for its value.</p>"
        f"{chart}</section>"
    )


def _tag_charts(data: ReportData, config: Config | None) -> str:
    by_key: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for row in data.tags:
        by_key[row.key][row.value] = row.cost
    keys = list(config.report_tag_keys) if config else sorted(by_key)
    blocks = []
    for key in keys:
        values = by_key.get(key, {})
        budgets = {v: b.monthly_usd for v, b in (config.budgets.per_tag.get(key, {}) if config else {}).items()}
        for value in budgets:
            values.setdefault(value, Decimal(0))
        ranked = sorted(values, key=lambda v: (v not in budgets, -values[v], v))
        shown = ranked[:TOP_TAG_VALUES]
        bars = [svg.Bar(v, values[v], budgets.get(v), muted=v == "(untagged)") for v in shown]
        rest = ranked[TOP_TAG_VALUES:]
        if rest:
            bars.append(svg.Bar(f"{len(rest)} other values", sum((values[v] for v in rest), Decimal(0)), muted=True))
        if not bars:
            blocks.append(f'<h3>{escape(key)}</h3><p class="note">No usage carries this tag key.</p>')
            continue
        legend = (
            "Dashed line: monthly budget; red past it, amber from 90 %."
            if budgets
            else "No budgets configured for this key."
        )
        blocks.append(
            f'<h3>By {escape(key)}</h3><p class="note">{legend}</p>'
            + svg.horizontal_bars(bars, title=f"Billed usage cost by {key}")
        )
    budget_note = (
        "against the budgets in the configuration" if config else "(no configuration given, so no budget lines)"
    )
    return (
        f'<section id="cost-by-tag"><h2>Cost by tag value</h2><p class="note">Billed usage cost per cost-allocation '
        f"tag value {budget_note}. Rows without the tag count as <em>(untagged)</em>, so each key adds up to the "
        f"bill.</p>{''.join(blocks)}</section>"
    )


def _usage_kinds(data: ReportData) -> str:
    total = sum((k.cost for k in data.kinds), Decimal(0))
    shares = [(k.kind, k.cost, KIND_COLORS.get(k.kind, svg.OTHER_COLOR)) for k in data.kinds]
    rows = []
    for k in data.kinds:
        per_million = k.cost * 1_000_000 / k.tokens if k.tokens else None
        rows.append(
            f"<tr><td>{escape(k.kind)}</td>{_num_cell(_tokens(k.tokens) if k.tokens else '-', k.tokens)}"
            f"{_num_cell(display_usd(k.cost), k.cost)}{_num_cell(_pct(k.cost, total), k.cost)}"
            f"{_num_cell(display_usd(per_million) if per_million is not None else '-', per_million or 0)}</tr>"
        )
    return (
        '<section id="usage-kinds"><h2>Usage-kind split</h2>'
        '<p class="note">Input and output alone do not match the bill: cache reads and writes are billed apart. '
        "<em>other</em> is usage that is not tokens (provisioned throughput, images, agents runtime).</p>"
        + svg.share_bar(shares, title="Billed usage cost by usage kind")
        + _table(
            [("Usage kind", False), ("Tokens", True), ("Cost", True), ("Share", True), ("USD per 1M tokens", True)],
            rows,
        )
        + "</section>"
    )


def _untagged(data: ReportData, config: Config | None) -> str:
    if not data.untagged:
        return (
            '<section id="untagged"><h2>Untagged spend</h2><p class="note">Every usage row carries every '
            "report tag key.</p></section>"
        )
    keys = ", ".join(config.report_tag_keys) if config else "the report tag keys"
    top = data.untagged[0].cost or Decimal(1)
    rows = []
    for rank, u in enumerate(data.untagged, start=1):
        width = max(int(u.cost / top * 80), 1)
        rows.append(
            f'<tr><td class="num" data-sort="{rank}">{rank}</td><td class="id">{escape(u.resource_id)}</td>'
            f'<td class="id">{escape(u.principal)}</td><td>{escape(u.model)}</td><td>{escape(u.missing_keys)}</td>'
            f"{_num_cell(display_usd(u.cost), u.cost)}"
            f'<td data-sort="{u.cost}"><span class="meter" style="width:{width}px"></span> '
            f"{escape(_pct(u.cost, data.untagged_total))}</td></tr>"
        )
    return (
        '<section id="untagged"><h2>Untagged spend, largest first</h2>'
        f'<p class="note">{escape(display_usd(data.untagged_total))} of usage in {data.untagged_groups:,} '
        f"resource/principal/model groups lacks at least one of: {escape(keys)}. The top {len(data.untagged)} "
        "are listed; tag these first.</p>"
        + _table(
            [
                ("#", True),
                ("Resource", False),
                ("Principal", False),
                ("Model", False),
                ("Missing keys", False),
                ("Cost", True),
                ("Share of untagged", True),
            ],
            rows,
        )
        + "</section>"
    )


_BREAKDOWN_TITLES = {"model": "By model", "account": "By account", "user": "By user", "region": "By region"}
_BREAKDOWN_NOTES = {
    "model": "Billed usage cost and tokens per model (cache writes include one-hour writes).",
    "account": "Billed usage cost per linked (usage) account.",
    "user": "The person or workload behind each IAM principal (SSO session e-mail, IAM user, role), "
    "across accounts. '(unknown)': the export carries no IAM principal for those rows.",
    "region": "Billed usage cost per AWS region.",
}


def _breakdowns(data: ReportData) -> str:
    sections = []
    for key, rows in data.breakdowns.items():
        body = [
            f"<tr><td>{escape(r.group)}</td>{_num_cell(display_usd(r.cost_usd), r.cost_usd)}"
            + "".join(
                _num_cell(_tokens(getattr(r, c)), getattr(r, c))
                for c in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
            )
            + "</tr>"
            for r in rows
        ]
        sections.append(
            f'<section id="by-{key}"><h2>{_BREAKDOWN_TITLES.get(key, key)}</h2>'
            f'<p class="note">{escape(_BREAKDOWN_NOTES.get(key, ""))}</p>'
            + _table(
                [
                    (key.capitalize(), False),
                    ("Cost", True),
                    ("Input tokens", True),
                    ("Output tokens", True),
                    ("Cache read", True),
                    ("Cache write", True),
                ],
                body,
            )
            + "</section>"
        )
    return "".join(sections)


def _refused_prices(data: ReportData) -> str:
    if not data.refused_prices:
        return ""
    items = "".join(f"<li>{escape(p.message())}</li>" for p in data.refused_prices)
    return f'<p class="warning" id="refused-prices"><strong>Not used for calibration:</strong></p><ul>{items}</ul>'


def _unit_prices(data: ReportData) -> str:
    if not data.unit_prices:
        return ""
    rows = [
        f"<tr><td>{escape(p.provider)}</td><td>{escape(p.model)}</td><td>{escape(p.kind)}</td>"
        f"<td>{escape(p.scope)}</td><td>{escape(p.tier)}</td>{_num_cell(_tokens(p.tokens), p.tokens)}"
        f"{_num_cell(display_usd(p.cost), p.cost)}{_num_cell(f'${p.usd_per_million:,.4f}', p.usd_per_million)}</tr>"
        for p in data.unit_prices
    ]
    return (
        '<section id="unit-prices"><h2>Effective unit prices</h2>'
        '<p class="note">What was really paid per million tokens (billed cost / tokens), after private pricing. '
        "The estimator calibrates its catalog with these. Click a column to sort.</p>"
        + _refused_prices(data)
        + _table(
            [
                ("Provider", False),
                ("Model", False),
                ("Kind", False),
                ("Scope", False),
                ("Tier", False),
                ("Tokens", True),
                ("Cost", True),
                ("USD per 1M", True),
            ],
            rows,
        )
        + "</section>"
    )


def _adjustments(data: ReportData) -> str:
    if not data.adjustments:
        return ""
    rows = [f"<tr><td>{escape(kind)}</td>{_num_cell(display_usd(cost), cost)}</tr>" for kind, cost in data.adjustments]
    return (
        '<section id="adjustments"><h2>Credits, refunds and tax</h2>'
        '<p class="note">Bedrock line items that are not usage. Never mixed into the usage figures above.</p>'
        + _table([("Line item type", False), ("Amount", True)], rows, sortable=False)
        + "</section>"
    )


def render_page(
    data: ReportData, config: Config | None, generated_at: datetime, extra_sections: Sequence[str] = ()
) -> str:
    console = (
        f' · <a href="{ATHENA_CONSOLE}" rel="noopener">Open the Athena query editor</a> '
        f"(database <code>{escape(config.athena.database)}</code>)"
        if config
        else ""
    )
    body = "".join(
        [
            _header(data, config, generated_at),
            _unknown_models(data),
            _daily_chart(data, config),
            _tag_charts(data, config),
            _usage_kinds(data),
            _breakdowns(data),
            _untagged(data, config),
            *extra_sections,
            _unit_prices(data),
            _adjustments(data),
            "<footer>Bedrock Cost Tracker · billed figures from CUR 2.0, which lags usage by 8-24 hours and is "
            f"restated until the bill closes · this file is self-contained and loads nothing{console}</footer>",
        ]
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Bedrock cost {escape(data.period)}</title><style>{CSS}</style></head>"
        f"<body><main>{body}</main><script>{JS}</script></body></html>\n"
    )
