"""Reading the config: YAML files, ``cdk.json`` context and CLI options, with one-line errors.

The model lives in ``config.py``; this module turns what a user wrote into it, and every
failure into one line that names the file and the field (exit 2 in the CLI, a failed
``cdk synth`` in the app), never a traceback.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bedrock_cost.config import CONTEXT_KEY, Config
from bedrock_cost.errors import ConfigError


def _format_validation_error(exc: ValidationError, source: str) -> str:
    problems = []
    for err in exc.errors():
        where = ".".join(str(part) for part in err["loc"]) or "(top level)"
        message = err["msg"].removeprefix("Value error, ")
        problems.append(f"{where}: {message}")
    return f"invalid config in {source}: " + "; ".join(problems)


MAX_CONFIG_NUMBER = 1e15
"""No amount, threshold or count in the config comes near this; YAML's ``1e400`` is inf."""


def _unreasonable_number(data: Any, path: str = "") -> str | None:
    """The first path holding NaN, an infinity or a number beyond ``MAX_CONFIG_NUMBER``."""
    if isinstance(data, dict):
        for key, value in data.items():
            found = _unreasonable_number(value, f"{path}.{key}" if path else str(key))
            if found:
                return found
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found = _unreasonable_number(value, f"{path}.{index}")
            if found:
                return found
    elif isinstance(data, (int, float, Decimal)) and not isinstance(data, bool):
        number = Decimal(str(data)) if isinstance(data, float) else Decimal(data)
        if not number.is_finite() or abs(number) >= Decimal(MAX_CONFIG_NUMBER):
            return f"{path or '(top level)'}: {data!r} is not a finite number below {MAX_CONFIG_NUMBER:.0e}"
    return None


def parse_config(data: Any, source: str = "config") -> Config:
    """Validate a mapping into a ``Config``; raise ``ConfigError`` naming each bad field."""
    if not isinstance(data, dict):
        raise ConfigError(f"invalid config in {source}: expected a mapping, got {type(data).__name__}")
    unreasonable = _unreasonable_number(data)
    if unreasonable:
        raise ConfigError(f"invalid config in {source}: {unreasonable}")
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(exc, source)) from None


def load_config_file(path: Path) -> Config:
    """Read a YAML (or JSON) config file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None
    return parse_config(data, source=str(path))


def load_from_context(context: Any, base_dir: Path) -> Config:
    """Read the config from the ``cdk.json`` context value under ``CONTEXT_KEY``.

    The value is either the config itself or ``{"config_file": "path.yaml"}`` (relative
    to ``base_dir``), so teams can keep a commented YAML file next to ``cdk.json``.
    """
    if context is None:
        raise ConfigError(f"cdk.json has no context key '{CONTEXT_KEY}'")
    if isinstance(context, str):
        context = json.loads(context)
    if isinstance(context, dict) and set(context) == {"config_file"}:
        return load_config_file(base_dir / str(context["config_file"]))
    return parse_config(context, source=f"cdk.json context '{CONTEXT_KEY}'")
