"""`bedrock-cost report` on generated CUR matches an independent computation, for every --by."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from bedrock_cost.cli.main import main
from bedrock_cost.money import decimal_usd
from bedrock_cost.sample_data.cur_generator import generate_cur
from tests.support import cur_oracle

pytestmark = pytest.mark.integration

PERIOD = "2026-10"
TAG_KEYS = ["team", "project", "environment"]
BY_KEYS = [
    "model",
    "provider",
    "account",
    "region",
    "usage-kind",
    "principal",
    "user",
    "day",
    "tag:team",
    "tag:project",
    "tag:environment",
]


@pytest.fixture(scope="module")
def cur_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("generated") / "cur"
    generate_cur(root, PERIOD, rows=40_000, seed=11, months=2)
    return root


@pytest.fixture(scope="module")
def oracle_rows(cur_dir: Path) -> list[cur_oracle.OracleRow]:
    return cur_oracle.read_rows(cur_dir, TAG_KEYS)


def _report(cur_dir: Path, by: str, tmp_path: Path, period: str = PERIOD) -> list[dict[str, object]]:
    out = tmp_path / "report.json"
    code = main(
        ["report", "--cur", str(cur_dir), "--period", period, "--by", by, "--format", "json", "--out", str(out)]
    )
    assert code == 0
    return json.loads(out.read_text())


@pytest.mark.parametrize("by", BY_KEYS)
def test_report_matches_independent_totals_to_the_micro_dollar(cur_dir, oracle_rows, by, tmp_path):
    # Given generated CUR with every Bedrock shape, noise, credits and tax
    # When the report is grouped by `by`
    rows = _report(cur_dir, by, tmp_path)
    column = by.removeprefix("tag:").replace("-", "_")
    got = {str(r[column]): Decimal(str(r["cost_usd"])) for r in rows}
    # Then each group's cost equals the independent computation (quantised like the CSV)
    expected = {k: Decimal(decimal_usd(v)) for k, v in cur_oracle.totals_by(oracle_rows, PERIOD, by).items()}
    assert got == expected
    # And the groups add up to the same usage total whatever the key
    assert sum(got.values()) == sum(expected.values()) > 0
    # And every group's tokens of every kind equal the independent count, to the token
    for kind in ("input", "output", "cache-read", "cache-write"):
        token_column = kind.replace("-", "_") + "_tokens"
        got_tokens = {str(r[column]): int(r[token_column]) for r in rows if int(r[token_column])}
        want_tokens = {k: v for k, v in cur_oracle.tokens_by(oracle_rows, PERIOD, by, kind).items() if v}
        assert got_tokens == want_tokens, kind
    # And rows are sorted by cost, descending (by date for `day`)
    if by == "day":
        assert [r["day"] for r in rows] == sorted(str(r["day"]) for r in rows)
    else:
        costs = [Decimal(str(r["cost_usd"])) for r in rows]
        assert costs == sorted(costs, reverse=True)


@pytest.mark.parametrize(
    ("kind", "column"),
    [
        ("input", "input_tokens"),
        ("output", "output_tokens"),
        ("cache-read", "cache_read_tokens"),
        ("cache-write", "cache_write_tokens"),
    ],
)
def test_token_columns_match_independent_counts(cur_dir, oracle_rows, kind, column, tmp_path):
    rows = _report(cur_dir, "model", tmp_path)
    got = {str(r["model"]): int(r[column]) for r in rows if int(r[column])}
    expected = {k: v for k, v in cur_oracle.tokens_by(oracle_rows, PERIOD, "model", kind).items() if v}
    assert got == expected
    assert sum(got.values()) > 0


def test_usage_total_excludes_credits_refunds_and_tax(cur_dir, oracle_rows, tmp_path, capsys):
    # Given a period with credits, refunds and tax
    adjustments = cur_oracle.adjustments(oracle_rows, PERIOD)
    assert {"Credit", "Tax"} <= set(adjustments)
    # When the table report is printed
    assert main(["report", "--cur", str(cur_dir), "--period", PERIOD]) == 0
    text = capsys.readouterr().out
    # Then the usage total is usage only, and adjustments are listed apart
    usage_total = sum(cur_oracle.totals_by(oracle_rows, PERIOD, "model").values())
    total_line = next(line for line in text.splitlines() if line.startswith("TOTAL (usage)"))
    assert total_line.split()[2] == decimal_usd(usage_total, Decimal("0.01"))
    assert "Not included above (credits, refunds, tax):" in text
    assert f"Credit: {decimal_usd(adjustments['Credit'], Decimal('0.01'))}" in text


def test_previous_period_is_reported_separately(cur_dir, oracle_rows, tmp_path):
    rows = _report(cur_dir, "model", tmp_path, period="2026-09")
    got = {str(r["model"]): Decimal(str(r["cost_usd"])) for r in rows}
    expected = {k: Decimal(decimal_usd(v)) for k, v in cur_oracle.totals_by(oracle_rows, "2026-09", "model").items()}
    assert got == expected
    assert got != {str(r["model"]): Decimal(str(r["cost_usd"])) for r in _report(cur_dir, "model", tmp_path)}


def test_unknown_model_is_reported_not_dropped(cur_dir, tmp_path):
    rows = _report(cur_dir, "model", tmp_path)
    models = {str(r["model"]) for r in rows}
    assert "FooBar9Ultra" in models or any("foobar" in m.lower() for m in models)
