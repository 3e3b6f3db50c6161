"""``bedrock-cost budget unblock`` and the period-reset sweep, for real against moto.

A user past an enforced daily budget is denied by the ingest Lambda; the CLI lifts the deny
(policy removed, alert sent, hand-lift remembered so the next batch does not re-block); the
daily close lifts a block whose day has ended. Every block and unblock is alerted once.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bedrock_cost.cli.main import main
from bedrock_cost.domain.identity import identify
from bedrock_cost.domain.request_budgets import deny_policy_name
from bedrock_cost.handlers import request_ingest
from tests.integration.test_request_ingest import DEV, alerts, aws, invoke, record  # noqa: F401 (fixture)

pytestmark = pytest.mark.integration
POLICY = deny_policy_name(identify(DEV).user)


def _role_policies(aws) -> list[str]:  # noqa: F811
    return aws["iam"].list_role_policies(RoleName="ClaudeCodeDevelopers")["PolicyNames"]


def _block_ana(aws) -> None:  # noqa: F811
    for i in range(4):  # $0.33 each against a $1 daily budget with enforce
        invoke([record(f"b{i}")])
    assert _role_policies(aws) == [POLICY]


def _actions(aws) -> list[str]:  # noqa: F811
    return [a["subject"]["action"] for a in alerts(aws) if "action" in a.get("subject", {})]


def test_unblock_lifts_the_deny_alerts_once_and_is_not_undone_by_the_next_batch(aws, capsys, monkeypatch):  # noqa: F811
    # Given ana is blocked
    _block_ana(aws)
    topic = request_ingest.load_environment().alert_topic_arn
    # When an operator unblocks her
    code = main(["budget", "unblock", "--user", "ana@example.com", "--table", "ledger", "--topic-arn", topic])
    # Then the policy is gone, one block and one unblock alert were sent
    assert code == 0
    assert "unblocked ana@example.com" in capsys.readouterr().out
    assert _role_policies(aws) == []
    # And a further over-budget batch the same day does not re-block her
    invoke([record("b9")])
    assert _role_policies(aws) == []
    assert _actions(aws) == ["blocked", "unblocked"]


def test_unblocking_a_user_who_is_not_blocked_is_bad_input(aws, capsys):  # noqa: F811
    topic = request_ingest.load_environment().alert_topic_arn
    code = main(["budget", "unblock", "--user", "nobody", "--table", "ledger", "--topic-arn", topic])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1
    assert "'nobody' is not blocked" in err[0]


def test_the_daily_close_lifts_blocks_whose_period_ended(aws):  # noqa: F811
    # Given ana was blocked on 2026-10-15 (the records' day)
    _block_ana(aws)
    deps = request_ingest.wiring.get()
    settings = request_ingest.load_environment()
    # When the daily close runs the same day, nothing is lifted
    assert request_ingest.run_daily_close(deps, settings, datetime(2026, 10, 15, 23, 0, tzinfo=UTC)).lifted == []
    assert _role_policies(aws) == [POLICY]
    # When it runs after midnight, the deny is lifted and the block forgotten
    closed = request_ingest.run_daily_close(deps, settings, datetime(2026, 10, 16, 0, 5, tzinfo=UTC))
    assert closed.lifted == ["ana@example.com"]
    assert _role_policies(aws) == []
    assert deps.store.blocks() == []
    # And a retried close sends nothing twice
    assert request_ingest.run_daily_close(deps, settings, datetime(2026, 10, 16, 0, 6, tzinfo=UTC)).lifted == []
    assert _actions(aws) == ["blocked", "unblocked"]
