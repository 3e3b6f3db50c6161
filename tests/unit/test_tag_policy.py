"""Spec of the tag policy rules (pure functions, no AWS)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bedrock_cost.config import AllowedValues, TagPolicy
from bedrock_cost.config_loader import parse_config
from bedrock_cost.domain.alerts import Alert
from bedrock_cost.domain.tag_enforcement import check_resource, violation_alert
from bedrock_cost.domain.tag_events import CheckDeclaredTags, CheckResource, Ignore, ScanType, trigger_for_event
from bedrock_cost.domain.tag_rules import (
    TaggedResource,
    Violation,
    evaluate,
    fingerprint,
    remediation_plan,
    resource_type_of,
    value_allowed,
)
from bedrock_cost.errors import ConfigError

pytestmark = pytest.mark.unit

POLICY = TagPolicy(
    required_keys=["team", "environment"],
    allowed_values={
        "environment": AllowedValues(values=["prod", "staging", "dev"]),
        "team": AllowedValues(pattern=r"[a-z][a-z0-9-]{1,30}"),
        "cost-center": AllowedValues(values=["100", "200"], pattern=r"9\d\d"),
    },
    defaults={"environment": "dev", "team": "platform"},
)


def kinds(violations: list[Violation]) -> set[tuple[str, str]]:
    return {(v.key, v.kind) for v in violations}


def test_compliant_resource_has_no_violations() -> None:
    # Given tags that satisfy every rule
    tags = {"team": "ml", "environment": "prod"}
    # When evaluated / Then nothing is reported
    assert evaluate(POLICY, tags) == []


def test_missing_required_keys_are_reported_each() -> None:
    # Given a resource with no tags at all
    # When evaluated
    violations = evaluate(POLICY, {})
    # Then each required key is missing, and optional keys are not
    assert kinds(violations) == {("team", "missing"), ("environment", "missing")}


def test_key_with_other_case_counts_as_present_when_case_insensitive() -> None:
    # Given the default case-insensitive policy and keys spelt differently
    tags = {"Team": "ml", "ENVIRONMENT": "Prod"}
    # When evaluated / Then they satisfy the policy (values compared case-insensitively too)
    assert evaluate(POLICY, tags) == []


def test_case_sensitive_policy_rejects_other_spellings() -> None:
    # Given a case-sensitive policy
    policy = POLICY.model_copy(update={"case_sensitive": True})
    # When a key and a value use another case
    violations = evaluate(policy, {"Team": "ml", "environment": "Prod"})
    # Then the key counts as missing and the value as not allowed
    assert kinds(violations) == {("team", "missing"), ("environment", "not_allowed")}


def test_whitespace_is_trimmed_from_keys_and_values() -> None:
    # Given padded keys and values
    tags = {" team ": "  ml ", "environment": " prod\t"}
    # When evaluated / Then they comply
    assert evaluate(POLICY, tags) == []


@pytest.mark.parametrize("value", ["", "   ", "\t"])
def test_empty_or_blank_value_is_a_violation(value: str) -> None:
    # Given a required key with a blank value
    violations = evaluate(POLICY, {"team": value, "environment": "dev"})
    # Then it is reported as empty (not missing: the key exists)
    assert kinds(violations) == {("team", "empty")}


def test_value_outside_list_is_not_allowed() -> None:
    violations = evaluate(POLICY, {"team": "ml", "environment": "production"})
    assert kinds(violations) == {("environment", "not_allowed")}
    assert "one of prod, staging, dev" in violations[0].describe()


def test_value_not_matching_pattern_is_reported() -> None:
    violations = evaluate(POLICY, {"team": "ML Team!", "environment": "dev"})
    assert kinds(violations) == {("team", "pattern_mismatch")}
    assert violations[0].value == "ML Team!"


def test_pattern_must_match_the_whole_value() -> None:
    # Given a pattern without anchors, a value with a matching prefix only is rejected
    assert not value_allowed("9001", AllowedValues(pattern=r"9\d\d"), case_sensitive=True)
    assert value_allowed("901", AllowedValues(pattern=r"9\d\d"), case_sensitive=True)


def test_listed_value_or_pattern_match_is_enough_when_both_given() -> None:
    rule = POLICY.allowed_values["cost-center"]
    assert value_allowed("100", rule, case_sensitive=False)
    assert value_allowed("950", rule, case_sensitive=False)
    assert not value_allowed("300", rule, case_sensitive=False)


def test_optional_key_is_checked_only_when_present() -> None:
    # Given an optional key with allowed values
    base = {"team": "ml", "environment": "dev"}
    # Then absence is fine, a bad value is not
    assert evaluate(POLICY, base) == []
    assert kinds(evaluate(POLICY, {**base, "cost-center": "300"})) == {("cost-center", "not_allowed")}


def test_unknown_extra_tags_are_ignored() -> None:
    assert evaluate(POLICY, {"team": "ml", "environment": "dev", "owner": "anyone at all"}) == []


# ----------------------------------------------------------------- remediation plan


def test_plan_adds_defaults_for_missing_keys_only() -> None:
    # Given a resource missing both required keys
    # When planning remediation / Then both defaults are proposed
    assert remediation_plan(POLICY, {}) == {"environment": "dev", "team": "platform"}


def test_plan_never_overwrites_an_existing_value_even_invalid() -> None:
    # Given an invalid environment value and an empty team value
    tags = {"environment": "production", "team": " "}
    # When planning / Then nothing is proposed: existing values are never overwritten
    assert remediation_plan(POLICY, tags) == {}


def test_plan_respects_case_insensitive_presence() -> None:
    # Given the key present as "Environment"
    plan = remediation_plan(POLICY, {"Environment": "prod"})
    # Then no second "environment" key is added
    assert plan == {"team": "platform"}


def test_plan_skips_keys_without_default() -> None:
    policy = POLICY.model_copy(update={"defaults": {"environment": "dev"}})
    assert remediation_plan(policy, {}) == {"environment": "dev"}


# ----------------------------------------------------------------- fingerprint


def test_fingerprint_is_stable_and_order_independent() -> None:
    a = evaluate(POLICY, {"environment": "bad", "team": "X!"})
    assert fingerprint(a) == fingerprint(list(reversed(a)))
    assert len(fingerprint(a)) == 16


def test_fingerprint_changes_when_the_problem_changes() -> None:
    first = fingerprint(evaluate(POLICY, {"team": "ml", "environment": "bad"}))
    other_value = fingerprint(evaluate(POLICY, {"team": "ml", "environment": "worse"}))
    other_key = fingerprint(evaluate(POLICY, {"environment": "dev"}))
    assert len({first, other_value, other_key}) == 3


# ----------------------------------------------------------------- properties

tag_keys = st.sampled_from(["team", "Team", " team", "environment", "ENVIRONMENT", "owner", "cost-center"])
tag_values = st.text(alphabet="abcdefgprodsv- 9XY\t", max_size=12)
tag_maps = st.dictionaries(tag_keys, tag_values, max_size=6)


@given(tags=tag_maps)
def test_property_remediation_never_touches_existing_keys(tags: dict[str, str]) -> None:
    # Whatever the tags, the plan only adds keys absent under every spelling
    plan = remediation_plan(POLICY, tags)
    present = {k.strip().casefold() for k in tags}
    assert all(k.casefold() not in present for k in plan)
    assert set(plan) <= set(POLICY.required_keys)


@given(tags=tag_maps)
def test_property_after_remediation_no_required_key_is_missing(tags: dict[str, str]) -> None:
    remediated = {**tags, **remediation_plan(POLICY, tags)}
    assert all(v.kind != "missing" for v in evaluate(POLICY, remediated))


@given(tags=tag_maps)
def test_property_evaluation_ignores_tag_order(tags: dict[str, str]) -> None:
    reordered = dict(reversed(list(tags.items())))
    assert evaluate(POLICY, tags) == evaluate(POLICY, reordered)
    assert fingerprint(evaluate(POLICY, tags)) == fingerprint(evaluate(POLICY, reordered))


@given(tags=tag_maps)
def test_property_compliant_iff_no_violations_and_plan_empty_when_compliant(tags: dict[str, str]) -> None:
    if not evaluate(POLICY, tags):
        assert remediation_plan(POLICY, tags) == {}


# ----------------------------------------------------------------- ARNs and CloudTrail triggers

ACCOUNT = "123456789012"


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        (f"arn:aws:bedrock:us-east-1:{ACCOUNT}:application-inference-profile/abc123", "application-inference-profile"),
        (f"arn:aws:bedrock:us-east-1:{ACCOUNT}:provisioned-model/abcdefabcdef", "provisioned-model"),
        (f"arn:aws:bedrock:us-east-1:{ACCOUNT}:custom-model/amazon.titan/abcdefabcdef", "custom-model"),
        (f"arn:aws:bedrock:eu-west-1:{ACCOUNT}:agent/ABCDEFGHIJ", "agent"),
        (f"arn:aws:bedrock:eu-west-1:{ACCOUNT}:knowledge-base/ABCDEFGHIJ", "knowledge-base"),
        (f"arn:aws:bedrock:eu-west-1:{ACCOUNT}:guardrail/abc", "guardrail"),
        (f"arn:aws:bedrock:eu-west-1:{ACCOUNT}:agent-alias/ABCDEFGHIJ/XYZ", None),
        (f"arn:aws:bedrock:us-east-1:{ACCOUNT}:default-prompt-router/anthropic.claude:1", None),
        ("arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-6", None),
        ("arn:aws:s3:::bucket", None),
        ("not an arn", None),
    ],
)
def test_resource_type_from_arn(arn: str, expected: str | None) -> None:
    assert resource_type_of(arn) == expected


def test_create_event_checks_the_created_resource() -> None:
    arn = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:application-inference-profile/p1"
    trigger = trigger_for_event("CreateInferenceProfile", "us-east-1", {}, {"inferenceProfileArn": arn})
    assert trigger == CheckResource(region="us-east-1", arn=arn)


def test_agent_event_reads_nested_arn() -> None:
    arn = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:agent/ABCDEFGHIJ"
    trigger = trigger_for_event("CreateAgent", "us-east-1", {}, {"agent": {"agentArn": arn}})
    assert trigger == CheckResource(region="us-east-1", arn=arn)


def test_create_event_without_response_falls_back_to_a_type_scan() -> None:
    trigger = trigger_for_event("CreateGuardrail", "eu-west-1", {"name": "g"}, None)
    assert trigger == ScanType(region="eu-west-1", resource_type="guardrail")


def test_failed_call_is_ignored() -> None:
    trigger = trigger_for_event("CreateInferenceProfile", "us-east-1", {}, None, error_code="AccessDenied")
    assert isinstance(trigger, Ignore)


def test_tag_resource_event_uses_request_arn_and_its_region() -> None:
    arn = f"arn:aws:bedrock:us-west-2:{ACCOUNT}:provisioned-model/abcdefabcdef"
    trigger = trigger_for_event("UntagResource", "us-east-1", {"resourceARN": arn, "tagKeys": ["team"]}, None)
    assert trigger == CheckResource(region="us-west-2", arn=arn)


def test_tag_resource_on_untracked_type_is_ignored() -> None:
    arn = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:model-invocation-job/abcdefabcdef"
    assert isinstance(trigger_for_event("TagResource", "us-east-1", {"resourceARN": arn}, None), Ignore)


def test_customization_job_checks_declared_model_tags() -> None:
    # Given a customization job whose future model is declared with a bad environment
    job = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:model-customization-job/amazon.titan/abcdefabcdef"
    trigger = trigger_for_event(
        "CreateModelCustomizationJob",
        "us-east-1",
        {"customModelName": "support-bot", "customModelTags": [{"key": "team", "value": "ml"}]},
        {"jobArn": job},
    )
    # Then the declared tags are evaluated as a not-yet-remediable custom model
    assert isinstance(trigger, CheckDeclaredTags)
    assert trigger.resource.tags == {"team": "ml"}
    assert trigger.resource.remediable is False
    assert trigger.resource.name == "support-bot"
    assert kinds(evaluate(POLICY, trigger.resource.tags)) == {("environment", "missing")}


# ----------------------------------------------------------------- alert envelope


def test_violation_alert_envelope() -> None:
    resource = TaggedResource(
        arn=f"arn:aws:bedrock:us-east-1:{ACCOUNT}:application-inference-profile/p1",
        resource_type="application-inference-profile",
        region="us-east-1",
        name="chatbot",
        tags={"environment": "production"},
    )
    outcome = check_resource(resource, POLICY)
    alert = violation_alert(outcome, datetime(2026, 11, 3, 8, 0, tzinfo=UTC), "report")
    # The envelope round-trips, names the resource and quotes each problem
    assert Alert.from_json(alert.to_json()) == alert
    assert alert.kind == "tag_violation"
    assert alert.period == "2026-11"
    assert resource.arn in alert.dedupe_key
    assert outcome.fingerprint in alert.dedupe_key
    assert alert.subject["resource_arn"] == resource.arn
    assert alert.figures["violations"] == "2"
    assert any("missing required tag 'team'" in d for d in alert.details)
    assert json.loads(alert.to_json())["severity"] == "warning"


# ----------------------------------------------------------------- config validation


@pytest.mark.parametrize(
    ("defaults", "message"),
    [({"environment": "production"}, "not an allowed value"), ({"team": "  "}, "empty default")],
)
def test_config_rejects_defaults_the_policy_would_reject(defaults: dict[str, str], message: str) -> None:
    raw: dict[str, Any] = {
        "cur": {"create_export": True},
        "tag_policy": {
            "required_keys": ["team", "environment"],
            "allowed_values": {"environment": {"values": ["prod", "dev"]}},
            "defaults": defaults,
        },
    }
    with pytest.raises(ConfigError, match=message):
        parse_config(raw)
    raw["tag_policy"]["defaults"] = {"environment": "DEV"}
    assert parse_config(raw).tag_policy.defaults == {"environment": "DEV"}
