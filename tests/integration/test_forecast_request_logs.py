"""``bedrock-cost forecast --logs``: each budgeted user's month end from the invocation logs.

Known answers: Claude Haiku 4.5 input bills $1.10 per 1M tokens (bundled list price), so
10M input tokens a day are $11.00. Logs from 1 to 10 October, as of 11 October."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bedrock_cost.cli.main import main
from bedrock_cost.sample_data.cur_generator import generate_cur
from tests.support import log_files as lf
from tests.support.cli import run_cli

pytestmark = pytest.mark.integration
HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"
CONFIG = """
cur: {create_export: true, prefix: cur, export_name: bedrock-cost-tracker}
request_logs:
  budgets:
    - {subject: user, value: alice@example.com, period: month, limit_usd: 200}
    - {subject: user, value: "*", period: month, limit_usd: 30}
    - {subject: user, value: dara@example.com, period: day, limit_usd: 5}
    - {subject: "meta:customer", value: acme, period: month, limit_usd: 100}
"""


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("user-forecast")
    records = []
    for day in range(10):
        start = datetime(2026, 10, 1, 9, tzinfo=UTC) + timedelta(days=day)
        for n in range(100):  # alice and bob: 100 x 100K tokens = $11.00 a day each
            for user in ("alice@example.com", "bob@example.com"):
                records.append(lf.record(start + timedelta(seconds=n), lf.sso(user), HAIKU, inp=100_000, out=0))
        for n in range(5):  # carol: $0.55 a day
            records.append(
                lf.record(start + timedelta(seconds=n), lf.sso("carol@example.com"), HAIKU, inp=100_000, out=0)
            )
    lf.write(root / "logs", records)
    (root / "config.yaml").write_text(CONFIG, encoding="utf-8")
    return root / "logs", root / "config.yaml"


def test_user_rows_have_the_projection_and_the_right_crossing_day(inputs):
    logs, config = inputs
    code, text = run_cli("forecast", "--logs", str(logs), "--config", str(config), "--period", "2026-10",
                         "--as-of", "2026-10-11", "--format", "json")  # fmt: skip
    assert code == 0
    rows = {r["budget"]: r for r in json.loads(text)}
    # Then one row per user with a user budget: the three in the logs and dara, named by a budget
    assert set(rows) == {f"user={u}@example.com" for u in ("alice", "bob", "carol", "dara")}
    alice = rows["user=alice@example.com"]
    # alice: $110 so far, $11 a day to the 31st = $341; her own $200 beats '*'; crosses on the 19th ($209)
    assert (alice["budget_usd"], alice["actual_usd"], alice["projected_usd"]) == ("200.00", "110.00", "341.00")
    assert alice["crosses_on"] == "2026-10-19"
    assert alice["method"] == "trailing 7-day mean"
    # bob: the default $30 already crossed on the 3rd ($33), not 'today'
    assert rows["user=bob@example.com"]["crosses_on"] == "2026-10-03"
    assert rows["user=bob@example.com"]["status"] == "over"
    # carol: $0.55 a day never reaches $30
    carol = rows["user=carol@example.com"]
    assert (carol["projected_usd"], carol["crosses_on"], carol["status"]) == ("17.05", "", "under")
    assert rows["user=dara@example.com"]["budget_usd"] == "30.00"  # '*' monthly; her own budget is daily
    assert rows["user=dara@example.com"]["actual_usd"] == "0.00"


def test_user_rows_follow_the_bill_rows_with_a_cur(inputs, tmp_path):
    logs, config = inputs
    generate_cur(tmp_path / "cur", "2026-10", rows=3_000, seed=3)
    code, text = run_cli("forecast", "--cur", str(tmp_path / "cur"), "--logs", str(logs), "--config", str(config),
                      "--as-of", "2026-10-11", "--format", "json")  # fmt: skip
    assert code == 0
    budgets = [r["budget"] for r in json.loads(text)]
    assert budgets[0] == "total"
    assert budgets[-4:] == [f"user={u}@example.com" for u in ("alice", "bob", "carol", "dara")]


@pytest.mark.parametrize(
    ("argv", "needle"),
    [([], "--cur or --logs"), (["--logs", "."], "--period"), (["--profiles", "p.json", "--cur", "."], "--profiles")],
)
def test_bad_input_exits_2_with_one_line(inputs, capsys, argv, needle):
    argv = [str(inputs[0]) if a == "." and "--logs" in argv else a for a in argv]
    assert main(["forecast", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err
    assert "\n" not in err
