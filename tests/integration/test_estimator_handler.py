"""Spec of the estimator Lambda, run for real against moto (CloudWatch, DynamoDB, S3).

Metrics go into moto's CloudWatch with ``put_metric_data`` in namespace ``AWS/Bedrock``
and come back through the real adapter (``ListMetrics`` + ``GetMetricData`` with
``MetricStat``, period 60). moto has no inference-profile API: application profiles
live in ``InMemoryProfileDirectory`` behind the same port (the Bedrock adapter's own
calls are covered with botocore's Stubber in test_estimator_adapters.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

import bedrock_cost
from bedrock_cost.adapters.price_list import CALIBRATION_KEY
from bedrock_cost.adapters.watermark_store import DynamoWatermarkStore
from bedrock_cost.demo.state_table import create_state_table
from bedrock_cost.domain.estimate import Counts
from bedrock_cost.domain.estimator_run import RegionPorts, WatermarkConflictError, WatermarkState
from bedrock_cost.domain.model_resolution import InMemoryProfileDirectory, ProfileInfo
from bedrock_cost.domain.pricing import cost_usd
from bedrock_cost.errors import BedrockCostError
from bedrock_cost.handlers import estimator
from tests.support.events import scheduled_event
from tests.support.lambda_context import FakeLambdaContext

pytestmark = pytest.mark.integration

REGION = "us-east-1"
ACCOUNT = "123456789012"
TABLE = "state"
BUCKET = "estimates"
CAL_BUCKET = "reports"
SETTLE = timedelta(minutes=3)
NOVA = "amazon.nova-pro-v1:0"
SONNET_US = "us.anthropic.claude-sonnet-4-6"
PROFILE_ARN = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:application-inference-profile/ml0sonnet001"
MYSTERY = "acme.mystery-model-v1"
SONNET_REGIONAL_IN = Decimal("3.30")
NOVA_IN, NOVA_OUT = Decimal("0.80"), Decimal("3.20")

METRIC_NAMES = {
    "input": "InputTokenCount",
    "output": "OutputTokenCount",
    "cache_read": "CacheReadInputTokenCount",
    "cache_write": "CacheWriteInputTokenCount",
    "invocations": "Invocations",
    "throttles": "InvocationThrottles",
}


@dataclass
class World:
    cloudwatch: Any
    s3: Any
    dynamodb: Any
    directory: InMemoryProfileDirectory
    now: datetime
    """Real time (CloudWatch embedded metrics must be recent), fixed for the whole test."""

    @property
    def window_end(self) -> datetime:
        """The last minute a run at ``now`` processes (now - settle)."""
        return self.now.replace(second=0) - SETTLE

    def put(self, model_id: str, minute: datetime, counts: Counts) -> None:
        self.put_many([(model_id, minute, counts)])

    def put_many(self, items: list[tuple[str, datetime, Counts]]) -> None:
        data = []
        for model_id, minute, counts in items:
            for field_name, metric_name in METRIC_NAMES.items():
                value = getattr(counts, field_name)
                if value:
                    data.append(
                        {
                            "MetricName": metric_name,
                            "Dimensions": [{"Name": "ModelId", "Value": model_id}],
                            "Timestamp": minute + timedelta(seconds=20),
                            "Value": value,
                            "Unit": "Count",
                        }
                    )
        for i in range(0, len(data), 1000):
            self.cloudwatch.put_metric_data(Namespace="AWS/Bedrock", MetricData=data[i : i + 1000])

    def watermark(self) -> WatermarkState | None:
        return DynamoWatermarkStore(self.dynamodb, TABLE).load(REGION)

    def set_watermark(self, minute: datetime, model_ids: set[str]) -> None:
        self.dynamodb.put_item(
            TableName=TABLE,
            Item={
                "pk": {"S": f"watermark#{REGION}"},
                "sk": {"S": "watermark"},
                "minute": {"S": minute.isoformat()},
                "epoch": {"N": str(int(minute.timestamp()))},
                "model_ids": {"SS": sorted(model_ids)},
            },
        )

    def objects(self) -> dict[str, list[dict[str, Any]]]:
        listing = self.s3.list_objects_v2(Bucket=BUCKET, Prefix="estimates/").get("Contents", [])
        return {
            o["Key"]: [
                json.loads(line, parse_float=Decimal)
                for line in self.s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read().decode().splitlines()
            ]
            for o in listing
        }


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_state_table(dynamodb, TABLE)
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        s3.create_bucket(Bucket=CAL_BUCKET)
        directory = InMemoryProfileDirectory(
            [
                ProfileInfo(
                    arn=PROFILE_ARN,
                    profile_id="ml0sonnet001",
                    name="ml-sonnet",
                    model_arns=(f"arn:aws:bedrock:{REGION}::foundation-model/anthropic.claude-sonnet-4-6",),
                    tags={"team": "ml"},
                )
            ]
        )
        now = datetime.now(UTC).replace(minute=0, second=20, microsecond=0)
        w = World(boto3.client("cloudwatch", region_name=REGION), s3, dynamodb, directory, now)
        wire(w)
        yield w


def wire(w: World, max_catchup: int = 60, extra: dict[str, str] | None = None) -> None:
    env = estimator.EstimatorEnvironment.model_validate(
        {
            **(extra or {}),
            "STATE_TABLE": TABLE,
            "ESTIMATES_BUCKET": BUCKET,
            "CALIBRATION_BUCKET": CAL_BUCKET,
            "ESTIMATOR_CONFIG": json.dumps(
                {
                    "regions": [REGION],
                    "report_tag_keys": ["team"],
                    "estimator": {
                        "schedule_minutes": 5,
                        "settle_minutes": 3,
                        "max_catchup_minutes_per_run": max_catchup,
                    },
                    "pricing": {},
                    # A budget on team=ml: its cost-pace alarm needs the team=ml series.
                    "pinned_tag_values": {"team": ["ml"]},
                }
            ),
        }
    )
    deps = estimator.build_dependencies(env)
    deps.ports = {REGION: RegionPorts(source=deps.ports[REGION].source, directory=w.directory)}
    deps.clock = lambda: w.now
    estimator.configure(deps)


def invoke(remaining_ms: int = 300_000) -> dict[str, Any]:
    return estimator.handler(
        scheduled_event("estimator", datetime.now(UTC)), FakeLambdaContext(remaining_ms=remaining_ms)
    )  # type: ignore[arg-type]


def emf(output: str) -> list[dict[str, Any]]:
    """Every EMF record printed: {'t': minute, 'dims': {...}, 'values': {...}}."""
    found = []
    for line in output.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        blob = json.loads(line, parse_float=Decimal)
        (directive,) = blob["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "BedrockCostTracker"
        (dim_names,) = directive["Dimensions"]
        found.append(
            {
                "t": datetime.fromtimestamp(blob["_aws"]["Timestamp"] / 1000, tz=UTC),
                "dims": {d: blob[d] for d in dim_names},
                "values": {
                    m["Name"]: blob[m["Name"]][0] if isinstance(blob[m["Name"]], list) else blob[m["Name"]]
                    for m in directive["Metrics"]
                },
            }
        )
    return found


def test_a_scheduled_run_prices_every_model_id_shape(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    # Given five minutes of traffic: a model id, a US profile, an application profile (team=ml)
    start = world.window_end - timedelta(minutes=5)
    world.set_watermark(start, {NOVA, SONNET_US, PROFILE_ARN})
    for i in range(5):
        minute = start + timedelta(minutes=i)
        world.put(NOVA, minute, Counts(input=10_000, output=2_000, invocations=4))
        world.put(SONNET_US, minute, Counts(input=1_000, invocations=1))
        world.put(PROFILE_ARN, minute, Counts(input=2_000, invocations=2))
    capsys.readouterr()
    # When the scheduled run happens
    result = invoke()
    # Then the window [watermark, now - settle) is processed and the watermark moved to its end
    (region,) = result["regions"]
    assert (region["status"], region["window_start"], region["window_end"]) == (
        "processed",
        f"{start:%Y-%m-%dT%H:%M}Z",
        f"{world.window_end:%Y-%m-%dT%H:%M}Z",
    )
    assert world.watermark() == WatermarkState(
        minute=world.window_end, model_ids=frozenset({NOVA, SONNET_US, PROFILE_ARN})
    )
    # And the estimate is tokens x catalog price, exactly, per model and per tag
    nova = 5 * (cost_usd(10_000, NOVA_IN) + cost_usd(2_000, NOVA_OUT))
    sonnet = 5 * (cost_usd(1_000, SONNET_REGIONAL_IN) + cost_usd(2_000, SONNET_REGIONAL_IN))
    estimate = region["estimate"]
    assert Decimal(estimate["total"]["cost_usd"]) == nova + sonnet
    by_model = {row["model"]: row for row in estimate["by_model"]}
    assert Decimal(by_model["Nova Pro"]["cost_usd"]) == nova
    assert Decimal(by_model["Claude Sonnet 4.6"]["cost_usd"]) == sonnet
    by_team = {row["tag_value"]: Decimal(row["cost_usd"]) for row in estimate["by_tag"]["team"]}
    assert by_team == {
        "ml": 5 * cost_usd(2_000, SONNET_REGIONAL_IN),
        "(untagged)": nova + 5 * cost_usd(1_000, SONNET_REGIONAL_IN),
    }
    # And EMF metrics carry the data's own minute timestamps
    points = emf(capsys.readouterr().out)
    totals = [p for p in points if p["dims"] == {} and "EstimatedCostUSD" in p["values"]]
    assert [p["t"] for p in totals] == [start + timedelta(minutes=i) for i in range(5)]
    assert sum(p["values"]["EstimatedCostUSD"] for p in totals) == nova + sonnet
    ml = [p for p in points if p["dims"] == {"TagKey": "team", "TagValue": "ml"} and "EstimatedCostUSD" in p["values"]]
    assert len(ml) == 5


def test_records_land_in_s3_by_day_region_and_hour(world: World) -> None:
    start = world.window_end - timedelta(minutes=5)
    world.set_watermark(start, {NOVA})
    world.put(NOVA, start, Counts(input=1_000_000, output=10))
    invoke()
    objects = world.objects()
    key = f"estimates/dt={start:%Y-%m-%d}/region=us-east-1/{start:%Y%m%dT%H}00Z.jsonl"
    assert list(objects) == [key]
    records = objects[key]
    by_kind = {r["usage_kind"]: r for r in records}
    assert by_kind["input"]["cost_usd"] == Decimal("0.8")
    assert by_kind["input"]["price_source"] == "bundled"
    assert by_kind["input"]["calibrated"] is False
    assert by_kind["output"]["tokens"] == 10


def test_a_member_collector_writes_under_its_account_and_reads_central_prices(world: World) -> None:
    # Given an organisation member's environment: records under estimates/account=<id> in the
    # central bucket, refreshed prices read from another (central) bucket holding a new price
    central = "central-estimates"
    world.s3.create_bucket(Bucket=central)
    bundled = json.loads((Path(bedrock_cost.__file__).parent / "data" / "prices.json").read_text())
    nova = [dict(e) for e in bundled["entries"] if e["model"] == "Nova Pro" and e["scope"] == "regional"]
    for entry in nova:
        entry["usd_per_million"] = {**entry["usd_per_million"], "input": "0.5"}
    refreshed = {**bundled, "entries": nova}
    world.s3.put_object(Bucket=central, Key=f"pricing/price-list/{REGION}.json", Body=json.dumps(refreshed))
    wire(world, extra={"CATALOG_BUCKET": central, "ESTIMATES_PREFIX": "estimates/account=111122223333"})
    start = world.window_end - timedelta(minutes=5)
    world.set_watermark(start, {NOVA})
    world.put(NOVA, start, Counts(input=1_000_000))
    # When the scheduled run happens
    invoke()
    # Then the hour's records land under the account's prefix, nowhere else
    listing = world.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    key = f"estimates/account=111122223333/dt={start:%Y-%m-%d}/region=us-east-1/{start:%Y%m%dT%H}00Z.jsonl"
    assert [o["Key"] for o in listing] == [key]
    # And the price came from the central catalog bucket
    (record,) = [
        json.loads(line, parse_float=Decimal)
        for line in world.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode().splitlines()
        if '"input"' in line
    ]
    assert (record["price_source"], record["cost_usd"]) == ("refresh", Decimal("0.5"))


def test_catch_up_after_a_three_hour_gap_counts_each_minute_once(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the estimator was down for three hours: traffic every minute, watermark 3 h behind
    gap_start = world.window_end - timedelta(hours=3)
    world.set_watermark(gap_start, {NOVA, PROFILE_ARN})
    items = []
    for i in range(-20, 180):
        minute = gap_start + timedelta(minutes=i)
        items.append((NOVA, minute, Counts(input=1_000 + i, output=100, invocations=1)))
        items.append((PROFILE_ARN, minute, Counts(input=500, cache_read=50, invocations=1)))
    world.put_many(items)
    capsys.readouterr()
    # When the estimator runs until it has caught up (60-minute chunks)
    results = []
    for _ in range(5):
        results.append(invoke()["regions"][0])
        if results[-1]["status"] == "up-to-date":
            break
    # Then three chunks were processed back to back, then nothing was left
    assert [r["status"] for r in results] == ["processed"] * 3 + ["up-to-date"]
    assert [r["backlog_minutes"] for r in results[:3]] == [120, 60, 0]
    assert world.watermark() is not None
    assert world.watermark().minute == world.window_end
    # And every minute of the gap was published exactly once, none before it
    totals = [p for p in emf(capsys.readouterr().out) if p["dims"] == {} and "EstimatedCostUSD" in p["values"]]
    minutes = [p["t"] for p in totals]
    assert sorted(minutes) == [gap_start + timedelta(minutes=i) for i in range(180)]
    # And tokens add up to what was put, in the run results, the metrics and S3
    expected_input = sum(1_000 + i for i in range(180)) + 500 * 180
    assert sum(r["estimate"]["total"]["input_tokens"] for r in results[:3]) == expected_input
    expected_cost = sum(
        cost_usd(1_000 + i, NOVA_IN)
        + cost_usd(100, NOVA_OUT)
        + cost_usd(500, SONNET_REGIONAL_IN)
        + cost_usd(50, Decimal("0.33"))
        for i in range(180)
    )
    assert sum(p["values"]["EstimatedCostUSD"] for p in totals) == expected_cost
    in_s3 = sum(r["tokens"] for records in world.objects().values() for r in records if r["usage_kind"] == "input")
    # S3 hours are whole from the start of the hour: the :57 watermark's hour starts 57 min earlier
    assert in_s3 == expected_input + sum(1_000 + i for i in range(-20, 0)) + 500 * 20


def test_rerunning_a_window_does_not_double_anything(world: World) -> None:
    # Given a processed window
    start = world.window_end - timedelta(minutes=30)
    world.set_watermark(start, {NOVA})
    world.put_many([(NOVA, start + timedelta(minutes=i), Counts(input=1_000)) for i in range(30)])
    invoke()
    first = world.objects()
    # When the same window is processed again (as after a crash before the watermark write)
    world.set_watermark(start, {NOVA})
    second_result = invoke()
    second = world.objects()
    # Then the same objects hold the same tokens: overwritten, not added to
    assert list(first) == list(second)

    def tokens(objects: dict[str, list[dict[str, Any]]]) -> int:
        return sum(r["tokens"] for records in objects.values() for r in records)

    assert tokens(first) == tokens(second) == 30_000
    assert second_result["regions"][0]["estimate"]["total"]["input_tokens"] == 30_000


def test_an_unknown_model_is_reported_unpriced_and_never_costed(
    world: World, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # Given traffic on a model the catalog does not know
    start = world.window_end - timedelta(minutes=5)
    world.set_watermark(start, {MYSTERY, NOVA})
    world.put(MYSTERY, start, Counts(input=7_000, output=3_000, invocations=1))
    world.put(NOVA, start, Counts(input=1_000_000))
    capsys.readouterr()
    # When the run prices it
    result = invoke()["regions"][0]
    # Then its tokens are unpriced: no cost, a metric by model, a warning, a null-cost record
    by_model = {row["model"]: row for row in result["estimate"]["by_model"]}
    assert by_model[MYSTERY]["cost_usd"] is None
    assert by_model[MYSTERY]["priced"] is False
    assert result["estimate"]["unpriced_tokens_by_model"] == {MYSTERY: 10_000}
    assert result["estimate"]["total"]["cost_usd"] == "0.8"
    points = emf(capsys.readouterr().out)
    mystery = [p for p in points if p["dims"] == {"Model": MYSTERY}]
    assert mystery == [{"t": start, "dims": {"Model": MYSTERY}, "values": {"UnpricedTokens": 10_000}}]
    assert any(r.levelname == "WARNING" and "unpriced" in r.getMessage() for r in caplog.records)
    records = [r for rs in world.objects().values() for r in rs if r["model_id"] == MYSTERY]
    assert {(r["priced"], r["cost_usd"]) for r in records} == {(False, None)}


def test_cur_calibrated_prices_take_precedence_and_are_labelled(world: World) -> None:
    # Given the CUR reporter published an effective Nova Pro input price below list
    world.s3.put_object(
        Bucket=CAL_BUCKET,
        Key=CALIBRATION_KEY,
        Body=json.dumps(
            {
                "period": "2026-11",
                "rows": [
                    {
                        "billing_period": "2026-11",
                        "provider": "Amazon",
                        "model": "Nova Pro",
                        "usage_kind": "input",
                        "scope": "regional",
                        "tier": "on-demand",
                        "tokens": "50000000",
                        "cost_usd": "35",
                        "usd_per_million": "0.700000",
                    }
                ],
            }
        ),
    )
    wire(world)  # a fresh container reads the calibration
    start = world.window_end - timedelta(minutes=5)
    world.set_watermark(start, {NOVA})
    world.put(NOVA, start, Counts(input=1_000_000, output=1_000_000))
    # When priced
    result = invoke()["regions"][0]
    # Then input uses the CUR price, output the bundled one, and records say which
    assert Decimal(result["estimate"]["total"]["cost_usd"]) == Decimal("0.70") + Decimal("3.20")
    assert result["estimate"]["calibrated"] is True
    assert result["estimate"]["by_model"][0]["price_sources"] == ["bundled", "cur"]
    records = {r["usage_kind"]: r for rs in world.objects().values() for r in rs}
    assert (records["input"]["price_source"], records["input"]["calibrated"]) == ("cur", True)
    assert (records["output"]["price_source"], records["output"]["calibrated"]) == ("bundled", False)


def test_a_broken_calibration_file_falls_back_to_list_prices(world: World, caplog: pytest.LogCaptureFixture) -> None:
    world.s3.put_object(Bucket=CAL_BUCKET, Key=CALIBRATION_KEY, Body=b"not json")
    wire(world)
    start = world.window_end - timedelta(minutes=5)
    world.set_watermark(start, {NOVA})
    world.put(NOVA, start, Counts(input=1_000_000))
    result = invoke()["regions"][0]
    assert result["estimate"]["total"]["cost_usd"] == "0.8"
    assert any("falling back" in r.getMessage() for r in caplog.records)


def test_throttling_past_the_deadline_fails_the_run_and_keeps_the_watermark(world: World) -> None:
    # Given CloudWatch answers every GetMetricData with Throttling
    start = world.window_end - timedelta(minutes=5)
    world.set_watermark(start, {NOVA})
    world.put(NOVA, start, Counts(input=1_000))
    deps = estimator.current_dependencies()
    client = deps.ports[REGION].source._client  # type: ignore[attr-defined]
    calls: list[str] = []

    def throttle(**kwargs: Any) -> Any:
        calls.append("GetMetricData")
        return AWSResponse("", 400, {}, None), {
            "Error": {"Code": "Throttling", "Message": "Rate exceeded"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }

    client.meta.events.register("before-call.cloudwatch.GetMetricData", throttle)
    # When the run has 2 s of retry budget
    with pytest.raises(BedrockCostError, match="Throttling"):
        invoke(remaining_ms=22_000)
    # Then it retried with backoff, gave up, and left the watermark where it was
    assert len(calls) >= 3
    assert world.watermark() == WatermarkState(minute=start, model_ids=frozenset({NOVA}))
    assert world.objects() == {}
    # And once CloudWatch recovers, the next run processes the same window
    client.meta.events.unregister("before-call.cloudwatch.GetMetricData", throttle)
    assert invoke()["regions"][0]["estimate"]["total"]["input_tokens"] == 1_000


def test_watermark_writes_are_conditional_on_the_previous_minute(world: World) -> None:
    # Given no watermark yet, then one written by a first run
    store = DynamoWatermarkStore(world.dynamodb, TABLE)
    first = WatermarkState(minute=world.window_end - timedelta(minutes=10), model_ids=frozenset())
    store.advance(REGION, None, first)
    # When a second writer still believes there is no watermark, or holds a stale one
    # Then both are refused; the holder of the current one may advance
    with pytest.raises(WatermarkConflictError):
        store.advance(REGION, None, WatermarkState(minute=world.window_end))
    with pytest.raises(WatermarkConflictError):
        store.advance(
            REGION,
            WatermarkState(minute=world.window_end - timedelta(minutes=20)),
            WatermarkState(minute=world.window_end),
        )
    store.advance(REGION, first, WatermarkState(minute=world.window_end, model_ids=frozenset({NOVA})))
    assert store.load(REGION) == WatermarkState(minute=world.window_end, model_ids=frozenset({NOVA}))
    # And a missing table is an error that names the region, not a silent "no watermark"
    with pytest.raises(BedrockCostError, match="watermark of us-east-1"):
        DynamoWatermarkStore(world.dynamodb, "no-such-table").load(REGION)
