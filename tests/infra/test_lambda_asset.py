"""The Lambda asset holds what the handlers import and nothing of the local tools.

The local CLI, the demo, the sample-data generators, the HTML report, the dashboard body
and the DuckDB engine stay out of the asset (``LOCAL_ONLY_PATHS``), and so do the local
engines (duckdb, pyarrow, sqlglot, moto, numpy). These specs check the bundle the local
bundler writes, that every handler imports from that bundle alone, and that no code path
of a handler (imports inside functions included) leads to a module left out.
"""

from __future__ import annotations

import ast
import json
import os
import stat
import subprocess
import sys
import sysconfig
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from aws_cdk import FileSystem

import infra.lambda_function as lf
from tests.support.blocked_imports import with_blocked_imports

pytestmark = pytest.mark.infra

HANDLER_MODULES = sorted(
    f"bedrock_cost.handlers.{path.stem}"
    for path in (lf.PACKAGE_DIR / "handlers").glob("*.py")
    if path.stem != "__init__"
)


def _no_pip(_command: Sequence[str]) -> None:
    """pip's stand-in: no wheels, so only the package itself is in the bundle."""


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("asset")
    lf.build_bundle(out, requirements=["pydantic==2.0"], version="3.14", run=_no_pip)
    return out


def _files(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


# --------------------------------------------------------------------- what is in the asset


def test_asset_leaves_out_the_local_tools_and_the_tests(bundle: Path) -> None:
    # Given the bundle the local bundler writes
    files = _files(bundle)
    # Then no local-only part of the package is in it
    for path in lf.LOCAL_ONLY_PATHS:
        assert not (bundle / "bedrock_cost" / path).exists(), path
    assert not [f for f in files if f.startswith(("bedrock_cost/cli/", "bedrock_cost/demo/"))]
    assert not [f for f in files if f.endswith("duckdb_engine.py")]
    # And no test oracle
    assert not [f for f in files if "tests/" in f or Path(f).name.startswith("test_") or f.startswith("tests")]
    # And the runtime parts are: handlers, Lambda-side adapters, SQL, data
    assert {f"bedrock_cost/handlers/{m.rsplit('.', 1)[1]}.py" for m in HANDLER_MODULES} <= files
    assert "bedrock_cost/adapters/athena.py" in files
    assert "bedrock_cost/data/prices.json" in files
    assert "bedrock_cost/queries/views/10_bedrock_line_items.sql" in files


def test_every_local_only_path_names_something_that_exists() -> None:
    # A renamed module would make its exclusion a silent no-op.
    for path in lf.LOCAL_ONLY_PATHS:
        assert (lf.PACKAGE_DIR / path).exists(), path


def test_a_local_engine_among_the_wheels_is_refused(tmp_path: Path) -> None:
    # Given a runtime dependency that drags numpy in
    def pip_with_numpy(command: Sequence[str]) -> None:
        target = Path(command[command.index("--target") + 1])
        (target / "numpy").mkdir(parents=True)
        (target / "numpy-2.3.0.dist-info").mkdir()

    # Then bundling fails and names it
    with pytest.raises(lf.BundlingError, match="numpy"):
        lf.build_bundle(tmp_path / "out", requirements=["x==1"], version="3.14", run=pip_with_numpy)


def test_editing_a_local_tool_does_not_change_the_asset_hash(tmp_path: Path) -> None:
    # Given a source tree shaped like the repository
    package = tmp_path / "lambdas" / "bedrock_cost"
    for relative in ("handlers/estimator.py", "adapters/athena.py", "adapters/duckdb_engine.py", "cli/main.py"):
        (package / relative).parent.mkdir(parents=True, exist_ok=True)
        (package / relative).write_text("x = 1\n")
    (tmp_path / "queries" / "views").mkdir(parents=True)
    (tmp_path / "queries" / "views" / "a.sql").write_text("SELECT 1\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("x = 1\n")

    def fingerprint() -> str:
        return FileSystem.fingerprint(str(tmp_path), exclude=lf._ASSET_EXCLUDE)

    before = fingerprint()
    # When a local-only module or a test changes, the fingerprint stays
    (package / "cli" / "main.py").write_text("x = 2\n")
    (package / "adapters" / "duckdb_engine.py").write_text("x = 2\n")
    (tmp_path / "tests" / "test_x.py").write_text("x = 2\n")
    assert fingerprint() == before
    # When runtime code or SQL changes, it moves
    (package / "adapters" / "athena.py").write_text("x = 2\n")
    after_code = fingerprint()
    assert after_code != before
    (tmp_path / "queries" / "views" / "a.sql").write_text("SELECT 2\n")
    assert fingerprint() != after_code


def test_docker_bundling_writes_the_same_package_as_local_bundling(bundle: Path, tmp_path: Path) -> None:
    # Given the Docker script, pointed at a local folder, with a pip that installs nothing
    out = tmp_path / "asset-output"
    out.mkdir()
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "pip").write_text("#!/bin/sh\nexit 0\n")
    (fake_bin / "pip").chmod(stat.S_IRWXU)
    _, flag, script = lf._docker_command(["pydantic==2.0"])
    # When it runs in the repository, as the build image would
    subprocess.run(
        ["bash", flag, script.replace("/asset-output", str(out))],
        cwd=lf.REPO_ROOT,
        env={**os.environ, "PATH": f"{fake_bin}:{os.environ['PATH']}"},
        check=True,
        timeout=60,
    )
    # Then it holds exactly the files of the local bundle
    assert _files(out / "bedrock_cost") == _files(bundle / "bedrock_cost")


# --------------------------------------------------------------------- what the handlers reach


_IMPORT_EVERY_HANDLER = with_blocked_imports("""
import importlib, json
bundle, site_packages = sys.argv[1], sys.argv[2]
block(sys.argv[3].split(","), " (not in the Lambda asset)")  # the local engines are absent
sys.path[:] = [p for p in sys.path if "site-packages" not in p] + [bundle, site_packages]
for name in sys.argv[4:]:
    importlib.import_module(name)
print(json.dumps({n: getattr(m, "__file__", None) for n, m in sys.modules.items() if n.startswith("bedrock_cost")}))
""")


def test_every_handler_imports_from_the_asset_alone(bundle: Path) -> None:
    # Given an interpreter that sees only the bundle, plus this venv for boto3 and the
    # runtime dependencies (-S: the venv's .pth files, the editable install among them,
    # are never read) and that cannot import the local engines
    site_packages = sysconfig.get_paths()["purelib"]
    env = {
        "PATH": os.environ["PATH"],
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "asset-check",
    }
    # When every handler module is imported
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-c",
            _IMPORT_EVERY_HANDLER,
            str(bundle),
            site_packages,
            ",".join(lf.LOCAL_ONLY_DISTRIBUTIONS),
            *HANDLER_MODULES,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded: dict[str, str | None] = json.loads(result.stdout.strip().splitlines()[-1])
    # Then every handler loaded, and every bedrock_cost module came from the bundle
    assert set(HANDLER_MODULES) <= set(loaded)
    outside = {name: file for name, file in loaded.items() if file is None or not file.startswith(str(bundle))}
    assert not outside


def _runtime_imports(tree: ast.Module) -> Iterator[str]:
    """Every module name an import statement names, in any function, except under TYPE_CHECKING."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative imports are not used in bedrock_cost"
            assert node.module is not None
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _module_file(root: Path, name: str) -> Path | None:
    path = root.joinpath(*name.split("."))
    for candidate in (path / "__init__.py", path.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def test_no_code_path_of_a_handler_leads_out_of_the_asset(bundle: Path) -> None:
    # Given the handlers and every bedrock_cost module they import, at import time or
    # inside a function (the lazy imports), followed through the repository's source
    source_root = lf.PACKAGE_DIR.parent
    pending = list(HANDLER_MODULES)
    reached: dict[str, Path] = {}
    third_party: dict[str, set[str]] = {}
    while pending:
        name = pending.pop()
        source = _module_file(source_root, name)
        if name in reached or source is None:
            continue  # an attribute (``from x import function``), not a module
        reached[name] = source
        parts = name.split(".")
        pending.extend(".".join(parts[:i]) for i in range(1, len(parts)))  # parents run first
        for imported in _runtime_imports(ast.parse(source.read_text(encoding="utf-8"))):
            if imported.split(".")[0] == "bedrock_cost":
                pending.append(imported)
            else:
                third_party.setdefault(imported.split(".")[0], set()).add(name)
    # Then each one is in the asset
    missing = sorted(name for name, source in reached.items() if _module_file(bundle, name) is None)
    assert not missing, f"handlers reach modules the asset leaves out: {missing}"
    assert "bedrock_cost.billing.sql" in reached  # the walk follows imports at all
    # And none of them imports a local engine, even lazily
    engines = {name: sorted(users) for name, users in third_party.items() if name in lf.LOCAL_ONLY_DISTRIBUTIONS}
    assert not engines


def test_a_handler_importing_a_local_tool_would_be_caught(bundle: Path) -> None:
    # Given a handler with a lazy import of the DuckDB engine and a type-only import of the CLI
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from bedrock_cost.cli.main import main\n"
        "def handler(event, context):\n    from bedrock_cost.adapters.duckdb_engine import DuckDBEngine\n"
    )
    # Then the walk sees the lazy import and ignores the type-only one
    names = set(_runtime_imports(tree))
    assert "bedrock_cost.adapters.duckdb_engine" in names
    assert "bedrock_cost.cli.main" not in names
    # And the module it names exists in the source but not in the asset
    assert _module_file(lf.PACKAGE_DIR.parent, "bedrock_cost.adapters.duckdb_engine") is not None
    assert _module_file(bundle, "bedrock_cost.adapters.duckdb_engine") is None
