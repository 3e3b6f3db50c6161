"""Spec of the untagged / non-compliant spend ranking, on DuckDB over CUR Parquet."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from bedrock_cost.adapters.duckdb_engine import DuckDBEngine
from bedrock_cost.billing.sql import RenderedQuery, quote_identifier
from bedrock_cost.billing.untagged_spend import SpendItem, rank_untagged_spend, to_csv, untagged_spend_alert
from bedrock_cost.config import AllowedValues, TagPolicy
from bedrock_cost.errors import ConfigError
from bedrock_cost.sample_data.cur_generator import generate_cur
from tests.fixtures.cur_builder import cur_row, write_cur
from tests.support.cur_oracle import read_rows

pytestmark = pytest.mark.integration

TAG_KEYS = ["team", "project", "environment"]
PERIOD = "2026-10"
POLICY = TagPolicy(
    required_keys=["team", "environment"],
    allowed_values={
        "environment": AllowedValues(values=["prod", "staging", "dev"]),
        "team": AllowedValues(pattern=r"[a-z][a-z0-9-]{1,30}"),
    },
)
A = "arn:aws:bedrock:us-east-1:111111111111:application-inference-profile/aaaaaaaaaaaa"
B = "arn:aws:bedrock:us-east-1:111111111111:application-inference-profile/bbbbbbbbbbbb"
C = "arn:aws:bedrock:us-east-1:111111111111:application-inference-profile/cccccccccccc"
ALICE = "arn:aws:iam::111111111111:role/alice"
BOB = "arn:aws:iam::111111111111:role/bob"
UT = "USE1-Claude4.6Sonnet-input-tokens"


@pytest.fixture(scope="module")
def small_engine(tmp_path_factory: pytest.TempPathFactory) -> DuckDBEngine:
    """Hand-written CUR whose expected rankings are known to the cent."""
    root = tmp_path_factory.mktemp("cur-small")
    full = {"user_team": "ml", "user_project": "chat", "user_environment": "prod"}
    write_cur(
        root,
        [
            cur_row(UT, 10.00, 100.0, resource=A, principal=ALICE, tags=full),
            # B lacks environment (and project): untagged and non-compliant, in two rows
            cur_row(UT, 5.25, 50.0, resource=B, principal=BOB, tags={"user_team": "ml"}),
            cur_row(UT, 1.10, 10.0, day=2, resource=B, principal=BOB, tags={"user_team": "ml"}),
            # no resource, no principal, no tags
            cur_row(UT, 3.333333, 30.0),
            # C has every report key but values the policy rejects
            cur_row(
                UT,
                2.50,
                25.0,
                resource=C,
                principal=ALICE,
                tags={"user_team": "ML Team!", "user_project": "p", "user_environment": "qa"},
            ),
            # tags in the `tags` column shape count too
            cur_row(
                UT,
                0.75,
                7.0,
                resource=A,
                principal=BOB,
                tags_map={
                    "resourceTags/user:team": "ml",
                    "resourceTags/user:project": "chat",
                    "resourceTags/user:environment": "dev",
                },
            ),
            # credits and other services never count
            cur_row(UT, -4.00, 0.0, line_item_type="Credit"),
            cur_row("USE1-BoxUsage:t3.micro", 99.0, 1.0, product_code="AmazonEC2", pricing_unit="Hrs"),
        ],
    )
    return DuckDBEngine.open(root, TAG_KEYS)


def test_ranks_untagged_and_non_compliant_spend_to_the_cent(small_engine: DuckDBEngine) -> None:
    # When ranking October
    report = rank_untagged_spend(small_engine, PERIOD, POLICY, top_n=5)
    # Then usage excludes credits and non-Bedrock rows
    assert report.usage_cost_usd == Decimal("22.933333")
    # And untagged spend (missing report keys) is ranked per resource and per principal
    assert [(i.name, i.cost_usd) for i in report.untagged_by_resource] == [
        (B, Decimal("6.35")),
        ("(no resource)", Decimal("3.333333")),
    ]
    assert report.untagged_by_resource[0].reasons == ("missing environment", "missing project")
    assert [(i.name, i.cost_usd) for i in report.untagged_by_principal] == [
        (BOB, Decimal("6.35")),
        ("(unknown)", Decimal("3.333333")),
    ]
    assert report.untagged_cost_usd == Decimal("9.683333")
    # And non-compliant spend (policy evaluated on the billed tags) includes C's invalid values
    assert [(i.name, i.cost_usd) for i in report.non_compliant_by_resource] == [
        (B, Decimal("6.35")),
        ("(no resource)", Decimal("3.333333")),
        (C, Decimal("2.5")),
    ]
    c_item = report.non_compliant_by_resource[2]
    assert any("'qa' is not allowed" in r for r in c_item.reasons)
    assert any("'ML Team!' is not allowed" in r for r in c_item.reasons)
    assert report.non_compliant_cost_usd == Decimal("12.183333")
    assert [i.name for i in report.non_compliant_by_principal] == [BOB, "(unknown)", ALICE]


def test_totals_equal_the_view(small_engine: DuckDBEngine) -> None:
    report = rank_untagged_spend(small_engine, PERIOD, POLICY)
    table = f"{quote_identifier(small_engine.database)}.bedrock_untagged_spend"
    sql = f"SELECT SUM(cost_usd) AS c FROM {table} WHERE billing_period = ?"
    (row,) = small_engine.query(RenderedQuery("check", sql, (PERIOD,)))
    assert report.untagged_cost_usd == row["c"]


def test_alert_quotes_top_items_with_dollars(small_engine: DuckDBEngine) -> None:
    report = rank_untagged_spend(small_engine, PERIOD, POLICY, top_n=1)
    alert = untagged_spend_alert(report, date(2026, 10, 31))
    assert alert is not None
    assert alert.kind == "untagged_spend"
    assert alert.dedupe_key == "untagged_spend:2026-10:2026-10-31"
    assert alert.title == "$12.18 of Bedrock spend in 2026-10 is untagged or breaks the tag policy"
    assert alert.figures["untagged_usd"] == "9.68"
    assert alert.figures["untagged_pct"] == "42.2"
    # top 1 of each of the five rankings, the fixable one first
    assert len(alert.details) == 5
    assert alert.details[0] == (
        f"untagged, to tag: {B}: $6.35 (missing environment; missing project; tag this application inference profile)"
    )
    assert alert.details[1] == f"untagged by resource: {B}: $6.35 (missing environment; missing project)"


def test_untaggable_spend_is_ranked_by_the_principal_behind_it(tmp_path: Path) -> None:
    # Given untagged spend on a foundation-model ARN (cannot carry tags) from two sessions of one
    # role and one IAM user, plus untagged spend on an application inference profile
    model_arn = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-6"
    role_session = "arn:aws:sts::111111111111:assumed-role/chat-api-role/{}"
    write_cur(
        tmp_path,
        [
            cur_row(UT, 4.0, 40.0, resource=model_arn, principal=role_session.format("i-0abc")),
            cur_row(UT, 3.0, 30.0, resource=model_arn, principal=role_session.format("i-0def")),
            cur_row(UT, 2.0, 20.0, resource=model_arn, principal="arn:aws:iam::111111111111:user/etl"),
            cur_row(UT, 5.0, 50.0, resource=A),
            cur_row(UT, 1.0, 10.0),
        ],
    )
    engine = DuckDBEngine.open(tmp_path, TAG_KEYS)
    report = rank_untagged_spend(engine, PERIOD, POLICY)
    # Then the fixable ranking names the role (both sessions summed), the user and the profile
    ranked = [(i.name, i.cost_usd) for i in report.untagged_fixable]
    assert ranked == [
        ("arn:aws:iam::111111111111:role/chat-api-role", Decimal("7")),
        (A, Decimal("5")),
        ("arn:aws:iam::111111111111:user/etl", Decimal("2")),
        ("(unknown principal)", Decimal("1")),
    ]
    # And says how: principal tags or a tagged application inference profile
    assert any(
        "iamPrincipal/<key>" in r and "application inference profile" in r for r in report.untagged_fixable[0].reasons
    )
    assert "tag this application inference profile" in report.untagged_fixable[1].reasons
    assert any("IAM principal data" in r for r in report.untagged_fixable[3].reasons)
    # And no foundation-model ARN is offered as something to tag
    assert all(":foundation-model/" not in i.name for i in report.untagged_fixable)
    assert sum(i.cost_usd for i in report.untagged_fixable) == report.untagged_cost_usd


def test_no_alert_when_everything_is_tagged_and_compliant(tmp_path: Path) -> None:
    write_cur(
        tmp_path,
        [cur_row(UT, 1.0, 1.0, resource=A, tags={"user_team": "ml", "user_project": "x", "user_environment": "dev"})],
    )
    report = rank_untagged_spend(DuckDBEngine.open(tmp_path, TAG_KEYS), PERIOD, POLICY)
    assert report.untagged_by_resource == []
    assert report.non_compliant_by_resource == []
    assert untagged_spend_alert(report, date(2026, 10, 31)) is None


def test_csv_lists_every_item_to_the_cent(small_engine: DuckDBEngine) -> None:
    rows = list(csv.DictReader(io.StringIO(to_csv(rank_untagged_spend(small_engine, PERIOD, POLICY)))))
    assert [r["cost_usd"] for r in rows if r["category"] == "untagged" and r["dimension"] == "resource"] == [
        "6.35",
        "3.33",
    ]
    assert {(r["category"], r["dimension"]) for r in rows} == {
        ("untagged", "fixable"),
        ("untagged", "resource"),
        ("untagged", "principal"),
        ("non_compliant", "resource"),
        ("non_compliant", "principal"),
    }


def test_too_many_policy_keys_is_a_config_error(small_engine: DuckDBEngine) -> None:
    policy = TagPolicy(required_keys=[f"k{i}" for i in range(9)])
    with pytest.raises(ConfigError, match="at most 8"):
        rank_untagged_spend(small_engine, PERIOD, policy)


def test_generated_cur_matches_an_independent_reading(tmp_path: Path) -> None:
    # Given a month of generated CUR (first-party and Marketplace, tagged and untagged)
    generate_cur(tmp_path, PERIOD, rows=4000, seed=11)
    engine = DuckDBEngine.open(tmp_path, TAG_KEYS)
    # When ranking
    report = rank_untagged_spend(engine, PERIOD, POLICY)
    # Then both untagged rankings add up to the same total
    assert sum((i.cost_usd for i in report.untagged_by_resource), Decimal(0)) == report.untagged_cost_usd
    assert sum((i.cost_usd for i in report.untagged_by_principal), Decimal(0)) == report.untagged_cost_usd
    assert report.untagged_cost_usd > 0
    # And per principal, untagged spend equals a plain-Python reading of the Parquet, to the cent
    expected: dict[str, Decimal] = defaultdict(Decimal)
    usage = Decimal(0)
    for row in read_rows(tmp_path, TAG_KEYS):
        if row.period != PERIOD or not row.usage:
            continue
        usage += row.cost
        if any(row.keys[f"tag:{k}"] == "(untagged)" for k in TAG_KEYS):
            expected[row.keys["principal"]] += row.cost
    got = {i.name: i.cost_usd for i in report.untagged_by_principal}
    cent = Decimal("0.01")
    assert {k: v.quantize(cent) for k, v in got.items()} == {k: v.quantize(cent) for k, v in expected.items() if v}
    assert report.usage_cost_usd.quantize(cent) == usage.quantize(cent)
    # And rankings are sorted by dollars
    costs = [i.cost_usd for i in report.non_compliant_by_resource]
    assert costs == sorted(costs, reverse=True)
    assert all(isinstance(i, SpendItem) for i in report.non_compliant_by_principal)
