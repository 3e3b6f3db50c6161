"""Bedrock resources and their tags, and the enforcer's violation state.

``BedrockResources`` lists the taggable Bedrock resource types of one region through the
two tagging APIs Bedrock has: ``bedrock`` (inference profiles, provisioned throughput,
custom/imported models, deployments, prompt routers, guardrails; tags as ``[{key,
value}]``) and ``bedrock-agent`` (agents, knowledge bases, flows, prompts; tags as a
map). It implements ``domain.tag_policy.ResourceSource``. How each type is listed, read
and named (operation, result keys, parameters) is pure data in
``data/bedrock_resource_apis.json``: a new resource type is one entry there and one in
``domain.tag_rules.RESOURCE_TYPES``.

``InMemoryBedrockResources`` is the same interface over a dict: the local demo
registers inference profiles in it (the emulator has no inference-profile API) and
tests run the domain against it; ``CombinedResources`` routes each resource type to
the source that serves it.

``DynamoViolationStore`` keeps ``violation#<arn>`` items in the state table
(``domain.tag_policy.ViolationStore``).

Every AWS error goes through ``translate_client_error``; botocore's adaptive retry
mode (set where clients are built) does the backoff for throttling.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import resources
from typing import TYPE_CHECKING, Any

from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from bedrock_cost.adapters.aws_errors import translate_client_error
from bedrock_cost.domain.tag_enforcement import ViolationRecord
from bedrock_cost.domain.tag_rules import RESOURCE_TYPES, TaggedResource, resource_type_of
from bedrock_cost.errors import BedrockCostError, NotFound

if TYPE_CHECKING:
    from mypy_boto3_bedrock import BedrockClient
    from mypy_boto3_bedrock_agent import AgentsforBedrockClient
    from mypy_boto3_dynamodb import DynamoDBClient

CLIENT_CONFIG = BotoConfig(retries={"mode": "adaptive", "max_attempts": 8}, connect_timeout=5, read_timeout=20)
"""Throttling is retried with backoff by botocore (adaptive mode) before we give up."""


@dataclass(frozen=True)
class _TypeSpec:
    """How one resource type is listed, read and named through its API."""

    list_op: str
    items_key: str
    name_key: str
    arn_key: str | None = None
    id_key: str | None = None
    """When the listing has no ARN (agents, knowledge bases), build it from this id."""
    list_kwargs: Mapping[str, Any] = field(default_factory=dict)
    get_op: str = ""
    get_param: str = ""
    get_by: str = "arn"
    """``arn`` or ``id``: what the get call takes."""
    get_name_path: tuple[str, ...] = ()


def _load_specs() -> dict[str, _TypeSpec]:
    """The listing specs of ``data/bedrock_resource_apis.json``: API shapes, pure data."""
    text = resources.files("bedrock_cost.data").joinpath("bedrock_resource_apis.json").read_text("utf-8")
    specs: dict[str, _TypeSpec] = {}
    for resource_type, raw in json.loads(text).items():
        spec = _TypeSpec(**{**raw, "get_name_path": tuple(raw.get("get_name_path", ()))})
        if spec.get_by not in {"arn", "id"} or (spec.arn_key is None) == (spec.id_key is None):
            raise ValueError(f"bedrock_resource_apis.json: {resource_type}: needs one of arn_key/id_key, get_by arn|id")
        specs[resource_type] = spec
    return specs


_SPECS = _load_specs()
assert set(_SPECS) == set(RESOURCE_TYPES), "every known resource type needs a listing spec"


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _resource_id(arn: str) -> str:
    """Last path segment of an ARN (prompt ARNs may carry ``:version``)."""
    return arn.rsplit("/", 1)[-1].split(":", 1)[0]


class BedrockResources:
    """``ResourceSource`` over the real Bedrock APIs of one region."""

    def __init__(
        self,
        region: str,
        account_id: str,
        bedrock: BedrockClient,
        bedrock_agent: AgentsforBedrockClient,
        resource_types: Iterable[str] | None = None,
    ) -> None:
        self.region = region
        self._account_id = account_id
        self._clients: dict[str, Any] = {"bedrock": bedrock, "bedrock-agent": bedrock_agent}
        types = list(resource_types) if resource_types is not None else list(RESOURCE_TYPES)
        unknown = sorted(set(types) - set(RESOURCE_TYPES))
        if unknown:
            raise BedrockCostError(f"unknown Bedrock resource types {unknown}")
        self._types = types

    @property
    def resource_types(self) -> list[str]:
        return list(self._types)

    def _client(self, resource_type: str) -> Any:
        # Typed clients are kept for callers; the spec table calls operations by name.
        return self._clients[RESOURCE_TYPES[resource_type].api]

    def _arn(self, resource_type: str, item: Mapping[str, Any]) -> str:
        spec = _SPECS[resource_type]
        if spec.arn_key:
            return str(item[spec.arn_key])
        return (
            f"arn:{partition_of(self.region)}:bedrock:{self.region}:{self._account_id}:"
            f"{resource_type}/{item[spec.id_key or '']}"
        )

    def list_resources(self, resource_types: Iterable[str] | None = None) -> Iterator[TaggedResource]:
        wanted = [t for t in (resource_types or self._types) if t in self._types]
        for resource_type in wanted:
            spec = _SPECS[resource_type]
            client = self._client(resource_type)
            doing = f"listing Bedrock {resource_type} resources in {self.region}"
            try:
                pages = client.get_paginator(spec.list_op).paginate(**spec.list_kwargs)
                items = [item for page in pages for item in page.get(spec.items_key, [])]
            except ClientError as exc:
                raise translate_client_error(exc, doing) from exc
            except BotoCoreError as exc:
                raise BedrockCostError(f"{doing}: {exc}") from exc
            for item in items:
                arn = self._arn(resource_type, item)
                try:
                    tags = self.tags_of(arn, resource_type)
                except NotFound:
                    continue  # deleted between the listing and the tag read
                yield TaggedResource(
                    arn=arn,
                    resource_type=resource_type,
                    region=self.region,
                    name=str(item.get(spec.name_key) or _resource_id(arn)),
                    tags=tags,
                )

    def tags_of(self, arn: str, resource_type: str) -> dict[str, str]:
        client = self._client(resource_type)
        try:
            if RESOURCE_TYPES[resource_type].api == "bedrock":
                response = client.list_tags_for_resource(resourceARN=arn)
                return {str(t["key"]): str(t["value"]) for t in response.get("tags", [])}
            response = client.list_tags_for_resource(resourceArn=arn)
            return {str(k): str(v) for k, v in response.get("tags", {}).items()}
        except ClientError as exc:
            raise translate_client_error(exc, f"reading tags of {arn}") from exc

    def get_resource(self, arn: str) -> TaggedResource | None:
        resource_type = resource_type_of(arn)
        if resource_type is None or resource_type not in self._types:
            return None
        spec = _SPECS[resource_type]
        identifier = arn if spec.get_by == "arn" else _resource_id(arn)
        try:
            described: Any = getattr(self._client(resource_type), spec.get_op)(**{spec.get_param: identifier})
            tags = self.tags_of(arn, resource_type)
        except ClientError as exc:
            error = translate_client_error(exc, f"reading {arn}")
            if isinstance(error, NotFound):
                return None
            raise error from exc
        except NotFound:
            return None
        name: Any = described
        for part in spec.get_name_path:
            name = name.get(part) if isinstance(name, dict) else None
        return TaggedResource(
            arn=arn,
            resource_type=resource_type,
            region=self.region,
            name=str(name or _resource_id(arn)),
            tags=tags,
        )

    def add_tags(self, resource: TaggedResource, tags: Mapping[str, str]) -> None:
        client = self._client(resource.resource_type)
        try:
            if RESOURCE_TYPES[resource.resource_type].api == "bedrock":
                client.tag_resource(resourceARN=resource.arn, tags=[{"key": k, "value": v} for k, v in tags.items()])
            else:
                client.tag_resource(resourceArn=resource.arn, tags=dict(tags))
        except ClientError as exc:
            raise translate_client_error(exc, f"tagging {resource.arn}") from exc


class InMemoryBedrockResources:
    """``ResourceSource`` over a dict, for the resource types the local emulator lacks."""

    def __init__(self, region: str, resource_types: Iterable[str] | None = None) -> None:
        self.region = region
        self._types = list(resource_types) if resource_types is not None else list(RESOURCE_TYPES)
        self._resources: dict[str, TaggedResource] = {}
        self.tag_calls: list[tuple[str, dict[str, str]]] = []

    @property
    def resource_types(self) -> list[str]:
        return list(self._types)

    def register(self, resource: TaggedResource) -> TaggedResource:
        if resource.resource_type not in self._types:
            raise ValueError(f"{resource.resource_type} is not served by this source")
        self._resources[resource.arn] = resource
        return resource

    def delete(self, arn: str) -> None:
        self._resources.pop(arn, None)

    def list_resources(self, resource_types: Iterable[str] | None = None) -> Iterator[TaggedResource]:
        wanted = set(resource_types or self._types)
        yield from (r for r in list(self._resources.values()) if r.resource_type in wanted)

    def get_resource(self, arn: str) -> TaggedResource | None:
        return self._resources.get(arn)

    def add_tags(self, resource: TaggedResource, tags: Mapping[str, str]) -> None:
        current = self._resources.get(resource.arn)
        if current is None:
            raise NotFound(f"tagging {resource.arn}: ResourceNotFoundException")
        self.tag_calls.append((resource.arn, dict(tags)))
        self._resources[resource.arn] = replace(current, tags={**current.tags, **tags})


class CombinedResources:
    """One region's ``ResourceSource`` made of members that each serve some types."""

    def __init__(self, region: str, members: Iterable[BedrockResources | InMemoryBedrockResources]) -> None:
        self.region = region
        self._by_type: dict[str, BedrockResources | InMemoryBedrockResources] = {}
        for member in members:
            for resource_type in member.resource_types:
                if resource_type in self._by_type:
                    raise ValueError(f"two sources serve {resource_type}")
                self._by_type[resource_type] = member

    def list_resources(self, resource_types: Iterable[str] | None = None) -> Iterator[TaggedResource]:
        for resource_type in resource_types or list(self._by_type):
            member = self._by_type.get(resource_type)
            if member is not None:
                yield from member.list_resources([resource_type])

    def get_resource(self, arn: str) -> TaggedResource | None:
        member = self._by_type.get(resource_type_of(arn) or "")
        return member.get_resource(arn) if member else None

    def add_tags(self, resource: TaggedResource, tags: Mapping[str, str]) -> None:
        member = self._by_type.get(resource.resource_type)
        if member is None:
            raise NotFound(f"no source serves {resource.resource_type}")
        member.add_tags(resource, tags)


# --------------------------------------------------------------------------- violation state

VIOLATION_TTL_SECONDS = 35 * 24 * 3600
"""A violation record outlives a deleted resource by five weeks, then DynamoDB drops it.
Every evaluation of a still-violating resource pushes the expiry forward."""


class DynamoViolationStore:
    """``ViolationStore`` on the shared state table: ``pk=violation#<arn>``, ``sk=state``."""

    def __init__(self, dynamodb: DynamoDBClient, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    @staticmethod
    def _key(arn: str) -> dict[str, Any]:
        return {"pk": {"S": f"violation#{arn}"}, "sk": {"S": "state"}}

    def get(self, arn: str) -> ViolationRecord | None:
        try:
            item = self._dynamodb.get_item(TableName=self._table, Key=self._key(arn), ConsistentRead=True).get("Item")
        except ClientError as exc:
            raise translate_client_error(exc, f"reading violation state of {arn}") from exc
        if not item:
            return None
        return ViolationRecord(
            arn=arn,
            fingerprint=item["fingerprint"]["S"],
            started_at=datetime.fromisoformat(item["started_at"]["S"]),
            pending_alert=item["pending_alert"]["S"] if "pending_alert" in item else None,
        )

    def put(self, record: ViolationRecord, expected_fingerprint: str | None) -> bool:
        item: dict[str, Any] = {
            **self._key(record.arn),
            "fingerprint": {"S": record.fingerprint},
            "started_at": {"S": record.started_at.astimezone(UTC).isoformat()},
            "expires_at": {"N": str(int(time.time()) + VIOLATION_TTL_SECONDS)},
        }
        if record.pending_alert is not None:
            item["pending_alert"] = {"S": record.pending_alert}
        if expected_fingerprint is None:
            condition = "attribute_not_exists(pk)"
            values: dict[str, Any] = {}
        else:
            condition = "fingerprint = :expected"
            values = {":expected": {"S": expected_fingerprint}}
        try:
            kwargs: dict[str, Any] = {"TableName": self._table, "Item": item, "ConditionExpression": condition}
            if values:
                kwargs["ExpressionAttributeValues"] = values
            self._dynamodb.put_item(**kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise translate_client_error(exc, f"writing violation state of {record.arn}") from exc
        return True

    def clear(self, arn: str) -> None:
        try:
            self._dynamodb.delete_item(TableName=self._table, Key=self._key(arn))
        except ClientError as exc:
            raise translate_client_error(exc, f"clearing violation state of {arn}") from exc
