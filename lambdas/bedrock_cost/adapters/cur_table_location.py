"""What lies where the deployed CUR table reads: Glue ``GetTable``, then one S3 list.

``report --engine athena`` asks before its first query, so a stack pointed at a legacy
CUR fails with one line saying what to create instead of reporting $0 (the rule:
:mod:`bedrock_cost.billing.cur_layout`). Two read calls per command, both free or nearly
(a ``ListObjectsV2`` is $0.000005). The check is advisory: when it cannot ask (no
``glue:GetTable`` or ``s3:ListBucket``, an endpoint down), the report goes on and its own
queries say what is wrong, with Athena's reason.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bedrock_cost.billing.cur_layout import export_layout, legacy_cur_refusal
from bedrock_cost.errors import UserError

LISTED_KEYS = 1000
"""One ``ListObjectsV2`` page: the period folders show in the first keys of an export."""


def split_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/a/b/`` -> (``bucket``, ``a/b/``); the prefix ends with ``/`` unless empty."""
    if not url.startswith("s3://"):
        raise ValueError(f"not an s3:// location: {url!r}")
    bucket, _, prefix = url[len("s3://") :].partition("/")
    prefix = prefix.strip("/")
    return bucket, f"{prefix}/" if prefix else ""


def _parent(prefix: str) -> str:
    head, _, _ = prefix.rstrip("/").rpartition("/")
    return f"{head}/" if head else ""


def _keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    page = s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=LISTED_KEYS)
    return [str(item["Key"]) for item in page.get("Contents", [])]


def refuse_legacy_cur(glue: Any, s3: Any, *, database: str, table: str) -> None:
    """Raise ``UserError`` when the table's location holds a legacy CUR, else return.

    The stack's table reads ``<prefix>/<export>/data/``; a legacy report of the same name
    writes ``<prefix>/<export>/<export>/year=...``, beside ``data/``, so an empty location
    is followed by one list of its parent folder.
    """
    try:
        found = glue.get_table(DatabaseName=database, Name=table)
        location = str(found["Table"]["StorageDescriptor"]["Location"])
        bucket, prefix = split_s3_url(location)
        keys = _keys(s3, bucket, prefix)
        if not keys and prefix:
            keys = _keys(s3, bucket, _parent(prefix))
    except (ClientError, BotoCoreError, KeyError, ValueError):
        return
    if export_layout(keys) == "legacy":
        raise UserError(legacy_cur_refusal(f"s3://{bucket}/{prefix}"))
