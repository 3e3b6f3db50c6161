"""Slow burn from the ledger's day counters, judged by the daily close, against moto.

Fourteen days of steady spend per user and customer go through the ingest handler as real
subscription payloads; the fifteenth day costs three times as much. The daily close
(00:05 UTC the day after) must send exactly one ``slow_burn`` alert per burning subject,
and a redelivered schedule event must send none."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bedrock_cost.domain.alerts import Alert
from bedrock_cost.domain.log_subscription import encode
from bedrock_cost.handlers import request_ingest
from tests.integration.test_request_ingest import ACCT, GROUP, alerts, aws, record  # noqa: F401 - fixture
from tests.support.lambda_context import FakeLambdaContext

pytestmark = pytest.mark.integration
LAST = date(2026, 10, 15)
STEADY = f"arn:aws:sts::{ACCT}:assumed-role/rag-worker/i-0abc123def4567890"


def _day(day: date, requests: int, principal: str, customer: str, prefix: str) -> list[str]:
    when = f"{day.isoformat()}T10:00:00Z"
    return [
        record(f"{prefix}-{day}-{n}", principal, tokens=10_000, timestamp=when, requestMetadata={"customer": customer})
        for n in range(requests)
    ]


def _ingest(messages: list[str]) -> None:
    request_ingest.handler(encode(GROUP, messages), FakeLambdaContext())


def _close() -> dict[str, Any]:
    return request_ingest.handler({"ledger": "daily-close"}, FakeLambdaContext())


@pytest.fixture
def ledger(aws, monkeypatch):  # noqa: F811 - the ingest spec's moto fixture
    monkeypatch.setenv("REQUEST_BUDGETS", "[]")
    monkeypatch.setenv("SLOW_BURN_SIGMA", "3")
    request_ingest.load_environment.cache_clear()
    for back in range(14, 0, -1):  # 14 days: rag-worker for acme 10 requests a day, ana for globex 10
        day = LAST - timedelta(days=back)
        _ingest(_day(day, 10, STEADY, "acme", "w") + _day(day, 10, record_principal(), "globex", "a"))
    # The last day: rag-worker (and so acme) at 3x; ana steady
    _ingest(_day(LAST, 30, STEADY, "acme", "w") + _day(LAST, 10, record_principal(), "globex", "a"))
    alerts(aws)  # nothing else is budgeted: drain the queue
    return aws


def record_principal() -> str:
    return json.loads(record("x"))["identity"]["arn"]


def _run_close(monkeypatch: pytest.MonkeyPatch, now: datetime) -> dict[str, Any]:
    class Clock(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Clock:  # type: ignore[override]
            return now  # type: ignore[return-value]

    monkeypatch.setattr(request_ingest, "datetime", Clock)
    return _close()


def test_a_day_at_three_times_the_baseline_alerts_once_per_subject(ledger, monkeypatch):
    # When the daily close runs at 00:05 UTC the day after
    closed = _run_close(monkeypatch, datetime(2026, 10, 16, 0, 5, tzinfo=UTC))
    # Then exactly the burning user and its customer are alerted, once each
    assert sorted(closed["slow_burn_alerts"]) == [
        "slow_burn#meta:customer=acme#2026-10-15",
        "slow_burn#user=rag-worker#2026-10-15",
    ]
    sent = [Alert.from_json(json.dumps(m)) for m in alerts(ledger)]
    assert sorted(a.dedupe_key for a in sent) == sorted(closed["slow_burn_alerts"])
    worker = next(a for a in sent if a.subject["value"] == "rag-worker")
    # 30 x 10K tokens x $3.30/M = $0.99 against $0.33 a day
    assert (worker.kind, worker.figures["spent_usd"], worker.figures["baseline_usd"]) == ("slow_burn", "0.99", "0.33")
    assert "3.0x its baseline" in worker.title


def test_a_redelivered_close_event_sends_nothing_more(ledger, monkeypatch):
    now = datetime(2026, 10, 16, 0, 5, tzinfo=UTC)
    first = _run_close(monkeypatch, now)
    again = _run_close(monkeypatch, now)
    assert len(first["slow_burn_alerts"]) == 2
    assert again["slow_burn_alerts"] == []
    assert len(alerts(ledger)) == 2


def test_a_redelivered_ingest_batch_keeps_the_subject_index_and_the_counts(ledger, monkeypatch):
    # Given the last day's batch delivered again (its markers exist: nothing counted twice)
    _ingest(_day(LAST, 30, STEADY, "acme", "w"))
    closed = _run_close(monkeypatch, datetime(2026, 10, 16, 0, 5, tzinfo=UTC))
    worker = next(m for m in alerts(ledger) if m["subject"]["value"] == "rag-worker")
    assert len(closed["slow_burn_alerts"]) == 2
    assert worker["figures"]["spent_usd"] == "0.99"
