"""Lambda defaults in one place: runtime, architecture, logging, tracing, role, code.

Every function of the product runs the same package (``lambdas/bedrock_cost`` plus the
SQL in ``queries/``), so a stack builds ONE code asset and every function shares it. The
asset is bundled locally with ``pip --platform`` (no Docker needed): third-party wheels
for ARM64 Lambda, minus boto3/botocore, which the Lambda runtime already provides.
Runtime dependencies come from ``pyproject.toml`` pinned to the versions installed here,
so Lambda runs exactly what the tests ran.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import (
    AssetHashType,
    BundlingOptions,
    DockerImage,
    Duration,
    ILocalBundling,
    RemovalPolicy,
    Stack,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from bedrock_cost.metric_names import NAMESPACE
from infra.nag import resource_star_policy

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIR = REPO_ROOT / "lambdas" / "bedrock_cost"
QUERIES_DIR = REPO_ROOT / "queries"

RUNTIME = lambda_.Runtime.PYTHON_3_14
"""The newest Python runtime aws-cdk-lib knows: cdk-nag's L1 rule accepts nothing older."""
ARCHITECTURE = lambda_.Architecture.ARM_64
PIP_PLATFORM = "manylinux2014_aarch64"
LOG_RETENTION = logs.RetentionDays.THREE_MONTHS
METRICS_NAMESPACE = NAMESPACE

PROVIDED_BY_RUNTIME = ("boto3", "botocore", "s3transfer")
"""Packages the Python Lambda runtime ships; bundling them would only add ~80 MB."""

LOCAL_ONLY_PATHS = (
    "cli",
    "demo",
    "sample_data",
    "reporting_html",
    "dashboards",
    "adapters/duckdb_engine.py",
)
"""Parts of ``bedrock_cost`` that only the local CLI, the demo and synth use. No handler
imports them (``tests/infra/test_lambda_asset.py`` walks the imports), so the asset
leaves them out: smaller code, and no path into duckdb or moto from a Lambda."""
LOCAL_ONLY_DISTRIBUTIONS = ("duckdb", "pyarrow", "sqlglot", "moto", "numpy")
"""The ``local`` extra's engines; a bundle that contains one of them is refused."""

_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._\-]*)\s*(\[[A-Za-z0-9,._\- ]+\])?")

# Only what a Lambda needs goes into the asset; fingerprinting never walks .venv or cdk.out,
# and an edit to a local-only module does not re-bundle (or re-deploy) the functions.
_ASSET_EXCLUDE = [
    "*",
    "!lambdas",
    "!lambdas/bedrock_cost",
    "!lambdas/bedrock_cost/**",
    "!queries",
    "!queries/**",
    "**/__pycache__",
    "**/*.pyc",
    *(f"lambdas/bedrock_cost/{path}{tail}" for path in LOCAL_ONLY_PATHS for tail in ("", "/**")),
]


class BundlingError(RuntimeError):
    """pip could not build the Lambda bundle; the message carries pip's output."""


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_requirements(pyproject: Path = REPO_ROOT / "pyproject.toml") -> tuple[str, ...]:
    """The project's runtime dependencies, pinned to the installed versions, minus boto3.

    Raises ``BundlingError`` if one is not installed: synth runs from the project's
    environment (``make install``), where all of them are.
    """
    dependencies: list[str] = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    provided = {_normalise(name) for name in PROVIDED_BY_RUNTIME}
    pinned: list[str] = []
    for spec in dependencies:
        match = _REQUIREMENT.match(spec)
        if match is None:
            raise BundlingError(f"cannot read dependency {spec!r} in {pyproject}")
        name, extras = match.group(1), match.group(2) or ""
        if _normalise(name) in provided:
            continue
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            raise BundlingError(f"{name} is not installed; run 'make install' before synth") from None
        pinned.append(f"{name}{extras.replace(' ', '')}=={version}")
    return tuple(pinned)


def python_version(runtime: lambda_.Runtime = RUNTIME) -> str:
    """``python3.14`` -> ``3.14``: the interpreter pip must pick wheels for."""
    return runtime.name.removeprefix("python")


def pip_command(target: Path, requirements: Sequence[str], version: str) -> list[str]:
    """pip arguments that fetch Lambda-compatible wheels into ``target`` without Docker."""
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",  # .pyc from this interpreter would be useless to the runtime's
        "--platform",
        PIP_PLATFORM,
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        version,
        "--target",
        str(target),
        *requirements,
    ]


def _run_pip(command: Sequence[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 (fixed argv)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-15:]
        raise BundlingError("pip failed while bundling the Lambda code:\n" + "\n".join(tail))


def build_bundle(
    output_dir: Path,
    *,
    requirements: Sequence[str],
    version: str,
    package_dir: Path = PACKAGE_DIR,
    queries_dir: Path = QUERIES_DIR,
    run: Callable[[Sequence[str]], None] | None = None,
) -> None:
    """Fill ``output_dir`` with the wheels, the ``bedrock_cost`` package and its SQL.

    The package goes in without ``LOCAL_ONLY_PATHS``; a local-only engine among the
    wheels (pulled in by a new runtime dependency) is a ``BundlingError``.
    """
    output_dir.mkdir(parents=True, exist_ok=True)
    (run or _run_pip)(pip_command(output_dir, requirements, version))
    provided = {_normalise(name) for name in PROVIDED_BY_RUNTIME}
    local_only = {_normalise(name) for name in LOCAL_ONLY_DISTRIBUTIONS}
    for entry in list(output_dir.iterdir()):
        stem = _normalise(entry.name.split("-")[0] if entry.name.endswith(".dist-info") else entry.name)
        if stem in local_only:
            raise BundlingError(f"{entry.name} is a local-only engine but the runtime dependencies pull it in")
        if stem in provided or entry.name == "bin":
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    target = output_dir / "bedrock_cost"
    shutil.copytree(package_dir, target, ignore=_runtime_only(package_dir), dirs_exist_ok=True)
    # sql.queries_dir() looks for the bundled copy inside the package first.
    shutil.copytree(queries_dir, target / "queries", ignore=_only_sql, dirs_exist_ok=True)


def _runtime_only(package_dir: Path) -> Callable[[str, list[str]], set[str]]:
    """``copytree`` ignore hook: drop caches and ``LOCAL_ONLY_PATHS`` (relative to the package)."""
    excluded = set(LOCAL_ONLY_PATHS)

    def ignore(folder: str, names: list[str]) -> set[str]:
        relative = Path(folder).relative_to(package_dir)
        return {
            name
            for name in names
            if name == "__pycache__" or name.endswith(".pyc") or (relative / name).as_posix() in excluded
        }

    return ignore


def _only_sql(folder: str, names: list[str]) -> set[str]:
    """``copytree`` ignore hook: keep sub-folders and ``.sql`` files, nothing else."""
    return {name for name in names if not name.endswith(".sql") and not (Path(folder) / name).is_dir()}


@jsii.implements(ILocalBundling)
class LocalPipBundling:
    """Bundles on the synth machine, so ``cdk synth`` and ``cdk deploy`` need no Docker."""

    def __init__(self, requirements: Sequence[str], version: str) -> None:
        self._requirements = tuple(requirements)
        self._version = version

    def try_bundle(self, output_dir: str, *_options: Any, **_keywords: Any) -> bool:
        """Called by CDK (through jsii, options passed positionally) before any Docker bundling."""
        build_bundle(Path(output_dir), requirements=self._requirements, version=self._version)
        return True


def _docker_command(requirements: Sequence[str]) -> list[str]:
    """The same steps inside the runtime's build image (used only if local bundling is off)."""
    prune = " ".join(f"/asset-output/{name}*" for name in PROVIDED_BY_RUNTIME)
    local_only = " ".join(f"/asset-output/bedrock_cost/{path}" for path in LOCAL_ONLY_PATHS)
    script = (
        f"pip install --quiet --no-compile --target /asset-output {shlex.join(requirements)}"
        f" && rm -rf {prune} /asset-output/bin"
        " && cp -r lambdas/bedrock_cost /asset-output/bedrock_cost"
        f" && rm -rf {local_only}"
        " && find /asset-output/bedrock_cost -name __pycache__ -prune -exec rm -rf {} +"
        " && mkdir -p /asset-output/bedrock_cost/queries"
        " && (cd queries && find . -name '*.sql' -exec cp --parents {} /asset-output/bedrock_cost/queries/ \\;)"
    )
    return ["bash", "-c", script]


def make_code() -> lambda_.Code:
    """A new code asset for the runtime package (one per stack: see ``shared_code``)."""
    requirements = runtime_requirements()
    version = python_version()
    bundling_image: DockerImage = RUNTIME.bundling_image
    return lambda_.Code.from_asset(
        str(REPO_ROOT),
        exclude=_ASSET_EXCLUDE,
        asset_hash_type=AssetHashType.SOURCE,
        bundling=BundlingOptions(
            image=bundling_image,
            local=LocalPipBundling(requirements, version),
            command=_docker_command(requirements),
            # Part of the asset hash: a new pin re-bundles even if no source changed.
            environment={"BUNDLED_REQUIREMENTS": " ".join(requirements)},
        ),
    )


_CODE_ATTRIBUTE = "_bedrock_cost_code"


def shared_code(scope: Construct) -> lambda_.Code:
    """The stack's single code asset, created on first use."""
    stack = Stack.of(scope)
    code: lambda_.Code | None = getattr(stack, _CODE_ATTRIBUTE, None)
    if code is None:
        code = make_code()
        setattr(stack, _CODE_ATTRIBUTE, code)
    return code


def use_code(stack: Stack, code: lambda_.Code) -> None:
    """Make ``code`` the stack's shared code (before its first function is built).

    A StackSet's member template cannot carry CDK file assets (member accounts have no
    CDK bootstrap), so the collector stack passes ``Code.from_bucket`` here instead.
    """
    if getattr(stack, _CODE_ATTRIBUTE, None) is not None:
        raise ValueError(f"{stack.node.path} already has its code; call use_code before adding functions")
    setattr(stack, _CODE_ATTRIBUTE, code)


class BedrockCostFunction(Construct):
    """A Lambda function with the product's defaults.

    Python (newest runtime), ARM64, JSON logs into an explicit log group with retention,
    X-Ray active tracing, Powertools service name and metrics namespace, and its own role
    that starts with nothing but write access to its own log group. Callers grant the
    rest with ``grant_*`` or ``add_to_role_policy``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: str,
        description: str,
        service_name: str,
        environment: Mapping[str, str] | None = None,
        timeout: Duration | None = None,
        memory_size: int = 256,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(self, "Logs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Runs the {service_name} function of Bedrock Cost Tracker",
        )
        # Scoped replacement for AWSLambdaBasicExecutionRole (cdk-nag IAM4): the function's
        # own log group only. The group's ARN attribute already ends in ':*' for its streams.
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        tracing_policy = resource_star_policy(
            self,
            "TracingPolicy",
            self.role,
            ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            "xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level "
            "permissions; this policy grants only those two actions, for active tracing.",
        )
        env = {
            "POWERTOOLS_SERVICE_NAME": service_name,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            **(environment or {}),
        }
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=shared_code(self),
            handler=handler,
            description=description,
            environment=env,
            timeout=timeout or Duration.seconds(60),
            memory_size=memory_size,
            role=self.role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
        )
        # Tracing is set on the L1 so the X-Ray statement lives in its own policy above,
        # where its acknowledgement cannot cover any other wildcard added to the role.
        cfn_function = self.function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        cfn_function.tracing_config = lambda_.CfnFunction.TracingConfigProperty(mode="Active")
        self.function.node.add_dependency(tracing_policy)

    def add_to_role_policy(self, statement: iam.PolicyStatement) -> None:
        """Grant the function one more (scoped) statement."""
        self.function.add_to_role_policy(statement)
