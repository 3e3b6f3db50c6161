"""The one identity rule shared by the invocation-log and CUR clocks."""

from __future__ import annotations

import pytest

from bedrock_cost.domain.identity import UNKNOWN_USER, Identity, identify

pytestmark = pytest.mark.unit

ACCT = "111122223333"

# principal, expected user, kind, account, session
TABLE = [
    (
        f"arn:aws:sts::{ACCT}:assumed-role/AWSReservedSSO_Developer_0a1b2c3d4e5f6789/ana@example.com",
        "ana@example.com",
        "person",
        ACCT,
        "ana@example.com",
    ),
    (
        f"arn:aws:sts::{ACCT}:assumed-role/AWSReservedSSO_Developer_0a1b2c3d4e5f6789/Ana.Lopez@Example.com",
        "ana.lopez@example.com",
        "person",
        ACCT,
        "Ana.Lopez@Example.com",
    ),
    (f"arn:aws:sts::{ACCT}:assumed-role/AWSReservedSSO_Admin_ff00/bob", "bob", "person", ACCT, "bob"),
    (
        f"arn:aws:sts::{ACCT}:assumed-role/ClaudeCodeUsers/carl@example.com",
        "carl@example.com",
        "person",
        ACCT,
        "carl@example.com",
    ),
    (
        f"arn:aws:sts::{ACCT}:assumed-role/chatbot-backend/botocore-session-1712345678",
        "chatbot-backend",
        "role",
        ACCT,
        "botocore-session-1712345678",
    ),
    (
        f"arn:aws:sts::{ACCT}:assumed-role/summariser-fn-role/summariser-fn",
        "summariser-fn-role",
        "role",
        ACCT,
        "summariser-fn",
    ),
    (
        f"arn:aws:sts::{ACCT}:assumed-role/ec2-rag-worker/i-0abc123def4567890",
        "ec2-rag-worker",
        "role",
        ACCT,
        "i-0abc123def4567890",
    ),
    (
        f"arn:aws:sts::{ACCT}:assumed-role/batch-role/3f2b8c1e-9d4a-4b7e-8f1a-2c3d4e5f6a7b",
        "batch-role",
        "role",
        ACCT,
        "3f2b8c1e-9d4a-4b7e-8f1a-2c3d4e5f6a7b",
    ),
    (f"arn:aws:sts::{ACCT}:assumed-role/etl/1712345678", "etl", "role", ACCT, "1712345678"),
    (f"arn:aws:iam::{ACCT}:user/dana", "dana", "iam-user", ACCT, ""),
    (f"arn:aws:iam::{ACCT}:user/engineering/eve", "eve", "iam-user", ACCT, ""),
    (f"arn:aws:iam::{ACCT}:user/BedrockAPIKey-x7q2", "BedrockAPIKey-x7q2", "api-key", ACCT, ""),
    (f"arn:aws:iam::{ACCT}:role/service-role/reporter", "reporter", "role", ACCT, ""),
    (f"arn:aws:iam::{ACCT}:root", "root", "root", ACCT, ""),
    (f"arn:aws:sts::{ACCT}:federated-user/fred", "fred", "person", ACCT, ""),
    (
        f"arn:aws-cn:sts::{ACCT}:assumed-role/AWSReservedSSO_Dev_ab/gia@example.cn",
        "gia@example.cn",
        "person",
        ACCT,
        "gia@example.cn",
    ),
    ("bedrock.amazonaws.com", "bedrock.amazonaws.com", "role", "", ""),
    (None, UNKNOWN_USER, "unknown", "", ""),
    ("", UNKNOWN_USER, "unknown", "", ""),
    ("   ", UNKNOWN_USER, "unknown", "", ""),
    ("not-an-arn", UNKNOWN_USER, "unknown", "", ""),
    ("arn:aws:sts::12:assumed-role/r/s", UNKNOWN_USER, "unknown", "", ""),
    (f"arn:aws:sts::{ACCT}:assumed-role/only-role", UNKNOWN_USER, "unknown", ACCT, ""),
    (f"arn:aws:iam::{ACCT}:group/devs", UNKNOWN_USER, "unknown", ACCT, ""),
    (f"arn:aws:s3::{ACCT}:bucket", UNKNOWN_USER, "unknown", "", ""),
]


@pytest.mark.parametrize(("principal", "user", "kind", "account", "session"), TABLE)
def test_identity_table(principal, user, kind, account, session):
    # Given a principal as a log record or a CUR row carries it, When identified
    who = identify(principal)
    # Then the person or workload, its kind, account and session are the table's
    assert (who.user, who.kind, who.account, who.session) == (user, kind, account, session)
    assert who.principal == (principal or "").strip()


def test_identity_is_frozen_and_hashable():
    # Given an identity, Then it cannot be changed and can key a dict
    who = identify(f"arn:aws:iam::{ACCT}:user/dana")
    with pytest.raises(AttributeError):
        who.user = "mallory"  # type: ignore[misc]
    assert {who: 1}[Identity(user="dana", kind="iam-user", account=ACCT, principal=who.principal)] == 1


@pytest.mark.parametrize("garbage", ["arn:", "arn:aws:sts::", "::::", "arn:aws:iam::111122223333:user/", "\x00"])
def test_garbage_never_raises(garbage):
    # Given a malformed principal, When identified, Then it lands in the unknown bucket
    assert identify(garbage).kind == "unknown"
