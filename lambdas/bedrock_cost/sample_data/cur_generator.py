"""Synthetic CUR 2.0 Data Export for demos, tests and benchmarks.

Real CUR data is private and a month of it takes a day to appear, so every local path
of the product (demo, report, benchmarks) reads generated data instead. The generator
writes the same layout, columns and types as an AWS Data Export and every billing shape
the reports must handle: Claude billed through AWS Marketplace with opaque product
codes, CamelCase and snake_case usage types and every way of stating the unit ('Units'
in millions with 'Million ... Tokens' descriptions, '1M tokens', '1K tokens', NULL);
first-party model, cache, batch, flex, priority, latency-optimized, cross-region, long-context and reserved usage types;
provisioned throughput and AgentCore; one model no alias table knows; credits, refunds
and tax; non-Bedrock noise; tags in every shape seen in the wild (``user_team``,
``user:team``, ``tags['resourceTags/user:team']``, IAM principal tags
``tags['iamPrincipal/team']``, empty, blank, NULL).

It is vectorised (numpy draws, pyarrow ``take`` from small lookup tables) and written in
fixed-size chunks, so 5M rows need seconds and a few hundred MB, and it is deterministic:
each chunk draws from its own stream seeded by (seed, period, chunk number), so the same
seed gives the same rows, and a period's rows do not depend on how many periods are
generated with it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from bedrock_cost.billing.cur_schema import CUR_COLUMNS
from bedrock_cost.errors import UserError
from bedrock_cost.sample_data import _cur_catalog as cat
from bedrock_cost.sample_data import _cur_tags as tg
from bedrock_cost.sample_data._cur_spread import Spread, relabel, spread_of
from bedrock_cost.sample_data._progress import ProgressBar

CHUNK_ROWS: Final = 250_000
"""Rows drawn and written at once: bounds memory, and fixes the random stream per chunk."""
MAX_ROWS_PER_FILE: Final = 1_000_000
_MAX_UNIT_VARIANTS: Final = 5
_MAX_OPERATIONS: Final = 2
_HOUR_MS: Final = 3_600_000
_PERIOD_RE: Final = re.compile(r"^(\d{4})-(\d{2})$")

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_ARROW_TYPES: Final[dict[str, Any]] = {
    "string": pa.string(),
    "timestamp": pa.timestamp("ms"),
    "double": pa.float64(),
    "map<string,string>": pa.map_(pa.string(), pa.string()),
}


def arrow_schema() -> Any:
    """The Parquet schema of a generated file: exactly ``CUR_COLUMNS``, no partition column."""
    return pa.schema([pa.field(name, _ARROW_TYPES[glue_type]) for name, glue_type in CUR_COLUMNS])


def parse_period(period: str) -> tuple[int, int]:
    """``'2026-08'`` -> ``(2026, 8)``; anything else is the user's mistake, said in one line."""
    match = _PERIOD_RE.match(period)
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise UserError(f"--period: expected a billing period YYYY-MM (e.g. 2026-08), got {period!r}")
    return int(match.group(1)), int(match.group(2))


def _shift(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


@dataclass(frozen=True)
class _Tables:
    """Per-template lookup arrays; each output column is a ``take`` from one of them."""

    cum_weights: FloatArray
    price: FloatArray
    median: FloatArray
    sigma: FloatArray
    integer: BoolArray
    sign: FloatArray
    zero_amount: BoolArray
    discountable: BoolArray
    is_model: BoolArray
    is_nonusage: BoolArray
    marketplace_bedrock: BoolArray
    region_index: IntArray
    unit_cdf: FloatArray
    unit_count: IntArray
    divisor: FloatArray
    op_count: IntArray
    fixed_base: IntArray
    fixed_count: IntArray
    entity: Any
    product_code: Any
    usage_type: Any
    line_item_type: Any
    operation: Any
    pricing_unit: Any
    description: Any
    product_name: Any
    product_family_old: Any
    product_family_new: Any
    region_code: Any
    servicecode: Any
    product_map_old: Any
    product_map_new: Any
    resource: Any
    profile_offset: int
    null_resource: int
    profile_tag: IntArray
    tag_cum_weights: FloatArray
    tag_kind_representatives: IntArray
    resource_tags: Any
    tags: Any
    account: Any
    account_cum_weights: FloatArray
    account_discount: FloatArray
    principal: Any


def _map_array(values: list[dict[str, str] | None]) -> Any:
    return pa.array(
        [None if value is None else list(value.items()) for value in values],
        type=pa.map_(pa.string(), pa.string()),
    )


def _cumulative(weights: list[float]) -> FloatArray:
    cum = np.cumsum(np.asarray(weights, dtype=np.float64))
    cum /= cum[-1]
    cum[-1] = 1.0
    return cum


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    templates = cat.catalog()
    n = len(templates)
    regions = [region for region, *_ in cat.REGIONS]
    unit_cdf = np.ones((n, _MAX_UNIT_VARIANTS), dtype=np.float64)
    divisor = np.ones((n, _MAX_UNIT_VARIANTS), dtype=np.float64)
    pricing_units: list[str | None] = []
    descriptions: list[str] = []
    operations: list[str] = []
    for t, template in enumerate(templates):
        cum = 0.0
        for v in range(_MAX_UNIT_VARIANTS):
            variant = template.units[min(v, len(template.units) - 1)]
            if v < len(template.units):
                cum += variant.probability
                unit_cdf[t, v] = cum
            divisor[t, v] = variant.divisor
            pricing_units.append(variant.pricing_unit)
            unit_words = (variant.description_unit or "").format(tokens=template.token_words)
            descriptions.append(template.description.format(unit=unit_words))
        unit_cdf[t, len(template.units) - 1 :] = 1.0
        operations.extend(template.operations[min(o, len(template.operations) - 1)] for o in range(_MAX_OPERATIONS))

    # Resource ids: model ARNs (one per template), inference profiles, fixed resources, NULL.
    resources: list[str | None] = [template.model_arn for template in templates]
    profile_offset = len(resources)
    profile_tag: list[int] = []
    for a, (account, _, _) in enumerate(cat.ACCOUNTS):
        for r, region in enumerate(regions):
            for k in range(cat.PROFILES_PER_ACCOUNT_REGION):
                number = (a * len(regions) + r) * cat.PROFILES_PER_ACCOUNT_REGION + k
                profile_id = cat.short_id(f"profile/{account}/{region}/{k}")
                resources.append(f"arn:aws:bedrock:{region}:{account}:application-inference-profile/{profile_id}")
                profile_tag.append(tg.profile_tag_variant_index(number))
    fixed_base: list[int] = []
    for template in templates:
        fixed_base.append(len(resources))
        resources.extend(template.fixed_resources)
    null_resource = len(resources)
    resources.append(None)

    variants = tg.tag_variants()
    kinds = list(tg.TAG_KIND_SHARES)
    representatives = [next(i for i, v in enumerate(variants) if v.kind == kind) for kind in kinds]
    principals: list[str | None] = [None]
    for account, _, _ in cat.ACCOUNTS:
        principals.extend(tg.principals(account))

    def strings(values: list[str | None]) -> Any:
        return pa.array(values, type=pa.string())

    return _Tables(
        cum_weights=_cumulative([t.weight for t in templates]),
        price=np.array([t.price for t in templates]),
        median=np.array([t.quantity_median for t in templates]),
        sigma=np.array([t.quantity_sigma for t in templates]),
        integer=np.array([t.integer_quantity for t in templates]),
        sign=np.array([t.sign for t in templates]),
        zero_amount=np.array([t.zero_amount for t in templates]),
        discountable=np.array([t.discountable for t in templates]),
        is_model=np.array([t.model_arn is not None for t in templates]),
        is_nonusage=np.array([t.group == "nonusage" for t in templates]),
        marketplace_bedrock=np.array([t.marketplace_bedrock for t in templates]),
        region_index=np.array([regions.index(t.region) for t in templates], dtype=np.int64),
        unit_cdf=unit_cdf,
        unit_count=np.array([len(t.units) for t in templates], dtype=np.int64),
        divisor=divisor,
        op_count=np.array([len(t.operations) for t in templates], dtype=np.int64),
        fixed_base=np.array(fixed_base, dtype=np.int64),
        fixed_count=np.array([len(t.fixed_resources) for t in templates], dtype=np.int64),
        entity=strings([t.entity for t in templates]),
        product_code=strings([t.product_code for t in templates]),
        usage_type=strings([t.usage_type for t in templates]),
        line_item_type=strings([t.line_item_type for t in templates]),
        operation=strings(list(operations)),
        pricing_unit=strings(pricing_units),
        description=strings(list(descriptions)),
        product_name=strings([*(t.product_name for t in templates), None]),
        product_family_old=strings([t.product_family_old for t in templates]),
        product_family_new=strings([t.product_family_new for t in templates]),
        region_code=strings([t.region for t in templates]),
        servicecode=strings([t.servicecode for t in templates]),
        product_map_old=_map_array([t.product_map_old for t in templates]),
        product_map_new=_map_array([t.product_map_new for t in templates]),
        resource=strings(resources),
        profile_offset=profile_offset,
        null_resource=null_resource,
        profile_tag=np.array(profile_tag, dtype=np.int64),
        tag_cum_weights=_cumulative([v.weight for v in variants]),
        tag_kind_representatives=np.array(representatives, dtype=np.int64),
        resource_tags=_map_array([v.resource_tags for v in variants]),
        tags=_map_array([v.tags for v in variants]),
        account=strings([account for account, _, _ in cat.ACCOUNTS]),
        account_cum_weights=_cumulative([share for _, share, _ in cat.ACCOUNTS]),
        account_discount=np.array([discount for _, _, discount in cat.ACCOUNTS]),
        principal=strings(principals),
    )


@dataclass(frozen=True)
class _Period:
    year: int
    month: int
    start_ms: int
    end_ms: int
    hours: int

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def new_product_data(self) -> bool:
        return (self.year, self.month) >= cat.PRODUCT_MAP_SINCE

    @property
    def has_principals(self) -> bool:
        return (self.year, self.month) >= cat.IAM_PRINCIPAL_SINCE

    @classmethod
    def of(cls, year: int, month: int) -> _Period:
        start = datetime(year, month, 1)
        end = datetime(*_shift(year, month, 1), 1)
        epoch = datetime(1970, 1, 1)
        start_ms = int((start - epoch).total_seconds() * 1000)
        end_ms = int((end - epoch).total_seconds() * 1000)
        return cls(year, month, start_ms, end_ms, (end_ms - start_ms) // _HOUR_MS)


def _timestamps(values_ms: IntArray) -> Any:
    return pa.array(values_ms.astype("datetime64[ms]"), type=pa.timestamp("ms"))


def _chunk(
    period: _Period, seed: int, chunk_index: int, first_row: int, size: int, *, spread: Spread | None = None
) -> Any:
    """Draw ``size`` rows of one period; the random stream depends only on (seed, period, chunk)."""
    tb = _tables()
    rng = np.random.default_rng(np.random.SeedSequence([seed, period.year * 12 + period.month, chunk_index]))
    n_templates = len(tb.cum_weights)

    t = np.searchsorted(tb.cum_weights, rng.random(size), side="right").astype(np.int64)
    account = np.searchsorted(tb.account_cum_weights, rng.random(size), side="right").astype(np.int64)
    hour = rng.integers(0, period.hours, size)
    z = rng.standard_normal(size)
    unit_draw = rng.random(size)
    op_draw = rng.integers(0, _MAX_OPERATIONS, size)
    resource_draw = rng.random(size)
    resource_pick = rng.integers(0, 1 << 30, size)
    tag = np.searchsorted(tb.tag_cum_weights, rng.random(size), side="right").astype(np.int64)
    principal_draw = rng.random(size)
    principal_pick = rng.integers(0, tg.PRINCIPALS_PER_ACCOUNT, size)
    name_draw = rng.random(size)

    # Coverage prefix: the first rows of a period walk every template, unit variant and
    # tag kind once, so even a small export holds every shape the reports must handle.
    coverage = min(max(n_templates - first_row, 0), size)
    if coverage:
        rows = np.arange(first_row, first_row + coverage)
        t[:coverage] = rows
        unit_draw[:coverage] = tb.unit_cdf[rows, rows % tb.unit_count[rows]] - 1e-9
        kinds = tb.tag_kind_representatives
        tag[:coverage] = kinds[rows % len(kinds)]
        resource_draw[:coverage] = cat.PROFILE_SHARE  # a model ARN, so the forced tags show

    variant = (unit_draw[:, None] >= tb.unit_cdf[t]).sum(axis=1)
    quantity = tb.median[t] * np.exp(tb.sigma[t] * z)
    quantity = np.where(tb.integer[t], np.maximum(np.rint(quantity), 1.0), quantity)
    cost = np.round(tb.sign[t] * quantity * tb.price[t], 10)
    amount = np.where(tb.zero_amount[t], 0.0, quantity / tb.divisor[t, variant])
    net = np.where(tb.discountable[t], np.round(cost * (1.0 - tb.account_discount[account]), 10), cost)

    n_regions = len(cat.REGIONS)
    profile = (account * n_regions + tb.region_index[t]) * cat.PROFILES_PER_ACCOUNT_REGION + (
        resource_pick % cat.PROFILES_PER_ACCOUNT_REGION
    )
    via_profile = tb.is_model[t] & (resource_draw < cat.PROFILE_SHARE)
    via_model_arn = tb.is_model[t] & ~via_profile & (resource_draw < cat.PROFILE_SHARE + cat.MODEL_ARN_SHARE)
    has_fixed = tb.fixed_count[t] > 0
    fixed = tb.fixed_base[t] + resource_pick % np.maximum(tb.fixed_count[t], 1)
    resource = np.full(size, tb.null_resource, dtype=np.int64)
    resource = np.where(has_fixed, fixed, resource)
    resource = np.where(via_model_arn, t, resource)
    resource = np.where(via_profile, tb.profile_offset + profile, resource)
    tag = np.where(via_profile, tb.profile_tag[profile], tag)

    if period.has_principals:
        principal = np.where(
            principal_draw < cat.PRINCIPAL_NULL_SHARE, 0, 1 + account * tg.PRINCIPALS_PER_ACCOUNT + principal_pick
        )
    else:
        principal = np.zeros(size, dtype=np.int64)

    product_name = t
    if period.new_product_data:
        product_name = np.where(
            tb.marketplace_bedrock[t] & (name_draw < cat.MAP_ONLY_PRODUCT_NAME_SHARE), n_templates, t
        )

    nonusage = tb.is_nonusage[t]
    start_ms = np.where(nonusage, period.start_ms, period.start_ms + hour * _HOUR_MS)
    end_ms = np.where(nonusage, period.end_ms, start_ms + _HOUR_MS)
    unit_index = t * _MAX_UNIT_VARIANTS + variant
    op_index = t * _MAX_OPERATIONS + op_draw % tb.op_count[t]

    columns: dict[str, Any] = {
        "bill_billing_entity": tb.entity.take(t),
        "bill_billing_period_start_date": _timestamps(np.full(size, period.start_ms, dtype=np.int64)),
        "bill_billing_period_end_date": _timestamps(np.full(size, period.end_ms, dtype=np.int64)),
        "bill_payer_account_id": pa.array(np.full(size, cat.PAYER_ACCOUNT), type=pa.string()),
        "line_item_usage_start_date": _timestamps(start_ms),
        "line_item_usage_end_date": _timestamps(end_ms),
        "line_item_usage_account_id": tb.account.take(account),
        "line_item_line_item_type": tb.line_item_type.take(t),
        "line_item_product_code": tb.product_code.take(t),
        "line_item_usage_type": tb.usage_type.take(t),
        "line_item_operation": tb.operation.take(op_index),
        "line_item_resource_id": tb.resource.take(resource),
        "line_item_line_item_description": tb.description.take(unit_index),
        "line_item_usage_amount": pa.array(amount, type=pa.float64()),
        "line_item_unblended_cost": pa.array(cost, type=pa.float64()),
        "line_item_net_unblended_cost": pa.array(net, type=pa.float64()),
        "line_item_currency_code": pa.array(np.full(size, "USD"), type=pa.string()),
        "line_item_iam_principal": tb.principal.take(principal),
        "pricing_unit": tb.pricing_unit.take(unit_index),
        "product": (tb.product_map_new if period.new_product_data else tb.product_map_old).take(t),
        "product_product_family": (tb.product_family_new if period.new_product_data else tb.product_family_old).take(t),
        "product_product_name": tb.product_name.take(product_name),
        "product_region_code": tb.region_code.take(t),
        "product_servicecode": tb.servicecode.take(t),
        "resource_tags": tb.resource_tags.take(tag),
        "tags": tb.tags.take(tag),
    }
    if spread is not None:
        relabel(
            columns,
            spread,
            np.random.default_rng(np.random.SeedSequence([seed, period.year * 12 + period.month, chunk_index, 1])),
            size,
        )
    schema = arrow_schema()
    return pa.Table.from_arrays([columns[name] for name in schema.names], schema=schema)


def _validate(rows: int, months: int, seed: int, export_name: str) -> None:
    if rows <= 0:
        raise UserError(f"--rows: expected a positive number of rows per period, got {rows}")
    if not 1 <= months <= 120:
        raise UserError(f"--months: expected 1 to 120 billing periods, got {months}")
    if seed < 0:
        raise UserError(f"--seed: expected a non-negative integer, got {seed}")
    if not re.fullmatch(r"[A-Za-z0-9_\-]{1,128}", export_name):
        raise UserError(f"export name: expected letters, digits, '_' or '-', got {export_name!r}")


def generate_cur(
    out_dir: Path,
    period: str,
    *,
    rows: int,
    seed: int,
    months: int = 1,
    export_name: str = "bedrock-cost-tracker",
    progress: bool = False,
    max_rows_per_file: int = MAX_ROWS_PER_FILE,
    accounts: int | None = None,
    regions: int | None = None,
) -> list[Path]:
    """Write ``rows`` rows for ``period`` and each of the ``months - 1`` periods before it.

    Layout: ``out_dir/data/BILLING_PERIOD=YYYY-MM/<export_name>-00001.snappy.parquet``,
    one more file per ``max_rows_per_file`` rows. Earlier files of the same export in a
    partition are replaced, so re-running with fewer rows never leaves stale data that a
    report would count twice. Each file is written under a temporary name and renamed
    when complete, and stale files go only after the new ones are in place: a failed run
    never leaves a partial Parquet file. Returns the files written, oldest period first.
    ``accounts`` / ``regions`` spread the usage over that many accounts / regions (see
    ``_cur_spread.relabel``); ``None`` keeps the catalog's four accounts and three regions.
    """
    year, month = parse_period(period)
    _validate(rows, months, seed, export_name)
    spread = spread_of(accounts, regions)
    if max_rows_per_file <= 0:
        raise UserError(f"max rows per file: expected a positive number, got {max_rows_per_file}")
    schema = arrow_schema()
    bar = ProgressBar(rows * months, "generate-cur", enabled=progress)
    written: list[Path] = []
    for offset in range(months - 1, -1, -1):
        current = _Period.of(*_shift(year, month, -offset))
        partition = out_dir / "data" / f"BILLING_PERIOD={current.label}"
        try:
            partition.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"--out: cannot create {partition}: {exc.strerror or exc}") from None
        stale_files = set(partition.glob(f"{export_name}-*.snappy.parquet"))
        first_row = 0
        chunk_index = 0
        file_number = 0
        while first_row < rows:
            file_number += 1
            path = partition / f"{export_name}-{file_number:05d}.snappy.parquet"
            temporary = partition / f".{path.name}.partial"
            file_end = min(first_row + max_rows_per_file, rows)
            try:
                with pq.ParquetWriter(temporary, schema, compression="snappy") as writer:
                    while first_row < file_end:
                        size = min(CHUNK_ROWS, file_end - first_row)
                        writer.write_table(_chunk(current, seed, chunk_index, first_row, size, spread=spread))
                        first_row += size
                        chunk_index += 1
                        bar.advance(size)
                os.replace(temporary, path)
            except OSError as exc:
                temporary.unlink(missing_ok=True)
                raise UserError(f"--out: cannot write {path}: {exc.strerror or exc}") from None
            except BaseException:
                temporary.unlink(missing_ok=True)
                raise
            stale_files.discard(path)
            written.append(path)
        for stale in stale_files:
            stale.unlink()
    bar.close()
    return written
