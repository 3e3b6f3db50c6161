"""The Slack webhook URL is a credential: it never reaches a trace, an error message or a log.

X-Ray segments are captured with a custom emitter (the SDK's own serialisation of what
it would send to the daemon), with ``httplib`` deliberately patched: the worst case,
where something in the process patched every HTTP call.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from aws_xray_sdk import global_sdk_config
from aws_xray_sdk.core import patch, xray_recorder
from aws_xray_sdk.core.emitters.udp_emitter import UDPEmitter
from aws_xray_sdk.ext import httplib as xray_httplib

from bedrock_cost.adapters.slack_webhook import InvalidWebhookUrlError, RetryPolicy, SlackWebhook
from bedrock_cost.domain.aws_notifications import anomaly_concerns_bedrock
from bedrock_cost.observability import TRACED_MODULES
from tests.support.local_http import serving

pytestmark = pytest.mark.integration

SECRET_PATH = "/services/T0SECRET/B0SECRET/xoxSecretToken123"


class CapturingEmitter(UDPEmitter):
    """Keeps every segment document instead of sending it to the X-Ray daemon."""

    def __init__(self) -> None:
        super().__init__()
        self.documents: list[str] = []

    def send_entity(self, entity: Any) -> None:
        self.documents.append(entity.serialize())


class Ok(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._ok()

    def do_GET(self) -> None:
        self._ok()

    def _ok(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def server() -> Iterator[int]:
    with serving(Ok) as httpd:
        yield httpd.server_address[1]


@pytest.fixture
def emitter() -> Iterator[CapturingEmitter]:
    capturing = CapturingEmitter()
    was_enabled = global_sdk_config.sdk_enabled()
    global_sdk_config.set_sdk_enabled(True)  # the test suite disables tracing globally
    xray_recorder.configure(emitter=capturing, sampling=False, context_missing="LOG_ERROR")
    patch(["httplib"])
    try:
        yield capturing
    finally:
        xray_httplib.unpatch()
        xray_httplib.reset_ignored()
        global_sdk_config.set_sdk_enabled(was_enabled)


def test_the_webhook_url_never_reaches_an_xray_segment(server: int, emitter: CapturingEmitter) -> None:
    # Given X-Ray patching httplib and a segment open (as in a traced Lambda)
    webhook_url = f"http://127.0.0.1:{server}{SECRET_PATH}"
    control_url = f"http://localhost:{server}/control"
    xray_recorder.begin_segment("slack-notifier")
    try:
        # When the notifier posts to Slack, and some other HTTP call happens in the same trace
        SlackWebhook(webhook_url, RetryPolicy()).post({"text": "hi"}, deadline=1e12)
        with urllib.request.urlopen(control_url, timeout=5) as response:
            response.read()
    finally:
        xray_recorder.end_segment()
    documents = "\n".join(emitter.documents)
    # Then the capture works (the other call is recorded with its URL)...
    assert "/control" in documents
    # ...and the webhook's URL, path and token appear nowhere in the trace
    assert SECRET_PATH not in documents
    assert "xoxSecretToken123" not in documents
    assert all(json.loads(doc) for doc in emitter.documents)


def test_the_package_tracer_patches_only_botocore() -> None:
    assert TRACED_MODULES == ("botocore",)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.slack.com/services/T0 SECRET/B0/xoxSecretToken123",
        "https://hooks.slack.com/services/T0/B0/xoxSecretToken123\r\nX-Injected: 1",
        "https://hooks.slack.com/services/T0/B0/xoxSecret\tToken123",
        "https://hooks.slack.com/services/T0/B0/\x00xoxSecretToken123",
    ],
    ids=["inner-space", "crlf", "tab", "nul"],
)
def test_a_malformed_webhook_fails_without_quoting_it(url: str) -> None:
    with pytest.raises(InvalidWebhookUrlError) as failure:
        SlackWebhook(url)
    assert "xoxSecret" not in str(failure.value)
    assert "T0" not in str(failure.value)


def test_connection_errors_do_not_quote_the_url() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}{SECRET_PATH}"
    policy = RetryPolicy(attempt_timeout_seconds=0.2, base_delay_seconds=0.01, max_attempts=2, min_attempt_seconds=0.05)
    with pytest.raises(Exception, match="connection error") as failure:
        SlackWebhook(url, policy).post({"text": "hi"}, deadline=__import__("time").monotonic() + 2)
    assert "xoxSecretToken123" not in str(failure.value)
    assert str(port) not in str(failure.value)


@pytest.mark.parametrize(
    ("message", "forwarded"),
    [
        ({"anomalyId": "a", "impact": {"totalImpact": 10}, "dimensionalValue": "Amazon Elastic Compute Cloud"}, False),
        ({"anomalyId": "a", "impact": {"totalImpact": 10}, "rootCauses": [{"service": "Amazon S3"}]}, False),
        ({"anomalyId": "a", "impact": {"totalImpact": 10}, "dimensionalValue": "Amazon Bedrock"}, True),
        (
            {
                "anomalyId": "a",
                "impact": {"totalImpact": 10},
                "rootCauses": [{"service": "Amazon S3"}, {"service": "Claude 3.5 Haiku (Amazon Bedrock Edition)"}],
            },
            True,
        ),
        ({"anomalyId": "a", "impact": {"totalImpact": 10}, "monitorName": "tag team"}, True),
    ],
    ids=["ec2", "s3-root-cause", "bedrock", "marketplace-root-cause", "no-service-named"],
)
def test_only_bedrock_anomalies_are_forwarded_by_default(message: dict[str, Any], forwarded: bool) -> None:
    assert anomaly_concerns_bedrock(json.dumps(message)) is forwarded
