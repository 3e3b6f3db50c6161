"""Spec of the Lambda defaults and of the one shared, Docker-free code bundle."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template

import infra.lambda_function as lf
from tests.infra.synth_support import SKIP_BUNDLING, Synth

pytestmark = pytest.mark.infra

VIEWS_HANDLER = "bedrock_cost.handlers.athena_views.handler"


def _views_function(synth: Synth) -> dict[str, Any]:
    (function,) = [
        f for f in synth.resources("AWS::Lambda::Function").values() if f["Properties"]["Handler"] == VIEWS_HANDLER
    ]
    return function


# --------------------------------------------------------------------- defaults


def test_runtime_is_the_newest_python_cdk_knows() -> None:
    pythons = [r for r in lambda_.Runtime.ALL if r.name.startswith("python3.")]
    newest = max(pythons, key=lambda r: int(r.name.split(".")[1]))
    assert lf.RUNTIME.name == newest.name


def test_function_defaults_arm64_json_logs_tracing_and_powertools(created: Synth) -> None:
    props = _views_function(created)["Properties"]
    assert props["Runtime"] == lf.RUNTIME.name
    assert props["Architectures"] == ["arm64"]
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["LoggingConfig"]["LogFormat"] == "JSON"
    env = props["Environment"]["Variables"]
    assert env["POWERTOOLS_SERVICE_NAME"] == "athena-views"
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "BedrockCostTracker"


def test_log_group_is_explicit_with_retention(created: Synth) -> None:
    log_group_id = _views_function(created)["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    log_group = created.resources("AWS::Logs::LogGroup")[log_group_id]
    assert log_group["Properties"]["RetentionInDays"] == 90


def test_function_waits_for_its_tracing_permissions(created: Synth) -> None:
    function = _views_function(created)
    tracing_policies = [
        k
        for k, p in created.resources("AWS::IAM::Policy").items()
        if any("xray:PutTraceSegments" in s["Action"] for s in p["Properties"]["PolicyDocument"]["Statement"])
    ]
    assert set(tracing_policies) & set(function["DependsOn"])


def test_code_asset_still_synthesizes_when_bundling_is_skipped(created: Synth) -> None:
    # Given bundling was skipped, the asset is the fingerprinted source folder
    code = _views_function(created)["Properties"]["Code"]
    assets = json.loads((created.outdir / "BedrockCostTracker.assets.json").read_text())["files"]
    asset_hash = code["S3Key"].removesuffix(".zip")
    assert assets[asset_hash]["source"] == {"path": str(lf.REPO_ROOT), "packaging": "zip"}


def _bare_stack_keys(count: int) -> list[str]:
    app = App(context=SKIP_BUNDLING)
    stack = Stack(app, "FunctionsUnderTest")
    for index in range(count):
        lf.BedrockCostFunction(
            stack, f"F{index}", handler=VIEWS_HANDLER, description=f"function {index}", service_name=f"svc-{index}"
        )
    functions = Template.from_stack(stack).find_resources("AWS::Lambda::Function")
    return [f["Properties"]["Code"]["S3Key"] for f in functions.values()]


def test_functions_of_one_stack_share_one_code_asset() -> None:
    keys = _bare_stack_keys(2)
    assert len(keys) == 2
    assert len(set(keys)) == 1


def test_new_dependency_pins_change_the_asset(monkeypatch: pytest.MonkeyPatch) -> None:
    (before,) = set(_bare_stack_keys(1))
    monkeypatch.setattr(lf, "runtime_requirements", lambda: ("pydantic==0.0.1",))
    (after,) = set(_bare_stack_keys(1))
    assert before != after


# --------------------------------------------------------------------- requirements


def test_runtime_requirements_follow_pyproject_pinned_and_without_boto3() -> None:
    requirements = lf.runtime_requirements()
    names = {r.split("[")[0].split("==")[0].lower() for r in requirements}
    declared = tomllib.loads((lf.REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    declared_names = {d.split("[")[0].split(">")[0].split("=")[0].strip().lower() for d in declared}
    # Then every declared dependency but the runtime's own boto3 is bundled
    assert names == declared_names - {"boto3", "botocore"}
    # And each is pinned to the version the tests run with
    for requirement in requirements:
        name, version = requirement.split("==")
        assert metadata.version(name.split("[")[0]) == version


def test_missing_dependency_is_a_clear_error(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\ndependencies = ["surely-not-installed-pkg>=1"]\n')
    with pytest.raises(lf.BundlingError, match="surely-not-installed-pkg is not installed"):
        lf.runtime_requirements(pyproject)


def test_pip_fetches_lambda_wheels_for_the_runtime_python() -> None:
    command = lf.pip_command(Path("/out"), ["pydantic==2.0"], lf.python_version())
    assert lf.python_version() == lf.RUNTIME.name.removeprefix("python")
    joined = " ".join(command)
    assert "--platform manylinux2014_aarch64" in joined
    assert "--only-binary=:all:" in command
    assert f"--python-version {lf.python_version()}" in joined
    assert "--implementation cp" in joined
    assert "--no-compile" in command
    assert command[-3:] == ["--target", "/out", "pydantic==2.0"]


# --------------------------------------------------------------------- the bundle


def _fake_pip(command: Sequence[str]) -> None:
    """Writes what pip writes into --target: packages, dist-info folders, a bin folder."""
    target = Path(command[command.index("--target") + 1])
    for name in ("pydantic", "boto3", "botocore", "s3transfer", "yaml"):
        (target / name).mkdir(parents=True)
        (target / name / "__init__.py").write_text("")
    for dist in ("pydantic-2.0.dist-info", "boto3-1.0.dist-info", "botocore-1.0.dist-info", "s3transfer-0.1.dist-info"):
        (target / dist).mkdir()
    (target / "bin").mkdir()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundle")
    lf.build_bundle(out, requirements=["pydantic==2.0"], version="3.14", run=_fake_pip)
    return out


def test_bundle_drops_what_the_lambda_runtime_provides(bundle: Path) -> None:
    present = {p.name for p in bundle.iterdir()}
    assert {"pydantic", "pydantic-2.0.dist-info", "yaml", "bedrock_cost"} <= present
    assert not present & {"boto3", "botocore", "s3transfer", "bin"}
    assert not any(name.startswith(("boto3-", "botocore-", "s3transfer-")) for name in present)


def test_bundle_carries_the_package_its_data_and_only_sql_queries(bundle: Path) -> None:
    package = bundle / "bedrock_cost"
    assert (package / "handlers" / "athena_views.py").is_file()
    assert (package / "data" / "models.json").is_file()
    sql_files = sorted(p.relative_to(package / "queries").as_posix() for p in (package / "queries").rglob("*.*"))
    expected = sorted(p.relative_to(lf.QUERIES_DIR).as_posix() for p in lf.QUERIES_DIR.rglob("*.sql"))
    assert sql_files == expected
    assert not list(package.rglob("__pycache__"))


def test_bundled_package_finds_its_sql_inside_the_bundle(bundle: Path) -> None:
    # When the bundled package is imported on its own (as in Lambda)
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); from bedrock_cost.billing import sql; print(sql.queries_dir())"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", script, str(bundle)], capture_output=True, text=True, check=True, timeout=60
    )
    # Then queries_dir() is the bundled copy
    assert Path(result.stdout.strip()) == bundle / "bedrock_cost" / "queries"


def test_cdk_runs_the_local_bundler_without_docker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Given bundling is on (no skip context) and pip is replaced by its stand-in
    monkeypatch.setattr(lf, "_run_pip", _fake_pip)
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "BundledUnderTest")
    lf.BedrockCostFunction(stack, "F", handler=VIEWS_HANDLER, description="bundled", service_name="bundled")
    # When CDK synthesizes (it calls LocalPipBundling.try_bundle through jsii)
    app.synth()
    # Then the staged asset is the bundle: package and SQL in, runtime-provided packages out
    (asset,) = [p for p in tmp_path.glob("asset.*") if (p / "bedrock_cost").is_dir()]
    assert (asset / "bedrock_cost" / "queries" / "views").is_dir()
    assert (asset / "pydantic").is_dir()
    assert not (asset / "boto3").exists()
    # And the local tools stay out of what CDK zips
    assert (asset / "bedrock_cost" / "handlers").is_dir()
    for path in lf.LOCAL_ONLY_PATHS:
        assert not (asset / "bedrock_cost" / path).exists(), path


def test_pip_failure_is_reported_with_pips_reason(tmp_path: Path) -> None:
    with pytest.raises(lf.BundlingError, match="No matching distribution"):
        lf._run_pip(
            [
                sys.executable,
                "-c",
                "import sys; sys.stderr.write('ERROR: No matching distribution found for x\\n'); sys.exit(1)",
            ]
        )
