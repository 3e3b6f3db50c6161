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

from decimal import Decimal
from typing import Any

from bedrock_cost.config import Budget, Config
from bedrock_cost.dashboards.health import bedrock_health, governance_graphs
from bedrock_cost.dashboards.model_cost import model_cost_metrics
from bedrock_cost.dashboards.widgets import (
    BEDROCK_TOKEN_KINDS,
    COLOR_BAD,
    COLOR_BILLED,
    COLOR_ESTIMATE,
    COLOR_WARN,
    DAY,
    HOUR,
    MONTH_WINDOW,
    TODAY_WINDOW,
    DashboardLinks,
    Grid,
    Metric,
    budget_usd,
    day_to_date,
    expression,
    metric,
    metric_props,
    month_end_projection,
    month_peak,
    month_to_date,
    number,
    search,
    threshold_bands,
)
from bedrock_cost.metric_names import (
    BEDROCK_NAMESPACE,
    BILLED_COST,
    DIM_MODEL,
    DIM_RESOURCE_TYPE,
    DIM_TAG_KEY,
    DIM_TAG_VALUE,
    ESTIMATE_DRIFT,
    ESTIMATED_COST,
    NAMESPACE,
    NON_COMPLIANT,
    TAG_COMPLIANCE,
    UNPRICED_TOKENS,
)

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


def _over_hourly(metric_name: str, stat: str, shown: Metric) -> list[Metric]:
    """``shown``, computed over the hourly series of ``metric_name``: the raw metric and its
    gap-filled copy ``hourly`` are hidden (an hour with no data point is an hour at $0)."""
    return [
        metric(NAMESPACE, metric_name, (), id="raw", stat=stat, period=HOUR, visible=False),
        expression("FILL(raw, 0)", "hourly", visible=False),
        shown,
    ]


def _month_gauge(
    grid: Grid,
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
    metrics = _over_hourly(metric_name, stat, expression(total, "mtd", label, color=color))
    if budget is None:
        props = metric_props(f"{title} (no total budget configured)", region, metrics, view="singleValue", period=HOUR)
    else:
        props = metric_props(
            f"{title} vs {budget_usd(budget.monthly_usd)} budget",
            region,
            metrics,
            view="gauge",
            period=HOUR,
            yAxis={"left": {"min": 0, "max": number(budget.monthly_usd)}},
            annotations={"horizontal": threshold_bands(budget)},
        )
    props["start"] = MONTH_WINDOW
    grid.place("metric", 5, 5, props)


def _projection_widget(grid: Grid, region: str, budget: Budget | None) -> None:
    """Where the estimate's pace ends the month, against the total budget (the forecast clock)."""
    projected = expression(month_end_projection("hourly"), "projected", "Projected month end (month's pace)")
    metrics = _over_hourly(ESTIMATED_COST, "Sum", projected)
    title = "Forecast: projected month end (estimate)"
    if budget is not None:
        title += f" vs {budget_usd(budget.monthly_usd)} budget"
    props = metric_props(title, region, metrics, view="singleValue", period=HOUR)
    props["start"] = MONTH_WINDOW
    grid.place("metric", 4, 5, props)


def _today_gauge(grid: Grid, region: str, budget: Budget | None) -> None:
    metrics = _over_hourly(
        ESTIMATED_COST, "Sum", expression(day_to_date("hourly"), "today", "Estimated today (UTC)", color=COLOR_ESTIMATE)
    )
    daily = budget.daily_usd if budget else None
    if daily is None:
        props = metric_props("Today's estimated cost (UTC)", region, metrics, view="singleValue", period=HOUR)
    else:
        props = metric_props(
            f"Today's estimated cost vs {budget_usd(daily)} daily budget",
            region,
            metrics,
            view="gauge",
            period=HOUR,
            yAxis={"left": {"min": 0, "max": number(daily)}},
            annotations={
                "horizontal": [
                    {"value": number(daily * Decimal("0.75")), "label": "75 %", "color": COLOR_WARN},
                    {"value": number(daily), "label": "daily budget", "color": COLOR_BAD},
                ]
            },
        )
    props["start"] = TODAY_WINDOW
    grid.place("metric", 5, 5, props)


def _tag_budgets_widget(grid: Grid, config: Config, region: str) -> None:
    """Month-to-date estimate of every tag value that has its own budget, one number each."""
    metrics: list[Metric] = []
    n = 0
    for key, values in config.budgets.per_tag.items():
        for value, budget in values.items():
            dims = ((DIM_TAG_KEY, key), (DIM_TAG_VALUE, value))
            metrics += [
                metric(NAMESPACE, ESTIMATED_COST, dims, id=f"raw{n}", stat="Sum", period=HOUR, visible=False),
                expression(f"FILL(raw{n}, 0)", f"hourly{n}", visible=False),
                expression(
                    month_to_date(f"hourly{n}"), f"mtd{n}", f"{key}={value} of {budget_usd(budget.monthly_usd)}"
                ),
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
    props = metric_props("Estimated month to date by budgeted tag", region, metrics, view="singleValue", period=HOUR)
    props["start"] = MONTH_WINDOW
    grid.place("metric", 6, 4, props)


def _status_row(grid: Grid, config: Config, region: str) -> None:
    _tag_budgets_widget(grid, config, region)
    grid.place(
        "metric",
        6,
        4,
        metric_props(
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
    props = metric_props("Unpriced tokens (model missing from price catalog)", region, unpriced, view="singleValue")
    props["start"] = MONTH_WINDOW
    grid.place("metric", 6, 4, props)
    grid.place(
        "metric",
        6,
        4,
        metric_props(
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


def _cost_graphs(grid: Grid, config: Config, region: str) -> None:
    grid.place(
        "metric",
        12,
        6,
        metric_props(
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
        metric_props(
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
            {"value": number(b.daily_usd), "label": f"{value} daily budget", "color": COLOR_BAD}
            for value, b in config.budgets.per_tag.get(key, {}).items()
            if b.daily_usd is not None
        ]
        extra: dict[str, Any] = {"annotations": {"horizontal": annotations}} if annotations else {}
        last_alone = i == len(graphed) - 1 and i % 2 == 0 and not others
        grid.place(
            "metric",
            24 if last_alone else 12,
            6,
            metric_props(
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


def _token_graphs(grid: Grid, region: str) -> None:
    # Bedrock's own token metrics, summed over every ModelId: no custom metric needed.
    sums = [
        expression(f"SUM({search(BEDROCK_NAMESPACE, ['ModelId'], name, 'Sum', 300)})", metric_id, label)
        for metric_id, name, label in BEDROCK_TOKEN_KINDS
    ]
    grid.place("metric", 12, 6, metric_props("Tokens by kind (all models)", region, sums, stacked=True))
    hidden = [[{**entry[0], "visible": False}] for entry in sums]
    grid.place(
        "metric",
        12,
        6,
        metric_props(
            "Cache hit rate: cache read / (input + cache read)",
            region,
            [
                *hidden,
                expression("100 * FILL(tok_cr, 0) / (FILL(tok_in, 0) + FILL(tok_cr, 0))", "hitrate", "Cache hit %"),
            ],
            yAxis={"left": {"min": 0, "max": 100, "label": "%", "showUnits": False}},
        ),
    )


def build_dashboard_body(config: Config, links: DashboardLinks) -> dict[str, Any]:
    """The dashboard body for ``config``; ``links.region`` is where the stack (and its metrics) live."""
    region = links.region
    grid = Grid()
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
    _projection_widget(grid, region, total)
    grid.place(
        "metric",
        5,
        5,
        metric_props(
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
    governance_graphs(grid, config, region)
    grid.new_row()
    bedrock_health(grid, config.regions)
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
