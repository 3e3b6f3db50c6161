"""The ledger keeps one counter per subject value and day; a month is the sum of its days."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bedrock_cost.adapters.request_ledger_store import Increment, LedgerStore, counter_key
from bedrock_cost.demo.state_table import create_state_table

pytestmark = pytest.mark.integration


@pytest.fixture
def store() -> Iterator[tuple[LedgerStore, Any]]:
    with mock_aws():
        db = boto3.client("dynamodb", region_name="us-east-1")
        yield LedgerStore(db, create_state_table(db, "ledger")), db


def _inc(request_id: str, day: str, micro: int, user: str = "ana") -> Increment:
    return Increment(request_id, (counter_key("user", user, day),), micro, 0)


def test_a_month_total_sums_its_day_counters_and_nothing_else(store):
    ledger, db = store
    # Given requests on two days of October, one on the last day of September and one of another user
    ledger.apply(
        [
            _inc("r1", "2026-10-01", 100),
            _inc("r2", "2026-10-31", 250),
            _inc("r3", "2026-09-30", 7_000),
            _inc("r4", "2026-10-02", 9_000, user="bob"),
        ]
    )
    # When the month and a day are read
    month, day = counter_key("user", "ana", "2026-10"), counter_key("user", "ana", "2026-10-31")
    absent = counter_key("user", "ana", "2026-11")
    totals = ledger.totals([month, day, absent])
    # Then October is the sum of its two days, the day is its own, an empty month is absent
    assert totals == {month: 350, day: 250}
    # And no month counter was ever written (one item per user and day)
    items = db.scan(TableName="ledger")["Items"]
    counters = sorted(i["sk"]["S"] for i in items if i["pk"]["S"].startswith("ledger#"))
    assert counters == ["total#2026-09-30", "total#2026-10-01", "total#2026-10-02", "total#2026-10-31"]


def test_requests_are_grouped_by_counter_so_a_chunk_shares_its_counter_items(store):
    ledger, db = store
    calls: list[int] = []
    db.meta.events.register(
        "provide-client-params.dynamodb.TransactWriteItems",
        lambda params, **_: calls.append(len(params["TransactItems"])),
    )
    # Given 150 requests of 60 users, interleaved (user i % 60), on one day
    incs = [_inc(f"r{i:03d}", "2026-10-01", 1, user=f"u{i % 60:02d}") for i in range(150)]
    # When they are applied
    counted, duplicates = ledger.apply(incs)
    # Then every request counts once, and the chunks hold each user's requests together:
    # 150 markers + 60 counters (+1 for a user cut between two chunks), not ~50 counters a chunk
    assert (counted, duplicates) == (150, 0)
    assert sum(calls) <= 150 + 60 + len(calls) - 1
    assert all(n <= 100 for n in calls)
    totals = ledger.totals([counter_key("user", f"u{u:02d}", "2026-10") for u in range(60)])
    assert sum(totals.values()) == 150
