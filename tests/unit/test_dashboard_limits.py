"""The generated dashboard stays inside CloudWatch's limits at organisation scale.

CloudWatch accepts at most 500 widgets per dashboard and 500 metrics (metric entries and
expressions) per graph widget; a body over either is rejected by ``PutDashboard``.
"""

from __future__ import annotations

from typing import Any

import pytest

from bedrock_cost.config_loader import parse_config
from bedrock_cost.dashboards.body import build_dashboard_body
from bedrock_cost.dashboards.widgets import DashboardLinks

pytestmark = pytest.mark.unit

MAX_WIDGETS = 500
MAX_METRICS_PER_WIDGET = 500


def _big_config(detail: str) -> dict[str, Any]:
    values = {f"value{i:02d}": {"monthly_usd": 1000, "daily_usd": 50} for i in range(10)}
    return {
        "cur": {"create_export": True},
        "regions": ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"],
        "report_tag_keys": ["team", "project", "environment"],
        "budgets": {
            "total": {"monthly_usd": 50_000},
            "per_tag": dict.fromkeys(("team", "project", "environment"), values),
        },
        "estimator": {"metric_detail": detail},
    }


@pytest.mark.parametrize("detail", ["alarms", "full"])
def test_dashboard_fits_cloudwatch_widget_and_metric_limits(detail: str) -> None:
    # Given 4 regions, 3 report tag keys with 10 budgeted values each, every catalog model priced
    config = parse_config(_big_config(detail))
    # When the dashboard body is built
    body = build_dashboard_body(config, DashboardLinks(region="us-east-1"))
    widgets = body["widgets"]
    # Then it has fewer widgets than CloudWatch allows and no graph holds more than 500 metrics
    assert len(widgets) <= MAX_WIDGETS
    sizes = {w["properties"].get("title", ""): len(w["properties"].get("metrics", [])) for w in widgets}
    assert max(sizes.values()) <= MAX_METRICS_PER_WIDGET, sizes
    # And the cost-by-model graph, the largest one, prices every catalog model with a regional price
    (by_model,) = [n for t, n in sizes.items() if t.startswith("Cost by model")]
    assert by_model > 19
