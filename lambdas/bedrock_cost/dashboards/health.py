"""Dashboard sections about health and governance: Bedrock errors and latency, tags, drift.

The cost sections answer "are we OK this month?"; these answer "is Bedrock itself OK, and
are the numbers trustworthy?" (throttles, errors, latency, compliance, estimate drift).
"""

from __future__ import annotations

from collections.abc import Sequence

from bedrock_cost.config import Config
from bedrock_cost.dashboards.widgets import (
    COLOR_BAD,
    DAY,
    HOUR,
    Grid,
    expression,
    metric,
    metric_props,
    number,
    search,
)
from bedrock_cost.metric_names import (
    BEDROCK_NAMESPACE,
    DIM_MODEL,
    DIM_RESOURCE_TYPE,
    ESTIMATE_DRIFT,
    NAMESPACE,
    NON_COMPLIANT,
    TAG_COMPLIANCE,
    UNPRICED_TOKENS,
)

# --------------------------------------------------------------------------- sections


def bedrock_health(grid: Grid, regions: Sequence[str]) -> None:
    """Latency percentiles, throttles and errors per model, one pair of graphs per region."""
    for region in regions:
        for pct in ("p50", "p90", "p99"):
            grid.place(
                "metric",
                8,
                6,
                metric_props(
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
            metric_props(
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
            metric_props(
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


def governance_graphs(grid: Grid, config: Config, region: str) -> None:
    drift = number(config.thresholds.drift_pct)
    grid.place(
        "metric",
        8,
        6,
        metric_props(
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
        metric_props(
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
        metric_props(
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
