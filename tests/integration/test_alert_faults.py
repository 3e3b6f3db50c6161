"""Alert publishing under injected faults: exactly one message reaches the topic's subscriber.

moto's SNS delivers to an SQS subscription (the ``sqs`` entry of the JSON structure);
DynamoDB holds the claims. Faults are injected through botocore's event system (the
same place a real connection error or timeout surfaces) and a clock we move.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from moto import mock_aws

from bedrock_cost.adapters.alert_publisher import CLAIM_LEASE_SECONDS, AlertPublisher
from bedrock_cost.adapters.claims import TokenClaims, new_token
from bedrock_cost.demo.state_table import create_state_table
from bedrock_cost.domain.alerts import Alert
from tests.support.alert_inbox import AlertInbox

pytestmark = pytest.mark.integration

REGION = "us-east-1"
TABLE = "state"
ALERT = Alert(
    kind="budget_threshold",
    dedupe_key="budget#team=ml#2026-11#80",
    title="team=ml reached 80 % of its monthly budget",
    severity="warning",
    period="2026-11",
    figures={"spent_usd": "6400.00", "budget_usd": "8000.00", "threshold_pct": "80"},
    subject={"tag_key": "team", "tag_value": "ml"},
)


@dataclass
class World:
    sns: Any
    inbox: AlertInbox
    dynamodb: Any
    clock: list[float]

    def publisher(self, dynamodb: Any | None = None) -> AlertPublisher:
        return AlertPublisher(
            self.sns, self.inbox.topic_arn, dynamodb or self.dynamodb, TABLE, clock=lambda: self.clock[0]
        )

    def received(self) -> list[dict[str, Any]]:
        return self.inbox.documents()


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws():
        sns = boto3.client("sns", region_name=REGION)
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_state_table(dynamodb, TABLE)
        inbox = AlertInbox.subscribe(sns, boto3.client("sqs", region_name=REGION), queue="inbox")
        yield World(sns, inbox, dynamodb, [1_800_000_000.0])


def failing_publish(sns: Any, error: BaseException) -> dict[str, bool]:
    """Every Publish attempt (botocore's own retries included) fails while armed."""
    state = {"armed": True}

    def hook(**kwargs: Any) -> None:
        if state["armed"]:
            raise error

    sns.meta.events.register("before-send.sns.Publish", hook)
    return state


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url="https://sns.us-east-1.amazonaws.com/"),
        ReadTimeoutError(endpoint_url="https://sns.us-east-1.amazonaws.com/"),
        RuntimeError("a bug between claim and publish"),
    ],
    ids=["connection-error", "read-timeout", "any-exception"],
)
def test_a_failed_publish_of_any_kind_releases_the_claim(world: World, error: BaseException) -> None:
    # Given SNS failing the first publish with a non-ClientError
    outage = failing_publish(world.sns, error)
    # When the run fails, and the next run (SNS back) publishes the same alert
    with pytest.raises(Exception, match=r"."):  # whatever it is, it surfaces
        world.publisher().publish(ALERT)
    outage["armed"] = False
    assert world.publisher().publish(ALERT) is True
    # Then exactly one alert was delivered; a third run sends nothing
    assert world.publisher().publish(ALERT) is False
    assert [a["dedupe_key"] for a in world.received()] == [ALERT.dedupe_key]


def test_a_crash_between_claim_and_publish_expires_with_the_lease(world: World) -> None:
    # Given a run that claimed the alert and died before publishing
    claims = TokenClaims(world.dynamodb, TABLE, clock=lambda: world.clock[0])
    assert claims.claim(
        f"alert#{ALERT.dedupe_key}", "alert", new_token(), lease_seconds=CLAIM_LEASE_SECONDS, ttl_seconds=86400
    )
    # When another run tries within the lease, then after it
    assert world.publisher().publish(ALERT) is False
    world.clock[0] += CLAIM_LEASE_SECONDS + 1
    assert world.publisher().publish(ALERT) is True
    # Then exactly one alert, and none after
    assert world.publisher().publish(ALERT) is False
    assert len(world.received()) == 1


class DuplicatingClient:
    """Applies each claim write twice, like botocore retrying a write whose response was lost."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def update_item(self, **kwargs: Any) -> Any:
        self._client.update_item(**kwargs)
        return self._client.update_item(**kwargs)


def test_a_duplicated_conditional_write_still_publishes_once(world: World) -> None:
    # Given claim writes that land, lose their response and are retried
    publisher = world.publisher(DuplicatingClient(world.dynamodb))
    # When the alert is published, twice
    assert publisher.publish(ALERT) is True
    assert publisher.publish(ALERT) is False
    # Then exactly one alert (not zero: the retry's failed condition was recognised as ours)
    assert len(world.received()) == 1


def test_e_mail_gets_text_and_machines_get_the_envelope(world: World) -> None:
    captured: list[dict[str, Any]] = []
    world.sns.meta.events.register("provide-client-params.sns.Publish", lambda params, **_: captured.append(params))
    world.publisher().publish(ALERT)
    (params,) = captured
    assert params["MessageStructure"] == "json"
    structure = json.loads(params["Message"])
    assert {"default", "email", "sqs", "lambda"} <= set(structure)
    assert json.loads(structure["sqs"]) == json.loads(ALERT.to_json())
    email = structure["email"]
    assert not email.lstrip().startswith("{")
    assert "crossed a budget threshold" in email
    assert "6400.00" in email
    assert "8000.00" in email
    assert Alert.from_json(structure["default"]) == ALERT
