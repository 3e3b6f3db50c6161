"""Spec of the Slack notifier against a real HTTP server and moto.

A scripted stand-in for the Slack webhook runs on 127.0.0.1 (started and stopped by the
tests). SNS deliveries come from moto: alerts are published to a moto topic and relayed
through an SQS subscription into the exact Lambda event SNS would send. The webhook URL
lives in moto's Secrets Manager; the idempotency records in moto's DynamoDB.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pydantic import ValidationError

from bedrock_cost.adapters.secrets import SecretCache, SecretFormatError, webhook_url_from_secret
from bedrock_cost.adapters.slack_webhook import (
    InvalidWebhookUrlError,
    RetryPolicy,
    SlackDeliveryError,
    SlackRejectedError,
    SlackUnconfirmedError,
    SlackWebhook,
)
from bedrock_cost.demo.sns_relay import SnsRelay
from bedrock_cost.domain.alerts import Alert
from bedrock_cost.errors import NotFound
from bedrock_cost.handlers import slack_notifier
from bedrock_cost.handlers.wiring import InvalidEnvironmentError
from tests.support.lambda_context import lambda_context
from tests.support.local_http import serving

pytestmark = pytest.mark.integration

REGION = "us-east-1"
ACCOUNT = "123456789012"
SAMPLES = Path(__file__).resolve().parents[1] / "snapshots" / "aws_samples"
FAST = RetryPolicy(
    attempt_timeout_seconds=0.5, base_delay_seconds=0.05, max_delay_seconds=0.2, max_attempts=5, min_attempt_seconds=0.2
)


# --------------------------------------------------------------------------- scripted Slack


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    hang_seconds: float = 0.0
    answer_after_hang: bool = False


OK = Reply()
HANG = Reply(hang_seconds=3.0)
LATE_OK = Reply(hang_seconds=1.0, answer_after_hang=True)
"""Slack posted the message but answered 200 after our 0.5 s attempt timeout."""


def closed_port_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens (connection refused)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks/down"


@dataclass
class Received:
    path: str
    payload: Any
    at: float


class ScriptedSlack:
    def __init__(self) -> None:
        self.scripts: dict[str, list[Reply]] = {}
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self.base_url = ""

    def script(self, path: str, *replies: Reply) -> str:
        self.scripts[path] = list(replies)
        return self.base_url + path

    def next_reply(self, path: str) -> Reply:
        with self._lock:
            script = self.scripts.get(path) or [OK]
            return script.pop(0) if len(script) > 1 else script[0]

    def record(self, path: str, body: bytes) -> None:
        try:
            payload: Any = json.loads(body)
        except ValueError:
            payload = body.decode("utf-8", "replace")
        with self._lock:
            self.received.append(Received(path, payload, time.monotonic()))

    def posts(self, path: str) -> list[Any]:
        with self._lock:
            return [r.payload for r in self.received if r.path == path]


def _handler(slack: ScriptedSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            slack.record(self.path, self.rfile.read(length))
            reply = slack.next_reply(self.path)
            if reply.hang_seconds:
                time.sleep(reply.hang_seconds)
                if not reply.answer_after_hang:
                    return  # close without answering, like a dead upstream
            body = reply.body.encode()
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output clean."""

    return Handler


@contextmanager
def scripted_slack() -> Iterator[ScriptedSlack]:
    slack = ScriptedSlack()
    with serving(_handler(slack), name="scripted-slack") as server:
        host, port = server.server_address[:2]
        slack.base_url = f"http://{host!s}:{port}"
        yield slack


@pytest.fixture
def slack() -> Iterator[ScriptedSlack]:
    with scripted_slack() as server:
        yield server


# --------------------------------------------------------------------------- the webhook adapter


class SleepRecorder:
    """Records the waits the adapter asks for, and lets the clock move accordingly."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.offset = 0.0

    def clock(self) -> float:
        return time.monotonic() + self.offset

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.offset += seconds


def webhook(url: str, recorder: SleepRecorder, policy: RetryPolicy = FAST) -> SlackWebhook:
    return SlackWebhook(url, policy, clock=recorder.clock, sleep=recorder.sleep, jitter=lambda low, high: high)


def test_200_is_one_attempt(slack: ScriptedSlack) -> None:
    recorder = SleepRecorder()
    url = slack.script("/ok", OK)
    assert webhook(url, recorder).post({"text": "hi"}, deadline=recorder.clock() + 10) == 1
    assert slack.posts("/ok") == [{"text": "hi"}]
    assert recorder.waits == []


def test_429_waits_exactly_retry_after_then_succeeds(slack: ScriptedSlack) -> None:
    recorder = SleepRecorder()
    url = slack.script("/limited", Reply(429, "rate_limited", {"Retry-After": "7"}), OK)
    assert webhook(url, recorder).post({"text": "hi"}, deadline=recorder.clock() + 60) == 2
    assert recorder.waits == [7.0]
    assert len(slack.posts("/limited")) == 2


def test_500_backs_off_exponentially_then_succeeds(slack: ScriptedSlack) -> None:
    recorder = SleepRecorder()
    url = slack.script("/flaky", Reply(500, "oops"), Reply(502, "bad gateway"), Reply(503, "busy"), OK)
    assert webhook(url, recorder).post({"text": "hi"}, deadline=recorder.clock() + 60) == 4
    # full jitter up to the cap: base 0.05 doubling, capped at 0.2
    assert recorder.waits == [0.05, 0.1, 0.2]


def test_a_slack_that_received_the_post_but_hangs_is_not_posted_again(slack: ScriptedSlack) -> None:
    # Given Slack reads the request, then does not answer within the attempt timeout
    recorder = SleepRecorder()
    url = slack.script("/hang-once", HANG, OK)
    started = time.monotonic()
    # Then the post is reported unconfirmed after one attempt, cut at 0.5 s (not the server's 3 s)
    with pytest.raises(SlackUnconfirmedError, match="may have been delivered") as failure:
        webhook(url, recorder).post({"text": "hi"}, deadline=recorder.clock() + 10)
    assert time.monotonic() - started < 2.5
    assert failure.value.attempts == 1
    # And nothing was re-posted: Slack has no idempotency key to make a retry safe
    assert len(slack.posts("/hang-once")) == 1


def test_a_refused_connection_is_retried_until_the_deadline() -> None:
    # Given nothing listening: no request can have reached Slack
    started = time.monotonic()
    with pytest.raises(SlackDeliveryError, match="connection error") as failure:
        SlackWebhook(closed_port_url(), FAST).post({"text": "hi"}, deadline=time.monotonic() + 1.5)
    assert not isinstance(failure.value, SlackUnconfirmedError)
    assert time.monotonic() - started < 2.0
    assert failure.value.attempts >= 2


def test_400_is_rejected_at_once_with_slacks_reason(slack: ScriptedSlack) -> None:
    recorder = SleepRecorder()
    url = slack.script("/bad", Reply(400, "invalid_blocks"))
    with pytest.raises(SlackRejectedError, match="invalid_blocks") as failure:
        webhook(url, recorder).post({"blocks": []}, deadline=recorder.clock() + 60)
    assert failure.value.status == 400
    assert failure.value.attempts == 1
    assert len(slack.posts("/bad")) == 1


def test_retries_stop_at_max_attempts(slack: ScriptedSlack) -> None:
    recorder = SleepRecorder()
    url = slack.script("/down", Reply(503, "down"))
    with pytest.raises(SlackDeliveryError, match="retries exhausted"):
        webhook(url, recorder).post({"text": "hi"}, deadline=recorder.clock() + 600)
    assert len(slack.posts("/down")) == FAST.max_attempts


def test_a_retry_after_beyond_the_deadline_gives_up_early(slack: ScriptedSlack) -> None:
    recorder = SleepRecorder()
    url = slack.script("/slow-down", Reply(429, "rate_limited", {"Retry-After": "30"}))
    with pytest.raises(SlackDeliveryError, match="no time left"):
        webhook(url, recorder).post({"text": "hi"}, deadline=recorder.clock() + 5)
    assert recorder.waits == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "hooks.slack.com/services/x", ""])
def test_only_http_urls_are_accepted(url: str) -> None:
    with pytest.raises(InvalidWebhookUrlError):
        SlackWebhook(url)


# --------------------------------------------------------------------------- the handler


@dataclass
class Account:
    """The emulated account: topic, relay to the handler, secret, idempotency table."""

    sns: Any
    secrets: Any
    dynamodb: Any
    topic_arn: str
    relay: SnsRelay
    secret_id: str = "bedrock-cost/slack-webhook"
    table: str = "notifier-idempotency"
    sent: list[str] = field(default_factory=list)

    def point_webhook_at(self, url: str) -> None:
        self.secrets.put_secret_value(SecretId=self.secret_id, SecretString=json.dumps({"url": url}))
        slack_notifier.configure(
            slack_notifier.build_notifier(
                secrets_client=self.secrets,
                dynamodb_client=self.dynamodb,
                env=slack_notifier.SlackNotifierEnvironment(
                    SLACK_WEBHOOK_SECRET_ID=self.secret_id, IDEMPOTENCY_TABLE_NAME=self.table
                ),
                retry=FAST,
            )
        )

    def publish(self, message: str, subject: str | None = None) -> None:
        kwargs: dict[str, Any] = {"TopicArn": self.topic_arn, "Message": message}
        if subject:
            kwargs["Subject"] = subject
        self.sent.append(self.sns.publish(**kwargs)["MessageId"])

    def deliveries(self) -> list[dict[str, Any]]:
        return self.relay.drain()


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "slack-notifier")
    with mock_aws():
        sns = boto3.client("sns", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        secrets = boto3.client("secretsmanager", region_name=REGION)
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        topic_arn = sns.create_topic(Name="alerts")["TopicArn"]
        dynamodb.create_table(
            TableName="notifier-idempotency",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        secrets.create_secret(Name="bedrock-cost/slack-webhook", SecretString="placeholder")
        world = Account(sns, secrets, dynamodb, topic_arn, SnsRelay(sns, sqs, topic_arn))
        yield world


def budget_alert(dedupe_key: str = "budget#2026-11#tag:team=ml#90") -> Alert:
    return Alert(
        kind="budget_threshold",
        dedupe_key=dedupe_key,
        title="team=ml passed 90 % of its monthly Bedrock budget",
        severity="warning",
        period="2026-11",
        figures={"spent_usd": "7315.42", "budget_usd": "8000"},
        subject={"tag_key": "team", "tag_value": "ml"},
    )


def invoke(event: dict[str, Any], remaining_ms: int = 20_000) -> dict[str, Any]:
    result: dict[str, Any] = slack_notifier.handler(
        event, lambda_context("slack-notifier", memory_limit_in_mb=256, remaining_ms=remaining_ms)
    )
    return result


def emitted_metrics(output: str) -> dict[str, float]:
    """Sum every EMF metric printed by Powertools."""
    totals: dict[str, float] = {}
    for line in output.splitlines():
        if '"_aws"' not in line:
            continue
        document = json.loads(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                totals[metric["Name"]] = totals.get(metric["Name"], 0) + (
                    sum(value) if isinstance(value, list) else value
                )
    return totals


def test_our_alert_becomes_one_block_kit_message(
    account: Account, slack: ScriptedSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given Slack answers 200 and a budget alert is published to the topic
    account.point_webhook_at(slack.script("/hooks/ok", OK))
    alert = budget_alert()
    account.publish(alert.to_json(), alert.sns_subject)
    (event,) = account.deliveries()
    # When SNS invokes the notifier
    result = invoke(event)
    # Then Slack got one message whose header is the alert's title
    (posted,) = slack.posts("/hooks/ok")
    assert posted["blocks"][0]["text"]["text"] == ":warning: team=ml passed 90 % of its monthly Bedrock budget"
    assert result["delivered"] == [
        {
            "message_id": account.sent[0],
            "status": "sent",
            "origin": "envelope",
            "kind": "budget_threshold",
            "attempts": 1,
        }
    ]
    assert emitted_metrics(capsys.readouterr().out)["NotificationsSent"] == 1


def test_the_same_sns_message_twice_posts_once(
    account: Account, slack: ScriptedSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given one SNS message delivered twice (SNS is at-least-once)
    account.point_webhook_at(slack.script("/hooks/ok", OK))
    account.publish((SAMPLES / "cost_anomaly.json").read_text(encoding="utf-8"))
    (event,) = account.deliveries()
    # When the notifier is invoked twice with it
    first = invoke(event)
    second = invoke(event)
    # Then Slack received exactly one message and the second run says why
    assert len(slack.posts("/hooks/ok")) == 1
    assert first["delivered"][0]["status"] == "sent"
    assert second["delivered"][0]["status"] == "duplicate"
    assert second["delivered"][0]["origin"] == "cost_anomaly"
    metrics = emitted_metrics(capsys.readouterr().out)
    assert metrics["NotificationsSent"] == 1
    assert metrics["NotificationsDeduplicated"] == 1


def test_the_same_alert_published_twice_posts_once(account: Account, slack: ScriptedSlack) -> None:
    # Given a producer that published the same alert twice (two SNS messages, one dedupe key)
    account.point_webhook_at(slack.script("/hooks/ok", OK))
    alert = budget_alert()
    account.publish(alert.to_json(), alert.sns_subject)
    account.publish(alert.to_json(), alert.sns_subject)
    events = account.deliveries()
    assert len(events) == 2
    assert events[0]["Records"][0]["Sns"]["MessageId"] != events[1]["Records"][0]["Sns"]["MessageId"]
    # When both are handled
    results = [invoke(event) for event in events]
    # Then one Slack message; the second is recognised as a duplicate by its dedupe key
    assert len(slack.posts("/hooks/ok")) == 1
    assert [r["delivered"][0]["status"] for r in results] == ["sent", "duplicate"]
    # And another alert (new threshold) still goes through
    other = budget_alert("budget#2026-11#tag:team=ml#100")
    account.publish(other.to_json(), other.sns_subject)
    (event,) = account.deliveries()
    invoke(event)
    assert len(slack.posts("/hooks/ok")) == 2


@pytest.mark.parametrize(
    ("sample", "subject", "header"),
    [
        (
            "budgets_actual.txt",
            "AWS Budgets: BedrockCostTracker team=ml monthly has exceeded your alert threshold",
            ":warning: Budget BedrockCostTracker team=ml monthly has reached $7,315.42 of $8,000.00",
        ),
        (
            "cloudwatch_composite.json",
            "ALARM: spike and anomaly",
            ":rotating_light: A token spike while total estimated cost is above its anomaly band: page someone",
        ),
        ("cost_anomaly.json", None, ":rotating_light: Cost anomaly: Claude Sonnet 4.6 (Amazon Bedrock Edition)"),
    ],
)
def test_native_aws_notifications_on_the_topic_are_rendered(
    account: Account, slack: ScriptedSlack, sample: str, subject: str | None, header: str
) -> None:
    account.point_webhook_at(slack.script("/hooks/ok", OK))
    account.publish((SAMPLES / sample).read_text(encoding="utf-8"), subject)
    (event,) = account.deliveries()
    invoke(event)
    (posted,) = slack.posts("/hooks/ok")
    assert posted["blocks"][0]["text"]["text"] == header


def test_an_unrecognised_message_is_forwarded_verbatim_not_dropped(
    account: Account, slack: ScriptedSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    account.point_webhook_at(slack.script("/hooks/ok", OK))
    account.publish("Manual test from the console", "Hello")
    (event,) = account.deliveries()
    result = invoke(event)
    (posted,) = slack.posts("/hooks/ok")
    assert "Manual test from the console" in posted["blocks"][1]["text"]["text"]
    assert result["delivered"][0]["origin"] == "unrecognised"
    assert emitted_metrics(capsys.readouterr().out)["UnrecognisedNotifications"] == 1


def test_429_then_200_through_the_handler(account: Account, slack: ScriptedSlack) -> None:
    account.point_webhook_at(slack.script("/hooks/busy", Reply(429, "rate_limited", {"Retry-After": "1"}), OK))
    account.publish(budget_alert().to_json())
    (event,) = account.deliveries()
    started = time.monotonic()
    result = invoke(event)
    assert time.monotonic() - started >= 1.0  # Retry-After honoured
    assert result["delivered"][0]["attempts"] == 2
    assert len(slack.posts("/hooks/busy")) == 2


def test_500_then_200_through_the_handler(account: Account, slack: ScriptedSlack) -> None:
    account.point_webhook_at(slack.script("/hooks/flaky", Reply(500, "oops"), OK))
    account.publish(budget_alert().to_json())
    (event,) = account.deliveries()
    assert invoke(event)["delivered"][0]["attempts"] == 2


def test_slack_answering_200_after_the_timeout_posts_once(
    account: Account, slack: ScriptedSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given Slack accepts the post but answers after the attempt timeout
    account.point_webhook_at(slack.script("/hooks/late", LATE_OK, OK))
    account.publish(budget_alert().to_json())
    (event,) = account.deliveries()
    # When the notifier runs, and Lambda (or a redrive) runs the same event again
    first = invoke(event)
    second = invoke(event)
    # Then Slack shows the message once; the delivery is recorded as unconfirmed, not failed
    time.sleep(0.8)  # let the late answer finish
    assert len(slack.posts("/hooks/late")) == 1
    assert first["delivered"][0]["status"] == "unconfirmed"
    assert second["delivered"][0]["status"] == "duplicate"
    assert emitted_metrics(capsys.readouterr().out)["NotificationsUnconfirmed"] == 1


def test_failed_delivery_fails_the_invocation_and_loses_nothing(
    account: Account, slack: ScriptedSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given Slack unreachable (connection refused) and the invocation has 4 s left
    account.point_webhook_at(closed_port_url())
    alert = budget_alert()
    account.publish(alert.to_json(), alert.sns_subject)
    (event,) = account.deliveries()
    # When the notifier runs, Then the invocation fails (Lambda sends the event to the DLQ)
    started = time.monotonic()
    with pytest.raises(SlackDeliveryError, match="connection error"):
        invoke(event, remaining_ms=4_000)
    assert time.monotonic() - started < 4.0  # stopped before the Lambda timeout
    assert emitted_metrics(capsys.readouterr().out)["NotificationFailures"] == 1
    # And when the event is redriven after Slack recovers, the alert is delivered once
    account.point_webhook_at(slack.script("/hooks/recovered", OK))
    assert invoke(event)["delivered"][0]["status"] == "sent"
    assert len(slack.posts("/hooks/recovered")) == 1


def test_a_rejected_message_fails_the_invocation_at_once(account: Account, slack: ScriptedSlack) -> None:
    account.point_webhook_at(slack.script("/hooks/revoked", Reply(404, "no_service")))
    account.publish(budget_alert().to_json())
    (event,) = account.deliveries()
    with pytest.raises(SlackRejectedError, match="no_service"):
        invoke(event)
    assert len(slack.posts("/hooks/revoked")) == 1


def test_cold_start_reads_its_environment_and_fails_loudly_without_it(
    account: Account, slack: ScriptedSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given no notifier installed: the handler builds one from the environment
    account.secrets.put_secret_value(SecretId=account.secret_id, SecretString=slack.script("/hooks/env", OK))
    monkeypatch.setenv("SLACK_WEBHOOK_SECRET_ID", account.secret_id)
    monkeypatch.delenv("IDEMPOTENCY_TABLE_NAME", raising=False)
    account.publish(budget_alert().to_json())
    (event,) = account.deliveries()
    # Then a missing variable is named
    with pytest.raises(InvalidEnvironmentError, match="IDEMPOTENCY_TABLE_NAME"):
        invoke(event)
    # And with it, the bare-URL secret works
    monkeypatch.setenv("IDEMPOTENCY_TABLE_NAME", account.table)
    invoke(event)
    assert len(slack.posts("/hooks/env")) == 1


def test_a_malformed_event_is_an_error_not_a_silent_success(account: Account) -> None:
    account.point_webhook_at("http://127.0.0.1:9/never")
    with pytest.raises(ValidationError):
        invoke({"Records": [{"Sns": {"Message": "no id"}}]})


# --------------------------------------------------------------------------- the webhook secret


def test_secret_cache_rereads_after_its_ttl_and_translates_errors(account: Account) -> None:
    # Given a cache with a 300 s TTL on a controllable clock
    now = [1000.0]
    cache = SecretCache(account.secrets, ttl_seconds=300, clock=lambda: now[0])
    account.secrets.put_secret_value(SecretId=account.secret_id, SecretString="https://hooks.slack.com/services/A")
    assert cache.get(account.secret_id) == "https://hooks.slack.com/services/A"
    # When the secret rotates, Then the cached value is used until the TTL passes
    account.secrets.put_secret_value(SecretId=account.secret_id, SecretString="https://hooks.slack.com/services/B")
    now[0] += 299
    assert cache.get(account.secret_id).endswith("/A")
    now[0] += 2
    assert cache.get(account.secret_id).endswith("/B")
    # And a missing secret is a NotFound naming it
    with pytest.raises(NotFound, match="reading secret bedrock-cost/missing"):
        cache.get("bedrock-cost/missing")


def test_binary_secrets_are_refused(account: Account) -> None:
    account.secrets.create_secret(Name="bedrock-cost/binary", SecretBinary=b"\x00\x01")
    with pytest.raises(SecretFormatError, match="no string value"):
        SecretCache(account.secrets).get("bedrock-cost/binary")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://hooks.slack.com/services/X", "https://hooks.slack.com/services/X"),
        ('{"url": "https://hooks.slack.com/services/Y"}', "https://hooks.slack.com/services/Y"),
        ('{"webhook_url": " https://hooks.slack.com/services/Z "}', "https://hooks.slack.com/services/Z"),
    ],
)
def test_webhook_secret_may_be_a_url_or_json(value: str, expected: str) -> None:
    assert webhook_url_from_secret(value, "s") == expected


@pytest.mark.parametrize(
    ("value", "reason"), [("{not json", "does not parse"), ('{"token": "x"}', "without any"), ("  ", "empty")]
)
def test_malformed_webhook_secrets_are_named_without_echoing_them(value: str, reason: str) -> None:
    with pytest.raises(SecretFormatError, match=reason) as failure:
        webhook_url_from_secret(value, "bedrock-cost/slack")
    assert "bedrock-cost/slack" in str(failure.value)
    assert "token" not in str(failure.value).replace("keys", "")
