"""Budgets on the per-request ledger: thresholds, and the deny policy through a real IAM linter."""

from __future__ import annotations

import json
import warnings
from decimal import Decimal

import pytest

from bedrock_cost.domain.identity import identify
from bedrock_cost.domain.request_budgets import Budget, crossed, deny_policy, evaluate

pytestmark = pytest.mark.unit

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from parliament import analyze_policy_string

PRINCIPALS = [
    "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Dev_ab12/ana@example.com",
    "arn:aws:iam::111122223333:user/BedrockAPIKey-7xq2",
    "arn:aws:sts::111122223333:assumed-role/support-bot/botocore-session-1",
]


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_deny_policy_passes_the_iam_linter(principal):
    # Given the deny for one principal, When parliament audits it, Then it finds nothing
    findings = analyze_policy_string(json.dumps(deny_policy(identify(principal)))).findings
    assert [f.issue for f in findings] == []


def test_the_linter_would_catch_a_non_existent_action():
    # Guard: the linter really checks actions (bedrock:Converse* is not an IAM action)
    bad = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "bedrock:Converse*", "Resource": "*"}]}
    assert "UNKNOWN_ACTION" in [f.issue for f in analyze_policy_string(json.dumps(bad)).findings]


def test_session_deny_targets_the_session_not_the_role():
    statement = deny_policy(identify(PRINCIPALS[0]))["Statement"][0]
    assert statement["Condition"] == {"StringLike": {"aws:userid": "*:ana@example.com"}}
    api_key = deny_policy(identify(PRINCIPALS[1]))["Statement"][0]
    assert api_key["Condition"] == {"StringEquals": {"aws:PrincipalArn": PRINCIPALS[1]}}


@pytest.mark.parametrize(
    ("micro", "expected"),
    [(0, []), (499_999, []), (500_000, [50]), (899_999, [50, 75]), (1_000_000, [50, 75, 90, 100])],
)
def test_thresholds(micro, expected):
    assert crossed(micro, Decimal(1)) == expected


def test_default_user_budget_applies_per_user_and_period_and_blocks_only_enforced():
    budgets = [
        Budget("user", "*", "day", Decimal(1), enforce=True),
        Budget("meta:customer", "acme", "month", Decimal(10)),
    ]
    totals = {
        ("user", "ana", "2026-10-15"): 1_200_000,
        ("user", "ben", "2026-10"): 5_000_000,
        ("meta:customer", "acme", "2026-10"): 6_000_000,
        ("meta:customer", "globex", "2026-10"): 9_000_000,
    }
    alerts, blocks = evaluate(budgets, totals)
    keys = sorted(a.dedupe_key for a in alerts)
    assert keys == sorted(
        [
            *(f"request-budget#user=ana#day#2026-10-15#{t}" for t in (50, 75, 90, 100)),
            "request-budget#meta:customer=acme#month#2026-10#50",
        ]
    )
    assert [(b[1], b[2]) for b in blocks] == [("ana", "2026-10-15")]
