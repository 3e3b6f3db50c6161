"""A built wheel, installed into a fresh virtualenv, runs the CLI from any folder.

The wheel is built the way ``python -m build`` does it (sdist first, wheel from the
sdist), offline, from a copy of exactly the files the build reads, so the shared checkout
gets no ``build/`` folder. The fresh venv sees this venv's site-packages through a plain
path in a ``.pth`` file: that lends it the runtime and ``local`` dependencies without
downloading them, while ``.pth`` files in there (the editable install of this checkout
among them) are never processed, so ``bedrock_cost`` can only come from the wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.packaging]

REPO = Path(__file__).resolve().parents[2]
BUILD_INPUTS = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "queries", "config", "lambdas/bedrock_cost")
CSV_HEADER = "model,cost_usd,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens"


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    site_packages: Path
    workdir: Path
    env: dict[str, str]

    def python(self) -> str:
        return str(self.venv / "bin" / "python")

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run(str(self.venv / "bin" / "bedrock-cost"), *args)

    def run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, cwd=self.workdir, env=self.env, capture_output=True, text=True, timeout=120, check=False
        )


def _run(*argv: str, cwd: Path) -> None:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]


def _copy_build_inputs(target: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    target.mkdir(parents=True)
    for name in BUILD_INPUTS:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        else:
            shutil.copy2(source, target / name)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("packaging")
    source, dist, venv, workdir = root / "src", root / "dist", root / "venv", root / "work"
    workdir.mkdir()
    _copy_build_inputs(source)
    # sdist, then the wheel from the sdist (what `python -m build` does), with this venv's setuptools
    _run(sys.executable, "-c", f"from setuptools import build_meta; build_meta.build_sdist({str(dist)!r})", cwd=source)
    (sdist,) = dist.glob("*.tar.gz")
    pip = (sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input")
    _run(
        *pip,
        "wheel",
        "--quiet",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "-w",
        str(dist),
        str(sdist),
        cwd=root,
    )
    (wheel,) = dist.glob("*.whl")
    # A fresh venv, borrowing this one's third-party packages by path only
    _run(sys.executable, "-m", "venv", "--without-pip", str(venv), cwd=root)
    site_packages = Path(
        subprocess.run(
            [str(venv / "bin" / "python"), "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (site_packages / "zz_borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(
        *pip,
        "--python",
        str(venv / "bin" / "python"),
        "install",
        "--quiet",
        "--no-deps",
        "--no-index",
        str(wheel),
        cwd=root,
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "BEDROCK_COST_QUERIES_DIR"}
    }
    return Installed(wheel=wheel, venv=venv, site_packages=site_packages, workdir=workdir, env=env)


def test_wheel_carries_the_sql_the_example_config_and_the_license(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as archive:
        names = set(archive.namelist())
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        headers = archive.read(metadata).decode()
    packaged_sql = {n.removeprefix("bedrock_cost/queries/") for n in names if n.startswith("bedrock_cost/queries/")}
    assert packaged_sql == {p.relative_to(REPO / "queries").as_posix() for p in (REPO / "queries").rglob("*.sql")}
    assert {"bedrock_cost/data/example.yaml", "bedrock_cost/data/prices.json", "bedrock_cost/py.typed"} <= names
    assert "License-Expression: Apache-2.0" in headers
    assert "Provides-Extra: local" in headers
    assert not [n for n in names if n.startswith("tests/")]


def test_installed_package_reads_its_files_from_the_venv_not_the_checkout(installed: Installed) -> None:
    # When the venv's python (as the console script runs it) locates the package and its files
    script = (
        "import bedrock_cost; from bedrock_cost.billing import sql; from bedrock_cost.demo import runner;"
        "print(bedrock_cost.__file__); print(sql.queries_dir()); print(runner.example_config())"
    )
    result = installed.run(installed.python(), "-c", script)
    assert result.returncode == 0, result.stderr
    package, queries, example = (Path(line) for line in result.stdout.split())
    # Then all three are inside the new venv's site-packages
    assert package == installed.site_packages / "bedrock_cost" / "__init__.py"
    assert queries == installed.site_packages / "bedrock_cost" / "queries"
    assert example == installed.site_packages / "bedrock_cost" / "data" / "example.yaml"


def test_cli_generates_cur_and_reports_it_from_any_folder(installed: Installed) -> None:
    # When generate-cur and report run from a folder that is not the checkout
    generated = installed.cli("generate-cur", "--out", "cur", "--period", "2026-10", "--rows", "2000")
    assert generated.returncode == 0, generated.stderr
    report = installed.cli("report", "--cur", "cur", "--period", "2026-10", "--format", "csv")
    # Then the report is the CSV of the contract, with rows
    assert report.returncode == 0, report.stderr
    lines = report.stdout.splitlines()
    assert lines[0] == CSV_HEADER
    assert len(lines) > 1


def test_pricing_and_tag_policy_run_from_the_installed_package(installed: Installed) -> None:
    pricing = installed.cli("pricing", "--model", "Claude Sonnet 4.6", "--format", "json")
    assert pricing.returncode == 0, pricing.stderr
    assert "input" in pricing.stdout
    example = installed.site_packages / "bedrock_cost" / "data" / "example.yaml"
    policy = installed.cli("tag-policy", "--config", str(example))
    assert policy.returncode == 0, policy.stderr
    assert '"tags"' in policy.stdout


_WITHOUT_DUCKDB = """
import sys
class DuckDBIsNotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "duckdb":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, DuckDBIsNotInstalled())
from bedrock_cost.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def test_report_without_the_local_extra_names_it_in_one_line(installed: Installed) -> None:
    # Given an install where duckdb cannot be imported
    # When report runs
    result = installed.run(installed.python(), "-I", "-c", _WITHOUT_DUCKDB, "report", "--cur", "cur", "--format", "csv")
    # Then it exits 2 with one line naming the extra, and no traceback
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "bedrock-cost report" in lines[0]
    assert "bedrock-cost-tracker[local]" in lines[0]
    assert "duckdb" in lines[0]
    assert result.stdout == ""
