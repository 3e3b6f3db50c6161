"""Reports on exports shaped like real 2026 data: every --by against an independent reading."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from bedrock_cost.adapters.duckdb_engine import DuckDBEngine
from bedrock_cost.cli.main import main
from bedrock_cost.domain.pricing import cur_layer
from bedrock_cost.money import decimal_usd
from tests.fixtures.real_shapes import SSO_ALICE, write_cur2, write_legacy
from tests.support import cur_oracle

pytestmark = pytest.mark.integration

PERIOD = "2026-10"
TAG_KEYS = ["team", "project", "environment"]
BY_KEYS = ["model", "provider", "account", "region", "usage-kind", "principal", "user", "day", "tag:team",
           "tag:project"]  # fmt: skip
KINDS = ("input", "output", "cache-read", "cache-write")


@pytest.fixture(scope="module")
def cur2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_cur2(tmp_path_factory.mktemp("real") / "export")


def _report(cur: Path, by: str, tmp_path: Path, period: str = PERIOD) -> list[dict[str, object]]:
    out = tmp_path / "r.json"
    assert (
        main(["report", "--cur", str(cur), "--period", period, "--by", by, "--format", "json", "--out", str(out)]) == 0
    )
    return json.loads(out.read_text())


@pytest.mark.parametrize("by", BY_KEYS)
def test_every_key_matches_the_independent_reading_to_the_cent_and_token(cur2: Path, by: str, tmp_path: Path):
    # Given a CUR 2.0 export with the full column set and 2026 shapes
    oracle = cur_oracle.read_rows(cur2, TAG_KEYS)
    # When reported by `by`
    rows = _report(cur2, by, tmp_path)
    column = by.removeprefix("tag:").replace("-", "_")
    # Then cost per group equals the oracle's to the cent, and tokens to the token
    expected = {k: Decimal(decimal_usd(v)) for k, v in cur_oracle.totals_by(oracle, PERIOD, by).items()}
    assert {str(r[column]): Decimal(str(r["cost_usd"])) for r in rows} == expected
    for kind in KINDS:
        col = kind.replace("-", "_") + "_tokens"
        got = {str(r[column]): int(str(r[col])) for r in rows if int(str(r[col]))}
        assert got == {k: v for k, v in cur_oracle.tokens_by(oracle, PERIOD, by, kind).items() if v}, kind


def test_units_kinds_models_and_people_follow_the_2026_rules(cur2: Path, tmp_path: Path):
    by_model = {r["model"]: r for r in _report(cur2, "model", tmp_path)}
    # 'Units' on Marketplace token rows are millions: 0.02645 -> 26,450 input tokens (+ 11,000 batch)
    assert by_model["Claude Sonnet 4.6"]["input_tokens"] == 26_450 + 11_000
    assert by_model["Claude Sonnet 4.6"]["output_tokens"] == 10_000
    assert by_model["Claude Sonnet 4.6"]["cache_read_tokens"] == 50_000
    # cache writes hold the 1-hour writes (Marketplace 10,000 + first-party 100K)
    assert by_model["Claude Sonnet 4.6"]["cache_write_tokens"] == 10_000 + 100_000
    assert by_model["Claude Haiku 4.5"]["input_tokens"] == 250_000
    # An unknown first-party billing name is kept; the service name is never a model
    assert "Zeta2Mini" in by_model
    assert "Amazon Bedrock" not in by_model
    # A Marketplace SaaS product with "Bedrock" in its name is not Bedrock spend; EC2 neither
    total = sum(Decimal(str(r["cost_usd"])) for r in by_model.values())
    assert total == Decimal("42.78029")  # the eleven usage rows; credits, tax, SaaS and EC2 left out
    # One person across two accounts and two spellings of her e-mail, API keys by name
    users = {r["user"]: Decimal(str(r["cost_usd"])) for r in _report(cur2, "user", tmp_path)}
    assert users["alice@example.com"] == Decimal("0.08729") + Decimal("0.15") + Decimal("0.8")
    assert "BedrockAPIKey-x1y2" in users
    assert "chat-api-role" in users
    assert SSO_ALICE not in users


def test_tags_take_resource_tags_first_then_principal_tags(cur2: Path, tmp_path: Path):
    teams = {r["team"]: Decimal(str(r["cost_usd"])) for r in _report(cur2, "tag:team", tmp_path)}
    # principal tag only -> search; resource tag beats the principal tag 'platform'
    assert teams["search"] == Decimal("0.08729") + Decimal("0.15") + Decimal("0.8")
    assert teams["chat"] == Decimal("0.0165") + Decimal("0.06")
    assert "platform" not in teams
    assert teams["support"] == Decimal("0.25")
    engine = DuckDBEngine.open(cur2, TAG_KEYS)
    _, rows = engine.execute_sql(
        "SELECT usage_type, tag_team, tag_team_source FROM bedrock_cost.bedrock_line_items_base "
        "WHERE billing_period = '2026-10' AND is_usage AND tag_team IS NOT NULL"
    )
    sources = {r[0]: (r[1], r[2]) for r in rows}
    assert sources["USW2-MP:USW2_input_tokens_standard-Units"] == ("search", "principal")
    assert sources["USW2-MP:USW2_cache_read_tokens_standard-Units"] == ("chat", "resource")
    assert sources["USW2-MP:USW2_cache_write_tokens_1h_global_standard-Units"] == ("chat", "resource")


def test_one_hour_cache_writes_are_priced_apart_and_unit_prices_are_within_the_catalog(cur2: Path):
    engine = DuckDBEngine.open(cur2, TAG_KEYS)
    _, rows = engine.execute_sql(
        "SELECT model, usage_kind, scope, tier, tokens, cost_usd, usd_per_million "
        "FROM bedrock_cost.bedrock_unit_prices WHERE billing_period = '2026-10'"
    )
    prices = {(r[0], r[1], r[2], r[3]): Decimal(str(r[6])) for r in rows}
    assert prices[("Claude Sonnet 4.6", "input", "regional", "on-demand")] == Decimal("3.300189")
    assert prices[("Claude Sonnet 4.6", "cache-write-1h", "global", "on-demand")] == Decimal("6.000000")
    assert all(Decimal("0.01") <= p <= Decimal("100") for p in prices.values()), prices
    keys = [
        dict(zip(("model", "usage_kind", "scope", "tier", "tokens", "cost_usd", "usd_per_million"), r, strict=True))
        for r in rows
    ]
    for row in keys:
        row["billing_period"] = PERIOD
        row["tokens"] = 10**9  # enough volume to calibrate
    layer = cur_layer(keys, PERIOD)
    assert len(layer.prices) >= 3  # nothing refused: every price is within 10x of the catalog


def test_a_cur_price_far_from_the_catalog_is_refused_and_logged(caplog: pytest.LogCaptureFixture):
    rows = [
        {"billing_period": PERIOD, "model": "Claude Sonnet 4.6", "usage_kind": "input", "scope": "regional",
         "tier": "on-demand", "tokens": 10**9, "usd_per_million": "2750000"},
        {"billing_period": PERIOD, "model": "Claude Sonnet 4.6", "usage_kind": "output", "scope": "regional",
         "tier": "on-demand", "tokens": 10**9, "usd_per_million": "14.85"},
    ]  # fmt: skip
    with caplog.at_level("WARNING"):
        layer = cur_layer(rows, PERIOD)
    assert [k.usage_kind for k in layer.prices] == ["output"]
    assert "2750000" in caplog.text
    assert "not used to calibrate" in caplog.text


def test_day_is_sorted_by_date(cur2: Path, tmp_path: Path):
    days = [r["day"] for r in _report(cur2, "day", tmp_path)]
    assert days == sorted(days)


def test_a_tag_key_matching_only_in_another_case_is_named(cur2: Path, tmp_path: Path, capsys):
    out = tmp_path / "t.csv"
    assert main(["report", "--cur", str(cur2), "--period", PERIOD, "--by", "tag:Team", "--format", "csv",
                 "--out", str(out)]) == 0  # fmt: skip
    err = capsys.readouterr().err
    assert "tag:Team" in err
    assert "'team'" in err
    assert main(["report", "--cur", str(cur2), "--period", PERIOD, "--by", "tag:nosuch", "--format", "csv",
                 "--out", str(out)]) == 0  # fmt: skip
    assert "no tag 'nosuch'" in capsys.readouterr().err


def test_table_format_has_sections_and_lists_unmapped_models(cur2: Path, capsys):
    assert main(["report", "--cur", str(cur2), "--period", PERIOD, "--by", "tag:team"]) == 0
    text = capsys.readouterr().out
    for key in ("by model", "by account", "by user", "by region"):
        assert key in text
    assert "Unmapped models" in text
    assert "Zeta2Mini" in text.split("Unmapped models", 1)[1]


def test_legacy_cur_is_read_through_the_normalising_view(tmp_path: Path):
    root = write_legacy(tmp_path / "legacy")
    teams = {r["team"]: Decimal(str(r["cost_usd"])) for r in _report(root, "tag:team", tmp_path, "2025-06")}
    assert teams == {"search": Decimal("1.5"), "chat": Decimal("0.64"), "(untagged)": Decimal("0.08")}
    models = {r["model"]: r for r in _report(root, "model", tmp_path, "2025-06")}
    assert models["Claude 3.5 Haiku"]["input_tokens"] == 500_000
    assert models["Nova Pro"]["output_tokens"] == 200_000
    assert DuckDBEngine.open(root, TAG_KEYS).legacy


def test_a_period_in_two_folders_is_refused_naming_both(tmp_path: Path, capsys):
    root = write_cur2(tmp_path / "dup")
    copy = root / "BILLING_PERIOD=2026-10"
    copy.mkdir()
    source = root / "data" / "BILLING_PERIOD=2026-10" / "export-00001.snappy.parquet"
    (copy / "export-00001.snappy.parquet").write_bytes(source.read_bytes())
    assert main(["report", "--cur", str(root), "--by", "model", "--format", "csv"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert str(copy) in err
    assert str(root / "data" / "BILLING_PERIOD=2026-10") in err
