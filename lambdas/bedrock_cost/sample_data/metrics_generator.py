"""Synthetic CloudWatch ``AWS/Bedrock`` traffic: per-minute metrics for a realistic day.

What it produces, deterministically from a seed:

* diurnal traffic (quiet at night, a working-day hump) for several ``ModelId`` shapes:
  a model id, a US geo profile, a ``global.`` profile, a Nova model with prompt caching;
* two application inference profiles, one tagged ``team=ml-platform`` (with the other report
  tags) and one untagged;
* one model the price catalog does not know (its tokens must come out unpriced);
* a token spike: more than 100,000 input tokens within 5 minutes on the ``team=ml``
  profile;
* occasional throttles and client errors.

The ground truth (``GeneratedMetrics.usage``) is kept, so a test can compare the
estimator's output with tokens × price exactly. Only minutes with traffic produce data
points, as CloudWatch does.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bedrock_cost.domain.estimate import METRIC_FIELDS, Counts
from bedrock_cost.domain.model_resolution import ProfileInfo

DEFAULT_ACCOUNT = "123456789012"
UNKNOWN_MODEL_ID = "acme.mystery-model-v1"
SPIKE_INPUT_TOKENS_PER_MINUTE = 40_000
SPIKE_MINUTES = 5


@dataclass(frozen=True)
class Stream:
    """One ``ModelId``'s traffic shape."""

    model_id: str
    calls_per_minute: float
    """Peak-hour mean invocations per minute."""
    input_per_call: int
    output_per_call: int
    cache_read_per_call: int = 0
    cache_write_per_call: int = 0
    always_on: bool = False
    """Batch-like background traffic that does not follow office hours."""


@dataclass
class GeneratedMetrics:
    start: datetime
    end: datetime
    region: str
    usage: dict[str, dict[datetime, Counts]] = field(default_factory=dict)
    profiles: list[ProfileInfo] = field(default_factory=list)
    spike_model_id: str = ""
    spike_start: datetime | None = None

    @property
    def model_ids(self) -> list[str]:
        return sorted(self.usage)

    def total(self, model_id: str | None = None) -> Counts:
        ids = [model_id] if model_id else self.model_ids
        total = Counts()
        for mid in ids:
            for counts in self.usage.get(mid, {}).values():
                total = total + counts
        return total

    def datums(self) -> Iterator[dict[str, Any]]:
        """``put_metric_data`` items (namespace ``AWS/Bedrock``), one per non-zero metric-minute."""
        for model_id in self.model_ids:
            for minute, counts in sorted(self.usage[model_id].items()):
                for metric_name, field_name in METRIC_FIELDS.items():
                    value = getattr(counts, field_name)
                    if value:
                        yield {
                            "MetricName": metric_name,
                            "Dimensions": [{"Name": "ModelId", "Value": model_id}],
                            "Timestamp": minute + timedelta(seconds=30),
                            "Value": float(value),
                            "Unit": "Count",
                        }


def _profile(
    region: str, account: str, *, profile_id: str, name: str, model: str, regions: tuple[str, ...], tags: dict[str, str]
) -> ProfileInfo:
    return ProfileInfo(
        arn=f"arn:aws:bedrock:{region}:{account}:application-inference-profile/{profile_id}",
        profile_id=profile_id,
        name=name,
        model_arns=tuple(f"arn:aws:bedrock:{r}::foundation-model/{model}" for r in regions),
        tags=tags,
    )


def demo_profiles(
    region: str, account: str, tag_keys: tuple[str, ...] = ("team", "project", "environment")
) -> list[ProfileInfo]:
    """The two application inference profiles of the demo: tagged ``team=ml-platform``, and untagged."""
    # The bill's tag values (sample_data._cur_tags), so estimate and CUR group alike.
    values = {"team": "ml-platform", "project": "chat-assistant", "environment": "prod"}
    tagged = {key: values.get(key, "demo") for key in tag_keys} | {"team": "ml-platform"}
    return [
        _profile(
            region,
            account,
            profile_id="mlassistant01",
            name="ml-assistant",
            model="anthropic.claude-sonnet-4-6",
            regions=("us-east-1", "us-east-2", "us-west-2"),
            tags=tagged,
        ),
        _profile(
            region,
            account,
            profile_id="scratchpad001",
            name="scratch",
            model="amazon.nova-lite-v1:0",
            regions=(region,),
            tags={},
        ),
    ]


def _office_hours(minute: datetime) -> float:
    """0.15 at night rising to 1.0 mid-afternoon UTC."""
    hour = minute.hour + minute.minute / 60
    return 0.15 + 0.85 * max(0.0, math.sin(math.pi * (hour - 6) / 14)) if 6 <= hour <= 20 else 0.15


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    # Knuth's method: fine for the small means of quiet minutes.
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _jitter(rng: random.Random, value: int, calls: int) -> int:
    if value == 0 or calls == 0:
        return 0
    return max(calls, round(value * calls * rng.uniform(0.7, 1.3)))


def generate_metrics(
    start: datetime,
    hours: int = 24,
    *,
    region: str = "us-east-1",
    account: str = DEFAULT_ACCOUNT,
    seed: int = 7,
    tag_keys: tuple[str, ...] = ("team", "project", "environment"),
) -> GeneratedMetrics:
    """A day (or ``hours``) of per-minute traffic from ``start`` (floored to the minute)."""
    rng = random.Random(seed)  # noqa: S311 - synthetic traffic, not security
    start = start.astimezone(UTC).replace(second=0, microsecond=0)
    profiles = demo_profiles(region, account, tag_keys)
    tagged, untagged = profiles
    streams = [
        Stream("anthropic.claude-sonnet-4-6", 6.0, 1_800, 450, cache_read_per_call=6_000, cache_write_per_call=300),
        Stream(
            "us.anthropic.claude-haiku-4-5-20251001-v1:0",
            10.0,
            900,
            250,
            cache_read_per_call=2_000,
            cache_write_per_call=150,
        ),
        Stream("global.anthropic.claude-sonnet-4-5-20250929-v1:0", 1.5, 2_500, 600),
        Stream("amazon.nova-pro-v1:0", 4.0, 1_200, 300, cache_read_per_call=1_500, always_on=True),
        Stream(tagged.arn, 3.0, 2_200, 500, cache_read_per_call=3_000, cache_write_per_call=400),
        Stream(untagged.arn, 2.0, 700, 200),
        Stream(UNKNOWN_MODEL_ID, 0.4, 1_000, 200),
    ]
    generated = GeneratedMetrics(start=start, end=start + timedelta(hours=hours), region=region, profiles=profiles)
    minutes = hours * 60
    # The spike: mid-window, on the tagged profile, well above 100k input tokens in 5 minutes.
    spike_start = start + timedelta(minutes=(minutes * 2) // 3)
    generated.spike_model_id, generated.spike_start = tagged.arn, spike_start
    for stream in streams:
        series: dict[datetime, Counts] = {}
        for i in range(minutes):
            minute = start + timedelta(minutes=i)
            shape = 0.6 if stream.always_on else _office_hours(minute)
            calls = _poisson(rng, stream.calls_per_minute * shape)
            throttles = _poisson(rng, 0.02 * calls)
            client_errors = _poisson(rng, 0.01 * calls)
            counts = Counts(
                input=_jitter(rng, stream.input_per_call, calls),
                output=_jitter(rng, stream.output_per_call, calls),
                cache_read=_jitter(rng, stream.cache_read_per_call, calls),
                cache_write=_jitter(rng, stream.cache_write_per_call, calls),
                invocations=calls,
                throttles=throttles,
                client_errors=client_errors,
            )
            if stream.model_id == generated.spike_model_id and spike_start <= minute < spike_start + timedelta(
                minutes=SPIKE_MINUTES
            ):
                counts = counts + Counts(input=SPIKE_INPUT_TOKENS_PER_MINUTE, output=2_000, invocations=20)
            if counts != Counts():
                series[minute] = counts
        generated.usage[stream.model_id] = series
    return generated
