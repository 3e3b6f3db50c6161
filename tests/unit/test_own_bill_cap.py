"""The estimator's custom metric series stay under the documented cap at the reference workload.

Reference (docs/organizations.md): 20 models and 100 application inference profiles
(120 ``ModelId`` values), 3 report tag keys x 10 values, budgets on two tag values. Each
series costs $0.30 a month; the own-bill budget holds only while the count stays capped.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bedrock_cost.domain.estimate import Counts
from bedrock_cost.domain.estimate_points import CUSTOM_METRIC_CAP, metric_points
from bedrock_cost.domain.model_resolution import ResolvedModel
from bedrock_cost.domain.pricing import PriceCatalog, load_bundled_layer

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
MODELS = ["Claude Sonnet 4.6", "Claude Haiku 4.5", "Nova Pro", "Nova Lite", "Llama 3.3 70B"]
KEYS = ("team", "project", "environment")
PINNED = {"team": frozenset({"value0", "value1"})}


def _reference() -> tuple[dict[str, dict[datetime, Counts]], dict[str, ResolvedModel]]:
    usage: dict[str, dict[datetime, Counts]] = {}
    resolved: dict[str, ResolvedModel] = {}
    for i in range(120):
        model_id = f"id-{i:03d}"
        tags = {key: f"value{(i + k) % 10}" for k, key in enumerate(KEYS)} if i >= 20 else {}
        resolved[model_id] = ResolvedModel(
            model_id, MODELS[i % len(MODELS)], "x", known=True, scope="regional", id_kind="model", tags=tags
        )
        cache = i if MODELS[i % len(MODELS)].startswith("Claude") else 0  # only Claude prices cache reads here
        usage[model_id] = {
            T0 + timedelta(minutes=m): Counts(input=1000 + i, output=100, cache_read=cache) for m in range(60)
        }
    return usage, resolved


def _series(detail: str) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    """Distinct (metric name, dimensions): what CloudWatch bills as one custom metric each."""
    usage, resolved = _reference()
    points = metric_points(
        usage,
        resolved=resolved,
        catalog=PriceCatalog(bundled=load_bundled_layer()),
        minutes=[T0 + timedelta(minutes=m) for m in range(60)],
        tag_keys=KEYS,
        pinned_tag_values=PINNED,
        detail=detail,  # type: ignore[arg-type]
    )
    return {(name, p.dimensions) for p in points for name, _ in p.values}


def test_default_detail_stays_under_the_custom_metric_cap() -> None:
    # Given the reference workload with every model priced
    # When an hour of metric points is built with the default detail
    series = _series("alarms")
    # Then the series are the total and the two budgeted tag values: within the cap
    assert len(series) == 3
    assert len(series) <= CUSTOM_METRIC_CAP


def test_full_detail_would_break_the_cap() -> None:
    # Given the same workload with full detail (per model and per tag value, with tokens)
    # Then the count is far above the cap: the reason the default is "alarms"
    assert len(_series("full")) > 10 * CUSTOM_METRIC_CAP
