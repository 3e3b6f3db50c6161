"""The CloudWatch dashboard, generated from the deployment config.

The body is plain data (the JSON that ``PutDashboard`` and ``AWS::CloudWatch::Dashboard``
take), built here without any AWS dependency so the stack, the demo and the tests all
use the same widgets. Model ids are not known when the stack is synthesized, so every
per-model graph is a ``SEARCH`` expression: a model that starts being used shows up on
its own, with no redeploy.

Layout: the first 12 grid rows answer "are we OK this month?" (budget gauges, today's
estimate, drift, unpriced tokens, tag compliance); detail graphs follow below.

"This month" on a dashboard whose time picker is relative needs care: the gauges read 35
days of hourly data and keep only the points since the start of the newest point's
calendar month (UTC, as AWS bills), with metric math (``EPOCH``, ``DATE``, ``HOUR``,
``MINUTE``). So the gauges show the calendar month whatever range the reader picks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from bedrock_cost.config import Budget, Config
from bedrock_cost.dashboards.model_cost import model_cost_metrics

NAMESPACE = "BedrockCostTracker"
BEDROCK_NAMESPACE = "AWS/Bedrock"
GRID_COLUMNS = 24

# Metric names and dimensions published in NAMESPACE (DESIGN §4.4).
ESTIMATED_COST = "EstimatedCostUSD"
BILLED_COST = "BilledCostUSD"
TOKENS = "Tokens"
UNPRICED_TOKENS = "UnpricedTokens"
ESTIMATE_DRIFT = "EstimateDriftPct"
TAG_COMPLIANCE = "TagCompliancePct"
NON_COMPLIANT = "NonCompliantResources"
DIM_MODEL = "Model"
DIM_TOKEN_KIND = "TokenKind"  # noqa: S105 - a dimension name, not a secret
DIM_TAG_KEY = "TagKey"
DIM_TAG_VALUE = "TagValue"
DIM_RESOURCE_TYPE = "ResourceType"
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


def day_to_date(series_id: str) -> str:
    """Sum of ``series_id`` since 00:00 UTC of the newest point's day (see ``month_to_date``)."""
    s = series_id
    day_start = f"MAX(EPOCH({s}) - HOUR({s}) * {HOUR} - MINUTE({s}) * 60)"
    return f"SUM(IF(EPOCH({s}) >= {day_start}, {s}, 0))"


def _number(value: Decimal) -> int | float:
    """Chart bounds and annotation lines are display numbers; JSON has no Decimal."""
    return int(value) if value == value.to_integral_value() else float(value)


def _usd(value: Decimal) -> str:
    return f"${value:,.0f}" if value == value.to_integral_value() else f"${value:,.2f}"


def _threshold_bands(budget: Budget) -> list[dict[str, Any]]:
    """Horizontal annotations at each alert threshold, coloured by how close to the budget."""
    bands = []
    for pct in budget.thresholds_pct:
        color = COLOR_OK if pct < 75 else COLOR_WARN if pct < 100 else COLOR_BAD
        bands.append(
            {
                "value": _number(budget.monthly_usd * pct / 100),
                "label": f"{pct} % of {_usd(budget.monthly_usd)}",
                "color": color,
            }
        )
    return bands


# --------------------------------------------------------------------------- layout


@dataclass
class _Grid:
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


def _metric_props(
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


# --------------------------------------------------------------------------- sections


def _header_markdown(config: Config, links: DashboardLinks) -> str:
    region = links.region
    parts = []
    if links.athena_workgroup:
        parts.append(
            f"[Athena views](https://{region}.console.aws.amazon.com/athena/home?region={region}"
            f"#/query-editor) (workgroup `{links.athena_workgroup}`)"
        )
    if links.athena_database:
        parts.append(
            f"[Glue database `{links.athena_database}`](https://{region}.console.aws.amazon.com/glue/home"
            f"?region={region}#/v2/data-catalog/databases/view/{links.athena_database})"
        )
    if links.alert_topic_arn:
        parts.append(
            f"[Alert topic](https://{region}.console.aws.amazon.com/sns/v3/home?region={region}"
            f"#/topic/{links.alert_topic_arn})"
        )
    link_line = " · ".join(parts) if parts else "Athena views: database `" + config.athena.database + "`"
    return (
        f"## Amazon Bedrock cost ({', '.join(config.regions)})\n"
        "**Estimated**: CloudWatch token metrics × price catalog, minutes behind. "
        "**Billed**: CUR 2.0 via Athena, 8-24 h behind, the truth. "
        "Gauges and the status row show the current calendar month (UTC) whatever the time range; "
        "graphs below follow the time picker.\n\n"
        f"{link_line}"
    )


def _month_gauge(
    grid: _Grid,
    region: str,
    *,
    title: str,
    metric_name: str,
    color: str,
    budget: Budget | None,
    label: str,
    running_total: bool,
) -> None:
    """A month-to-date gauge: summed from increments, or the peak of a published running total."""
    stat = "Maximum" if running_total else "Sum"
    total = month_peak("hourly") if running_total else month_to_date("hourly")
    metrics = [
        metric(NAMESPACE, metric_name, (), id="raw", stat=stat, period=HOUR, visible=False),
        expression("FILL(raw, 0)", "hourly", visible=False),
        expression(total, "mtd", label, color=color),
    ]
    if budget is None:
        props = _metric_props(f"{title} (no total budget configured)", region, metrics, view="singleValue", period=HOUR)
    else:
        props = _metric_props(
            f"{title} vs {_usd(budget.monthly_usd)} budget",
            region,
            metrics,
            view="gauge",
            period=HOUR,
            yAxis={"left": {"min": 0, "max": _number(budget.monthly_usd)}},
            annotations={"horizontal": _threshold_bands(budget)},
        )
    props["start"] = MONTH_WINDOW
    grid.place("metric", 6, 5, props)


def _today_gauge(grid: _Grid, region: str, budget: Budget | None) -> None:
    metrics = [
        metric(NAMESPACE, ESTIMATED_COST, (), id="raw", stat="Sum", period=HOUR, visible=False),
        expression("FILL(raw, 0)", "hourly", visible=False),
        expression(day_to_date("hourly"), "today", "Estimated today (UTC)", color=COLOR_ESTIMATE),
    ]
    daily = budget.daily_usd if budget else None
    if daily is None:
        props = _metric_props("Today's estimated cost (UTC)", region, metrics, view="singleValue", period=HOUR)
    else:
        props = _metric_props(
            f"Today's estimated cost vs {_usd(daily)} daily budget",
            region,
            metrics,
            view="gauge",
            period=HOUR,
            yAxis={"left": {"min": 0, "max": _number(daily)}},
            annotations={
                "horizontal": [
                    {"value": _number(daily * Decimal("0.75")), "label": "75 %", "color": COLOR_WARN},
                    {"value": _number(daily), "label": "daily budget", "color": COLOR_BAD},
                ]
            },
        )
    props["start"] = TODAY_WINDOW
    grid.place("metric", 6, 5, props)


def _tag_budgets_widget(grid: _Grid, config: Config, region: str) -> None:
    """Month-to-date estimate of every tag value that has its own budget, one number each."""
    metrics: list[Metric] = []
    n = 0
    for key, values in config.budgets.per_tag.items():
        for value, budget in values.items():
            dims = ((DIM_TAG_KEY, key), (DIM_TAG_VALUE, value))
            metrics += [
                metric(NAMESPACE, ESTIMATED_COST, dims, id=f"raw{n}", stat="Sum", period=HOUR, visible=False),
                expression(f"FILL(raw{n}, 0)", f"hourly{n}", visible=False),
                expression(month_to_date(f"hourly{n}"), f"mtd{n}", f"{key}={value} of {_usd(budget.monthly_usd)}"),
            ]
            n += 1
    if not metrics:
        grid.place(
            "text",
            6,
            4,
            {"markdown": "**Per-tag budgets**\n\nNone configured: add `budgets.per_tag` to track a team or project."},
        )
        return
    props = _metric_props("Estimated month to date by budgeted tag", region, metrics, view="singleValue", period=HOUR)
    props["start"] = MONTH_WINDOW
    grid.place("metric", 6, 4, props)


def _status_row(grid: _Grid, config: Config, region: str) -> None:
    _tag_budgets_widget(grid, config, region)
    grid.place(
        "metric",
        6,
        4,
        _metric_props(
            f"Estimate vs billed drift (alert at ±{config.thresholds.drift_pct} %)",
            region,
            [metric(NAMESPACE, ESTIMATE_DRIFT, (), id="drift", stat="Average", period=DAY, label="Drift %")],
            view="singleValue",
            period=DAY,
            stat="Average",
        ),
    )
    unpriced = [
        expression(
            f"FILL(SUM({search(NAMESPACE, [DIM_MODEL], UNPRICED_TOKENS, 'Sum', HOUR)}), 0)", "hourly", visible=False
        ),
        expression(month_to_date("hourly"), "mtd", "Unpriced tokens this month (should be 0)", color=COLOR_BAD),
    ]
    props = _metric_props("Unpriced tokens (model missing from price catalog)", region, unpriced, view="singleValue")
    props["start"] = MONTH_WINDOW
    grid.place("metric", 6, 4, props)
    grid.place(
        "metric",
        6,
        4,
        _metric_props(
            "Tag compliance (latest)",
            region,
            [
                metric(NAMESPACE, TAG_COMPLIANCE, (), id="pct", stat="Minimum", label="Compliant %"),
                expression(
                    f"SUM({search(NAMESPACE, [DIM_RESOURCE_TYPE], NON_COMPLIANT, 'Maximum', HOUR)})",
                    "bad",
                    "Non-compliant resources",
                ),
            ],
            view="singleValue",
            period=HOUR,
            stat="Minimum",
        ),
    )


def _cost_graphs(grid: _Grid, config: Config, region: str) -> None:
    grid.place(
        "metric",
        12,
        6,
        _metric_props(
            "Cost by model at list price (AWS/Bedrock tokens x catalog, USD per hour)",
            region,
            model_cost_metrics(config, HOUR),
            stacked=True,
            period=HOUR,
        ),
    )
    grid.place(
        "metric",
        12,
        6,
        _metric_props(
            "Billed month to date by model (CUR, daily)",
            region,
            [expression(search(NAMESPACE, [DIM_MODEL], BILLED_COST, "Maximum", DAY), "billed", "${PROP('Dim.Model')}")],
            stacked=True,
            period=DAY,
            stat="Maximum",
        ),
    )
    # Per-tag cost series exist only for budgeted values (their pace alarms), unless the
    # estimator publishes full detail; every value's cost is in the Athena estimates.
    full = config.estimator.metric_detail == "full"
    graphed = [key for key in config.report_tag_keys if full or config.budgets.per_tag.get(key)]
    others = [key for key in config.report_tag_keys if key not in graphed]
    for i, key in enumerate(graphed):
        annotations = [
            {"value": _number(b.daily_usd), "label": f"{value} daily budget", "color": COLOR_BAD}
            for value, b in config.budgets.per_tag.get(key, {}).items()
            if b.daily_usd is not None
        ]
        extra: dict[str, Any] = {"annotations": {"horizontal": annotations}} if annotations else {}
        last_alone = i == len(graphed) - 1 and i % 2 == 0 and not others
        grid.place(
            "metric",
            24 if last_alone else 12,
            6,
            _metric_props(
                f"Estimated cost by {key} (USD per day; "
                + ("'(untagged)' = missing tag)" if full else "budgeted values; every value: Athena)"),
                region,
                [
                    expression(
                        search(NAMESPACE, [DIM_TAG_KEY, DIM_TAG_VALUE], ESTIMATED_COST, "Sum", DAY, TagKey=key),
                        f"tag{i}",
                        "${PROP('Dim.TagValue')}",
                    )
                ],
                stacked=True,
                period=DAY,
                **extra,
            ),
        )
    if others:
        grid.place(
            "text",
            12 if len(graphed) % 2 else 24,
            6,
            {
                "markdown": f"**Cost by {', '.join(others)}**\n\nNo budget on these keys, so no metric series "
                "(each costs $0.30 a month): query the estimate records in Athena (table `bedrock_estimates`) for the "
                "last minutes, and the `bedrock_cost_by_tag` view for the bill."
            },
        )


def _token_graphs(grid: _Grid, region: str) -> None:
    # Bedrock's own token metrics, summed over every ModelId: no custom metric needed.
    sums = [
        expression(f"SUM({search(BEDROCK_NAMESPACE, ['ModelId'], name, 'Sum', 300)})", metric_id, label)
        for metric_id, name, label in BEDROCK_TOKEN_KINDS
    ]
    grid.place("metric", 12, 6, _metric_props("Tokens by kind (all models)", region, sums, stacked=True))
    hidden = [[{**entry[0], "visible": False}] for entry in sums]
    grid.place(
        "metric",
        12,
        6,
        _metric_props(
            "Cache hit rate: cache read / (input + cache read)",
            region,
            [
                *hidden,
                expression("100 * FILL(tok_cr, 0) / (FILL(tok_in, 0) + FILL(tok_cr, 0))", "hitrate", "Cache hit %"),
            ],
            yAxis={"left": {"min": 0, "max": 100, "label": "%", "showUnits": False}},
        ),
    )


def _bedrock_health(grid: _Grid, regions: Sequence[str]) -> None:
    """Latency percentiles, throttles and errors per model, one pair of graphs per region."""
    for region in regions:
        for pct in ("p50", "p90", "p99"):
            grid.place(
                "metric",
                8,
                6,
                _metric_props(
                    f"InvocationLatency {pct} by model, ms ({region})",
                    region,
                    [
                        expression(
                            search(BEDROCK_NAMESPACE, ["ModelId"], "InvocationLatency", pct, 300),
                            f"lat_{pct}",
                            f"{pct} ${{PROP('Dim.ModelId')}}",
                        )
                    ],
                    stat=pct,
                ),
            )
        grid.place(
            "metric",
            12,
            6,
            _metric_props(
                f"Throttles by model ({region})",
                region,
                [
                    expression(
                        search(BEDROCK_NAMESPACE, ["ModelId"], "InvocationThrottles", "Sum", 300),
                        "throttles",
                        "${PROP('Dim.ModelId')}",
                    )
                ],
            ),
        )
        grid.place(
            "metric",
            12,
            6,
            _metric_props(
                f"Errors, all models ({region})",
                region,
                [
                    expression(
                        f"SUM({search(BEDROCK_NAMESPACE, ['ModelId'], 'InvocationClientErrors', 'Sum', 300)})",
                        "client",
                        "Client errors (4xx)",
                    ),
                    expression(
                        f"SUM({search(BEDROCK_NAMESPACE, ['ModelId'], 'InvocationServerErrors', 'Sum', 300)})",
                        "server",
                        "Server errors (5xx)",
                        color=COLOR_BAD,
                    ),
                ],
            ),
        )


def _governance_graphs(grid: _Grid, config: Config, region: str) -> None:
    drift = _number(config.thresholds.drift_pct)
    grid.place(
        "metric",
        8,
        6,
        _metric_props(
            "Estimate vs billed drift, %",
            region,
            [metric(NAMESPACE, ESTIMATE_DRIFT, (), id="drift", label="Drift %")],
            period=DAY,
            stat="Average",
            annotations={
                "horizontal": [
                    {"value": drift, "label": "alert", "color": COLOR_BAD},
                    {"value": -drift, "label": "alert", "color": COLOR_BAD},
                ]
            },
        ),
    )
    grid.place(
        "metric",
        8,
        6,
        _metric_props(
            "Unpriced tokens by model",
            region,
            [
                expression(
                    search(NAMESPACE, [DIM_MODEL], UNPRICED_TOKENS, "Sum", HOUR), "unpriced", "${PROP('Dim.Model')}"
                )
            ],
            stacked=True,
            period=HOUR,
        ),
    )
    grid.place(
        "metric",
        8,
        6,
        _metric_props(
            "Tag compliance",
            region,
            [
                metric(NAMESPACE, TAG_COMPLIANCE, (), id="pct", label="Compliant % (all)", stat="Minimum"),
                expression(
                    search(NAMESPACE, [DIM_RESOURCE_TYPE], TAG_COMPLIANCE, "Minimum", HOUR),
                    "pct_by_type",
                    "Compliant % ${PROP('Dim.ResourceType')}",
                ),
                expression(
                    search(NAMESPACE, [DIM_RESOURCE_TYPE], NON_COMPLIANT, "Maximum", HOUR),
                    "bad",
                    "Non-compliant ${PROP('Dim.ResourceType')}",
                    yAxis="right",
                ),
            ],
            period=HOUR,
            stat="Minimum",
            yAxis={"left": {"min": 0, "max": 100, "showUnits": False}, "right": {"min": 0, "showUnits": False}},
        ),
    )


def build_dashboard_body(config: Config, links: DashboardLinks) -> dict[str, Any]:
    """The dashboard body for ``config``; ``links.region`` is where the stack (and its metrics) live."""
    region = links.region
    grid = _Grid()
    # First screen (rows 0-11): are we OK this month?
    grid.place("text", 24, 3, {"markdown": _header_markdown(config, links), "background": "transparent"})
    grid.new_row()
    total = config.budgets.total
    _month_gauge(
        grid,
        region,
        title="Estimated month to date",
        metric_name=ESTIMATED_COST,
        color=COLOR_ESTIMATE,
        budget=total,
        label="Estimated MTD",
        running_total=False,
    )
    _month_gauge(
        grid,
        region,
        title="Billed month to date (CUR)",
        metric_name=BILLED_COST,
        color=COLOR_BILLED,
        budget=total,
        label="Billed MTD",
        running_total=True,
    )
    _today_gauge(grid, region, total)
    grid.place(
        "metric",
        6,
        5,
        _metric_props(
            "Estimated cost, last 24 h (USD per hour)",
            region,
            [metric(NAMESPACE, ESTIMATED_COST, (), id="hourly", label="Estimated", color=COLOR_ESTIMATE)],
            period=HOUR,
            start="-PT24H",
        ),
    )
    grid.new_row()
    _status_row(grid, config, region)
    grid.new_row()
    # Detail, below the fold.
    _cost_graphs(grid, config, region)
    grid.new_row()
    _token_graphs(grid, region)
    grid.new_row()
    _governance_graphs(grid, config, region)
    grid.new_row()
    _bedrock_health(grid, config.regions)
    return {"start": "-P7D", "periodOverride": "inherit", "widgets": grid.widgets}


def referenced_metric_names(body: dict[str, Any]) -> set[tuple[str, str]]:
    """Every (namespace, metric name) the body reads, from plain entries and SEARCH expressions.

    The demo compares this with what the emulator holds, so a renamed metric on either
    side shows up as "dashboard reads X, nobody publishes it".
    """
    found: set[tuple[str, str]] = set()
    for widget in body["widgets"]:
        for entry in widget.get("properties", {}).get("metrics", []):
            if isinstance(entry[0], str):
                found.add((entry[0], entry[1]))
                continue
            expr = str(entry[0].get("expression", ""))
            for chunk in expr.split("SEARCH('{")[1:]:
                namespace = chunk.split(",", 1)[0].split("}", 1)[0]
                name = chunk.split('MetricName="', 1)[1].split('"', 1)[0]
                found.add((namespace, name))
    return found
