"""SQL kept as files: load a statement from ``queries/`` and render it safely.

Two kinds of holes, never mixed:

* ``{{name}}`` takes an *identifier or fragment* that the code chose from an allow-list
  (database, table, a grouping expression, the configured tag keys). Rendering fails on
  a placeholder nobody filled, so a typo never reaches Athena.
* ``{{name(:value)}}`` takes a fragment built around a value hole: one expression written
  once in Python and used several times in a file (a tag's value for the key in ``:key_a``).
  The argument can only be a ``:name`` hole, so the value still travels as a parameter.
* ``:name`` takes a *value* (billing period, tag key). It becomes a positional ``?`` and
  the value travels as a query parameter, never as text pasted into the SQL.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from bedrock_cost.glue_names import GLUE_NAME_PATTERN

_IDENT_HOLE = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*(?:\(\s*(:[a-z_][a-z0-9_]*)\s*\)\s*)?\}\}")
_IDENTIFIER = re.compile(GLUE_NAME_PATTERN)
_SAFE_LITERAL = re.compile(r"^[A-Za-z0-9 _.:/=+\-@()]{0,256}$")

QUERIES_DIR_ENV = "BEDROCK_COST_QUERIES_DIR"

Fragment = str | Callable[[str], str]
"""What fills a ``{{…}}``: fixed text, or a function of the ``:value`` hole it is given."""


@dataclass(frozen=True)
class RenderedQuery:
    """A statement ready for an engine: SQL with ``?`` holes and their values in order."""

    name: str
    sql: str
    parameters: tuple[str, ...]


def queries_dir() -> Path:
    """Where the ``.sql`` files are: env override, the bundled copy, or the repo's ``queries/``.

    Wheels (``setup.py``) and Lambda bundles (``infra/lambda_function.py``) carry a copy
    inside the package; a source checkout and an editable install read ``queries/`` in place.
    """
    override = os.environ.get(QUERIES_DIR_ENV)
    if override:
        return Path(override)
    bundled = Path(str(resources.files("bedrock_cost"))) / "queries"
    if bundled.is_dir():
        return bundled
    repo = Path(__file__).resolve().parents[3] / "queries"
    if repo.is_dir():
        return repo
    raise FileNotFoundError("cannot find the queries/ folder (set BEDROCK_COST_QUERIES_DIR)")


@lru_cache(maxsize=128)
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def load_sql(name: str) -> str:
    """Read ``queries/<name>.sql`` (name like ``views/bedrock_line_items``)."""
    path = queries_dir() / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"no query file {path}")
    return _read(path)


def list_queries(kind: str) -> list[str]:
    """Names of every statement under ``queries/<kind>/``, sorted (views sort by dependency prefix)."""
    folder = queries_dir() / kind
    return sorted(f"{kind}/{p.stem}" for p in folder.glob("*.sql"))


def quote_identifier(name: str) -> str:
    """Quote an identifier that passed the allow-list pattern (lower-case, digits, underscore)."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"{name!r} is not an allowed SQL identifier")
    return f'"{name}"'


def string_literal(value: str) -> str:
    """Render a literal from *our own* data (config tag keys, model aliases).

    Only a narrow character set is accepted, so there is nothing to escape; user input
    never comes through here, it travels as a parameter.
    """
    if not _SAFE_LITERAL.match(value):
        raise ValueError(f"{value!r} contains characters not allowed in a rendered literal")
    return f"'{value}'"


_SQL_TOKEN = re.compile(r"'[^']*(?:'|\Z)|--[^\n]*|:([A-Za-z_][A-Za-z0-9_]*)")
"""What a value hole scan must tell apart: a quoted string (to its closing quote, or the end),
a ``--`` comment (to the end of the line), and a ``:name`` hole. One regex pass instead of a
loop per character: every command renders every view at start-up."""


def _replace_value_holes(sql: str, values: Mapping[str, str]) -> tuple[str, tuple[str, ...]]:
    """Turn ``:name`` holes outside quoted strings and comments into ``?`` and collect their values."""
    params: list[str] = []

    def hole(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return match.group(0)  # a string literal or a comment, kept as written
        if name not in values:
            raise KeyError(f"query parameter :{name} has no value")
        params.append(values[name])
        return "?"

    return _SQL_TOKEN.sub(hole, sql), tuple(params)


def render(
    name: str,
    fragments: Mapping[str, Fragment] | None = None,
    values: Mapping[str, str] | None = None,
) -> RenderedQuery:
    """Load ``queries/<name>.sql`` and fill its holes; fail on any hole left unfilled."""
    text = load_sql(name)
    fragments = fragments or {}

    def fill(match: re.Match[str]) -> str:
        key, argument = match.group(1), match.group(2)
        if key not in fragments:
            raise KeyError(f"{name}.sql: placeholder {{{{{key}}}}} has no value")
        fragment = fragments[key]
        if isinstance(fragment, str):
            if argument is not None:
                raise ValueError(f"{name}.sql: placeholder {{{{{key}}}}} takes no argument")
            return fragment
        if argument is None:
            raise ValueError(f"{name}.sql: placeholder {{{{{key}}}}} needs a value hole, e.g. {{{{{key}(:name)}}}}")
        return fragment(argument)

    sql = _IDENT_HOLE.sub(fill, text)
    if "{{" in sql:
        bad = sql[sql.index("{{") :].split("}}", 1)[0]
        raise ValueError(f"{name}.sql: malformed placeholder {bad}}}}}")
    sql, params = _replace_value_holes(sql, values or {})
    return RenderedQuery(name=name, sql=sql.strip().rstrip(";"), parameters=params)


def tag_column(key: str) -> str:
    """The base view's column for a configured tag key: ``team`` -> ``tag_team``."""
    return "tag_" + re.sub(r"[^a-z0-9_]", "_", key.lower())


def model_alias_rows() -> str:
    """``VALUES`` rows of (alias, model, provider) rendered from ``data/models.json``."""
    from bedrock_cost.domain.model_catalog import load_model_catalog

    catalog = load_model_catalog()
    rows = [
        f"({string_literal(alias)}, {string_literal(info.model)}, {string_literal(info.provider)})"
        for alias, info in sorted(catalog.aliases.items())
    ]
    return ",\n    ".join(rows)


USAGE_SUMS = (
    "SUM(cost_usd) AS cost_usd,\n"
    "  SUM(input_tokens) AS input_tokens,\n"
    "  SUM(output_tokens) AS output_tokens,\n"
    "  SUM(cache_read_tokens) AS cache_read_tokens,\n"
    "  SUM(cache_write_tokens) AS cache_write_tokens"
)
"""The money and token sums every aggregate view and report shares."""


def usage_classification_sql() -> str:
    """The shared usage-classification CTEs (``queries/fragments/usage_classification.sql``)."""
    return load_sql("fragments/usage_classification").strip()


def view_fragments(database: str, table: str, tag_keys: Sequence[str]) -> dict[str, Fragment]:
    """Every ``{{…}}`` a view or report may use, built from validated config."""
    columns = [tag_column(k) for k in tag_keys]
    all_columns = [*columns, *(c + "_source" for c in columns)]
    if len(set(all_columns)) != len(all_columns):
        raise ValueError(f"tag keys {list(tag_keys)} collide as columns {columns}")
    tag_value_exprs = [
        f"{tag_value_sql(string_literal(k))} AS {quote_identifier(c)},\n  "
        f"{tag_source_sql(string_literal(k))} AS {quote_identifier(c + '_source')}"
        for k, c in zip(tag_keys, columns, strict=True)
    ]
    missing = [
        f"CASE WHEN {quote_identifier(c)} IS NULL THEN {string_literal(k)} END"
        for k, c in zip(tag_keys, columns, strict=True)
    ]
    return {
        "database": quote_identifier(database),
        "table": quote_identifier(table),
        "model_alias_rows": model_alias_rows(),
        "usage_sums": USAGE_SUMS,
        "usage_classification": usage_classification_sql(),
        "tag_columns": "".join(f"{expr},\n  " for expr in tag_value_exprs),
        "tag_value_of_k": tag_value_sql("k.tag_key"),
        "tag_value": tag_value_sql,
        "tag_keys_array": "ARRAY[" + ", ".join(string_literal(k) for k in tag_keys) + "]"
        if tag_keys
        else "CAST(ARRAY[] AS ARRAY(VARCHAR))",
        "missing_tag_keys_expr": ("concat_ws(',', " + ", ".join(missing) + ")") if missing else "''",
    }


TAG_SOURCE_RESOURCE = "resource"
TAG_SOURCE_PRINCIPAL = "principal"


def _resource_tag_sql(key_sql: str) -> str:
    return (
        f"NULLIF(TRIM(element_at(resource_tags, CONCAT('user_', {key_sql}))), ''), "
        f"NULLIF(TRIM(element_at(resource_tags, CONCAT('user:', {key_sql}))), ''), "
        f"NULLIF(TRIM(element_at(tags, CONCAT('resourceTags/user:', {key_sql}))), ''), "
        f"NULLIF(TRIM(element_at(tags, CONCAT('resourceTags/', {key_sql}))), '')"
    )


def _principal_tag_sql(key_sql: str) -> str:
    return f"NULLIF(TRIM(element_at(tags, CONCAT('iamPrincipal/', {key_sql}))), '')"


def tag_value_sql(key_sql: str) -> str:
    """SQL for a user tag's value given SQL for its key (a literal or a ``:param``).

    Resource tags first, in every spelling seen in CUR 2.0: ``resource_tags['user_<key>']``
    (the documented form), ``resource_tags['user:<key>']`` (one source), and the ``tags``
    map's ``resourceTags/user:<key>`` and ``resourceTags/<key>`` (the table dictionary's
    example). Then the IAM principal tag ``tags['iamPrincipal/<key>']``: AWS's tagging
    guidance gives a resource tag precedence over a principal tag. Empty and
    whitespace-only values count as missing.
    """
    return f"COALESCE({_resource_tag_sql(key_sql)}, {_principal_tag_sql(key_sql)})"


def tag_source_sql(key_sql: str) -> str:
    """Which source gave :func:`tag_value_sql` its value: 'resource', 'principal' or NULL."""
    return (
        f"CASE WHEN COALESCE({_resource_tag_sql(key_sql)}) IS NOT NULL THEN '{TAG_SOURCE_RESOURCE}' "
        f"WHEN {_principal_tag_sql(key_sql)} IS NOT NULL THEN '{TAG_SOURCE_PRINCIPAL}' END"
    )


def dumps_parameters(params: Sequence[str]) -> str:
    """Stable text form of parameters, for logs and error messages."""
    return json.dumps(list(params))
