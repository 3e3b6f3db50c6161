"""The `bedrock-cost report` contract (DESIGN §4.2) as a user meets it: a real process."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.fixtures.cur_builder import cur_row, write_cur

pytestmark = pytest.mark.integration

TOKEN_HEADER = ["cost_usd", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bedrock_cost.cli.main", *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def cur(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = [
        cur_row("USE1-Claude4.6Sonnet-input-tokens", 3.0, 1000, tags={"user_team": "ml", "user_project": "chat"}),
        cur_row("USE1-Claude4.6Sonnet-output-tokens", 15.0, 1000, tags={"user_team": "ml"}),
        cur_row("USE1-NovaPro-input-tokens", 0.8, 1000, tags=None),
        cur_row("USE1-NovaPro-input-tokens", 0.2, 250, tags={"user_team": ""}),
        cur_row("USE1-NovaPro-input-tokens", 0.1, 125, period="2026-09"),
    ]
    # A data/ level above the hive folders, as Data Exports write it
    return write_cur(tmp_path_factory.mktemp("cli") / "export", rows)


def test_csv_has_the_contract_header_and_sorted_decimal_rows(cur: Path):
    result = run_cli("report", "--cur", str(cur), "--period", "2026-10", "--by", "tag:team", "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["team", *TOKEN_HEADER]
    assert rows[1:] == [
        ["ml", "18.000000", "1000000", "1000000", "0", "0"],
        ["(untagged)", "1.000000", "1250000", "0", "0", "0"],
    ]


def test_json_is_a_list_of_objects_with_the_same_keys(cur: Path):
    result = run_cli("report", "--cur", str(cur), "--by", "tag:project", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [list(obj) for obj in data] == [["project", *TOKEN_HEADER]] * 2
    assert [(o["project"], o["cost_usd"]) for o in data] == [("(untagged)", "16.000000"), ("chat", "3.000000")]


def test_default_period_is_the_newest_in_the_data(cur: Path):
    result = run_cli("report", "--cur", str(cur), "--format", "json")
    assert sum(float(o["cost_usd"]) for o in json.loads(result.stdout)) == pytest.approx(19.0)


def test_out_writes_a_file(cur: Path, tmp_path: Path):
    out = tmp_path / "nested" / "r.csv"
    result = run_cli("report", "--cur", str(cur), "--format", "csv", "--out", str(out))
    assert result.returncode == 0
    assert out.read_text().startswith("model,cost_usd,")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cur", "/nonexistent/cur"], "--cur: /nonexistent/cur does not exist"),
        (["--period", "2026-13"], "--period: '2026-13' is not a billing period"),
        (["--period", "October"], "expected YYYY-MM"),
        (["--by", "team"], "--by: 'team' is not a report key"),
        (["--by", "tag:"], "--by: tag key"),
        (["--period", "2025-01"], "no data for 2025-01"),
        (["--format", "xml"], "invalid choice: 'xml'"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_traceback(cur: Path, args: list[str], message: str):
    full = ["report", "--cur", str(cur), *args] if "--cur" not in args else ["report", *args]
    result = run_cli(*full)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_parquet_without_cur_columns_is_bad_input(tmp_path: Path):
    path = tmp_path / "not-cur.parquet"
    pq.write_table(pa.table({"foo": [1, 2]}), path)
    result = run_cli("report", "--cur", str(path))
    assert result.returncode == 2
    assert "is not a CUR 2.0 export: missing column(s)" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_folder_without_parquet_is_bad_input(tmp_path: Path):
    result = run_cli("report", "--cur", str(tmp_path))
    assert result.returncode == 2
    assert "no Parquet files under" in result.stderr


def test_a_corrupt_parquet_is_bad_input(tmp_path: Path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 not really")
    result = run_cli("report", "--cur", str(path))
    assert result.returncode == 2
    assert "cannot read Parquet" in result.stderr


def test_athena_engine_needs_its_coordinates():
    result = run_cli("report", "--engine", "athena")
    assert result.returncode == 2
    assert "--workgroup and --region" in result.stderr
