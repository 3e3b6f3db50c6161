"""Untagged and non-compliant Bedrock spend, ranked by dollars, from billed CUR data.

Two questions, both per resource and per principal:

* **untagged**: usage spend lacking at least one configured report tag key. Read from
  the view ``bedrock_untagged_spend`` and summed here in Decimal, so totals equal the
  view's to the cent.
* **fixable**: the same untagged spend, ranked by what someone can tag. An application
  inference profile can carry tags, so its spend stays under the profile. A foundation-model
  ARN, a system inference profile or a row without a resource cannot be tagged: that spend
  is ranked under the IAM role or user behind the calls (sessions of one role add up),
  which can carry IAM principal tags (``tags['iamPrincipal/<key>']`` in CUR), with the hint
  to call through a tagged application inference profile instead.
* **non-compliant**: usage spend whose resource tags break the tag policy (missing
  required key, value not allowed). The query returns each resource's values for the
  policy keys; ``domain.tag_policy.evaluate`` judges them, the same rules the
  tag-enforcer applies to live resources.

``rank_untagged_spend`` runs on any ``QueryEngine`` (DuckDB locally, Athena deployed);
``untagged_spend_alert`` turns a report into the ``untagged_spend`` alert.
"""

from __future__ import annotations

import csv
import io
import re
import string
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from bedrock_cost.billing.engine import QueryEngine
from bedrock_cost.billing.sql import Fragment, quote_identifier, render, tag_value_sql
from bedrock_cost.config import TagPolicy
from bedrock_cost.domain.alerts import Alert
from bedrock_cost.domain.tag_rules import evaluate, policy_keys
from bedrock_cost.errors import ConfigError
from bedrock_cost.money import display_usd, round_money

MAX_POLICY_KEYS = 8
"""Tag-policy keys the by-resource query can carry (its ``:key_a`` .. ``:key_h`` slots)."""
_KEY_PARAMS = tuple(f"key_{string.ascii_lowercase[i]}" for i in range(MAX_POLICY_KEYS))
ALL_ROWS = "0"
"""``:top`` of ``untagged_spend_rows`` that keeps every row."""


@dataclass(frozen=True)
class SpendItem:
    """One ranked resource or principal."""

    name: str
    cost_usd: Decimal
    reasons: tuple[str, ...]
    """Missing tag keys (untagged) or policy violations (non-compliant), sorted."""


@dataclass(frozen=True)
class UntaggedSpendReport:
    period: str
    engine: str
    usage_cost_usd: Decimal
    untagged_cost_usd: Decimal
    non_compliant_cost_usd: Decimal
    untagged_by_resource: list[SpendItem]
    untagged_by_principal: list[SpendItem]
    untagged_fixable: list[SpendItem]
    non_compliant_by_resource: list[SpendItem]
    non_compliant_by_principal: list[SpendItem]
    top_n: int

    def share_pct(self, amount: Decimal) -> Decimal:
        if not self.usage_cost_usd:
            return Decimal(0)
        return (amount * 100 / self.usage_cost_usd).quantize(Decimal("0.1"), ROUND_HALF_EVEN)

    def rankings(self) -> dict[tuple[str, str], list[SpendItem]]:
        """(category, dimension) -> full ranking."""
        return {
            ("untagged", "fixable"): self.untagged_fixable,
            ("untagged", "resource"): self.untagged_by_resource,
            ("untagged", "principal"): self.untagged_by_principal,
            ("non_compliant", "resource"): self.non_compliant_by_resource,
            ("non_compliant", "principal"): self.non_compliant_by_principal,
        }


def _decimal(value: Any) -> Decimal:
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _rank(costs: Mapping[str, Decimal], reasons: Mapping[str, set[str]]) -> list[SpendItem]:
    items = [SpendItem(name, cost, tuple(sorted(reasons.get(name, set())))) for name, cost in costs.items()]
    return sorted(items, key=lambda i: (-i.cost_usd, i.name))


class _Accumulator:
    def __init__(self) -> None:
        self.costs: dict[str, Decimal] = defaultdict(Decimal)
        self.reasons: dict[str, set[str]] = defaultdict(set)

    def add(self, name: str, cost: Decimal, reasons: Iterable[str]) -> None:
        self.costs[name] += cost
        self.reasons[name].update(reasons)

    def ranking(self) -> list[SpendItem]:
        return _rank(self.costs, self.reasons)


_ASSUMED_ROLE = re.compile(r"^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role/([^/]+)/")
PROFILE_HINT = "tag this application inference profile"
PRINCIPAL_HINT = (
    "cannot tag a foundation model: tag this IAM principal (principal tags reach CUR as iamPrincipal/<key>) "
    "or call through a tagged application inference profile"
)
NO_PRINCIPAL_HINT = (
    "no resource to tag and no IAM principal in the export: turn on IAM principal data in the CUR 2.0 "
    "export, or call through a tagged application inference profile"
)


def fixable_subject(resource_id: str, principal: str) -> tuple[str, str]:
    """What someone can tag for one untagged row, and how: (subject, hint)."""
    if ":application-inference-profile/" in resource_id:
        return resource_id, PROFILE_HINT
    if principal in ("", "(unknown)"):
        return "(unknown principal)", NO_PRINCIPAL_HINT
    match = _ASSUMED_ROLE.match(principal)
    if match:
        return f"arn:{match.group(1)}:iam::{match.group(2)}:role/{match.group(3)}", PRINCIPAL_HINT
    return principal, PRINCIPAL_HINT


def rank_untagged_spend(engine: QueryEngine, period: str, policy: TagPolicy, top_n: int = 10) -> UntaggedSpendReport:
    """Rank untagged and non-compliant usage spend of ``period`` by dollars."""
    keys = policy_keys(policy)
    if len(keys) > MAX_POLICY_KEYS:
        raise ConfigError(
            f"tag_policy: {len(keys)} keys; the untagged-spend ranking evaluates at most {MAX_POLICY_KEYS}"
        )
    fragments: dict[str, Fragment] = {"database": quote_identifier(engine.database), "tag_value": tag_value_sql}

    untagged_resource, untagged_principal, fixable = _Accumulator(), _Accumulator(), _Accumulator()
    untagged_total = Decimal(0)
    for row in engine.query(render("reports/untagged_spend_rows", fragments, {"period": period, "top": ALL_ROWS})):
        cost = _decimal(row["cost_usd"])
        missing = [k for k in str(row["missing_tag_keys"] or "").split(",") if k]
        untagged_total += cost
        untagged_resource.add(str(row["resource_id"]), cost, (f"missing {k}" for k in missing))
        untagged_principal.add(str(row["principal"]), cost, (f"missing {k}" for k in missing))
        subject, hint = fixable_subject(str(row["resource_id"]), str(row["principal"]))
        fixable.add(subject, cost, [hint, *(f"missing {k}" for k in missing)])

    values = {"period": period, **{p: (keys[i] if i < len(keys) else "") for i, p in enumerate(_KEY_PARAMS)}}
    bad_resource, bad_principal = _Accumulator(), _Accumulator()
    usage_total = bad_total = Decimal(0)
    for row in engine.query(render("reports/untagged_by_resource", fragments, values)):
        cost = _decimal(row["cost_usd"])
        usage_total += cost
        tags = {key: str(row[f"tag_{i}"]) for i, key in enumerate(keys) if row[f"tag_{i}"] is not None}
        violations = evaluate(policy, tags)
        if not violations:
            continue
        bad_total += cost
        described = [v.describe() for v in violations]
        bad_resource.add(str(row["resource_id"]), cost, described)
        bad_principal.add(str(row["principal"]), cost, described)

    return UntaggedSpendReport(
        period=period,
        engine=engine.name,
        usage_cost_usd=usage_total,
        untagged_cost_usd=untagged_total,
        non_compliant_cost_usd=bad_total,
        untagged_by_resource=untagged_resource.ranking(),
        untagged_by_principal=untagged_principal.ranking(),
        untagged_fixable=fixable.ranking(),
        non_compliant_by_resource=bad_resource.ranking(),
        non_compliant_by_principal=bad_principal.ranking(),
        top_n=top_n,
    )


def untagged_spend_alert(report: UntaggedSpendReport, as_of: date) -> Alert | None:
    """The ``untagged_spend`` alert quoting the top items, or ``None`` when all spend is tagged.

    One per period and day (``as_of``): the daily CUR reporter sends at most one digest a day.
    """
    if not report.untagged_cost_usd and not report.non_compliant_cost_usd:
        return None
    details: list[str] = []
    for (category, dimension), items in report.rankings().items():
        for item in items[: report.top_n]:
            why = f" ({'; '.join(item.reasons)})" if item.reasons else ""
            label = "untagged, to tag" if dimension == "fixable" else f"{category.replace('_', '-')} by {dimension}"
            details.append(f"{label}: {item.name}: {display_usd(item.cost_usd)}{why}")
    worst = max(report.untagged_cost_usd, report.non_compliant_cost_usd)
    return Alert(
        kind="untagged_spend",
        dedupe_key=f"untagged_spend:{report.period}:{as_of.isoformat()}",
        title=f"{display_usd(worst)} of Bedrock spend in {report.period} is untagged or breaks the tag policy",
        severity="warning",
        period=report.period,
        figures={
            "usage_usd": str(round_money(report.usage_cost_usd)),
            "untagged_usd": str(round_money(report.untagged_cost_usd)),
            "untagged_pct": str(report.share_pct(report.untagged_cost_usd)),
            "non_compliant_usd": str(round_money(report.non_compliant_cost_usd)),
            "non_compliant_pct": str(report.share_pct(report.non_compliant_cost_usd)),
        },
        subject={"period": report.period, "engine": report.engine},
        details=details,
    )


CSV_COLUMNS = ("category", "dimension", "rank", "name", "cost_usd", "share_pct", "reasons")


def to_csv(report: UntaggedSpendReport) -> str:
    """Every ranked item (not only the top N), one ranking after the other, cost to the cent."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for (category, dimension), items in report.rankings().items():
        for rank, item in enumerate(items, start=1):
            writer.writerow(
                (
                    category,
                    dimension,
                    rank,
                    item.name,
                    str(round_money(item.cost_usd)),
                    str(report.share_pct(item.cost_usd)),
                    "; ".join(item.reasons),
                )
            )
    return out.getvalue()
