"""Every ModelId shape resolves to a model (price) and tags (attribution)."""

from __future__ import annotations

import pytest

from bedrock_cost.domain.model_catalog import load_model_catalog
from bedrock_cost.domain.model_resolution import (
    InMemoryProfileDirectory,
    ProfileInfo,
    classify_model_id,
    resolve_model_id,
    scope_of_model_arns,
)

pytestmark = pytest.mark.unit

ACCOUNT = "123456789012"
SONNET_46 = "anthropic.claude-sonnet-4-6"
APP_ARN = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:application-inference-profile/a1b2c3d4e5f6"
GLOBAL_APP_ARN = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:application-inference-profile/g1o2b3a4l5x6"


def directory() -> InMemoryProfileDirectory:
    return InMemoryProfileDirectory(
        [
            ProfileInfo(
                arn=APP_ARN,
                profile_id="a1b2c3d4e5f6",
                name="ml-sonnet",
                model_arns=(
                    f"arn:aws:bedrock:us-east-1::foundation-model/{SONNET_46}",
                    f"arn:aws:bedrock:us-west-2::foundation-model/{SONNET_46}",
                ),
                tags={"team": "ml", "project": "search"},
            ),
            ProfileInfo(
                arn=GLOBAL_APP_ARN,
                profile_id="g1o2b3a4l5x6",
                name="global-sonnet",
                model_arns=(
                    f"arn:aws:bedrock:::foundation-model/{SONNET_46}",
                    f"arn:aws:bedrock:us-east-1::foundation-model/{SONNET_46}",
                ),
                tags={},
            ),
        ]
    )


@pytest.mark.parametrize(
    ("model_id", "kind"),
    [
        (SONNET_46, "model"),
        ("amazon.nova-pro-v1:0", "model"),
        (f"arn:aws:bedrock:us-east-1::foundation-model/{SONNET_46}", "model-arn"),
        (f"us.{SONNET_46}", "system-profile"),
        (f"global.{SONNET_46}", "system-profile"),
        ("apac.amazon.nova-lite-v1:0", "system-profile"),
        ("jp.anthropic.claude-haiku-4-5-20251001-v1:0", "system-profile"),
        ("au.anthropic.claude-haiku-4-5-20251001-v1:0", "system-profile"),
        ("eu.anthropic.claude-sonnet-4-5-20250929-v1:0", "system-profile"),
        (f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/us.{SONNET_46}", "system-profile-arn"),
        (APP_ARN, "application-profile-arn"),
        ("a1b2c3d4e5f6", "application-profile-id"),
        ("???", "unknown"),
    ],
)
def test_every_model_id_shape_is_recognised(model_id: str, kind: str) -> None:
    assert classify_model_id(model_id) == kind


@pytest.mark.parametrize(
    ("model_id", "model", "scope"),
    [
        (SONNET_46, "Claude Sonnet 4.6", "regional"),
        (f"arn:aws:bedrock:us-east-1::foundation-model/{SONNET_46}", "Claude Sonnet 4.6", "regional"),
        (f"us.{SONNET_46}", "Claude Sonnet 4.6", "regional"),
        (f"eu.{SONNET_46}", "Claude Sonnet 4.6", "regional"),
        (f"global.{SONNET_46}", "Claude Sonnet 4.6", "global"),
        (f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/global.{SONNET_46}", "Claude Sonnet 4.6", "global"),
        ("apac.amazon.nova-lite-v1:0", "Nova Lite", "regional"),
    ],
)
def test_models_and_system_profiles_resolve_without_api_calls(model_id: str, model: str, scope: str) -> None:
    # Given an empty profile directory (no API behind it)
    resolved = resolve_model_id(model_id, InMemoryProfileDirectory(), load_model_catalog())
    # Then the id resolves locally to the readable model and its scope
    assert (resolved.model, resolved.scope, resolved.known) == (model, scope, True)
    assert resolved.tags == {}


@pytest.mark.parametrize("identifier", [APP_ARN, "a1b2c3d4e5f6"])
def test_an_application_profile_resolves_to_its_model_and_tags(identifier: str) -> None:
    # Given an application profile copied from the US geo profile, tagged team=ml
    # When its ARN or short id appears as ModelId
    resolved = resolve_model_id(identifier, directory(), load_model_catalog())
    # Then it is priced as its model, regionally, and attributed by its tags
    assert (resolved.model, resolved.provider, resolved.scope) == ("Claude Sonnet 4.6", "Anthropic", "regional")
    assert resolved.tags == {"team": "ml", "project": "search"}
    assert (resolved.profile_arn, resolved.profile_name) == (APP_ARN, "ml-sonnet")


def test_an_application_profile_copied_from_a_global_profile_is_global() -> None:
    resolved = resolve_model_id(GLOBAL_APP_ARN, directory(), load_model_catalog())
    assert resolved.scope == "global"


@pytest.mark.parametrize(
    ("arns", "scope"),
    [
        (("arn:aws:bedrock:::foundation-model/x.y",), "global"),
        (
            ("arn:aws:bedrock:us-east-1::foundation-model/x.y", "arn:aws:bedrock:eu-west-1::foundation-model/x.y"),
            "global",
        ),
        (
            ("arn:aws:bedrock:us-east-1::foundation-model/x.y", "arn:aws:bedrock:us-west-2::foundation-model/x.y"),
            "regional",
        ),
        (("arn:aws:bedrock:eu-central-1::foundation-model/x.y",), "regional"),
    ],
)
def test_scope_of_a_profile_follows_where_it_routes(arns: tuple[str, ...], scope: str) -> None:
    assert scope_of_model_arns(arns) == scope


def test_an_unknown_model_stays_unknown_under_its_own_id() -> None:
    resolved = resolve_model_id("acme.mystery-model-v1", InMemoryProfileDirectory(), load_model_catalog())
    assert (resolved.model, resolved.provider, resolved.known) == ("acme.mystery-model-v1", "acme", False)


def test_a_profile_that_no_longer_exists_is_an_unknown_model() -> None:
    # Given a ModelId naming an application profile the directory does not have (deleted)
    gone = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:application-inference-profile/zzzzzzzzzzzz"
    resolved = resolve_model_id(gone, directory(), load_model_catalog())
    # Then its tokens cannot be priced: unknown, never guessed
    assert not resolved.known
    assert resolved.model == gone
