"""Spec of ``bedrock-cost generate-cur``: flags, defaults, output, and exit codes.

The command runs through the real ``main`` (argument parsing, error mapping to exit
codes) and writes real Parquet files that DuckDB then reads. Only the generate-cur
module is registered, so this spec does not depend on the other sub-commands.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from bedrock_cost.cli import generate_cur_cmd
from bedrock_cost.cli import main as cli

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def only_generate_cur(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("bedrock_cost.cli.generate_cur_cmd",))


def test_generates_the_export_and_prints_the_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given an empty folder
    out = tmp_path / "cur"
    # When running generate-cur for two months of 3,000 rows
    code = cli.main(["generate-cur", "--out", str(out), "--period", "2026-08", "--rows", "3000", "--months", "2"])
    # Then it exits 0 and prints each file written, one per line
    captured = capsys.readouterr()
    assert code == 0
    printed = captured.out.splitlines()
    assert printed == [
        str(out / "data" / "BILLING_PERIOD=2026-07" / "bedrock-cost-tracker-00001.snappy.parquet"),
        str(out / "data" / "BILLING_PERIOD=2026-08" / "bedrock-cost-tracker-00001.snappy.parquet"),
    ]
    # And the export reads as a hive-partitioned CUR in DuckDB with the rows asked for
    counts = (
        duckdb.connect()
        .execute(
            "SELECT billing_period, count(*) FROM read_parquet(?, hive_partitioning = true) GROUP BY 1 ORDER BY 1",
            [str(out / "data" / "*" / "*.parquet")],
        )
        .fetchall()
    )
    assert counts == [("2026-07", 3000), ("2026-08", 3000)]
    # And no progress bar is drawn when stderr is not a terminal
    assert captured.err == ""


def test_defaults_and_seed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given the documented defaults
    parser = cli.build_parser()
    args = parser.parse_args(["generate-cur", "--out", str(tmp_path), "--period", "2026-08"])
    # Then rows, seed and months default to 50,000, 42 and 1
    assert (args.rows, args.seed, args.months) == (50_000, 42, 1)
    assert args.func is generate_cur_cmd.run
    # When the same seed is used twice and another once
    for name, seed in (("a", "3"), ("b", "3"), ("c", "4")):
        flags = ["--out", str(tmp_path / name), "--period", "2026-08", "--rows", "500"]
        assert cli.main(["generate-cur", *flags, "--seed", seed]) == 0
    capsys.readouterr()
    files = [next((tmp_path / n).rglob("*.parquet")).read_bytes() for n in "abc"]
    # Then the seed decides the data
    assert files[0] == files[1]
    assert files[0] != files[2]


@pytest.mark.parametrize(
    ("flags", "field"),
    [
        (["--period", "2026-13"], "--period"),
        (["--period", "26-08"], "--period"),
        (["--period", "2026-08", "--rows", "0"], "--rows"),
        (["--period", "2026-08", "--rows", "-1"], "--rows"),
        (["--period", "2026-08", "--months", "0"], "--months"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], field: str
) -> None:
    # When a flag has a bad value
    code = cli.main(["generate-cur", "--out", str(tmp_path / "cur"), *flags])
    # Then the exit code is 2, stderr is one line naming the flag, and nothing was written
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("bedrock-cost: error: ")
    assert field in lines[0]
    assert "Traceback" not in captured.err
    assert not (tmp_path / "cur").exists()


def test_non_numeric_rows_is_rejected_by_the_parser(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # When --rows is not a number, argparse rejects it with exit code 2
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["generate-cur", "--out", str(tmp_path), "--period", "2026-08", "--rows", "many"])
    assert exit_info.value.code == 2
    assert "--rows" in capsys.readouterr().err


def test_progress_bar_on_a_terminal_for_big_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given stderr is a terminal and the threshold is lowered so the run stays small
    monkeypatch.setattr(generate_cur_cmd, "PROGRESS_MIN_ROWS", 400)
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    # When generating 400 rows, then 399
    assert cli.main(["generate-cur", "--out", str(tmp_path), "--period", "2026-08", "--rows", "400"]) == 0
    big = capsys.readouterr().err
    assert cli.main(["generate-cur", "--out", str(tmp_path), "--period", "2026-08", "--rows", "399"]) == 0
    small = capsys.readouterr().err
    # Then only the run at the threshold draws a bar
    assert "100%" in big
    assert small == ""
