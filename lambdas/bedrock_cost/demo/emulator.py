"""The AWS stand-in for the demo: a moto server on 127.0.0.1, and the environment to reach it.

The demo runs the real handlers and adapters with boto3; they reach moto because every
client gets ``endpoint_url`` and, as a safety net, because ``AWS_ENDPOINT_URL`` points at
the emulator for the whole run: a client that forgot its endpoint still never reaches a
real account. Credentials are dummies, and the previous environment is restored after.

In AWS, a Lambda's embedded-metric-format (EMF) log lines become CloudWatch metrics
through CloudWatch Logs. ``EmfForwarder`` plays that part: it reads what the handlers
print and puts the metrics into the emulator, so the dashboard's metrics exist there.
"""

from __future__ import annotations

import io
import json
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from bedrock_cost.adapters.aws_errors import translate_client_error
from bedrock_cost.errors import BedrockCostError

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import MetricDatumTypeDef

READY_TIMEOUT_SECONDS = 15.0


class EmulatorError(BedrockCostError):
    """The local AWS emulator did not come up."""


def demo_environment(endpoint_url: str, region: str, scratch: Path) -> dict[str, str]:
    """Variables that point every AWS SDK call of this process at the emulator."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_ENDPOINT_URL": endpoint_url,
        # Ignore the user's own profiles and credentials files entirely.
        "AWS_CONFIG_FILE": str(scratch / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(scratch / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }


@contextmanager
def patched_environment(values: Mapping[str, str], unset: tuple[str, ...] = ("AWS_PROFILE",)) -> Iterator[None]:
    """Set ``values`` (and remove ``unset``) for the block; put everything back afterwards."""
    saved = {name: os.environ.get(name) for name in (*values, *unset)}
    try:
        for name in unset:
            os.environ.pop(name, None)
        os.environ.update(values)
        yield
    finally:
        for name, previous in saved.items():
            if previous is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = previous


def _wait_until_ready(url: str, timeout: float) -> None:
    """Poll moto's reset-free health endpoint with backoff until it answers or the deadline passes."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    last_error = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=2) as response:  # noqa: S310 - our own 127.0.0.1 server
                if response.status == 200:
                    return
                last_error = f"HTTP {response.status}"
        except (urllib.error.URLError, OSError) as exc:
            last_error = str(exc)
        time.sleep(delay)
        delay = min(delay * 2, 1.0)
    raise EmulatorError(f"moto server at {url} not ready after {timeout:.0f} s: {last_error}")


@contextmanager
def moto_server(timeout: float = READY_TIMEOUT_SECONDS) -> Iterator[str]:
    """Start moto on 127.0.0.1 on a free port; yield its URL; stop it afterwards."""
    access_log = logging.getLogger("werkzeug")
    previous_level = access_log.level
    access_log.setLevel(logging.WARNING)  # one line per AWS call would drown the demo's output
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        _wait_until_ready(url, timeout)
        yield url
    finally:
        server.stop()
        access_log.setLevel(previous_level)


_STANDARD_UNITS = frozenset(
    [
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Bytes",
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Bits",
        "Kilobits",
        "Megabits",
        "Gigabits",
        "Terabits",
        "Percent",
        "Count",
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
        "Bits/Second",
        "Kilobits/Second",
        "Megabits/Second",
        "Gigabits/Second",
        "Terabits/Second",
        "Count/Second",
        "None",
    ]
)
PUT_BATCH = 500
"""PutMetricData accepts up to 1,000 metrics per call; stay well under."""


def emf_to_datums(record: Mapping[str, Any]) -> list[tuple[str, MetricDatumTypeDef]]:
    """(namespace, datum) for each metric x dimension set x value of one EMF record."""
    directive = record["_aws"]
    when = datetime.fromtimestamp(int(directive["Timestamp"]) / 1000, UTC)
    out: list[tuple[str, MetricDatumTypeDef]] = []
    for block in directive.get("CloudWatchMetrics", []):
        for definition in block.get("Metrics", []):
            name = definition["Name"]
            raw = record[name]
            values: list[Any] = raw if isinstance(raw, list) else [raw]
            for dimension_set in block.get("Dimensions", [[]]):
                dimensions = [{"Name": key, "Value": str(record[key])} for key in dimension_set]
                for value in values:
                    datum: MetricDatumTypeDef = {
                        "MetricName": name,
                        "Dimensions": dimensions,  # type: ignore[typeddict-item]
                        "Timestamp": when,
                        "Value": float(value),
                    }
                    if definition.get("Unit") in _STANDARD_UNITS:
                        datum["Unit"] = definition["Unit"]
                    if definition.get("StorageResolution") in (1, 60):
                        datum["StorageResolution"] = int(definition["StorageResolution"])
                    out.append((block["Namespace"], datum))
    return out


class EmfForwarder(io.TextIOBase):
    """A stdout stand-in: every line goes to ``log``; EMF records also go to CloudWatch.

    Lines are parsed when complete; ``flush()`` sends what is pending. A malformed EMF
    record is a bug in a handler, so it fails the step instead of vanishing.
    """

    def __init__(self, log: TextIO, cloudwatch: CloudWatchClient, emf_log: TextIO | None = None) -> None:
        super().__init__()
        self._log = log
        self._emf_log = emf_log
        """Where EMF records go instead of ``log`` (the demo keeps them out of demo.log)."""
        self._cloudwatch = cloudwatch
        self._partial = ""
        self._pending: list[tuple[str, MetricDatumTypeDef]] = []
        self.forwarded = 0
        self.published: set[tuple[str, str]] = set()
        """(namespace, metric name) of every datum the emulator accepted."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._partial += text
        while "\n" in self._partial:
            line, self._partial = self._partial.split("\n", 1)
            self._consume(line)
        return len(text)

    def _consume(self, line: str) -> None:
        stripped = line.strip()
        is_emf = stripped.startswith('{"_aws"')
        (self._emf_log if is_emf and self._emf_log is not None else self._log).write(line + "\n")
        if not is_emf:
            return
        try:
            self._pending.extend(emf_to_datums(json.loads(stripped)))
        except (ValueError, KeyError, TypeError) as exc:
            raise BedrockCostError(f"malformed EMF record ({exc}): {stripped[:200]}") from exc

    def flush(self) -> None:
        if self._partial:
            line, self._partial = self._partial, ""
            self._consume(line)
        self._log.flush()
        if self._emf_log is not None:
            self._emf_log.flush()
        by_namespace: dict[str, list[MetricDatumTypeDef]] = {}
        for namespace, datum in self._pending:
            by_namespace.setdefault(namespace, []).append(datum)
        self._pending = []
        for namespace, datums in by_namespace.items():
            for start in range(0, len(datums), PUT_BATCH):
                batch = datums[start : start + PUT_BATCH]
                try:
                    self._cloudwatch.put_metric_data(Namespace=namespace, MetricData=batch)
                except ClientError as exc:
                    raise translate_client_error(exc, f"forwarding EMF metrics to {namespace}") from exc
                self.forwarded += len(batch)
                self.published.update((namespace, d["MetricName"]) for d in batch)
