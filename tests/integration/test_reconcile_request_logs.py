"""``bedrock-cost reconcile --logs``: the request-log clock against the bill, like for like.

The demo scenario's CUR month and estimate records (the metrics clock of one collector,
123456789012 in us-east-1) plus generated invocation logs for the estimator's last day, for
the generated month's accounts and regions. Known answers: every request-log row's estimate
equals an independent pricing of the log lines (``tests.support.request_oracle``) to the
micro-dollar, and its billed figure is the very bill slice the metrics clock's row of the
same key is compared with.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bedrock_cost.cli.main import main
from bedrock_cost.sample_data import demo_scenario as ds
from bedrock_cost.sample_data.cur_generator import generate_cur
from bedrock_cost.sample_data.invocation_logs import generate_logs, profiles_document
from tests.support.cli import run_cli
from tests.support.request_oracle import oracle

pytestmark = pytest.mark.integration

PERIOD = "2026-10"
ACCOUNT = "123456789012"
MICRO = Decimal("0.000001")


@pytest.fixture(scope="module")
def clocks(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, str]:
    root = tmp_path_factory.mktemp("clocks")
    generate_cur(root / "cur", PERIOD, rows=6_000, seed=7, months=2)
    scenario = ds.build_scenario(PERIOD, "us-east-1", ("team", "project", "environment"))
    ds.apply_to_export(root / "cur", scenario)
    days = sorted(scenario.traffic)[-(ds.HISTORY_DAYS + 1) :]
    ds.write_records(root / "estimates", ds.history_records(scenario, scenario.now, days), "us-east-1")
    day = days[-1]
    generate_logs(root / "logs", start=datetime(day.year, day.month, day.day, tzinfo=UTC), records=3_000, seed=11)
    return root / "cur", root / "estimates", root / "logs", day.isoformat()


def _profile_models() -> dict[str, str]:
    return {
        p["inferenceProfileArn"]: p["models"][0]["modelArn"].rsplit("/", 1)[1]
        for p in profiles_document()["inferenceProfileSummaries"]
    }


def test_request_log_rows_match_an_independent_pricing_and_share_the_bill_slice(clocks):
    cur, estimates, logs, day = clocks
    # Given both clocks, When reconciled with the profiles file
    code, text = run_cli("reconcile",
        "--cur", str(cur), "--estimates", str(estimates), "--account", ACCOUNT,
        "--logs", str(logs), "--profiles", str(logs / "profiles.json"), "--format", "json",
    )  # fmt: skip
    assert code == 0
    rows = json.loads(text)
    logs_rows = [r for r in rows if r["clock"] == "request-logs"]
    # Then the request-log clock has its own rows, only on the day its logs cover
    assert logs_rows
    assert {r["day"] for r in logs_rows} == {day}
    assert {r["clock"] for r in rows} == {"metrics", "request-logs"}
    # And its uncalibrated estimate per day, model, account and region is the oracle's, to the micro-dollar
    want = {k: v.quantize(MICRO) for k, v in oracle(logs, _profile_models())["day_model_account_region"].items()}
    got = {
        (r["day"], r["model"], r["account"], r["region"]): Decimal(r["estimated_usd"])
        for r in logs_rows
        if r["calibrated"] == "false" and r["estimated_usd"] != "unpriced"
    }
    assert got == want
    # And the unknown model is unpriced, never $0
    assert {r["estimated_usd"] for r in logs_rows if r["model"] == "acme.unknown-model-v1"} == {"unpriced"}
    # And on the collector's keys both clocks are compared with the same billed dollars
    metrics = {(r["model"], r["calibrated"]): r["billed_usd"] for r in rows if r["clock"] == "metrics"
               and r["day"] == day and r["account"] == ACCOUNT and r["region"] == "us-east-1"}  # fmt: skip
    shared = [r for r in logs_rows if r["account"] == ACCOUNT and r["region"] == "us-east-1"
              and (r["model"], r["calibrated"]) in metrics]  # fmt: skip
    assert len(shared) >= 6
    assert all(r["billed_usd"] == metrics[(r["model"], r["calibrated"])] for r in shared)
    assert any(Decimal(r["billed_usd"]) > 0 for r in shared)
    # And drift is (estimated - billed) / billed of those figures
    for r in shared:
        if Decimal(r["billed_usd"]) and r["estimated_usd"] != "unpriced":
            est, billed = Decimal(r["estimated_usd"]), Decimal(r["billed_usd"])
            assert Decimal(r["drift_pct"]) == ((est - billed) / billed * 100).quantize(Decimal("0.01"))


def test_logs_alone_reconcile_without_estimates(clocks):
    cur, _, logs, day = clocks
    # Given no estimate records, When reconciled with --logs only
    code, text = run_cli("reconcile", "--cur", str(cur), "--logs", str(logs), "--profiles", str(logs / "profiles.json"))
    # Then it runs (no 'not wired' exit) and reports the request-log clock's totals
    assert code == 0
    assert "clocks: request-logs vs billed" in text
    assert "total uncalibrated (request-logs)" in text
    assert f"{day}" in text


@pytest.mark.parametrize(
    ("argv", "needle"),
    [(["--cur", "."], "--estimates or --logs"), (["--cur", ".", "--logs", "/nonexistent"], "--logs")],
)
def test_bad_input_exits_2_with_one_line(clocks, capsys, argv, needle):
    if "--logs" in argv:
        argv = ["--cur", str(clocks[0]), *argv[2:]]
    assert main(["reconcile", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err
    assert "\n" not in err
