"""A validator for CloudWatch dashboard bodies, written from AWS's "Dashboard Body Structure
and Syntax" reference: the overall structure, the widgets array, metric and text widget
properties, and the format of each entry of a metric widget's ``metrics`` array.

``PutDashboard`` checks much of this server-side; moto only checks that the body is JSON,
so the tests hold the generated body to the documented structure here.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

BODY_KEYS = {"widgets", "start", "end", "periodOverride", "variables"}
WIDGET_KEYS = {"type", "x", "y", "width", "height", "properties"}
WIDGET_TYPES = {"metric", "text", "log", "alarm", "explorer", "custom"}
METRIC_PROPERTY_KEYS = {
    "accountId",
    "annotations",
    "liveData",
    "legend",
    "metrics",
    "period",
    "region",
    "stacked",
    "sparkline",
    "stat",
    "timezone",
    "title",
    "view",
    "yAxis",
    "setPeriodToTimeRange",
    "singleValueFullPrecision",
    "labels",
    "start",
    "end",
    "table",
    "trend",
}
VIEWS = {"timeSeries", "singleValue", "gauge", "bar", "pie", "table"}
RENDERING_KEYS = {"accountId", "color", "expression", "id", "label", "period", "region", "stat", "visible", "yAxis"}
STAT_RE = re.compile(r"^(SampleCount|Average|Sum|Minimum|Maximum|IQM|(p|tm|wm|tc|ts|PR)\d{1,2}(\.\d{1,2})?)$")
ID_RE = re.compile(r"^[a-z][a-zA-Z0-9_]*$")
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
DURATION_RE = re.compile(r"^-P(T?\d+[WDHMS])+$|^-PT\d+[HMS]$|^-P\d+[DW](T\d+[HMS])?$")


def _period_ok(period: Any) -> bool:
    return isinstance(period, int) and (period in {1, 5, 10, 30} or (period >= 60 and period % 60 == 0))


def _strip_quoted(expression: str) -> str:
    return re.sub(r"'[^']*'|\"[^\"]*\"", "''", expression)


def _check_axis(where: str, axis: Any) -> list[str]:
    errors = []
    if not isinstance(axis, dict) or not set(axis) <= {"left", "right"}:
        return [f"{where}: yAxis must be an object with left/right"]
    for side, spec in axis.items():
        if not set(spec) <= {"min", "max", "label", "showUnits"}:
            errors.append(f"{where}: yAxis.{side} has unknown keys {set(spec) - {'min', 'max', 'label', 'showUnits'}}")
        for bound in ("min", "max"):
            if bound in spec and not isinstance(spec[bound], int | float):
                errors.append(f"{where}: yAxis.{side}.{bound} must be a number")
    return errors


def _check_annotations(where: str, annotations: Any) -> list[str]:
    errors = []
    if not isinstance(annotations, dict) or not set(annotations) <= {"horizontal", "vertical"}:
        return [f"{where}: annotations must have horizontal/vertical arrays"]
    for item in annotations.get("horizontal", []):
        if not isinstance(item.get("value"), int | float):
            errors.append(f"{where}: horizontal annotation needs a numeric value")
        if not set(item) <= {"value", "label", "color", "fill", "visible", "yAxis"}:
            errors.append(f"{where}: horizontal annotation has unknown keys")
        if "color" in item and not COLOR_RE.match(item["color"]):
            errors.append(f"{where}: annotation colour {item['color']!r} is not #rrggbb")
    return errors


def _check_metrics(where: str, metrics: Any) -> list[str]:
    errors: list[str] = []
    if not isinstance(metrics, list) or not metrics:
        return [f"{where}: metrics must be a non-empty array"]
    if len(metrics) > 500:
        errors.append(f"{where}: more than 500 metrics/expressions")
    ids: list[str] = []
    expressions: list[str] = []
    for n, entry in enumerate(metrics):
        at = f"{where}.metrics[{n}]"
        if not isinstance(entry, list) or not entry:
            errors.append(f"{at}: each metric is an array")
            continue
        options = entry[-1] if isinstance(entry[-1], dict) else {}
        plain = entry[:-1] if options else entry
        if not set(options) <= RENDERING_KEYS:
            errors.append(f"{at}: unknown rendering properties {set(options) - RENDERING_KEYS}")
        if plain:
            if not all(isinstance(part, str) and part for part in plain):
                errors.append(f"{at}: namespace, name and dimensions must be non-empty strings")
            if len(plain) < 2 or len(plain) % 2 != 0:
                errors.append(f"{at}: expected namespace, metric name, then name/value dimension pairs")
            if len(plain) > 2 + 2 * 30:
                errors.append(f"{at}: more than 30 dimensions")
            if "expression" in options:
                errors.append(f"{at}: an expression entry carries no namespace/metric name")
        elif "expression" not in options:
            errors.append(f"{at}: an options-only entry must carry an expression")
        else:
            expressions.append(str(options["expression"]))
        if "id" in options:
            if not ID_RE.match(options["id"]):
                errors.append(f"{at}: id {options['id']!r} must start with a lower-case letter")
            ids.append(options["id"])
        if "stat" in options and not STAT_RE.match(options["stat"]):
            errors.append(f"{at}: stat {options['stat']!r} is not a CloudWatch statistic")
        if "period" in options and not _period_ok(options["period"]):
            errors.append(f"{at}: period {options['period']!r} must be 1, 5, 10, 30 or a multiple of 60")
        if "yAxis" in options and options["yAxis"] not in {"left", "right"}:
            errors.append(f"{at}: yAxis must be left or right")
        if "color" in options and not COLOR_RE.match(options["color"]):
            errors.append(f"{at}: colour {options['color']!r} is not #rrggbb")
    if len(ids) != len(set(ids)):
        errors.append(f"{where}: duplicate metric ids {ids}")
    for expr in expressions:
        if expr.count("(") != expr.count(")"):
            errors.append(f"{where}: unbalanced parentheses in {expr!r}")
        for word in re.findall(r"\b[a-z][a-zA-Z0-9_]*\b", _strip_quoted(expr)):
            if word not in ids:
                errors.append(f"{where}: expression refers to undefined id {word!r}")
    return errors


def _check_metric_widget(where: str, props: dict[str, Any]) -> list[str]:
    errors: list[str] = []
    unknown = set(props) - METRIC_PROPERTY_KEYS
    if unknown:
        errors.append(f"{where}: unknown metric widget properties {unknown}")
    if not isinstance(props.get("region"), str) or not props["region"]:
        errors.append(f"{where}: region is required")
    view = props.get("view", "timeSeries")
    if view not in VIEWS:
        errors.append(f"{where}: view {view!r} not one of {VIEWS}")
    if "stat" in props and not STAT_RE.match(props["stat"]):
        errors.append(f"{where}: stat {props['stat']!r} is not a CloudWatch statistic")
    if "period" in props and not _period_ok(props["period"]):
        errors.append(f"{where}: period must be 1, 5, 10, 30 or a multiple of 60")
    for flag in ("stacked", "liveData", "setPeriodToTimeRange", "sparkline"):
        if flag in props and not isinstance(props[flag], bool):
            errors.append(f"{where}: {flag} must be a boolean")
    for bound in ("start", "end"):
        if bound in props and not DURATION_RE.match(props[bound]):
            errors.append(f"{where}: {bound} {props[bound]!r} is not a relative ISO 8601 duration")
    if "yAxis" in props:
        errors += _check_axis(where, props["yAxis"])
    if "annotations" in props:
        errors += _check_annotations(where, props["annotations"])
    if view == "gauge":
        left = props.get("yAxis", {}).get("left", {})
        if "min" not in left or "max" not in left or not left["max"] > left["min"]:
            errors.append(f"{where}: a gauge needs yAxis.left.min < yAxis.left.max")
    errors += _check_metrics(where, props.get("metrics"))
    return errors


def validate_dashboard_body(body: Any) -> list[str]:
    """Return every violation of the documented structure (an empty list when valid)."""
    if not isinstance(body, dict):
        return ["body must be a JSON object"]
    errors: list[str] = []
    if not set(body) <= BODY_KEYS:
        errors.append(f"unknown top-level keys {set(body) - BODY_KEYS}")
    if body.get("periodOverride", "auto") not in {"auto", "inherit"}:
        errors.append("periodOverride must be auto or inherit")
    widgets = body.get("widgets")
    if not isinstance(widgets, list) or len(widgets) > 500:
        return [*errors, "widgets must be an array of at most 500 widgets"]
    cells: dict[tuple[int, int], int] = {}
    for n, widget in enumerate(widgets):
        where = f"widgets[{n}]"
        if not isinstance(widget, dict) or not set(widget) <= WIDGET_KEYS:
            errors.append(f"{where}: unknown keys")
            continue
        if widget.get("type") not in WIDGET_TYPES:
            errors.append(f"{where}: type {widget.get('type')!r} not one of {WIDGET_TYPES}")
        x, y = widget.get("x", 0), widget.get("y", 0)
        width, height = widget.get("width", 6), widget.get("height", 6)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (x, y, width, height)):
            errors.append(f"{where}: x, y, width, height must be integers")
            continue
        if not 0 <= x <= 23 or y < 0 or not 1 <= width <= 24 or not 1 <= height <= 1000:
            errors.append(f"{where}: position/size out of range ({x}, {y}, {width}x{height})")
        if x + width > 24:
            errors.append(f"{where}: extends past column 24")
        for cx in range(x, x + width):
            for cy in range(y, y + height):
                if (cx, cy) in cells:
                    errors.append(f"{where}: overlaps widgets[{cells[(cx, cy)]}] at ({cx}, {cy})")
                    break
                cells[(cx, cy)] = n
            else:
                continue
            break
        props = widget.get("properties")
        if not isinstance(props, dict):
            errors.append(f"{where}: properties must be an object")
            continue
        if widget["type"] == "metric":
            errors += _check_metric_widget(where, props)
        elif widget["type"] == "text":
            if not isinstance(props.get("markdown"), str) or not props["markdown"]:
                errors.append(f"{where}: a text widget needs markdown")
            if props.get("background", "solid") not in {"solid", "transparent"}:
                errors.append(f"{where}: background must be solid or transparent")
    return errors


# --------------------------------------------------------------------------- the validator's own spec

_VALID: dict[str, Any] = {
    "start": "-PT6H",
    "periodOverride": "inherit",
    "widgets": [
        {
            "type": "metric",
            "x": 0,
            "y": 0,
            "width": 12,
            "height": 6,
            "properties": {
                "metrics": [
                    ["AWS/EC2", "CPUUtilization", "InstanceId", "i-012345", {"id": "m1", "visible": False}],
                    [{"expression": "m1 * 2", "id": "e1", "label": "double"}],
                ],
                "period": 300,
                "stat": "Average",
                "region": "us-east-1",
                "title": "EC2 Instance CPU",
            },
        },
        {"type": "text", "x": 0, "y": 7, "width": 3, "height": 3, "properties": {"markdown": "Hello world"}},
    ],
}


@pytest.mark.unit
def test_accepts_the_documented_example() -> None:
    # Given the example body from AWS's reference (plus one expression)
    # When it is validated
    # Then nothing is reported
    assert validate_dashboard_body(_VALID) == []


def _broken(path: str, value: Any) -> dict[str, Any]:
    body = copy.deepcopy(_VALID)
    target: Any = body
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[int(last) if last.isdigit() else last] = value
    return body


@pytest.mark.unit
@pytest.mark.parametrize(
    ("path", "value", "complaint"),
    [
        ("widgets.0.width", 25, "out of range"),
        ("widgets.0.x", 20, "past column 24"),
        ("widgets.1.y", 3, "overlaps"),
        ("widgets.0.type", "graph", "type"),
        ("widgets.0.properties.stat", "Median", "statistic"),
        ("widgets.0.properties.period", 90, "multiple of 60"),
        ("widgets.0.properties.view", "gauge", "gauge needs"),
        ("widgets.0.properties.region", "", "region is required"),
        ("widgets.0.properties.metrics.1.0.expression", "m1 * m9", "undefined id 'm9'"),
        ("widgets.0.properties.metrics.1.0.id", "m1", "duplicate metric ids"),
        ("widgets.0.properties.metrics.0", ["AWS/EC2", "CPUUtilization", "InstanceId"], "dimension pairs"),
        ("widgets.1.properties.markdown", "", "needs markdown"),
        ("periodOverride", "sometimes", "periodOverride"),
    ],
)
def test_rejects_each_documented_violation(path: str, value: Any, complaint: str) -> None:
    # Given a valid body with one field broken
    body = _broken(path, value)
    # When it is validated
    errors = validate_dashboard_body(body)
    # Then the violation is named
    assert any(complaint in e for e in errors), errors
