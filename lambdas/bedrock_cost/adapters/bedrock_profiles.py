"""Application inference profiles from the Bedrock API, cached with a TTL.

One ``ListInferenceProfiles(typeEquals='APPLICATION')`` sweep (paginated) maps every
profile's ARN and id to its ``models[].modelArn``; tags come from
``ListTagsForResource`` per profile, fetched only for profiles that actually appear in
the metrics. A profile missing from the sweep (created since) is fetched with
``GetInferenceProfile``; one that does not exist is remembered as missing for the same
TTL, so a deleted profile still in CloudWatch does not cost a call per run.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from bedrock_cost.adapters.cloudwatch_metrics import Backoff
from bedrock_cost.domain.model_resolution import ProfileInfo
from bedrock_cost.errors import NotFound

if TYPE_CHECKING:
    from mypy_boto3_bedrock import BedrockClient


def _profile_from(item: Mapping[str, Any]) -> ProfileInfo:
    return ProfileInfo(
        arn=str(item["inferenceProfileArn"]),
        profile_id=str(item["inferenceProfileId"]),
        name=str(item.get("inferenceProfileName", "")),
        model_arns=tuple(str(m["modelArn"]) for m in item.get("models", []) if m.get("modelArn")),
    )


class BedrockProfileDirectory:
    """``ProfileDirectory`` over one region's Bedrock control plane."""

    def __init__(
        self,
        client: BedrockClient,
        ttl_seconds: float,
        backoff: Callable[[], Backoff],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl_seconds
        self._backoff = backoff
        self._clock = clock
        self._listed_at: float | None = None
        self._profiles: dict[str, ProfileInfo] = {}
        self._tags: dict[str, tuple[float, dict[str, str]]] = {}
        self._missing: dict[str, float] = {}

    def lookup(self, identifier: str) -> ProfileInfo | None:
        now = self._clock()
        if self._listed_at is None or now - self._listed_at >= self._ttl:
            self._list_all()
            self._listed_at = now
        profile = self._profiles.get(identifier)
        if profile is None:
            missing_since = self._missing.get(identifier)
            if missing_since is not None and now - missing_since < self._ttl:
                return None
            profile = self._get(identifier)
            if profile is None:
                self._missing[identifier] = now
                return None
            self._remember(profile)
        return ProfileInfo(
            arn=profile.arn,
            profile_id=profile.profile_id,
            name=profile.name,
            model_arns=profile.model_arns,
            tags=self._tags_of(profile.arn, now),
        )

    def _remember(self, profile: ProfileInfo) -> None:
        self._profiles[profile.arn] = profile
        self._profiles[profile.profile_id] = profile

    def _list_all(self) -> None:
        backoff = self._backoff()
        profiles: dict[str, ProfileInfo] = {}
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"typeEquals": "APPLICATION", "maxResults": 1000}
            if token:
                kwargs["nextToken"] = token
            page = backoff.call(
                functools.partial(self._client.list_inference_profiles, **kwargs),
                "listing application inference profiles",
            )
            for item in page.get("inferenceProfileSummaries", []):
                profile = _profile_from(item)
                profiles[profile.arn] = profile
                profiles[profile.profile_id] = profile
            token = page.get("nextToken")
            if not token:
                break
        self._profiles = profiles
        self._missing.clear()

    def _get(self, identifier: str) -> ProfileInfo | None:
        def get() -> Mapping[str, Any] | None:
            try:
                return self._client.get_inference_profile(inferenceProfileIdentifier=identifier)
            except ClientError as exc:
                # An id Bedrock rejects as malformed names no profile: same as not found.
                if exc.response.get("Error", {}).get("Code") == "ValidationException":
                    return None
                raise

        try:
            item = self._backoff().call(get, f"reading inference profile {identifier}")
        except NotFound:
            return None
        if item is None or item.get("type", "APPLICATION") != "APPLICATION":
            return None
        return _profile_from(item)

    def _tags_of(self, arn: str, now: float) -> dict[str, str]:
        cached = self._tags.get(arn)
        if cached is not None and now - cached[0] < self._ttl:
            return dict(cached[1])
        try:
            page = self._backoff().call(
                lambda: self._client.list_tags_for_resource(resourceARN=arn), f"reading tags of {arn}"
            )
        except NotFound:
            tags: dict[str, str] = {}
        else:
            tags = {str(t["key"]): str(t["value"]) for t in page.get("tags", [])}
        self._tags[arn] = (now, tags)
        return dict(tags)
