"""Scale check: the billed reports over 50 accounts x 4 regions of generated CUR.

Generates one billing period (``--rows``, default 2M) spread over ``--accounts`` usage
accounts and ``--regions`` regions with ``bedrock-cost generate-cur``, then runs
``bedrock-cost report --by account`` and ``--by tag:team`` on it once each, in fresh
processes, recording wall time and the peak RSS of each process tree (the same
measurement as ``bench_report.py``). Every view reads one billing period, so the cost of
more accounts and regions is rows, not periods.

Run once (about 15 s of CPU at 2M rows): ``python benchmarks/scale_cur.py``; writes
``results/scale_cur.json``, which ``scale_costs.py`` renders into ``results/scale.md``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_report import bedrock_cost_command, measure
from machine import machine_info

RESULTS = Path(__file__).resolve().parent / "results"
PERIOD = "2026-10"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--regions", type=int, default=4)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    cli = bedrock_cost_command()
    scratch = Path(tempfile.mkdtemp(prefix="bedrock-cost-scale-cur-"))
    try:
        generate = [
            *cli,
            "generate-cur",
            "--out",
            str(scratch),
            "--period",
            PERIOD,
            "--rows",
            str(args.rows),
            "--seed",
            str(args.seed),
            "--accounts",
            str(args.accounts),
            "--regions",
            str(args.regions),
        ]
        runs = {"generate-cur": measure("generate", args.rows, generate)}
        size = sum(path.stat().st_size for path in scratch.rglob("*.parquet"))
        for by in ("account", "tag:team"):
            command = [*cli, "report", "--cur", str(scratch), "--by", by, "--format", "csv"]
            runs[f"report --by {by}"] = measure("report", args.rows, command)
        failed = [name for name, run in runs.items() if run.returncode != 0]
        if failed:
            raise SystemExit(f"failed: {', '.join(failed)}: {runs[failed[0]].stderr_tail}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    document = {
        "rows": args.rows,
        "accounts": args.accounts,
        "regions": args.regions,
        "period": PERIOD,
        "parquet_bytes": size,
        "runs": {
            name: {**asdict(run), "command": [p.replace(str(scratch), "DIR") for p in run.command]}
            for name, run in runs.items()
        },
        "machine": machine_info(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "scale_cur.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    for name, run in runs.items():
        print(f"{name}: {run.wall_s:.2f} s wall, {run.cpu_s:.2f} s CPU, {run.peak_rss_mb:.0f} MB peak RSS")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
