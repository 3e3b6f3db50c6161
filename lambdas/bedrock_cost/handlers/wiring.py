"""What every handler shares: its validated environment and one cached wiring per container.

Each handler module has the same shape:

* ``load_environment()`` (``environment_loader``) validates ``os.environ`` into the
  handler's pydantic model; a missing or malformed variable raises
  ``InvalidEnvironmentError`` naming it (and never echoing the environment, which holds
  the function's credentials). Variables holding JSON are typed ``Annotated[..., JSON_TEXT]``;
* ``build_dependencies(env)`` wires the adapters (clients, caches) from that model;
* ``configure, current_dependencies = container_wiring(...)``: a module-level
  ``LazyWiring`` builds them on the first invocation (the cold start, so a bad
  environment fails that invocation loudly) and reuses them afterwards, like boto3
  clients; ``configure(deps)`` swaps in other adapters (local demo, tests) and
  ``configure(None)`` makes the next invocation rebuild from the environment;
* ``handler(event, context)``, decorated ``logger.inject_lambda_context`` →
  ``metrics.log_metrics`` → ``tracer.capture_lambda_handler``, parses the event into a
  typed model, calls one function and writes its result.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ValidationError

from bedrock_cost.adapters.cloudwatch_metrics import Backoff
from bedrock_cost.errors import BedrockCostError

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class InvalidEnvironmentError(BedrockCostError, RuntimeError):
    """The function's environment lacks a variable or holds a value that does not parse."""


def _json_if_text(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


JSON_TEXT = BeforeValidator(_json_if_text)
"""An environment variable holding JSON (a list, a policy, a config): Lambda environments are
strings, while tests and the demo may pass the parsed value itself."""


def validate_environment(model: type[M], function: str) -> M:
    """``model`` from ``os.environ``; raise ``InvalidEnvironmentError`` naming every bad variable."""
    try:
        return model.model_validate(dict(os.environ))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(environment)'}: {error['msg']}"
            for error in exc.errors(include_url=False, include_input=False)
        )
        raise InvalidEnvironmentError(f"{function} environment is invalid: {problems}") from None


def environment_loader(model: type[M], function: str) -> Callable[[], M]:
    """A handler's ``load_environment``: the validated environment; a missing variable fails
    the cold start naming it."""

    def load_environment() -> M:
        return validate_environment(model, function)

    return load_environment


class LazyWiring(Generic[T]):
    """One value per container, built on first use; ``configure`` swaps or drops it."""

    _instances: ClassVar[list[LazyWiring[Any]]] = []

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None
        LazyWiring._instances.append(self)

    def configure(self, value: T | None) -> None:
        """Use ``value`` for the next invocations (``None``: rebuild from the environment)."""
        self._value = value

    def get(self) -> T:
        """The configured value, built now if there is none (a failed build is retried next time)."""
        if self._value is None:
            self._value = self._build()
        return self._value

    @classmethod
    def reset_all(cls) -> None:
        """``configure(None)`` on every wiring: the next invocation of any handler is a cold start."""
        for wiring in cls._instances:
            wiring.configure(None)


def container_wiring(build: Callable[[], T]) -> tuple[Callable[[T | None], None], Callable[[], T]]:
    """A handler module's ``configure`` and ``current_dependencies``: one ``LazyWiring`` of ``build``."""
    wiring = LazyWiring(build)
    return wiring.configure, wiring.get


@dataclass
class DeadlineBox:
    """The current invocation's deadline, read by every backoff the adapters create.

    Adapters are wired once per container but each invocation has its own remaining
    time, so they take ``box.backoff`` (a factory) and the handler moves the deadline.
    """

    at: float = field(default_factory=lambda: time.monotonic() + 60.0)

    def set_seconds(self, seconds: float) -> None:
        self.at = time.monotonic() + max(1.0, seconds)

    def backoff(self) -> Backoff:
        return Backoff(deadline=self.at)
