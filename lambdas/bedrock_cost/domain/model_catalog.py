"""Model names: one table maps every name a model goes by to one readable name.

CloudWatch says ``anthropic.claude-sonnet-4-6``, a first-party usage type says
``Claude4.6Sonnet``, a Marketplace row says ``Claude Sonnet 4.6 (Amazon Bedrock
Edition)``; reports must show one row for all three. The table is data
(``data/models.json``) so the Athena views and the Python code read the same aliases.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

_MARKETPLACE_SUFFIX = re.compile(r"\s*\(amazon bedrock edition\)\s*$", re.IGNORECASE)
_SYSTEM_PROFILE_PREFIX = re.compile(r"^(us|eu|apac|jp|au|ca|us-gov|global)\.", re.IGNORECASE)


@dataclass(frozen=True)
class ModelInfo:
    """A model as reports name it."""

    model: str
    provider: str


@dataclass(frozen=True)
class ModelCatalog:
    """Alias (lower-case) -> model, built from ``data/models.json``."""

    version: str
    aliases: dict[str, ModelInfo]

    def resolve(self, name: str | None) -> ModelInfo | None:
        """Find the model behind any of its names, or ``None`` when we don't know it."""
        if not name:
            return None
        key = normalise_alias(name)
        return self.aliases.get(key)


def normalise_alias(name: str) -> str:
    """Reduce a model name, id, ARN or product name to the key aliases are stored under.

    ``arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-6`` and
    ``us.anthropic.claude-sonnet-4-6`` both reduce to ``anthropic.claude-sonnet-4-6``.
    """
    value = name.strip()
    if value.startswith("arn:") and "/" in value:
        value = value.rsplit("/", 1)[1]
    value = _MARKETPLACE_SUFFIX.sub("", value)
    value = _SYSTEM_PROFILE_PREFIX.sub("", value)
    return value.lower()


@lru_cache(maxsize=1)
def load_model_catalog() -> ModelCatalog:
    """Load the bundled alias table (cached: it never changes at run time)."""
    raw = json.loads(resources.files("bedrock_cost.data").joinpath("models.json").read_text("utf-8"))
    aliases: dict[str, ModelInfo] = {}
    for entry in raw["models"]:
        info = ModelInfo(model=entry["model"], provider=entry["provider"])
        names = [entry["model"], *entry["model_ids"], *entry["billing_names"], *entry["product_names"]]
        for name in names:
            key = normalise_alias(name)
            if key in aliases and aliases[key] != info:
                raise ValueError(f"models.json: alias {name!r} maps to two models")
            aliases[key] = info
    return ModelCatalog(version=str(raw["version"]), aliases=aliases)
