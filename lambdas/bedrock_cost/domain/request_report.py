"""Cost per user, principal, model, metadata value… from grouped invocation-log usage.

The engine (DuckDB locally, Athena deployed) runs ``queries/requests/usage_groups.sql`` and
returns usage grouped by one dimension plus what pricing needs (principal, model id as
passed, tier, long context). Pricing a group is exact and linear (same key, same unit
prices), so pricing groups equals pricing every request; this module prices the groups
with the one catalog and folds them into the requested key:

* ``user`` and ``principal``: the shared identity rule (:mod:`bedrock_cost.domain.identity`);
* ``model``: the resolved model name; application-profile ids with no entry in the
  profiles file stay ``(unresolved) <id>`` and unpriced, never guessed;
* ``tag:<key>``: the application profile's tag, ``(untagged)`` otherwise;
* ``meta:<key>``, ``account``, ``region``, ``hour``: the engine's ``dim`` column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from bedrock_cost.domain.identity import identify
from bedrock_cost.domain.invocation_log import TokenUsage
from bedrock_cost.domain.model_catalog import ModelCatalog
from bedrock_cost.domain.model_resolution import (
    InMemoryProfileDirectory,
    ProfileDirectory,
    ProfileInfo,
    ResolvedModel,
    resolve_model_id,
)
from bedrock_cost.domain.pricing import PriceCatalog
from bedrock_cost.domain.request_pricing import price_usage

UNTAGGED: Final = "(untagged)"
NO_METADATA: Final = "(none)"
UNRESOLVED: Final = "(unresolved)"
SIMPLE_KEYS: Final = ("user", "principal", "model", "account", "region", "hour")
COLUMNS: Final = (
    "cost_usd",
    "requests",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "unpriced_requests",
)
_KEY_NAME = re.compile(r"^[A-Za-z0-9_.:/=+\-@ ]{1,128}$")


class BadGrouping(ValueError):
    """``--by`` names something we cannot group by."""


@dataclass(frozen=True)
class Grouping:
    """A validated ``--by`` value: ``kind`` in SIMPLE_KEYS, ``meta`` or ``tag``; ``key`` for the last two."""

    kind: str
    key: str = ""

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.key}" if self.key else self.kind


def parse_grouping(text: str) -> Grouping:
    if text in SIMPLE_KEYS:
        return Grouping(text)
    kind, sep, key = text.partition(":")
    if sep and kind in ("meta", "tag") and _KEY_NAME.match(key):
        return Grouping(kind, key)
    raise BadGrouping(f"--by {text!r}: expected one of {', '.join(SIMPLE_KEYS)}, meta:<key> or tag:<key>")


def profiles_directory(document: Any) -> InMemoryProfileDirectory:
    """Profiles from ``aws bedrock list-inference-profiles --type-equals APPLICATION`` JSON.

    Tags are not part of that listing; an entry may carry ``tags`` as the
    ``list-tags-for-resource`` output prints them (``[{"key", "value"}]``) or as a mapping.
    Raises ``ValueError`` naming the entry and field.
    """
    if not isinstance(document, Mapping) or not isinstance(document.get("inferenceProfileSummaries"), list):
        raise ValueError("expected an object with an inferenceProfileSummaries list")
    directory = InMemoryProfileDirectory()
    for i, item in enumerate(document["inferenceProfileSummaries"]):
        where = f"inferenceProfileSummaries[{i}]"
        if not isinstance(item, Mapping):
            raise ValueError(f"{where} is not an object")
        arn, pid = item.get("inferenceProfileArn"), item.get("inferenceProfileId")
        if not isinstance(arn, str) or not isinstance(pid, str):
            raise ValueError(f"{where}: inferenceProfileArn and inferenceProfileId are required strings")
        models = item.get("models", [])
        if not isinstance(models, list) or not all(isinstance(m, Mapping) and "modelArn" in m for m in models):
            raise ValueError(f"{where}.models: expected a list of objects with modelArn")
        raw_tags = item.get("tags", {})
        if isinstance(raw_tags, list):
            tags = {str(t["key"]): str(t["value"]) for t in raw_tags if isinstance(t, Mapping) and "key" in t}
        elif isinstance(raw_tags, Mapping):
            tags = {str(k): str(v) for k, v in raw_tags.items()}
        else:
            raise ValueError(f"{where}.tags: expected a list of key/value objects or a mapping")
        directory.add(
            ProfileInfo(
                arn=arn,
                profile_id=pid,
                name=str(item.get("inferenceProfileName", "")),
                model_arns=tuple(str(m["modelArn"]) for m in models),
                tags=tags,
            )
        )
    return directory


@dataclass(frozen=True)
class UsageGroup:
    """One row of ``usage_groups.sql``."""

    dim: str | None
    principal: str
    model_id: str
    tier: str
    long_context: bool
    requests: int
    errors: int
    malformed: int
    disagreements: int
    usage: TokenUsage

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> UsageGroup:
        def n(name: str) -> int:
            return int(row.get(name) or 0)

        return cls(
            dim=None if row.get("dim") is None else str(row["dim"]),
            principal=str(row.get("principal") or ""),
            model_id=str(row.get("model_id") or ""),
            tier=str(row.get("tier") or "on-demand"),
            long_context=bool(n("long_context")),
            requests=n("requests"),
            errors=n("errors"),
            malformed=n("malformed"),
            disagreements=n("disagreements"),
            usage=TokenUsage(
                n("input_tokens"),
                n("output_tokens"),
                n("cache_read_tokens"),
                n("cache_write_tokens"),
                n("cache_write_1h_tokens"),
            ),
        )


@dataclass
class RequestRow:
    key: str
    cost: Decimal = Decimal(0)
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    unpriced_requests: int = 0


@dataclass
class RequestReport:
    grouping: Grouping
    rows: list[RequestRow]
    malformed: int = 0
    disagreements: int = 0
    errors: int = 0
    unpriced_by_model: dict[str, int] = field(default_factory=dict)
    blind_spots: tuple[str, ...] = (
        "bedrock-mantle traffic (not in invocation logs; see the estimator's AWS/BedrockMantle figures)",
        "provisioned throughput, custom-model storage and other non-token charges",
        "private pricing not yet observed in CUR (list prices until calibrated)",
    )


class ModelResolver:
    """Caches ``resolve_model_id`` per model id (a month has a handful of ids, millions of rows)."""

    def __init__(self, directory: ProfileDirectory, catalog: ModelCatalog) -> None:
        self._directory = directory
        self._catalog = catalog
        self._cache: dict[str, ResolvedModel] = {}

    def __call__(self, model_id: str) -> ResolvedModel:
        found = self._cache.get(model_id)
        if found is None:
            found = resolve_model_id(model_id, self._directory, self._catalog)
            self._cache[model_id] = found
        return found


def model_key(resolved: ResolvedModel) -> str:
    if resolved.id_kind.startswith("application-profile") and resolved.provider == "unknown":
        return f"{UNRESOLVED} {resolved.model_id}"
    return resolved.model or "(none)"


def _key_of(group: UsageGroup, resolved: ResolvedModel, grouping: Grouping) -> str:
    if grouping.kind == "user":
        return identify(group.principal).user
    if grouping.kind == "principal":
        return identify(group.principal).principal or "(unknown)"
    if grouping.kind == "model":
        return model_key(resolved)
    if grouping.kind == "tag":
        return resolved.tags.get(grouping.key, UNTAGGED)
    if grouping.kind == "meta":
        return group.dim if group.dim else NO_METADATA
    return group.dim or "(unknown)"


def build_report(
    groups: Iterable[UsageGroup], grouping: Grouping, resolver: ModelResolver, catalog: PriceCatalog
) -> RequestReport:
    """Price every group and fold it into the requested key (rows sorted by cost, descending)."""
    rows: dict[str, RequestRow] = {}
    report = RequestReport(grouping=grouping, rows=[])
    for group in groups:
        report.malformed += group.malformed
        if group.requests == 0:
            continue
        report.disagreements += group.disagreements
        report.errors += group.errors
        resolved = resolver(group.model_id)
        priced = price_usage(group.usage, resolved, catalog, tier=group.tier, long_context=group.long_context)
        key = _key_of(group, resolved, grouping)
        row = rows.setdefault(key, RequestRow(key=key))
        row.requests += group.requests
        row.input_tokens += group.usage.input
        row.output_tokens += group.usage.output
        row.cache_read_tokens += group.usage.cache_read
        row.cache_write_tokens += group.usage.cache_write
        if priced.cost is None:
            # Unknown model or unresolved profile: every successful request stays unpriced.
            row.unpriced_requests += group.requests - group.errors
            name = model_key(resolved)
            report.unpriced_by_model[name] = report.unpriced_by_model.get(name, 0) + group.requests - group.errors
        else:
            row.cost += priced.cost
    report.rows = sorted(rows.values(), key=lambda r: (-r.cost, r.key))
    return report
