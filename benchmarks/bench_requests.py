"""Benchmark: ``bedrock-cost requests`` over 1M invocation-log records, and the ingest Lambda.

1. Generate the S3-delivered logs once (``--records``, default 1M) into ``--data``
   (default ``/tmp/bedrock-cost-bench-logs-<N>``; reused when present).
2. Run ``bedrock-cost requests --logs DIR --by user --format csv`` and the floor, one
   hand-written DuckDB query over the same files (``requests_floor.py``), each in a fresh
   process, in the same run: wall time, records/s, peak RSS of the process tree.
3. Run the ingest handler in-process against moto on batches of 1,000 real records (as
   CloudWatch Logs subscription payloads): wall time per batch, DynamoDB write items.
4. Cost of logging plus ingestion per 1M requests a month, from measured bytes per record,
   measured Lambda time and counted DynamoDB writes (prices in ``PRICES``, us-east-1).

Writes ``benchmarks/results/requests.json`` and ``requests.md``.

Usage: python benchmarks/bench_requests.py [--records 1000000] [--batches 5]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench_report import bedrock_cost_command, measure
from machine import machine_info

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PRICES = {
    "cloudwatch_logs_ingest_usd_per_gb": 0.50,
    "lambda_arm_usd_per_gb_s": 0.0000133334,
    "lambda_usd_per_request": 0.0000002,
    "dynamodb_usd_per_million_wru": 0.625,
    "s3_usd_per_gb_month": 0.023,
}
"""us-east-1 list prices (CloudWatch Logs standard ingestion, Lambda ARM, DynamoDB on-demand)."""
CW_EVENT_OVERHEAD_BYTES = 26
"""CloudWatch Logs bills each event's message plus 26 bytes."""
ASSUMED_TRANSACTION_S = 0.010
"""DynamoDB TransactWriteItems latency assumed for the Lambda-time estimate (not measured here)."""
LAMBDA_MEMORY_GB = 0.5
"""The ingest function's memory (infra/request_ledger.py)."""


def ensure_logs(records: int, data: Path) -> tuple[Path, float | None]:
    marker = data / ".complete"
    if marker.exists():
        return data, None
    from bedrock_cost.sample_data.invocation_logs import generate_logs

    started = time.perf_counter()
    generate_logs(data, start=datetime(2026, 10, 1, tzinfo=UTC), hours=24 * 10, records=records, seed=13)
    marker.write_text(str(records))
    return data, round(time.perf_counter() - started, 1)


def log_stats(data: Path) -> dict[str, Any]:
    lines = 0
    raw = 0
    gz = 0
    for path in data.rglob("*.json.gz"):
        gz += path.stat().st_size
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                lines += 1
                raw += len(line.rstrip("\n").encode())
    return {"lines": lines, "mean_bytes_per_record": raw / lines, "gzip_bytes_per_record": gz / lines}


def sample_messages(data: Path, count: int) -> list[str]:
    out: list[str] = []
    for path in sorted(data.rglob("*.json.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            out += [line.rstrip("\n") for line in handle if line.strip()]
        if len(out) >= count:
            return out[:count]
    return out


def bench_ingest(data: Path, batches: int) -> dict[str, Any]:
    """Ingest handler per 1,000-record batch, in-process against moto (DynamoDB, SNS, S3)."""
    import boto3
    from moto import mock_aws

    from bedrock_cost.demo.state_table import create_state_table
    from bedrock_cost.domain.log_subscription import encode
    from bedrock_cost.handlers import request_ingest

    messages = sample_messages(data, 1_000 * batches)
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "Bench",
        "LEDGER_TABLE": "ledger",
        "QUARANTINE_BUCKET": "bench-quarantine",
        "REQUEST_BUDGETS": json.dumps([{"subject": "user", "period": "day", "limit_usd": "1000000"}]),
    }
    os.environ.update(env)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_REGION"):
        os.environ.pop(name, None)
    with mock_aws():
        topic = boto3.client("sns").create_topic(Name="alerts")["TopicArn"]
        os.environ["ALERT_TOPIC_ARN"] = topic
        create_state_table(boto3.client("dynamodb"), "ledger")
        boto3.client("s3").create_bucket(Bucket="bench-quarantine")
        request_ingest.load_environment.cache_clear()
        request_ingest.wiring.configure(None)
        deps = request_ingest.wiring.get()
        counted = {"transact_items": 0, "transactions": 0, "other_writes": 0}

        def count(params: dict[str, Any], **_: Any) -> None:
            counted["transact_items"] += len(params.get("TransactItems", []))
            counted["transactions"] += 1

        def count_other(**_: Any) -> None:
            counted["other_writes"] += 1

        deps.store._db.meta.events.register("provide-client-params.dynamodb.TransactWriteItems", count)
        # The alert publisher shares this client (one DynamoDB client per container).
        deps.store._db.meta.events.register("before-call.dynamodb.PutItem", count_other)
        store_s: list[float] = []
        apply = deps.store.apply

        def timed_apply(increments: Any) -> Any:
            started = time.perf_counter()
            try:
                return apply(increments)
            finally:
                store_s.append(time.perf_counter() - started)

        deps.store.apply = timed_apply  # type: ignore[method-assign]
        times = []
        records = 0
        for i in range(batches):
            event = encode("/aws/bedrock/modelinvocations", messages[i * 1_000 : (i + 1) * 1_000], first_id=i * 1_000)
            started = time.perf_counter()
            result = request_ingest.run_ingest(event, deps, request_ingest.load_environment())
            times.append(time.perf_counter() - started)
            records += result.counted
        request_ingest.wiring.configure(None)
    per_record_items = counted["transact_items"] / max(records, 1)
    return {
        "batches": batches,
        "records_counted": records,
        "median_s_per_1000": round(statistics.median(times), 3),
        "median_store_s_per_1000": round(statistics.median(store_s), 3),
        "median_handler_own_s_per_1000": round(
            statistics.median(t - w for t, w in zip(times, store_s, strict=True)), 3
        ),
        "all_s_per_1000": [round(t, 3) for t in times],
        "dynamodb_transact_items_per_record": round(per_record_items, 3),
        "dynamodb_transactions": counted["transactions"],
        "note": "moto's TransactWriteItems deep-copies the table for rollback, so store time grows with the "
        "table and says nothing about DynamoDB; handler-own time (decode, parse, price, budgets) is measured.",
    }


def monthly_cost(stats: dict[str, Any], ingest: dict[str, Any]) -> dict[str, Any]:
    n = 1_000_000
    cw_gb = n * (stats["mean_bytes_per_record"] + CW_EVENT_OVERHEAD_BYTES) / 1e9
    # Handler-own time plus DynamoDB at ~10 ms per transaction (AWS's typical latency).
    transactions_per_1000 = ingest["dynamodb_transactions"] / ingest["batches"]
    seconds_per_1000 = ingest["median_handler_own_s_per_1000"] + transactions_per_1000 * ASSUMED_TRANSACTION_S
    gb_s = n / 1_000 * seconds_per_1000 * LAMBDA_MEMORY_GB
    wru = n * ingest["dynamodb_transact_items_per_record"] * 2  # transactional writes: 2 WRU per item
    lines = {
        "cloudwatch_logs_ingestion_usd": cw_gb * PRICES["cloudwatch_logs_ingest_usd_per_gb"],
        "lambda_compute_usd": gb_s * PRICES["lambda_arm_usd_per_gb_s"],
        "lambda_requests_usd": n / 1_000 * PRICES["lambda_usd_per_request"],
        "dynamodb_writes_usd": wru / 1e6 * PRICES["dynamodb_usd_per_million_wru"],
        "s3_storage_usd_month": n * stats["gzip_bytes_per_record"] / 1e9 * PRICES["s3_usd_per_gb_month"],
    }
    rounded = {k: round(v, 4) for k, v in lines.items()}
    return {**rounded, "total_usd": round(sum(lines.values()), 4), "assumes": "1,000-record batches (see text)"}


def render(result: dict[str, Any]) -> str:
    p, f, i, c = result["product"], result["floor"], result["ingest"], result["cost_per_million"]
    n = result["records"]
    rows = [
        "# `bedrock-cost requests` and the ingest Lambda",
        "",
        f"Machine: {result['machine'].get('cpu', '?')}, {result['machine'].get('logical_cores', '?')} cores; "
        f"{n:,} generated invocation-log records ({result['stats']['mean_bytes_per_record']:.0f} B each, "
        f"{result['stats']['gzip_bytes_per_record']:.0f} B gzipped). Shared machine; one run.",
        "",
        "| run | wall s | records/s | peak RSS MB |",
        "|---|---:|---:|---:|",
        f"| `requests --by user` | {p['wall_s']} | {n / p['wall_s']:,.0f} | {p['peak_rss_mb']} |",
        f"| floor: one DuckDB query | {f['wall_s']} | {n / f['wall_s']:,.0f} | {f['peak_rss_mb']} |",
        "",
        f"Ingest handler, 1,000-record batch: handler's own work (decode, parse, price, budgets) median "
        f"{i['median_handler_own_s_per_1000']} s; {i['dynamodb_transactions'] / i['batches']:.0f} "
        f"TransactWriteItems calls, {i['dynamodb_transact_items_per_record']} transaction items per record. "
        f"(The DynamoDB part against moto took {i['median_store_s_per_1000']} s: moto copies the whole "
        "table per transaction, so that figure is not DynamoDB's.)",
        "",
        "Logging + ingestion per 1M requests a month (us-east-1 list prices):",
        "",
        "| item | USD |",
        "|---|---:|",
        *(f"| {k} | {v} |" for k, v in c.items() if k not in ("assumes",)),
        "",
        "Lambda time = measured handler-own time + 10 ms per TransactWriteItems call (assumed, not "
        "measured). DynamoDB: 2 write units per transaction item. "
        "Subscription batches in production are often smaller than 1,000 records; "
        "per-invocation cost grows with the number of invocations ($0.20 per million).",
    ]
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--batches", type=int, default=5)
    args = parser.parse_args(argv)
    data = args.data or Path(f"/tmp/bedrock-cost-bench-logs-{args.records}")
    data, generated_s = ensure_logs(args.records, data)
    stats = log_stats(data)
    product = measure(
        "requests", stats["lines"], [*bedrock_cost_command(), "requests", "--logs", str(data), "--by", "user",
                                     "--format", "csv"],
    )  # fmt: skip
    floor = measure("floor", stats["lines"], [sys.executable, str(HERE / "requests_floor.py"), str(data)])
    for run in (product, floor):
        if run.returncode != 0:
            print(f"{run.engine} failed: {run.stderr_tail}", file=sys.stderr)
            return 1
    ingest = bench_ingest(data, args.batches)
    result = {
        "records": stats["lines"],
        "generated_s": generated_s,
        "stats": stats,
        "product": {"wall_s": product.wall_s, "peak_rss_mb": product.peak_rss_mb, "command": product.command},
        "floor": {"wall_s": floor.wall_s, "peak_rss_mb": floor.peak_rss_mb, "command": floor.command},
        "ingest": ingest,
        "cost_per_million": monthly_cost(stats, ingest),
        "prices": PRICES,
        "machine": machine_info("duckdb", "moto"),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "requests.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "requests.md").write_text(render(result))
    print(render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
