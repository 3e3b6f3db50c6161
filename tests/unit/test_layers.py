"""The package's layers point one way: handlers -> billing/adapters -> domain -> common.

Given every module of ``bedrock_cost``, when its imports (top level and inside functions)
are read, then none reaches a layer above its own or an engine its layer must not know.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

PACKAGE = Path(__file__).resolve().parents[2] / "lambdas" / "bedrock_cost"
ENGINES = ("boto3", "botocore", "duckdb", "pyathena", "pyarrow", "moto", "sqlglot")
LOCAL_TOOLS = ("cli", "demo", "sample_data", "reporting_html", "dashboards")

FORBIDDEN: dict[str, tuple[str, ...]] = {
    "domain": (*ENGINES, *(f"bedrock_cost.{p}" for p in ("adapters", "handlers", "billing", *LOCAL_TOOLS))),
    "billing": ("boto3", "botocore", "bedrock_cost.handlers", *(f"bedrock_cost.{p}" for p in LOCAL_TOOLS)),
    "adapters": ("bedrock_cost.handlers", *(f"bedrock_cost.{p}" for p in LOCAL_TOOLS)),
    "handlers": tuple(f"bedrock_cost.{p}" for p in LOCAL_TOOLS),
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).glob("*.py"))


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_no_layer_imports_upwards_or_an_engine_it_must_not_know(layer: str) -> None:
    offences = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in _modules(layer)
        for name in sorted(_imports(path))
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[layer])
    ]
    assert offences == []


def test_common_modules_import_no_layer() -> None:
    layers = ("domain", "adapters", "handlers", "billing", *LOCAL_TOOLS)
    for name in ("config.py", "config_loader.py", "errors.py", "observability.py", "money.py", "metric_names.py"):
        imported = _imports(PACKAGE / name)
        assert not [m for m in imported if any(m.startswith(f"bedrock_cost.{layer}") for layer in layers)], name


def test_the_layers_exist() -> None:
    # A rename that empties a layer must not make the checks above pass vacuously.
    assert all(_modules(layer) for layer in FORBIDDEN)
