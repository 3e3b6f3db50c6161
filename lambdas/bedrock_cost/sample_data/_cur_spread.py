"""``generate-cur --accounts N --regions R``: spread generated usage over more accounts and regions.

For scale checks (an organisation of 50 accounts x 4 regions): the generator's rows are
relabelled from a random stream of their own, so its default output stays byte-identical.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bedrock_cost.errors import UserError
from bedrock_cost.sample_data import _cur_catalog as cat


@dataclass(frozen=True)
class Spread:
    """``--accounts`` / ``--regions``: usage relabelled over more accounts and regions (scale checks)."""

    accounts: tuple[str, ...] | None
    regions: tuple[str, ...] | None


def relabel(columns: dict[str, Any], spread: Spread, rng: np.random.Generator, size: int) -> None:
    """Draw each row's usage account and region uniformly from the spread, from a stream of its own.

    The default stream is untouched, so without the knobs the output is byte-for-byte what it
    was. Only ``line_item_usage_account_id`` and ``product_region_code`` change (rows without a
    region keep none); ARNs, usage-type prefixes and principals keep the catalog's values.
    """
    if spread.accounts is not None:
        ids = pa.array(spread.accounts, type=pa.string())
        columns["line_item_usage_account_id"] = ids.take(rng.integers(0, len(spread.accounts), size))
    if spread.regions is not None:
        names = pa.array(spread.regions, type=pa.string())
        original = columns["product_region_code"]
        drawn = names.take(rng.integers(0, len(spread.regions), size))
        columns["product_region_code"] = pc.if_else(pc.is_null(original), original, drawn)


def spread_of(accounts: int | None, regions: int | None) -> Spread | None:
    if accounts is None and regions is None:
        return None
    if accounts is not None and not 1 <= accounts <= cat.MAX_SCALE_ACCOUNTS:
        raise UserError(f"--accounts: expected 1 to {cat.MAX_SCALE_ACCOUNTS} usage accounts, got {accounts}")
    if regions is not None and not 1 <= regions <= len(cat.SCALE_REGIONS):
        raise UserError(f"--regions: expected 1 to {len(cat.SCALE_REGIONS)} regions, got {regions}")
    return Spread(
        accounts=None if accounts is None else cat.scale_account_ids(accounts),
        regions=None if regions is None else cat.SCALE_REGIONS[:regions],
    )
