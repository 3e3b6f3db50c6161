"""Calibration that proves itself: the demo scenario's bill against its estimate, on DuckDB.

The scenario bills the collector's traffic 12 % below list on Claude, with a long-context
share on Claude Sonnet 4.6. The uncalibrated estimate must show those gaps; calibrated with
the effective prices of the days before, every model-day must sit within 1 %."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from bedrock_cost.sample_data import demo_scenario as ds
from bedrock_cost.sample_data.cur_generator import generate_cur
from tests.support.cli import run_cli

pytestmark = pytest.mark.integration

PERIOD = "2026-10"
ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def scenario_dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, ds.Scenario]:
    root = tmp_path_factory.mktemp("scenario")
    generate_cur(root / "cur", PERIOD, rows=20_000, seed=7, months=2)
    scenario = ds.build_scenario(PERIOD, "us-east-1", ("team", "project", "environment"))
    ds.apply_to_export(root / "cur", scenario)
    days = sorted(scenario.traffic)[-(ds.HISTORY_DAYS + 1) :]  # the history days and the estimator's own
    ds.write_records(root / "estimates", ds.history_records(scenario, scenario.now, days), "us-east-1")
    return root / "cur", root / "estimates", scenario


def _reconcile(cur: Path, estimates: Path, *extra: str) -> tuple[int, str]:
    return run_cli("reconcile", "--cur", str(cur), "--estimates", str(estimates), "--account", ACCOUNT, *extra)


def test_calibrated_drift_stays_within_one_percent_per_model_day(scenario_dirs):
    cur, estimates, scenario = scenario_dirs
    code, text = _reconcile(cur, estimates, "--format", "json")
    assert code == 0
    rows = json.loads(text)
    # Then the overlapping days are the four the estimate covers, none after the CUR's cut-off
    assert sorted({r["day"] for r in rows}) == [d.isoformat() for d in sorted(scenario.traffic)[-4:]]
    priced = [r for r in rows if r["calibrated"] == "true" and r["drift_pct"]]
    assert len(priced) >= 4 * 5
    assert all(abs(Decimal(r["drift_pct"])) <= 1 for r in priced), [
        r for r in priced if abs(Decimal(r["drift_pct"])) > 1
    ]
    # And uncalibrated, the Claude discount shows: list / 0.88 - 1 = +13.64 %
    haiku = [r for r in rows if r["calibrated"] == "false" and r["model"] == "Claude Haiku 4.5"]
    assert {r["drift_pct"] for r in haiku} == {"13.64"}
    # And the long-context share pulls Sonnet 4.6 below the plain discount gap
    sonnet = [Decimal(r["drift_pct"]) for r in rows if r["calibrated"] == "false" and r["model"] == "Claude Sonnet 4.6"]
    assert all(Decimal(5) < d < Decimal("13.64") for d in sonnet)
    # And a first-party model billed at list shows no drift at all
    assert {r["drift_pct"] for r in rows if r["model"] == "Nova Pro" and r["calibrated"] == "false"} == {"0.00"}
    # And the billed side is the scenario's bill of the collector's traffic, to the cent
    truth = ds.billed_truth_usd(scenario)
    day = sorted(scenario.traffic)[-1]
    billed = sum(Decimal(r["billed_usd"]) for r in rows if r["day"] == day.isoformat() and r["calibrated"] == "false")
    assert abs(billed - truth[day]) < Decimal("0.01")


def test_table_names_causes_and_what_is_not_estimated(scenario_dirs):
    cur, estimates, _ = scenario_dirs
    code, text = _reconcile(cur, estimates)
    assert code == 0
    assert "negotiated discount: Claude Haiku 4.5 bills 12.0 % below list" in text
    assert "long-context" in text
    for part in ("not estimated", "provisioned $", "no collector $"):
        assert part in text


def test_bad_inputs_are_one_line_exit_two(scenario_dirs, tmp_path, capsys):
    cur, estimates, _ = scenario_dirs
    bad = tmp_path / "bad"
    (bad / "x").mkdir(parents=True)
    (bad / "x" / "h.jsonl").write_text('{"usage_date": "2026-10-16"}\n', encoding="utf-8")
    assert _reconcile(cur, bad)[0] == 2
    assert "lacks field 'model'" in capsys.readouterr().err
    assert _reconcile(cur, tmp_path / "missing")[0] == 2
    assert _reconcile(cur, estimates, "--period", "2026-13")[0] == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert all(line.startswith("bedrock-cost: error:") for line in err.splitlines())


def test_an_empty_log_folder_is_bad_input_naming_logs(scenario_dirs, tmp_path, capsys):
    cur, estimates, _ = scenario_dirs
    code, _ = _reconcile(cur, estimates, "--logs", str(tmp_path))
    assert code == 2
    assert "--logs: no *.json.gz under" in capsys.readouterr().err
