"""Benchmark: one estimator run for 1,000 ModelIds (application inference profiles) in one region.

Everything runs in-process against moto (``mock_aws``): CloudWatch holds 1,000 ModelIds x
8 ``AWS/Bedrock`` metrics at 1-minute resolution, DynamoDB the watermark, S3 the records.
Bedrock's inference-profile API (absent from moto) is a real boto3 client answered by
botocore's Stubber. The real handler runs twice:

* **cold**: empty caches (the first invocation of a container): ListMetrics, one
  ListInferenceProfiles sweep and one ListTagsForResource per profile seen;
* **warm**: the next scheduled run five minutes later (caches hot).

Every AWS API call is counted per operation with a botocore event hook
(``provide-client-params``), and the handler's wall time measured. Target: at most 20
``GetMetricData`` calls per region per run (1,000 x 8 = 8,000 queries at 500 per call
is 16).

moto's ``get_metric_data`` compares every query with every data point of every period
(O(queries x periods x points): hours for 8,000 queries). The benchmark replaces it with
an indexed implementation of the same semantics for ``MetricStat`` queries, checks it
returns exactly what moto's own returns on a sample first, and says so in the results;
the figures therefore measure the estimator, not the emulator.

Writes ``benchmarks/results/estimator.json`` and ``estimator.md``.

Usage: python benchmarks/bench_estimator.py [--model-ids 1000] [--check-targets]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
sys.path[:0] = [str(ROOT / "lambdas"), str(ROOT)]
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
for _name, _value in (
    ("AWS_ACCESS_KEY_ID", "bench"),
    ("AWS_SECRET_ACCESS_KEY", "bench"),
    ("AWS_DEFAULT_REGION", "us-east-1"),
):
    os.environ[_name] = _value

import boto3  # noqa: E402
import psutil  # noqa: E402
from botocore.stub import Stubber  # noqa: E402
from moto import mock_aws  # noqa: E402
from moto.cloudwatch.models import CloudWatchBackend, Dimension, Statistics  # noqa: E402

from bedrock_cost.adapters.bedrock_profiles import BedrockProfileDirectory  # noqa: E402
from bedrock_cost.adapters.watermark_store import DynamoWatermarkStore  # noqa: E402
from bedrock_cost.config_loader import parse_config  # noqa: E402
from bedrock_cost.demo.state_table import create_state_table  # noqa: E402
from bedrock_cost.domain.estimate import METRIC_FIELDS  # noqa: E402
from bedrock_cost.domain.estimator_run import EstimatorConfig, RegionPorts, WatermarkState  # noqa: E402
from bedrock_cost.handlers import estimator  # noqa: E402
from machine import machine_info  # noqa: E402

REGION = "us-east-1"
ACCOUNT = "123456789012"
TABLE = "bench-state"
BUCKET = "bench-estimates"
TARGET_GET_METRIC_DATA_CALLS = 20
WINDOW_MINUTES = 5
MODELS = (
    "anthropic.claude-sonnet-4-6",
    "anthropic.claude-haiku-4-5-20251001-v1:0",
    "amazon.nova-pro-v1:0",
    "amazon.nova-lite-v1:0",
    "meta.llama3-3-70b-instruct-v1:0",
)


# --------------------------------------------------------------------------- moto speed-up


_ORIGINAL_GET_METRIC_DATA = CloudWatchBackend.get_metric_data


def _dims(dimensions: Any) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((d.name, d.value) for d in dimensions))


def indexed_get_metric_data(
    self: CloudWatchBackend,
    queries: list[dict[str, Any]],
    start_time: dt.datetime,
    end_time: dt.datetime,
    scan_by: str = "TimestampAscending",
) -> list[dict[str, Any]]:
    """moto's semantics for MetricStat-with-dimensions queries, with the data indexed once."""
    if any("MetricStat" not in q or not q["MetricStat"]["Metric"].get("Dimensions") for q in queries):
        return _ORIGINAL_GET_METRIC_DATA(self, queries, start_time, end_time, scan_by)
    start_time, end_time = start_time.replace(microsecond=0), end_time.replace(microsecond=0)
    if start_time >= end_time:
        return _ORIGINAL_GET_METRIC_DATA(self, queries, start_time, end_time, scan_by)
    index: dict[tuple[str, tuple[tuple[str, str], ...]], list[Any]] = defaultdict(list)
    for datum in self.get_all_metrics():
        if start_time <= datum.timestamp < end_time:
            index[(datum.name, _dims(datum.dimensions))].append(datum)
    results = []
    for query in queries:
        stat = query["MetricStat"]
        metric = stat["Metric"]
        period = int(stat["Period"])
        dims = _dims(Dimension(name=d["Name"], value=d["Value"]) for d in metric["Dimensions"])
        series = index.get((metric["MetricName"], dims), [])
        if stat.get("Unit"):
            series = [d for d in series if d.unit == stat["Unit"]]
        buckets: dict[int, list[Any]] = defaultdict(list)
        for datum in series:
            buckets[int((datum.timestamp - start_time).total_seconds()) // period].append(datum)
        timestamps, values = [], []
        for k in sorted(buckets):
            stats = Statistics([stat["Stat"]], start_time + dt.timedelta(seconds=k * period))
            stats.metric_data = buckets[k]
            values.append(stats.get_statistics_for_type(stat["Stat"]))
            timestamps.append(stats.timestamp)
        if scan_by == "TimestampDescending":
            timestamps.reverse()
            values.reverse()
        if query.get("ReturnData", True):
            label = query.get("Label") or f"{metric['MetricName']} {stat['Stat']}"
            results.append(
                {
                    "id": query["Id"],
                    "label": label,
                    "values": values,
                    "timestamps": timestamps,
                    "status_code": "Complete",
                }
            )
    return results


def check_equivalence(cloudwatch: Any, model_ids: list[str], start: dt.datetime, end: dt.datetime) -> int:
    """Run the same sample through moto's own and the indexed implementation; they must agree."""
    queries = [
        {
            "Id": f"q{i}_{j}",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/Bedrock",
                    "MetricName": name,
                    "Dimensions": [{"Name": "ModelId", "Value": m}],
                },
                "Period": 60,
                "Stat": "Sum",
            },
        }
        for i, m in enumerate(model_ids)
        for j, name in enumerate(METRIC_FIELDS)
    ]
    CloudWatchBackend.get_metric_data = _ORIGINAL_GET_METRIC_DATA  # type: ignore[method-assign]
    original = cloudwatch.get_metric_data(MetricDataQueries=queries, StartTime=start, EndTime=end)["MetricDataResults"]
    CloudWatchBackend.get_metric_data = indexed_get_metric_data  # type: ignore[method-assign]
    indexed = cloudwatch.get_metric_data(MetricDataQueries=queries, StartTime=start, EndTime=end)["MetricDataResults"]
    if original != indexed:
        raise SystemExit("bench_estimator: the indexed get_metric_data disagrees with moto's; refusing to benchmark")
    return len(queries)


# --------------------------------------------------------------------------- the account


def profile(i: int) -> dict[str, Any]:
    model = MODELS[i % len(MODELS)]
    return {
        "inferenceProfileName": f"app-{i:04d}",
        "inferenceProfileArn": f"arn:aws:bedrock:{REGION}:{ACCOUNT}:application-inference-profile/bench{i:08d}",
        "inferenceProfileId": f"bench{i:08d}",
        "models": [{"modelArn": f"arn:aws:bedrock:{r}::foundation-model/{model}"} for r in ("us-east-1", "us-west-2")],
        "status": "ACTIVE",
        "type": "APPLICATION",
    }


def tags(i: int) -> list[dict[str, str]]:
    return [
        {"key": "team", "value": f"team-{i % 40:02d}"},
        {"key": "project", "value": f"project-{i % 7}"},
        {"key": "environment", "value": "prod" if i % 3 else "dev"},
    ]


def put_metrics(cloudwatch: Any, arns: list[str], start: dt.datetime, minutes: int) -> int:
    data = []
    for n, arn in enumerate(arns):
        caches = not MODELS[n % len(MODELS)].startswith("meta.")  # Llama has no prompt caching
        for m in range(minutes):
            stamp = start + dt.timedelta(minutes=m, seconds=15)
            values = {
                "InputTokenCount": 1_000 + n,
                "OutputTokenCount": 200 + m,
                "CacheReadInputTokenCount": 3_000 if caches else 0,
                "CacheWriteInputTokenCount": 100 if caches else 0,
                "Invocations": 2,
                "InvocationThrottles": 1 if n % 50 == 0 else 0,
                "InvocationClientErrors": 1 if n % 97 == 0 else 0,
                "InvocationServerErrors": 0,
            }
            for name, value in values.items():
                data.append(
                    {
                        "MetricName": name,
                        "Dimensions": [{"Name": "ModelId", "Value": arn}],
                        "Timestamp": stamp,
                        "Value": value,
                    }
                )
    for i in range(0, len(data), 1000):
        cloudwatch.put_metric_data(Namespace="AWS/Bedrock", MetricData=data[i : i + 1000])
    return len(data)


class CallCounter:
    """Counts API calls per operation and the time spent inside them (SDK + emulator)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.seconds = 0.0
        self._started: list[float] = []

    def attach(self, client: Any) -> None:
        client.meta.events.register("provide-client-params.*.*", self._count)
        client.meta.events.register("after-call.*.*", self._done)

    def _count(self, event_name: str, **_: Any) -> None:
        _, service, operation = event_name.split(".")
        self.calls[f"{service}:{operation}"] += 1
        self._started.append(time.perf_counter())

    def _done(self, **_: Any) -> None:
        if self._started:
            self.seconds += time.perf_counter() - self._started.pop()

    def take(self) -> tuple[dict[str, int], float]:
        taken = dict(sorted(self.calls.items())), self.seconds
        self.calls.clear()
        self.seconds = 0.0
        return taken


class _Context:
    function_name = "estimator"
    memory_limit_in_mb = 1024
    invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:estimator"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def run_handler(event: dict[str, Any]) -> tuple[float, dict[str, Any], int]:
    sink = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(sink):
        result = estimator.handler(event, _Context())  # type: ignore[arg-type]
    return time.perf_counter() - started, result, sink.getvalue().count('"_aws"')


def bench(model_ids: int) -> dict[str, Any]:
    config = parse_config({"regions": [REGION], "cur": {"create_export": True}})
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    first_start = now - dt.timedelta(minutes=config.estimator.settle_minutes + WINDOW_MINUTES)
    profiles = [profile(i) for i in range(model_ids)]
    arns = [p["inferenceProfileArn"] for p in profiles]
    with mock_aws():
        cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        s3 = boto3.client("s3", region_name=REGION)
        create_state_table(dynamodb, TABLE)
        s3.create_bucket(Bucket=BUCKET)
        t0 = time.perf_counter()
        points = put_metrics(cloudwatch, arns, first_start, 2 * WINDOW_MINUTES)
        put_seconds = time.perf_counter() - t0
        checked = check_equivalence(
            cloudwatch, arns[:12], first_start, first_start + dt.timedelta(minutes=WINDOW_MINUTES)
        )
        DynamoWatermarkStore(dynamodb, TABLE).advance(
            REGION, None, WatermarkState(minute=first_start, model_ids=frozenset(arns))
        )

        env = estimator.EstimatorEnvironment.model_validate(
            {
                "STATE_TABLE": TABLE,
                "ESTIMATES_BUCKET": BUCKET,
                "CALIBRATION_BUCKET": BUCKET,
                "ESTIMATOR_CONFIG": EstimatorConfig.from_config(config).to_json(),
            }
        )
        deps = estimator.build_dependencies(env)
        bedrock = boto3.client("bedrock", region_name=REGION)
        stub = Stubber(bedrock)
        stub.add_response(
            "list_inference_profiles",
            {"inferenceProfileSummaries": profiles},
            {"typeEquals": "APPLICATION", "maxResults": 1000},
        )
        for i in sorted(range(model_ids), key=lambda k: arns[k]):
            stub.add_response("list_tags_for_resource", {"tags": tags(i)}, {"resourceARN": arns[i]})
        stub.activate()
        source = deps.ports[REGION].source
        deps.ports = {
            REGION: RegionPorts(
                source=source,
                directory=BedrockProfileDirectory(bedrock, ttl_seconds=900, backoff=deps.deadline.backoff),
            )
        }
        clock = [now]
        deps.clock = lambda: clock[0]
        estimator.configure(deps)
        counter = CallCounter()
        for client in (source._client, bedrock, deps.store._client, deps.sink._client):  # type: ignore[attr-defined]
            counter.attach(client)
        event = {"detail-type": "Scheduled Event", "source": "aws.events"}

        runs = []
        for label in ("cold", "warm"):
            rss_before = psutil.Process().memory_info().rss
            seconds, result, emf_records = run_handler(event)
            (region,) = result["regions"]
            calls, aws_seconds = counter.take()
            runs.append(
                {
                    "run": label,
                    "wall_seconds": round(seconds, 3),
                    "seconds_in_aws_calls": round(aws_seconds, 3),
                    "seconds_in_estimator_code": round(seconds - aws_seconds, 3),
                    "window": [region["window_start"], region["window_end"]],
                    "model_ids": region["model_ids"],
                    "api_calls": calls,
                    "api_calls_total": sum(calls.values()),
                    "get_metric_data_calls": calls.get("cloudwatch:GetMetricData", 0),
                    "emf_records": emf_records,
                    "s3_objects_written": len(region["objects"]),
                    "estimated_cost_usd": region["estimate"]["total"]["cost_usd"],
                    "rss_growth_mb": round((psutil.Process().memory_info().rss - rss_before) / 2**20, 1),
                }
            )
            clock[0] = clock[0] + dt.timedelta(minutes=WINDOW_MINUTES)
        stub.assert_no_pending_responses()
        estimator.configure(None)
    return {
        "model_ids": model_ids,
        "metrics_per_model_id": len(METRIC_FIELDS),
        "queries_per_run": model_ids * len(METRIC_FIELDS),
        "datapoints_put": points,
        "put_metric_data_seconds": round(put_seconds, 2),
        "moto_get_metric_data": f"indexed replacement, checked equal to moto's on {checked} queries",
        "runs": runs,
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "# Estimator benchmark",
        "",
        f"{result['model_ids']:,} ModelIds (application inference profiles) x {result['metrics_per_model_id']} "
        f"`AWS/Bedrock` metrics, one region, {WINDOW_MINUTES}-minute window, moto in-process "
        f"({result['moto_get_metric_data']}). Generated {result['generated_at']}.",
        "",
        "| run | wall time (s) | in AWS calls (s) | estimator code (s) | GetMetricData calls | all AWS calls "
        "| EMF records | S3 objects |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in result["runs"]:
        lines.append(
            f"| {run['run']} | {run['wall_seconds']} | {run['seconds_in_aws_calls']} | "
            f"{run['seconds_in_estimator_code']} | {run['get_metric_data_calls']} | {run['api_calls_total']} | "
            f"{run['emf_records']:,} | {run['s3_objects_written']} |"
        )
    lines += [
        "",
        "Time in AWS calls is botocore serialisation plus the in-process emulator; in Lambda it is "
        "network time to CloudWatch instead. The estimator's own work (resolving, pricing, records, "
        "EMF) is the rest.",
    ]
    lines += ["", "Calls per operation:", ""]
    for run in result["runs"]:
        lines.append(f"- {run['run']}: " + ", ".join(f"{op} {n}" for op, n in run["api_calls"].items()))
    target = result["target"]
    lines += [
        "",
        f"Target: at most {target['max_get_metric_data_calls']} GetMetricData calls per region per run — "
        f"{'met' if target['met'] else 'MISSED'}.",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in result["machine"].items()),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-ids", type=int, default=1000)
    parser.add_argument("--check-targets", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args(argv)
    result = bench(args.model_ids)
    worst = max(run["get_metric_data_calls"] for run in result["runs"])
    result["target"] = {
        "max_get_metric_data_calls": TARGET_GET_METRIC_DATA_CALLS,
        "worst": worst,
        "met": worst <= TARGET_GET_METRIC_DATA_CALLS,
    }
    result["generated_at"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    result["machine"] = machine_info("boto3", "moto", "aws-lambda-powertools")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "estimator.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (RESULTS / "estimator.md").write_text(markdown(result), encoding="utf-8")
    print(markdown(result))
    return 1 if args.check_targets and not result["target"]["met"] else 0


if __name__ == "__main__":
    sys.exit(main())
