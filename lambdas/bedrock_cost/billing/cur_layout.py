"""Is a CUR folder a CUR 2.0 Data Export or a legacy CUR? Told from its object keys alone.

The deployed CUR table reads ``BILLING_PERIOD=YYYY-MM`` folders through partition
projection. A legacy CUR (CUR 1) writes ``year=YYYY/month=M`` folders and flat
``resource_tags_user_<key>`` columns instead, so a table pointed at one finds no partition
and every Athena report says $0, exit 0. The local engine normalises a legacy export (its
columns are known when the files are opened); the deployed table's columns are fixed at
deploy time, so ``report --engine athena`` refuses a legacy export and says how to create
the export it reads. Keys are enough to tell: no CUR 2.0 export writes ``year=/month=``
folders, and no legacy CUR writes ``BILLING_PERIOD=`` ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Layout = Literal["cur2", "legacy", "unknown"]

_PERIOD_DIR = re.compile(r"^billing_period=(\d{4}-\d{2})$", re.IGNORECASE)
_YEAR_DIR = re.compile(r"^year=(\d{4})$", re.IGNORECASE)
_MONTH_DIR = re.compile(r"^month=(\d{1,2})$", re.IGNORECASE)


@dataclass(frozen=True)
class PeriodFolder:
    """Where a path's folders name its billing period."""

    period: str
    """``YYYY-MM``."""
    depth: int
    """How many leading parts of the path make the folder that names it."""
    layout: Layout
    """``cur2`` (``BILLING_PERIOD=YYYY-MM``) or ``legacy`` (``year=YYYY/month=M``)."""


def period_folder(parts: Sequence[str]) -> PeriodFolder | None:
    """The first folder among ``parts`` that names a billing period, or None.

    One rule for both engines: the local engine reads periods from file paths with it, and
    the Athena check tells a CUR 2.0 export from a legacy one by the same folders.
    """
    for i, part in enumerate(parts):
        if m := _PERIOD_DIR.match(part):
            return PeriodFolder(m.group(1), i + 1, "cur2")
        if (y := _YEAR_DIR.match(part)) and i + 1 < len(parts) and (mo := _MONTH_DIR.match(parts[i + 1])):
            month = int(mo.group(1))
            if 1 <= month <= 12:
                return PeriodFolder(f"{y.group(1)}-{month:02d}", i + 2, "legacy")
    return None


CUR2_EXPORT_HINT = (
    "create a CUR 2.0 export (Billing and Cost Management > Data Exports > Create > Standard data "
    "export, 'CUR 2.0', Parquet) or deploy with cur.create_export: true, then point cur.bucket and "
    "cur.prefix at it"
)
"""What to do about a legacy CUR, in one clause (it ends the refusal's one line)."""


def export_layout(keys: Iterable[str]) -> Layout:
    """``cur2`` when a key sits in a ``BILLING_PERIOD=`` folder, else ``legacy`` when one sits in
    ``year=/month=`` folders, else ``unknown`` (no keys, or neither shape: nothing to refuse)."""
    legacy = False
    for key in keys:
        found = period_folder(key.split("/")[:-1])  # folders only, not the object's name
        if found is not None and found.layout == "cur2":
            return "cur2"
        legacy = legacy or found is not None
    return "legacy" if legacy else "unknown"


def legacy_cur_refusal(location: str) -> str:
    """The one-line error for a deployed CUR table whose location holds a legacy CUR."""
    return (
        f"--engine athena: {location} holds a legacy CUR (year=/month= folders), which the deployed "
        f"CUR 2.0 table cannot read (every figure would be $0): {CUR2_EXPORT_HINT}"
    )
