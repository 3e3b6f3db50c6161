"""Turn a CloudWatch ``ModelId`` into the model we price and the tags we attribute to.

``ModelId`` is whatever the caller passed to Bedrock:

* a model id (``anthropic.claude-sonnet-4-6``) or a foundation-model ARN;
* a system cross-region profile (``us.…``, ``eu.…``, ``apac.…``, ``jp.…``, ``au.…``,
  ``global.…``), as an id or an ``inference-profile/`` ARN;
* an application inference profile, as its ARN or its short id.

System profiles resolve locally (strip the geography prefix). Application profiles need
the Bedrock API (``models[].modelArn`` for the price, tags for attribution), reached
through the ``ProfileDirectory`` port so this module stays free of boto3.

Scope decides the price: ``global`` for ``global.`` profiles and for application
profiles copied from one, ``regional`` for everything else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from bedrock_cost.domain.model_catalog import ModelCatalog, normalise_alias
from bedrock_cost.domain.pricing import Scope

IdKind = Literal[
    "model",
    "model-arn",
    "system-profile",
    "system-profile-arn",
    "application-profile-arn",
    "application-profile-id",
]

_ARN = re.compile(r"^arn:aws[a-z-]*:bedrock:(?P<region>[a-z0-9-]*):(?P<account>\d*):(?P<type>[a-z-]+)/(?P<rest>.+)$")
_GEO_PREFIX = re.compile(r"^(?P<geo>us-gov|us|eu|apac|jp|au|ca|global)\.(?P<model>[a-z0-9-]+\..+)$", re.IGNORECASE)
_MODEL_ID = re.compile(r"^[a-z0-9-]+\.[A-Za-z0-9._:-]+$")
_PROFILE_ID = re.compile(r"^[a-z0-9]{6,64}$")
_GEOGRAPHY = re.compile(r"^(?P<geo>[a-z]+)-")


class ProfileDirectory(Protocol):
    """Port to the Bedrock inference-profile APIs (implemented in ``adapters.bedrock_profiles``)."""

    def lookup(self, identifier: str) -> ProfileInfo | None:
        """The application profile with this ARN or id, or ``None`` when it doesn't exist."""
        ...


@dataclass(frozen=True)
class ProfileInfo:
    """What we need to know about an application inference profile."""

    arn: str
    profile_id: str
    name: str
    model_arns: tuple[str, ...]
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ResolvedModel:
    """A ``ModelId`` resolved for pricing and attribution."""

    model_id: str
    model: str
    """Readable name (``Claude Sonnet 4.6``) or, for a model we don't know, the bare id."""
    provider: str
    known: bool
    """False when the model is not in ``data/models.json``: its tokens stay unpriced."""
    scope: Scope
    id_kind: IdKind | Literal["unknown"]
    profile_arn: str | None = None
    profile_name: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


def classify_model_id(model_id: str) -> IdKind | Literal["unknown"]:
    """Which of the accepted ``ModelId`` shapes this is (no API calls)."""
    value = model_id.strip()
    arn = _ARN.match(value)
    if arn:
        kind = arn.group("type")
        if kind == "application-inference-profile":
            return "application-profile-arn"
        if kind == "inference-profile":
            return "system-profile-arn"
        if kind == "foundation-model":
            return "model-arn"
        return "unknown"
    if _GEO_PREFIX.match(value):
        return "system-profile"
    if _MODEL_ID.match(value):
        return "model"
    if _PROFILE_ID.match(value):
        return "application-profile-id"
    return "unknown"


def scope_of_model_arns(model_arns: tuple[str, ...]) -> Scope:
    """``global`` when a profile routes worldwide, else ``regional``.

    A global profile lists a region-less foundation-model ARN
    (``arn:aws:bedrock:::foundation-model/…``); failing that, models spread over more
    than one geography (``us-``, ``eu-``, ``ap-``…) can only come from a global profile.
    """
    geographies = set()
    for arn in model_arns:
        match = _ARN.match(arn)
        if match is None:
            continue
        region = match.group("region")
        if not region:
            return "global"
        geo = _GEOGRAPHY.match(region)
        geographies.add(geo.group("geo") if geo else region)
    return "global" if len(geographies) > 1 else "regional"


def _provider_of(model_id: str) -> str:
    head = normalise_alias(model_id).split(".", 1)[0]
    return head if head and head != normalise_alias(model_id) else "unknown"


def _from_model_name(
    model_id: str,
    name: str,
    catalog: ModelCatalog,
    *,
    scope: Scope,
    id_kind: IdKind | Literal["unknown"],
    profile: ProfileInfo | None = None,
) -> ResolvedModel:
    info = catalog.resolve(name)
    return ResolvedModel(
        model_id=model_id,
        model=info.model if info else normalise_alias(name),
        provider=info.provider if info else _provider_of(name),
        known=info is not None,
        scope=scope,
        id_kind=id_kind,
        profile_arn=profile.arn if profile else None,
        profile_name=profile.name if profile else None,
        tags=dict(profile.tags) if profile else {},
    )


def resolve_model_id(model_id: str, directory: ProfileDirectory, catalog: ModelCatalog) -> ResolvedModel:
    """Resolve any accepted ``ModelId`` shape; unknown shapes resolve to an unknown model."""
    id_kind = classify_model_id(model_id)
    value = model_id.strip()
    if id_kind in ("model", "model-arn"):
        return _from_model_name(model_id, value, catalog, scope="regional", id_kind=id_kind)
    if id_kind in ("system-profile", "system-profile-arn"):
        bare = value.rsplit("/", 1)[-1]
        match = _GEO_PREFIX.match(bare)
        scope: Scope = "global" if match and match.group("geo").lower() == "global" else "regional"
        return _from_model_name(model_id, bare, catalog, scope=scope, id_kind=id_kind)
    if id_kind in ("application-profile-arn", "application-profile-id"):
        profile = directory.lookup(value)
        if profile is not None and profile.model_arns:
            return _from_model_name(
                model_id,
                profile.model_arns[0],
                catalog,
                scope=scope_of_model_arns(profile.model_arns),
                id_kind=id_kind,
                profile=profile,
            )
        return ResolvedModel(
            model_id=model_id,
            model=value,
            provider="unknown",
            known=False,
            scope="regional",
            id_kind=id_kind,
            profile_arn=profile.arn if profile else None,
            profile_name=profile.name if profile else None,
            tags=dict(profile.tags) if profile else {},
        )
    return _from_model_name(model_id, value, catalog, scope="regional", id_kind="unknown")


class InMemoryProfileDirectory:
    """A directory over a fixed set of profiles: for the CLI's dry runs and for tests.

    Looks profiles up by ARN and by id, exactly like the Bedrock-backed adapter.
    """

    def __init__(self, profiles: list[ProfileInfo] | None = None) -> None:
        self._by_key: dict[str, ProfileInfo] = {}
        for profile in profiles or []:
            self.add(profile)

    def add(self, profile: ProfileInfo) -> None:
        self._by_key[profile.arn] = profile
        self._by_key[profile.profile_id] = profile

    def lookup(self, identifier: str) -> ProfileInfo | None:
        return self._by_key.get(identifier)
