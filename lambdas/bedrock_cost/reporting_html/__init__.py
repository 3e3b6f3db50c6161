"""The HTML cost report: one self-contained file for a billing period.

``render_html_report(engine, period, config)`` is what ``bedrock-cost report --format
html`` and the demo call. It reads the Athena views through any ``QueryEngine`` (DuckDB
locally, Athena in the account) and returns the page as a string; writing it is the
caller's job.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

from bedrock_cost.billing.engine import QueryEngine
from bedrock_cost.config import Config
from bedrock_cost.errors import UserError
from bedrock_cost.reporting_html.data import fetch_report_data
from bedrock_cost.reporting_html.page import render_page

__all__ = ["render_html_report"]

_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def render_html_report(
    engine: QueryEngine,
    period: str,
    config: Config | None,
    *,
    generated_at: datetime | None = None,
    extra_sections: Sequence[str] = (),
) -> str:
    """The report for ``period`` ('YYYY-MM'); budgets and tag keys come from ``config`` when given.

    ``extra_sections``: HTML fragments (``reporting_html.outlook``) placed before the unit prices."""
    if not _PERIOD.match(period):
        raise UserError(f"--period: expected a billing period YYYY-MM, got {period!r}")
    data = fetch_report_data(engine, period)
    return render_page(data, config, generated_at or datetime.now(UTC), extra_sections)
