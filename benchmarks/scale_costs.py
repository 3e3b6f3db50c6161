"""Scale arithmetic: the estimator at 1,000 ModelIds and request ingestion at 10M a month.

Quantities come from measurements, prices from ``benchmarks/own_bill.py`` (``PRICES``,
dated): GetMetricData metrics and calls per run from ``results/estimator.json`` (the
estimator benchmark at 1,000 ModelIds). The design alternatives for ingestion are unit
counts at list prices, stated as assumptions; the built ledger's line is scaled from its
measured bytes and write items per record (``results/requests.json``). The CUR scale
check (50 accounts x 4 regions, ``scale_cur.py``) is rendered from ``results/scale_cur.json``.
Writes ``results/scale.md``.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path

from own_bill import HOURS_PER_MONTH, PRICES, PRICES_AS_OF

RESULTS = Path(__file__).resolve().parent / "results"
REQUESTS = 10_000_000
RECORD_BYTES = 400
"""One request record (JSON line: time, account, region, model, profile, 4 token counts, tags)."""
RECORDS_PER_OBJECT = 5_000
"""Records per S3 object when the ingest batches a log subscription delivery."""
LOG_BATCH = 100
"""Log events per Lambda invocation (subscription filter batches)."""
INGEST_MS_PER_BATCH = 200
INGEST_MEMORY_GB = Decimal("0.25")
GB = Decimal(1_000_000_000)


def estimator_lines() -> list[tuple[str, str, Decimal]]:
    bench = json.loads((RESULTS / "estimator.json").read_text())
    model_ids = int(bench["model_ids"])
    warm = next(run for run in bench["runs"] if run["run"] == "warm")
    calls = int(warm["get_metric_data_calls"])
    metrics = int(bench["metrics_per_model_id"]) * model_ids
    lines = []
    for minutes in (60, 5):
        runs = HOURS_PER_MONTH * 60 // minutes
        usd = Decimal(metrics * runs) / 1000 * PRICES["get_metric_data_per_1000"]
        lines.append(
            (
                f"GetMetricData, {model_ids:,} ModelIds, every {minutes} min",
                f"{metrics:,} metrics x {runs:,} runs ({calls} calls/run)",
                usd.quantize(Decimal("0.01")),
            )
        )
    return lines


def ingestion_lines() -> list[tuple[str, str, Decimal]]:
    invocations = math.ceil(REQUESTS / LOG_BATCH)
    gb_seconds = INGEST_MEMORY_GB * Decimal(invocations * INGEST_MS_PER_BATCH) / 1000
    objects = math.ceil(REQUESTS / RECORDS_PER_OBJECT)
    p = PRICES
    return [
        (
            "Lambda requests (ingest)",
            f"{invocations:,} invocations",
            (Decimal(invocations) / 1_000_000 * p["lambda_per_million_requests"]).quantize(Decimal("0.01")),
        ),
        (
            "Lambda compute (ingest)",
            f"{gb_seconds:,.0f} GB-s",
            (gb_seconds * p["lambda_gb_second_arm"]).quantize(Decimal("0.01")),
        ),
        (
            "S3 PUT of batched records",
            f"{objects:,} objects",
            (Decimal(objects) / 1000 * p["s3_put_per_1000"]).quantize(Decimal("0.01")),
        ),
        (
            "alternative: one DynamoDB write per request",
            f"{REQUESTS:,} writes",
            (Decimal(REQUESTS) / 1_000_000 * p["dynamodb_per_million_writes"]).quantize(Decimal("0.01")),
        ),
        (
            "alternative: request records re-logged to CloudWatch Logs",
            f"{REQUESTS * RECORD_BYTES / 1e9:.1f} GB",
            (Decimal(REQUESTS * RECORD_BYTES) / GB * p["logs_ingest_per_gb"]).quantize(Decimal("0.01")),
        ),
    ]


def ledger_lines() -> list[tuple[str, str, str]]:
    """The built per-request ledger at ``REQUESTS``, from its measured figures."""
    path = RESULTS / "requests.json"
    if not path.exists():
        return []
    bench = json.loads(path.read_text(encoding="utf-8"))
    record_bytes = Decimal(str(bench["stats"]["mean_bytes_per_record"]))
    items = Decimal(str(bench["ingest"]["dynamodb_transact_items_per_record"]))
    logs_gb = record_bytes * REQUESTS / Decimal(1024**3)
    writes = items * 2 * REQUESTS
    return [
        (
            "built ledger: invocation logs into CloudWatch Logs",
            f"{logs_gb:.1f} GB ({record_bytes:.0f} B/record, measured)",
            f"{logs_gb * PRICES['logs_ingest_per_gb']:.2f}",
        ),
        (
            "built ledger: DynamoDB transactional writes",
            f"{items} items/record x 2 WRU x {REQUESTS:,} = {writes:,.0f} WRU",
            f"{writes / 1_000_000 * PRICES['dynamodb_per_million_writes']:.2f}",
        ),
    ]


def cur_scale_section() -> list[str]:
    path = RESULTS / "scale_cur.json"
    if not path.exists():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    machine = data["machine"]
    lines = [
        f"## Billed reports over {data['accounts']} accounts x {data['regions']} regions",
        "",
        f"One billing period of {data['rows']:,} generated CUR rows ({data['parquet_bytes'] / 1e6:.0f} MB Parquet), "
        f"`generate-cur --accounts {data['accounts']} --regions {data['regions']}`; each command run once in a fresh "
        f"process by `python benchmarks/scale_cur.py`. Machine: {machine.get('cpu', '?')}, "
        f"{machine.get('logical_cores', '?')} cores, shared.",
        "",
        "| command | wall s | CPU s | peak RSS MB |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| `{name}` | {run['wall_s']:.2f} | {run['cpu_s']:.2f} | {run['peak_rss_mb']:.0f} |"
        for name, run in data["runs"].items()
    ]
    return [*lines, ""]


def main() -> int:
    rows = ["| item | quantity | USD/month |", "|---|---|---:|"]
    rows += [f"| {a} | {b} | {c} |" for a, b, c in estimator_lines() + ingestion_lines() + ledger_lines()]
    text = "\n".join(
        [
            "# Scale arithmetic",
            "",
            f"us-east-1 list prices as of {PRICES_AS_OF}. Generated by `python benchmarks/scale_costs.py`.",
            f"Ingestion assumptions: {LOG_BATCH} log events per invocation, {INGEST_MS_PER_BATCH} ms at "
            f"{INGEST_MEMORY_GB} GB, {RECORDS_PER_OBJECT:,} records per object, {RECORD_BYTES} bytes per record.",
            "",
            *rows,
            "",
            *cur_scale_section(),
        ]
    )
    (RESULTS / "scale.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
