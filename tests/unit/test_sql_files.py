"""SQL is data: every statement parses as Trino, fills every hole and prunes partitions."""

from __future__ import annotations

import re

import pytest
from trino_query_parser import parse_statement

from bedrock_cost.billing.sql import list_queries, load_sql, render, view_fragments
from bedrock_cost.billing.views import render_views, view_names

pytestmark = pytest.mark.unit

FRAGMENTS = {
    **view_fragments("bedrock_cost", "cur2", ["team", "project", "cost-center"]),
    "group_expr": "model",
    "tag_column": '"tag_team"',
    "source_view": "bedrock_line_items_base",
}


def _report_values(name: str) -> dict[str, str]:
    holes = set(re.findall(r"(?<![:\w]):([a-z_]+)", load_sql(name)))
    return dict.fromkeys(holes, "x")


@pytest.mark.parametrize("name", list_queries("views") + list_queries("reports"))
def test_every_query_file_renders_and_parses_as_trino(name: str):
    # Given a query file, When rendered with the deployment's fragments
    rendered = render(name, FRAGMENTS, _report_values(name))
    # Then no hole is left and the statement is valid Trino (Athena engine v3) syntax
    assert "{{" not in rendered.sql
    parse_statement(rendered.sql)
    # And it carries no DuckDB-only syntax that Athena rejects
    assert "::" not in rendered.sql
    assert not re.search(r"\bILIKE\b", rendered.sql, re.IGNORECASE)


@pytest.mark.parametrize("name", list_queries("reports"))
def test_every_report_filters_on_billing_period(name: str):
    # Partition pruning is the difference between cents and dollars per query.
    assert re.search(r"WHERE[^;]*billing_period\s*=\s*:period", load_sql(name), re.DOTALL), name


def test_every_view_exposes_billing_period_for_pruning():
    for rendered in render_views("db", "cur2", ["team"]):
        if "model_aliases" in rendered.name:
            continue
        assert "billing_period" in rendered.sql, rendered.name


def test_views_are_created_in_dependency_order():
    names = view_names()
    assert names.index("bedrock_model_aliases") < names.index("bedrock_line_items")
    assert all(names.index("bedrock_line_items") < names.index(v) for v in names if v.startswith("bedrock_cost_by"))


def test_unknown_placeholder_fails_instead_of_reaching_athena():
    with pytest.raises(KeyError, match="group_expr"):
        render("reports/cost_by", {k: v for k, v in FRAGMENTS.items() if k != "group_expr"}, {"period": "2026-10"})


def test_missing_value_fails():
    with pytest.raises(KeyError, match=":period"):
        render("reports/cost_by", FRAGMENTS, {})


def test_values_become_positional_parameters_not_text():
    rendered = render("reports/cost_by", FRAGMENTS, {"period": "2026-10' OR '1'='1"})
    assert rendered.parameters == ("2026-10' OR '1'='1",)
    assert "OR '1'='1" not in rendered.sql
    assert "billing_period = ?" in rendered.sql


@pytest.mark.parametrize("bad", ["bad-db", "DROP TABLE x", 'x"y', ""])
def test_identifiers_outside_the_allow_list_are_refused(bad: str):
    with pytest.raises(ValueError, match="identifier"):
        view_fragments(bad, "cur2", ["team"])


def test_tag_keys_that_need_escaping_are_refused():
    with pytest.raises(ValueError, match="not allowed"):
        view_fragments("db", "cur2", ["te'am"])


def test_colliding_tag_columns_are_refused():
    with pytest.raises(ValueError, match="collide"):
        view_fragments("db", "cur2", ["cost-center", "cost_center"])


def _query_dir(tmp_path, monkeypatch, text: str) -> str:
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "probe.sql").write_text(text, encoding="utf-8")
    monkeypatch.setenv("BEDROCK_COST_QUERIES_DIR", str(tmp_path))
    return "reports/probe"


def test_a_fragment_around_a_value_hole_keeps_the_value_a_parameter():
    # Given the by-resource query, whose eight tag slots share one fragment
    values = {"period": "2026-10", **{f"key_{c}": f"k{c}' OR '1'='1" for c in "abcdefgh"}}
    # When rendered
    rendered = render("reports/untagged_by_resource", FRAGMENTS, values)
    # Then every slot carries the shared expression, and the keys travel only as parameters
    assert "tag_value(:key_" not in rendered.sql
    assert rendered.sql.count("CONCAT('user_', ?)") == 8
    assert "OR '1'='1" not in rendered.sql
    # five parameters per tag slot: four resource-tag spellings and the principal tag
    assert rendered.sql.count("?") == len(rendered.parameters) == 1 + 8 * 5
    assert rendered.parameters[:3] == ("ka' OR '1'='1",) * 3
    assert rendered.parameters[-1] == "2026-10"


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("SELECT {{nope(:period)}}", KeyError, "nope"),
        ("SELECT {{tag_value}}", ValueError, "needs a value hole"),
        ("SELECT {{database(:period)}}", ValueError, "takes no argument"),
        ("SELECT {{tag_value(k.tag_key)}}", ValueError, "malformed placeholder"),
        ("SELECT {{tag_value(:period) || 'x'}}", ValueError, "malformed placeholder"),
    ],
)
def test_a_placeholder_used_wrongly_fails_instead_of_reaching_athena(tmp_path, monkeypatch, text, error, message):
    name = _query_dir(tmp_path, monkeypatch, text)
    with pytest.raises(error, match=message):
        render(name, FRAGMENTS, {"period": "2026-10"})
