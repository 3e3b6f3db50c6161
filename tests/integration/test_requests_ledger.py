"""``bedrock-cost requests`` on generated S3-delivered logs against an independent oracle."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bedrock_cost.cli.main import main
from bedrock_cost.sample_data.invocation_logs import generate_logs, profiles_document
from tests.support.request_oracle import oracle

pytestmark = pytest.mark.integration
MICRO = Decimal("0.000001")


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("logs")
    generate_logs(out, start=datetime(2026, 10, 15, tzinfo=UTC), hours=6, records=6_000, seed=3)
    return out


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["requests", *argv, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def _profile_models() -> dict[str, str]:
    return {
        p["inferenceProfileArn"]: p["models"][0]["modelArn"].rsplit("/", 1)[1]
        for p in profiles_document()["inferenceProfileSummaries"]
    }


@pytest.mark.parametrize(("by", "oracle_key"), [("user", "user"), ("meta:customer", "customer"), ("model", "model")])
def test_cost_matches_the_oracle_to_the_micro_dollar(logs, capsys, by, oracle_key):
    # Given generated logs and the profiles file, When grouped by user/customer/model
    result = _run(capsys, "--logs", str(logs), "--profiles", str(logs / "profiles.json"), "--by", by)
    got = {r[by]: Decimal(r["cost_usd"]) for r in result["rows"] if Decimal(r["cost_usd"])}
    # Then every key's cost equals the independent computation, to the micro-dollar
    want = {k: v.quantize(MICRO) for k, v in oracle(logs, _profile_models())[oracle_key].items()}
    assert got == want


def test_unresolved_profiles_are_unpriced_not_guessed(logs, capsys):
    # Given no profiles file, When grouped by model
    result = _run(capsys, "--logs", str(logs), "--by", "model")
    keys = {r["model"]: r for r in result["rows"]}
    unresolved = [k for k in keys if k.startswith("(unresolved) arn:aws:bedrock:")]
    # Then application-profile requests are reported unresolved and unpriced, never at $0 as priced
    assert unresolved
    for key in unresolved:
        assert keys[key]["unpriced_requests"] > 0
        assert Decimal(keys[key]["cost_usd"]) == 0
    assert result["unpriced_requests_by_model"]["acme.unknown-model-v1"] > 0
    assert result["malformed_records"] > 0
    assert result["envelope_body_disagreements"] > 0


def test_since_until_filters_and_hour_keys(logs, capsys):
    result = _run(
        capsys, "--logs", str(logs), "--by", "hour", "--since", "2026-10-15T01:00Z", "--until", "2026-10-15T03:00Z"
    )
    assert [r["hour"] for r in result["rows"]]
    assert {r["hour"] for r in result["rows"]} == {
        "2026-10-15T01",
        "2026-10-15T02",
    }


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--logs", "/nonexistent"], "--logs"),
        (["--logs", ".", "--by", "colour"], "--by"),
        (["--logs", ".", "--since", "yesterday"], "--since"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, argv, needle):
    assert main(["requests", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err
    assert "\n" not in err
