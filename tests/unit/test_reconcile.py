"""Like-for-like reconciliation on fixtures whose answers are worked out by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bedrock_cost.domain.pricing import PriceCatalog, load_bundled_layer
from bedrock_cost.domain.reconcile import (
    BilledLine,
    EstimatedSpend,
    EstimateLine,
    classify_drift,
    drift,
    drift_alert,
    estimate_lines,
    reconcile,
)

pytestmark = pytest.mark.unit

ACCOUNT, OTHER_ACCOUNT, REGION = "111111111111", "222222222222", "us-east-1"
SONNET = "Claude Sonnet 4.6"  # list: input 3.00 global / 3.30 regional, output 15.00 / 16.50
CATALOG = PriceCatalog(bundled=load_bundled_layer())
D1, D2, D3 = date(2026, 10, 16), date(2026, 10, 17), date(2026, 10, 18)


def est(day: date, kind: str, tokens: int, model: str = SONNET, scope: str = "global") -> EstimateLine:
    return EstimateLine(day, model, ACCOUNT, REGION, kind, scope, tokens, None)  # type: ignore[arg-type]


def bill(
    day: date,
    kind: str,
    tokens: int,
    usd: str,
    *,
    model: str = SONNET,
    account: str = ACCOUNT,
    tier: str = "on-demand",
    scope: str = "global",
    line_class: str = "token",
) -> BilledLine:
    return BilledLine(day, model, account, REGION, kind, tier, scope, line_class, tokens, Decimal(usd))


def discounted_days() -> list[BilledLine]:
    # 1M input + 100k output a day, 12 % below list: 0.88 x (3.00 + 1.50) = 3.96 a day
    return [
        line for d in (D1, D2, D3) for line in (bill(d, "input", 1_000_000, "2.64"), bill(d, "output", 100_000, "1.32"))
    ]


def test_uncalibrated_shows_the_discount_and_calibrated_removes_it_out_of_sample():
    # Given three days estimated at list price and billed 12 % below list
    estimates = [e for d in (D1, D2, D3) for e in (est(d, "input", 1_000_000), est(d, "output", 100_000))]
    # When reconciled
    result = reconcile(estimates, discounted_days(), list_prices=CATALOG)
    # Then every uncalibrated model-day is 4.50 against 3.96: +13.64 %
    plain = [r for r in result.rows if not r.calibrated]
    assert [(r.day, r.estimated_usd, r.billed_usd, r.drift_pct) for r in plain] == [
        (d, Decimal("4.5"), Decimal("3.96"), Decimal("13.64")) for d in (D1, D2, D3)
    ]
    # And calibrated days with a prior day of history match exactly; the first day has none
    tuned = {r.day: r.drift_pct for r in result.rows if r.calibrated}
    assert tuned[D2] == tuned[D3] == Decimal("0.00")
    assert tuned[D1] == Decimal("13.64")  # no history before it: list price fallback
    # And the model's cause is named
    (model,) = result.models
    assert model.cause == "negotiated discount"
    assert "12.0 % below list" in model.explanation


def test_what_the_estimate_cannot_see_is_reported_apart_in_dollars():
    estimates = [est(D1, "input", 1_000_000)]
    billed = [
        bill(D1, "input", 1_000_000, "3.00"),
        bill(D1, "other", 0, "40", model="Nova Pro", tier="provisioned", line_class="provisioned"),
        bill(D1, "other", 0, "5", model="AgentCore (no model)", line_class="agentcore"),
        bill(D1, "input", 2_000_000, "6.00", account=OTHER_ACCOUNT),
        bill(D1, "input", 1_000_000, "1.50", tier="batch"),
    ]
    result = reconcile(estimates, billed, list_prices=CATALOG)
    assert result.not_estimated_usd == {
        "provisioned": Decimal(40),
        "no collector": Decimal(6),
        "agentcore": Decimal(5),
        "batch tier": Decimal("1.5"),
    }
    # And the like-for-like row compares only the on-demand tokens of the collector's account
    (row,) = [r for r in result.rows if not r.calibrated]
    assert (row.estimated_usd, row.billed_usd, row.drift_pct) == (Decimal(3), Decimal(3), Decimal("0.00"))


def test_only_days_both_clocks_cover_are_compared():
    estimates = [est(D1, "input", 1_000_000), est(D3, "input", 1_000_000)]  # D3 not billed yet
    billed = [bill(D1, "input", 1_000_000, "3"), bill(D2, "input", 1_000_000, "3")]
    result = reconcile(estimates, billed, list_prices=CATALOG)
    assert result.days == [D1]
    assert {r.day for r in result.rows} == {D1}


def test_a_billed_model_the_estimate_missed_shows_as_an_estimate_of_zero():
    result = reconcile(
        [est(D1, "input", 1_000_000)],
        [bill(D1, "input", 1_000_000, "3"), bill(D1, "input", 1_000_000, "0.8", model="Nova Pro")],
        list_prices=CATALOG,
    )
    nova = next(r for r in result.rows if r.model == "Nova Pro" and not r.calibrated)
    assert (nova.estimated_usd, nova.drift_pct) == (Decimal(0), Decimal("-100.00"))


def test_an_unpriced_model_is_unpriced_not_zero():
    result = reconcile(
        [est(D1, "input", 1_000, model="acme.mystery")],
        [bill(D1, "input", 1_000, "1", model="acme.mystery")],
        list_prices=CATALOG,
    )
    row = next(r for r in result.rows if not r.calibrated)
    assert row.estimated_usd is None
    assert row.drift_pct is None
    assert result.models[0].cause == "unpriced model"


def test_request_log_clock_is_compared_as_given():
    spend = EstimatedSpend(D1, SONNET, ACCOUNT, REGION, Decimal("3.30"), calibrated=False)
    result = reconcile(
        [est(D1, "input", 1_000_000)], [bill(D1, "input", 1_000_000, "3")], list_prices=CATALOG, other_estimates=[spend]
    )
    row = next(r for r in result.rows if r.clock == "request-logs")
    assert row.drift_pct == Decimal("10.00")


def test_causes_tier_and_regional_premium_and_price_change_and_none():
    long_context = [bill(D1, "input", 1_000_000, "3"), bill(D1, "input", 200_000, "1.2", tier="long-context")]
    assert classify_drift(SONNET, long_context, CATALOG)[0] == "tier"
    # Nova Pro lists the same price in both scopes: a dearer regional bill is a regional premium
    nova = [bill(D1, "input", 1_000_000, "0.88", model="Nova Pro", scope="regional")]
    assert classify_drift("Nova Pro", nova, CATALOG)[0] == "regional premium"
    assert classify_drift(SONNET, [bill(D1, "input", 1_000_000, "3.6")], CATALOG)[0] == "price change"
    assert classify_drift(SONNET, [bill(D1, "input", 1_000_000, "3")], CATALOG)[0] == "none"


def test_estimate_lines_from_hour_records_sum_per_day_and_kind():
    # Two hour records of the same day, model and kind
    hour = {
        "usage_date": "2026-10-16",
        "model": SONNET,
        "region": REGION,
        "usage_kind": "input",
        "scope": "global",
        "tier": "on-demand",
        "priced": True,
        "model_known": True,
    }
    records = [
        {**hour, "tokens": 10, "cost_usd": Decimal("0.00003")},
        {**hour, "tokens": 5, "cost_usd": Decimal("0.000015")},
    ]
    (line,) = estimate_lines(records, ACCOUNT)
    assert (line.tokens, line.cost_usd, line.account_id) == (15, Decimal("0.000045"), ACCOUNT)
    with pytest.raises(ValueError, match="usage_kind"):
        estimate_lines([{**records[0], "usage_kind": "images"}], ACCOUNT)


def test_drift_alert_names_the_drifting_models_and_their_cause():
    estimates = [e for d in (D1, D2) for e in (est(d, "input", 1_000_000), est(d, "output", 100_000))]
    result = reconcile(estimates, discounted_days(), list_prices=CATALOG)
    estimated, billed = result.total(calibrated=False)
    assert estimated is not None
    alert = drift_alert(drift(D2, estimated, billed, result.models), Decimal(10))
    assert alert is not None
    assert alert.figures["drifting_models"] == SONNET
    assert "negotiated discount" in alert.details[0]
    assert drift_alert(drift(D2, billed, billed, result.models), Decimal(10)) is None
