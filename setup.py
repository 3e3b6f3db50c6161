"""Build hook: a wheel carries the SQL of ``queries/`` and the example config.

``queries/`` stays at the top of the repository (one Athena statement per file, read in
place by a checkout and by the infra code), and ``config/example.yaml`` is the demo's
default config. Neither lives under ``lambdas/bedrock_cost``, so package-data globs cannot
reach them; this ``build_py`` copies them into the build as ``bedrock_cost/queries/`` and
``bedrock_cost/data/example.yaml``, where ``billing.sql.queries_dir()`` and the demo look
first. Editable installs skip the copy and keep reading the repository's files in place.
Everything else about the package is declared in ``pyproject.toml``.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup  # type: ignore[import-untyped]
from setuptools.command.build_py import build_py  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent
QUERIES = ROOT / "queries"
EXAMPLE_CONFIG = ROOT / "config" / "example.yaml"


class BuildPyWithRepositoryData(build_py):  # type: ignore[misc]
    """``build_py`` plus the top-level SQL and example config, copied into the package."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        statements = sorted(QUERIES.rglob("*.sql"))
        if not statements or not EXAMPLE_CONFIG.is_file():
            # A wheel without its SQL would install fine and fail on the first report.
            raise FileNotFoundError(f"building needs {QUERIES}/**/*.sql and {EXAMPLE_CONFIG} (is MANIFEST.in intact?)")
        package = Path(self.build_lib) / "bedrock_cost"
        for statement in statements:
            target = package / "queries" / statement.relative_to(QUERIES)
            self.mkpath(str(target.parent))
            self.copy_file(str(statement), str(target))
        self.mkpath(str(package / "data"))
        self.copy_file(str(EXAMPLE_CONFIG), str(package / "data" / "example.yaml"))


setup(cmdclass={"build_py": BuildPyWithRepositoryData})
