"""``bedrock-cost forecast`` and ``bedrock-cost recommend`` on a generated export (DuckDB)."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

from bedrock_cost.sample_data.cur_generator import generate_cur
from tests.support.cli import run_cli

pytestmark = pytest.mark.integration

CONFIG = Path(__file__).resolve().parents[2] / "config" / "example.yaml"


@pytest.fixture(scope="module")
def cur(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("outlook") / "cur"
    generate_cur(root, "2026-10", rows=20_000, seed=3, months=2)
    return root


def test_forecast_as_of_mid_month_gives_budget_rows_with_crossing_days(cur: Path):
    code, text = run_cli(
        "forecast", "--cur", str(cur), "--config", str(CONFIG), "--as-of", "2026-10-15", "--format", "csv"
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0])[:7] == [
        "budget",
        "period",
        "budget_usd",
        "actual_usd",
        "projected_usd",
        "crosses_on",
        "method",
    ]
    total = rows[0]
    assert total["budget"] == "total"
    assert total["period"] == "2026-10"
    assert Decimal(total["projected_usd"]) > Decimal(total["actual_usd"]) > 0
    # A budget never reached has no date; one already reached has a date before the as-of day
    for row in rows:
        if row["budget_usd"] and Decimal(row["actual_usd"]) >= Decimal(row["budget_usd"]):
            assert row["crosses_on"] < "2026-10-15"
        if not row["budget_usd"] or Decimal(row["projected_usd"]) < Decimal(row["budget_usd"]):
            assert row["crosses_on"] == ""


def test_forecast_rejects_a_bad_day_in_one_line(cur: Path, capsys: pytest.CaptureFixture[str]):
    assert run_cli("forecast", "--cur", str(cur), "--as-of", "2026-10-99")[0] == 2
    assert run_cli("forecast", "--cur", str(cur), "--as-of", "2026-08-10")[0] == 2
    err = capsys.readouterr().err
    assert "--as-of" in err
    assert "Traceback" not in err


def test_recommend_prints_savings_below_their_spend(cur: Path, tmp_path: Path):
    served = tmp_path / "served.json"
    served.write_text(json.dumps({"Nova Pro": {"input": 10_000_000, "output": 1_000_000}}), encoding="utf-8")
    code, text = run_cli("recommend", "--cur", str(cur), "--provisioned-usage", str(served), "--format", "json")
    assert code == 0
    rows = json.loads(text)
    assert {"batch", "global-routing", "provisioned-utilisation"} <= {r["kind"] for r in rows}
    assert all(set(r) == {"kind", "subject", "saving_usd_month", "confidence", "evidence"} for r in rows)
    code, table = run_cli("recommend", "--cur", str(cur))
    assert code == 0
    assert "a month together, against $" in table


def test_recommend_rejects_a_bad_provisioned_usage_file(cur: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    bad = tmp_path / "bad.json"
    bad.write_text('{"Nova Pro": {"input": "lots"}}', encoding="utf-8")
    assert run_cli("recommend", "--cur", str(cur), "--provisioned-usage", str(bad))[0] == 2
    assert "--provisioned-usage" in capsys.readouterr().err
