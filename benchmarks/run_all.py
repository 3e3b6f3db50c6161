"""Run every ``bench_*.py`` in this folder, one after the other, each in its own process.

Each benchmark writes its own results under ``benchmarks/results/``; this runner only
sequences them (they must not compete for the same cores) and reports which failed.

Usage: python benchmarks/run_all.py [NAME_SUBSTRING ...]
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    wanted = argv if argv is not None else sys.argv[1:]
    scripts = sorted(p for p in HERE.glob("bench_*.py") if not wanted or any(w in p.name for w in wanted))
    if not scripts:
        print("run_all: no bench_*.py matched", file=sys.stderr)
        return 1
    failures: list[str] = []
    for script in scripts:
        print(f"=== {script.name}", flush=True)
        started = time.perf_counter()
        code = subprocess.run([sys.executable, str(script)], check=False).returncode
        print(f"=== {script.name}: exit {code} after {time.perf_counter() - started:.1f} s", flush=True)
        if code != 0:
            failures.append(script.name)
    if failures:
        print(f"run_all: failed: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
