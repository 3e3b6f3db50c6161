"""Spec of the HTML report, rendered for real on DuckDB over CUR 2.0 Parquet files."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bedrock_cost.adapters.duckdb_engine import DuckDBEngine
from bedrock_cost.config import Config
from bedrock_cost.config_loader import load_config_file
from bedrock_cost.errors import UserError
from bedrock_cost.reporting_html import render_html_report
from bedrock_cost.reporting_html.data import fetch_report_data
from bedrock_cost.reporting_html.page import ATHENA_CONSOLE
from bedrock_cost.sample_data.cur_generator import generate_cur
from tests.fixtures.cur_builder import cur_row, write_cur

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "example.yaml"
TAG_KEYS = ["team", "project", "environment"]
GENERATED_AT = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
EVIL = "<script>alert(1)</script>"
ALL_TAGS = {"user_team": "search", "user_project": "rag", "user_environment": "prod"}


def external_urls(html: str) -> list[str]:
    """Every URL the page would load or link to: src/href attributes, CSS url() and @import."""
    urls = re.findall(r"""(?:src|href|action|poster)\s*=\s*["']?([^"'\s>]+)""", html, re.IGNORECASE)
    urls += re.findall(r"""url\(\s*["']?([^"')]+)""", html, re.IGNORECASE)
    urls += re.findall(r"""@import\s+["']?([^"';]+)""", html, re.IGNORECASE)
    return [u for u in urls if re.match(r"^(https?:)?//", u, re.IGNORECASE)]


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config_file(EXAMPLE)


@pytest.fixture(scope="module")
def exact_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DuckDBEngine]:
    """A hand-written month: every figure below is known to the cent."""
    rows = [
        cur_row(
            "USE1-Claude4.6Sonnet-input-tokens",
            3.0,
            1000,
            day=1,
            tags=ALL_TAGS,
            resource="arn:aws:bedrock:us-east-1:111111111111:application-inference-profile/abc",
        ),
        cur_row(
            "USE1-Claude4.6Sonnet-output-tokens",
            15.0,
            1000,
            day=2,
            principal="arn:aws:iam::111111111111:role/untagged-app",
        ),
        cur_row("USE1-NovaPro-input-tokens", 0.8, 1000, day=2, tags={**ALL_TAGS, "user_team": EVIL}),
        cur_row("USE1-Claude4.6Sonnet-cache-read-input-token-count", 0.3, 1000, day=3, tags=ALL_TAGS),
        cur_row("USE1-FooBar9Ultra-input-tokens", 0.2, 100, day=1, tags=ALL_TAGS),
        cur_row("USE1-Claude4.6Sonnet-input-tokens", -5.0, 0, day=1, line_item_type="Credit"),
        cur_row("USE1-Claude4.6Sonnet-input-tokens", 10.0, 1000, period="2026-09", day=5, tags=ALL_TAGS),
    ]
    root = write_cur(tmp_path_factory.mktemp("exact-cur"), rows)
    engine = DuckDBEngine.open(root, TAG_KEYS)
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def exact_html(exact_engine: DuckDBEngine, config: Config) -> str:
    return render_html_report(exact_engine, "2026-10", config, generated_at=GENERATED_AT)


@pytest.fixture(scope="module")
def generated_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DuckDBEngine]:
    """Realistic shapes from the CUR generator: Marketplace and first-party rows, credits, noise."""
    root = tmp_path_factory.mktemp("generated-cur")
    generate_cur(root, "2026-10", rows=30_000, seed=7, months=2)
    engine = DuckDBEngine.open(root, TAG_KEYS)
    yield engine
    engine.close()


def _section(html: str, section_id: str) -> str:
    match = re.search(rf'<section[^>]*id="{section_id}".*?</section>', html, re.DOTALL)
    assert match, f"section {section_id} missing"
    return match.group(0)


# --------------------------------------------------------------------------- exact figures


def test_header_states_period_totals_freshness_and_generation_time(exact_html: str) -> None:
    # Given a month of $19.30 usage (plus a $5 credit) after a $10.00 September
    # Then the header shows the period, the usage total without the credit, and the change
    assert "<h1>Amazon Bedrock cost: October 2026</h1>" in exact_html
    assert '<strong id="period">2026-10</strong>' in exact_html
    assert "$19.30" in exact_html
    assert "+93.0 % vs 2026-09 ($10.00)" in exact_html
    # And how fresh the data is (newest usage hour) and when the page was generated
    assert "data up to <strong>2026-10-03 13:00 UTC</strong>" in exact_html
    assert '<span id="generated-at">2026-11-02 08:30 UTC</span>' in exact_html


def test_credits_are_reported_apart_from_usage(exact_html: str) -> None:
    adjustments = _section(exact_html, "adjustments")
    assert "<td>Credit</td>" in adjustments
    assert "-$5.00" in adjustments
    kinds = _section(exact_html, "usage-kinds")
    # input = Sonnet $3.00 + Nova Pro $0.80 + unknown model $0.20; the credit is not in it
    assert re.search(r"<td>input</td>.*?\$4\.00", kinds, re.DOTALL)


SECTION_TEXTS = [
    pytest.param(
        "cost-by-day",
        [
            "<title>2026-10-02 · Claude Sonnet 4.6: $15.00</title>",
            "<title>2026-10-02 · Nova Pro: $0.80</title>",
            "<title>2026-10-03 · Claude Sonnet 4.6: $0.30</title>",
            # And the configured $5,000 daily budget is drawn as a reference line
            "daily budget $5,000",
        ],
        id="daily-chart-stacks-each-model-per-day",
    ),
    pytest.param(
        "cost-by-tag",
        [
            # team=search has $3.50 of usage (Sonnet input, cache read, unknown model) against its $18,500 budget;
            # team=ml-platform has a budget and no usage
            "search: $3.50 of $18,500 (0 %)",
            "ml-platform: $0.00 of $12,000 (0 %)",
            # Rows without the tag are grouped, so each key adds up to the bill
            "(untagged): $15.00",
        ],
        id="tag-values-are-measured-against-their-budgets",
    ),
    pytest.param("unknown-models", ['class="alert"', "FooBar", "$0.20"], id="unknown-models-are-called-out-loudly"),
    pytest.param(
        "untagged",
        [
            "arn:aws:iam::111111111111:role/untagged-app",
            "team,project,environment",
            "$15.00 of usage in 1 resource/principal/model groups",
        ],
        id="untagged-spend-is-ranked-with-who-and-what",
    ),
]


@pytest.mark.parametrize(("section", "texts"), SECTION_TEXTS)
def test_section_shows_its_figures(exact_html: str, section: str, texts: list[str]) -> None:
    shown = _section(exact_html, section)
    for text in texts:
        assert text in shown, text


def test_billing_data_is_escaped_never_executed(exact_html: str) -> None:
    # Given a tag value that is an HTML script
    # Then it appears as text only; the page's single script is our own
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in exact_html
    assert EVIL not in exact_html
    assert exact_html.count("<script") == 1


def test_effective_unit_prices(exact_html: str) -> None:
    prices = _section(exact_html, "unit-prices")
    # $3.00 for 1M input tokens, $15.00 for 1M output tokens, $0.30 for 1M cache reads
    assert re.search(r"Claude Sonnet 4\.6</td><td>input</td>.*?\$3\.0000</td>", prices)
    assert re.search(r"Claude Sonnet 4\.6</td><td>output</td>.*?\$15\.0000</td>", prices)
    assert re.search(r"Claude Sonnet 4\.6</td><td>cache-read</td>.*?\$0\.3000</td>", prices)


def test_nothing_is_loaded_from_the_network(exact_html: str) -> None:
    # The only external URL is the optional link to the Athena console
    assert external_urls(exact_html) == [ATHENA_CONSOLE]
    assert "<link" not in exact_html
    assert not re.search(r"<(img|iframe|script)[^>]+src=", exact_html)


def test_without_config_there_are_no_budget_lines_and_no_console_link(exact_engine: DuckDBEngine) -> None:
    html = render_html_report(exact_engine, "2026-10", None, generated_at=GENERATED_AT)
    assert 'class="budget"' not in html
    assert external_urls(html) == []
    assert "no configuration given, so no budget lines" in html
    # Tag keys then come from the data itself
    assert "<h3>By team</h3>" in html


def test_a_period_without_data_renders_an_empty_report(exact_engine: DuckDBEngine, config: Config) -> None:
    html = render_html_report(exact_engine, "2025-01", config, generated_at=GENERATED_AT)
    assert "no Bedrock usage in this period" in html
    assert "No usage in this period." in html


def test_a_malformed_period_is_a_user_error(exact_engine: DuckDBEngine) -> None:
    with pytest.raises(UserError, match="YYYY-MM"):
        render_html_report(exact_engine, "2026-13", None)


# --------------------------------------------------------------------------- generated CUR


def test_generated_month_figures_add_up(generated_engine: DuckDBEngine) -> None:
    # Given a generated month with every billing shape
    data = fetch_report_data(generated_engine, "2026-10")
    total = data.summary.cost
    assert total > 0
    # Then the daily chart, the usage-kind split and every tag key each add up to the bill exactly
    assert sum((d.cost for d in data.daily), Decimal(0)) == total
    assert sum((k.cost for k in data.kinds), Decimal(0)) == total
    per_key: dict[str, Decimal] = defaultdict(Decimal)
    for tag in data.tags:
        per_key[tag.key] += tag.cost
    assert set(per_key) == set(TAG_KEYS)
    assert all(value == total for value in per_key.values())
    # And the untagged ranking is sorted and within the untagged total
    costs = [u.cost for u in data.untagged]
    assert costs == sorted(costs, reverse=True)
    assert sum(costs, Decimal(0)) <= data.untagged_total <= total
    # And credits/refunds/tax are there, apart
    assert {kind for kind, _ in data.adjustments} >= {"Credit"}


def test_generated_month_renders_every_section(generated_engine: DuckDBEngine, config: Config) -> None:
    html = render_html_report(generated_engine, "2026-10", config, generated_at=GENERATED_AT)
    for section in ("cost-by-day", "cost-by-tag", "usage-kinds", "untagged", "unit-prices", "adjustments"):
        _section(html, section)
    assert html.startswith("<!DOCTYPE html>")
    assert external_urls(html) == [ATHENA_CONSOLE]
    # 31 days of columns
    assert len(set(re.findall(r"<title>(2026-10-\d\d) · ", html))) == 31
