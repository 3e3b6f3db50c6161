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
from collections.abc import Iterable
from typing import Literal

Layout = Literal["cur2", "legacy", "unknown"]

_CUR2_FOLDER = re.compile(r"(?:^|/)BILLING_PERIOD=\d{4}-\d{2}/")
_LEGACY_FOLDERS = re.compile(r"(?:^|/)year=\d{4}/month=\d{1,2}/")

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
        if _CUR2_FOLDER.search(key):
            return "cur2"
        legacy = legacy or bool(_LEGACY_FOLDERS.search(key))
    return "legacy" if legacy else "unknown"


def legacy_cur_refusal(location: str) -> str:
    """The one-line error for a deployed CUR table whose location holds a legacy CUR."""
    return (
        f"--engine athena: {location} holds a legacy CUR (year=/month= folders), which the deployed "
        f"CUR 2.0 table cannot read (every figure would be $0): {CUR2_EXPORT_HINT}"
    )
