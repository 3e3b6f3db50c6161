"""The Athena -> DuckDB translation cache: same SQL out, stored once, never trusted blindly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bedrock_cost.adapters import duckdb_dialect

pytestmark = pytest.mark.unit
STATEMENT = "SELECT element_at(m, 'k') AS v, regexp_like(s, '^a') AS r FROM t"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv(duckdb_dialect.CACHE_ENV, str(tmp_path))
    duckdb_dialect.athena_to_duckdb.cache_clear()
    yield tmp_path
    duckdb_dialect.athena_to_duckdb.cache_clear()


def _stored(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.sql"))


def test_a_translation_is_stored_and_read_back_without_translating_again(cache, monkeypatch):
    # Given a statement translated once
    first = duckdb_dialect.athena_to_duckdb(STATEMENT)
    assert first == "SELECT m['k'] AS v, REGEXP_MATCHES(s, '^a') AS r FROM t"  # DuckDB's spelling
    assert len(_stored(cache)) == 1
    # When a new process (empty in-memory cache) asks again, with sqlglot unavailable
    duckdb_dialect.athena_to_duckdb.cache_clear()
    monkeypatch.setattr(duckdb_dialect, "_translate", lambda sql: pytest.fail("translated again"))
    # Then the stored translation is returned as it was
    assert duckdb_dialect.athena_to_duckdb(STATEMENT) == first


def test_a_foreign_or_truncated_file_is_translated_again_and_replaced(cache):
    expected = duckdb_dialect.athena_to_duckdb(STATEMENT)
    (path,) = _stored(cache)
    # Given the stored file lost its header (edited, or written by something else)
    path.write_text("SELECT 'not what was asked'", encoding="utf-8")
    duckdb_dialect.athena_to_duckdb.cache_clear()
    # Then it is not trusted: the statement is translated again and the file rewritten
    assert duckdb_dialect.athena_to_duckdb(STATEMENT) == expected
    assert path.read_text(encoding="utf-8").endswith(expected)


def test_an_empty_setting_turns_the_cache_off_and_an_unwritable_folder_costs_nothing(tmp_path, monkeypatch):
    duckdb_dialect.athena_to_duckdb.cache_clear()
    monkeypatch.setenv(duckdb_dialect.CACHE_ENV, "")
    assert duckdb_dialect.cache_dir() is None
    off = duckdb_dialect.athena_to_duckdb(STATEMENT)
    # A "folder" that is a file cannot hold the cache: the translation still comes back
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv(duckdb_dialect.CACHE_ENV, str(blocker))
    duckdb_dialect.athena_to_duckdb.cache_clear()
    assert duckdb_dialect.athena_to_duckdb(STATEMENT) == off
    duckdb_dialect.athena_to_duckdb.cache_clear()


def test_the_default_folder_follows_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.delenv(duckdb_dialect.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert duckdb_dialect.cache_dir() == tmp_path / "bedrock-cost" / "duckdb-sql"
