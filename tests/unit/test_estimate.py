"""Pricing usage, aggregating it, and the records and metric points it becomes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bedrock_cost.domain.estimate import OTHER, UNTAGGED, Counts, build_estimate, hour_records, price_counts
from bedrock_cost.domain.estimate_points import metric_points
from bedrock_cost.domain.estimator_run import EstimatorSettings, WatermarkState, plan_window
from bedrock_cost.domain.model_resolution import ResolvedModel
from bedrock_cost.domain.pricing import PriceCatalog, load_bundled_layer
from bedrock_cost.metric_names import (
    DIM_MODEL,
    DIM_TAG_KEY,
    DIM_TAG_VALUE,
    DIM_TOKEN_KIND,
    ESTIMATED_COST,
    TOKENS,
    UNPRICED_TOKENS,
)

pytestmark = pytest.mark.unit

D = Decimal
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SONNET = ResolvedModel(
    "anthropic.claude-sonnet-4-6", "Claude Sonnet 4.6", "Anthropic", known=True, scope="regional", id_kind="model"
)
NOVA_ML = ResolvedModel(
    "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/ml1",
    "Nova Pro",
    "Amazon",
    known=True,
    scope="regional",
    id_kind="application-profile-arn",
    tags={"team": "ml"},
)
MYSTERY = ResolvedModel(
    "acme.mystery-model-v1", "acme.mystery-model-v1", "acme", known=False, scope="regional", id_kind="model"
)
CATALOG = PriceCatalog(bundled=load_bundled_layer())
RESOLVED = {m.model_id: m for m in (SONNET, NOVA_ML, MYSTERY)}


def minute(i: int) -> datetime:
    return T0 + timedelta(minutes=i)


# --- pricing ----------------------------------------------------------------------------


def test_a_known_model_is_priced_per_kind_exactly() -> None:
    # Given a minute of Sonnet 4.6 traffic (regional: 3.30 in, 16.50 out, 0.33 read, 4.125 write)
    counts = Counts(input=1000, output=200, cache_read=5000, cache_write=400, invocations=3)
    # When priced
    priced = price_counts(counts, SONNET, CATALOG)
    # Then each kind is tokens x price / 1e6 and the total is their exact sum
    assert [(line.usage_kind, line.cost) for line in priced.lines] == [
        ("input", D("0.0033")),
        ("output", D("0.0033")),
        ("cache-read", D("0.00165")),
        ("cache-write", D("0.00165")),
    ]
    assert priced.cost == D("0.0099")
    assert priced.priced
    assert priced.unpriced_tokens == 0


def test_an_unknown_model_is_unpriced_never_zero() -> None:
    # Given tokens of a model the catalog does not know
    priced = price_counts(Counts(input=7000, output=3000), MYSTERY, CATALOG)
    # Then no line has a cost, all tokens are unpriced, and there is no cost to speak of
    assert all(line.cost is None and line.price is None for line in priced.lines)
    assert priced.unpriced_tokens == 10_000
    assert not priced.priced
    assert not priced.has_cost


def test_a_known_model_without_a_cache_price_leaves_only_that_kind_unpriced() -> None:
    llama = ResolvedModel(
        "meta.llama3-3-70b-instruct-v1:0", "Llama 3.3 70B", "Meta", known=True, scope="regional", id_kind="model"
    )
    priced = price_counts(Counts(input=1_000_000, cache_read=10), llama, CATALOG)
    assert priced.cost == D("0.72")
    assert priced.unpriced_tokens == 10
    assert not priced.priced
    assert priced.has_cost


# --- aggregation ------------------------------------------------------------------------


def usage() -> dict[str, dict[datetime, Counts]]:
    return {
        SONNET.model_id: {minute(0): Counts(input=1000, output=100, invocations=2), minute(1): Counts(input=500)},
        NOVA_ML.model_id: {minute(1): Counts(input=2_000_000, output=10, invocations=1, throttles=1)},
        MYSTERY.model_id: {minute(2): Counts(input=300)},
    }


def test_estimate_aggregates_by_model_and_tag_with_untagged_and_unpriced() -> None:
    # When three ModelIds are estimated over three minutes
    estimate = build_estimate(
        usage(), resolved=RESOLVED, catalog=CATALOG, start=minute(0), end=minute(3), tag_keys=("team", "project")
    )
    # Then per model: exact costs; the unknown model has no cost and its tokens are unpriced
    assert estimate.by_model["Claude Sonnet 4.6"].cost_usd == D("0.00495") + D("0.00165")
    assert estimate.by_model["Nova Pro"].cost_usd == D("1.6") + D("0.000032")
    assert estimate.by_model["acme.mystery-model-v1"].cost_or_none is None
    assert estimate.unpriced_by_model == {"acme.mystery-model-v1": 300}
    # And per tag: the profile's team, everything else (untagged); project untagged for all
    assert estimate.by_tag["team"]["ml"].cost_usd == D("1.600032")
    assert estimate.by_tag["team"][UNTAGGED].cost_usd == D("0.0066")
    assert set(estimate.by_tag["project"]) == {UNTAGGED}
    # And the total is the exact sum, with counters carried along
    assert estimate.total.cost_usd == D("1.606632")
    assert (estimate.total.counts.invocations, estimate.total.counts.throttles) == (3, 1)
    as_dict = estimate.to_dict()
    assert as_dict["total"]["cost_usd"] == "1.606632"
    assert as_dict["by_model"][0]["model"] == "Nova Pro"
    assert as_dict["by_model"][0]["price_sources"] == ["bundled"]


def test_estimate_window_bounds_are_half_open() -> None:
    estimate = build_estimate(usage(), resolved=RESOLVED, catalog=CATALOG, start=minute(1), end=minute(2), tag_keys=())
    assert estimate.total.counts.input == 2_000_500


def test_merging_estimates_of_consecutive_windows_equals_one_estimate() -> None:
    whole = build_estimate(
        usage(), resolved=RESOLVED, catalog=CATALOG, start=minute(0), end=minute(3), tag_keys=("team",)
    )
    first = build_estimate(
        usage(), resolved=RESOLVED, catalog=CATALOG, start=minute(0), end=minute(1), tag_keys=("team",)
    )
    rest = build_estimate(
        usage(), resolved=RESOLVED, catalog=CATALOG, start=minute(1), end=minute(3), tag_keys=("team",)
    )
    first.merge(rest)
    assert first.to_dict() == whole.to_dict()


# --- S3 records -------------------------------------------------------------------------


def test_hour_records_are_one_row_per_model_id_and_kind() -> None:
    # When the 10:00 hour is recorded up to 10:03
    records = hour_records(
        region="us-east-1",
        hour=T0,
        covered_until=minute(3),
        usage=usage(),
        resolved=RESOLVED,
        catalog=CATALOG,
        generated_at=minute(5),
    )
    by_key = {(r["model_id"], r["usage_kind"]): r for r in records}
    # Then every (ModelId, kind) with tokens has a row; costs are Decimals, sources named
    assert len(records) == 5
    sonnet_in = by_key[(SONNET.model_id, "input")]
    assert sonnet_in["tokens"] == 1500
    assert sonnet_in["cost_usd"] == D("0.00495")
    assert sonnet_in["usd_per_million"] == D("3.30")
    assert (sonnet_in["price_source"], sonnet_in["calibrated"], sonnet_in["priced"]) == ("bundled", False, True)
    assert (sonnet_in["window_start"], sonnet_in["window_end"]) == ("2026-11-23T10:00Z", "2026-11-23T10:03Z")
    assert sonnet_in["usage_date"] == "2026-11-23"
    assert by_key[(NOVA_ML.model_id, "input")]["tags"] == {"team": "ml"}
    mystery = by_key[(MYSTERY.model_id, "input")]
    assert (mystery["priced"], mystery["cost_usd"], mystery["usd_per_million"]) == (False, None, None)


# --- metric points ----------------------------------------------------------------------


def _points_at(points: list, when: datetime) -> dict[tuple, dict]:  # type: ignore[type-arg]
    return {p.dimensions: dict(p.values) for p in points if p.timestamp == when}


def _team_points_of_minutes_0_to_3(**options: Any) -> list:  # type: ignore[type-arg]
    """The points of the shared usage over minutes 0..3, tagged by team."""
    return metric_points(
        usage(),
        resolved=RESOLVED,
        catalog=CATALOG,
        minutes=[minute(i) for i in range(4)],
        tag_keys=("team",),
        **options,
    )


def test_full_detail_covers_total_model_and_tag_with_minute_timestamps() -> None:
    # When minutes 0..3 are turned into metric points with full detail (minute 3 has no traffic)
    points = _team_points_of_minutes_0_to_3(detail="full")
    m1 = _points_at(points, minute(1))
    # Then the total has no dimension and carries cost and unpriced tokens
    assert m1[()] == {ESTIMATED_COST: D("0.00165") + D("1.600032")}
    assert m1[((DIM_TOKEN_KIND, "input"),)] == {TOKENS: 2_000_500}
    # And each model and tag value has its own cost and tokens by kind
    assert m1[((DIM_MODEL, "Nova Pro"),)] == {ESTIMATED_COST: D("1.600032")}
    assert m1[((DIM_MODEL, "Nova Pro"), (DIM_TOKEN_KIND, "output"))] == {TOKENS: 10}
    assert m1[((DIM_TAG_KEY, "team"), (DIM_TAG_VALUE, "ml"))] == {ESTIMATED_COST: D("1.600032")}
    assert m1[((DIM_TAG_KEY, "team"), (DIM_TAG_VALUE, UNTAGGED))] == {ESTIMATED_COST: D("0.00165")}
    # And the unknown model publishes unpriced tokens and no cost at all
    m2 = _points_at(points, minute(2))
    assert m2[((DIM_MODEL, "acme.mystery-model-v1"),)] == {UNPRICED_TOKENS: 300}
    assert m2[()] == {ESTIMATED_COST: D(0), UNPRICED_TOKENS: 300}
    # And an idle minute still has zero totals (alarms see 0, not missing data), nothing else
    m3 = _points_at(points, minute(3))
    assert m3[()] == {ESTIMATED_COST: D(0)}
    assert set(m3) == {(), *(((DIM_TOKEN_KIND, k),) for k in ("input", "output", "cache-read", "cache-write"))}


def _five_team_values_capped_at_two(pinned: dict[str, frozenset[str]] | None = None) -> tuple[list, set[str]]:  # type: ignore[type-arg]
    """Points of one minute for tag values t0..t4 (t4 costliest) with a cap of 2; and the values kept."""
    resolved = {
        f"p{i}": ResolvedModel(
            f"p{i}", "Nova Pro", "Amazon", known=True, scope="regional", id_kind="model", tags={"team": f"t{i}"}
        )
        for i in range(5)
    }
    data = {f"p{i}": {minute(0): Counts(input=1000 * (i + 1))} for i in range(5)}
    points = metric_points(
        data,
        resolved=resolved,
        catalog=CATALOG,
        minutes=[minute(0)],
        tag_keys=("team",),
        tag_value_cap=2,
        pinned_tag_values=pinned,
        detail="full",
    )
    return points, {dict(p.dimensions)[DIM_TAG_VALUE] for p in points if DIM_TAG_VALUE in dict(p.dimensions)}


def test_dimension_values_beyond_the_cap_fold_into_other() -> None:
    # Given 5 tag values and a cap of 2, When points are built
    points, values = _five_team_values_capped_at_two()
    # Then the two costliest keep their names and the rest are summed under (other)
    assert values == {"t4", "t3", OTHER}
    other = _points_at(points, minute(0))[((DIM_TAG_KEY, "team"), (DIM_TAG_VALUE, OTHER))]
    assert other[ESTIMATED_COST] == D("6000") * D("0.80") / D(1_000_000)


def test_backfilled_minutes_only_carry_the_late_model_ids() -> None:
    points = metric_points(
        usage(),
        resolved=RESOLVED,
        catalog=CATALOG,
        minutes=[minute(0), minute(1)],
        tag_keys=(),
        only_model_ids={key: {NOVA_ML.model_id} for key in [minute(0), minute(1)]},
    )
    assert {p.dimensions for p in points if p.timestamp == minute(0)} == set()
    m1 = _points_at(points, minute(1))
    assert m1[()] == {ESTIMATED_COST: D("1.600032")}
    assert ((DIM_MODEL, "Claude Sonnet 4.6"),) not in m1


# --- windows ----------------------------------------------------------------------------

SETTINGS = EstimatorSettings(schedule_minutes=5, settle_minutes=3, max_catchup_minutes=60, tag_keys=())
NOW = datetime(2026, 11, 24, 12, 0, 30, tzinfo=UTC)


def test_first_run_covers_one_schedule_interval_before_the_settle_delay() -> None:
    plan = plan_window(None, NOW, SETTINGS)
    assert plan is not None
    assert (plan.start, plan.end) == (
        datetime(2026, 11, 24, 11, 52, tzinfo=UTC),
        datetime(2026, 11, 24, 11, 57, tzinfo=UTC),
    )


def test_catch_up_proceeds_in_bounded_chunks() -> None:
    # Given a watermark three hours behind
    state = WatermarkState(minute=datetime(2026, 11, 24, 8, 57, tzinfo=UTC))
    plan = plan_window(state, NOW, SETTINGS)
    # Then one chunk of max_catchup minutes is planned and the rest is reported as backlog
    assert plan is not None
    assert plan.end - plan.start == timedelta(minutes=60)
    assert plan.backlog_minutes == 120


def test_nothing_older_than_cloudwatch_retention_is_planned() -> None:
    state = WatermarkState(minute=NOW - timedelta(days=20))
    plan = plan_window(state, NOW, SETTINGS)
    assert plan is not None
    assert plan.skipped_minutes > 5 * 24 * 60
    assert NOW - plan.start < timedelta(days=15)


def test_an_up_to_date_watermark_plans_nothing() -> None:
    assert plan_window(WatermarkState(minute=datetime(2026, 11, 24, 11, 57, tzinfo=UTC)), NOW, SETTINGS) is None


def test_budgeted_tag_values_keep_their_own_metric_beyond_the_cap() -> None:
    # Given 5 tag values, a cap of 2, and a budget on the cheapest one
    # When points are built with that value pinned
    _, values = _five_team_values_capped_at_two({"team": frozenset({"t0"})})
    # Then its alarm still has data: it is kept, and the cap applies to the others
    assert values == {"t0", "t4", "t3", OTHER}


def test_alarm_detail_emits_only_what_alarms_watch() -> None:
    # Given traffic of a team=ml profile, an untagged model and an unknown model, and a budget on team=ml
    # When minutes 0..3 become points with the default detail
    points = _team_points_of_minutes_0_to_3(pinned_tag_values={"team": frozenset({"ml"})})
    series = {p.dimensions for p in points}
    # Then the series are the total, the budgeted tag value and the unpriced model: no tokens, no per-model cost
    assert series == {
        (),
        ((DIM_TAG_KEY, "team"), (DIM_TAG_VALUE, "ml")),
        ((DIM_MODEL, "acme.mystery-model-v1"),),
    }
    m1 = _points_at(points, minute(1))
    assert m1[()] == {ESTIMATED_COST: D("0.00165") + D("1.600032")}
    assert m1[((DIM_TAG_KEY, "team"), (DIM_TAG_VALUE, "ml"))] == {ESTIMATED_COST: D("1.600032")}
    assert _points_at(points, minute(2))[((DIM_MODEL, "acme.mystery-model-v1"),)] == {UNPRICED_TOKENS: 300}
    # And an idle minute still carries the zero total (the anomaly band and pace alarms see 0)
    assert _points_at(points, minute(3)) == {(): {ESTIMATED_COST: D(0)}}
