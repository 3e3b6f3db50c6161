"""Read the estimator's hour records of one UTC day back from S3 (for like-for-like drift).

Keys follow ``adapters.estimate_sink.hour_key``: ``<prefix>/dt=YYYY-MM-DD/region=<r>/….jsonl``;
one ``ListObjectsV2`` page per 1,000 objects (24 per region a day) and one ``GetObject``
each. Numbers are parsed as ``Decimal`` so money never passes through a float."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from bedrock_cost.adapters.aws_errors import translate_client_error

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class S3EstimateRecords:
    def __init__(self, client: S3Client, bucket: str, account_id: str, prefix: str = "estimates") -> None:
        self._client = client
        self._bucket = bucket
        self._prefix = prefix.strip("/")
        self.account_id = account_id

    def records(self, day: date) -> list[dict[str, Any]]:
        prefix = f"{self._prefix}/dt={day.isoformat()}/"
        out: list[dict[str, Any]] = []
        try:
            for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self._bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    body = self._client.get_object(Bucket=self._bucket, Key=item["Key"])["Body"].read()
                    out += [json.loads(line, parse_float=Decimal) for line in body.decode("utf-8").splitlines() if line]
        except ClientError as exc:
            raise translate_client_error(exc, f"reading s3://{self._bucket}/{prefix}") from exc
        return out
