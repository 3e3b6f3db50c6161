"""What every test starts from: fake AWS credentials, quiet Powertools, cold handlers.

* The process environment holds fake credentials and a default region for the whole
  session (set before any test module is imported, so module- and session-scoped
  fixtures have them too): a test can never reach a real account, and botocore never
  goes looking for a profile or an instance role. A test that needs no credentials
  deletes them with ``monkeypatch``. The local engine's SQL translations are cached in a
  temporary folder of the session.
* Between tests, Powertools forgets the metrics, log keys and cold-start flags that a
  previous test left behind (they are class- and module-level state), and every
  handler's ``LazyWiring`` is dropped, so each test invokes a handler as a cold start
  in a fresh container: its environment is validated again and its adapters are
  rebuilt from the environment the test set, unless the test ``configure``s its own.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator

import pytest

FAKE_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
}
"""moto's documented fake credentials, and no X-Ray outside Lambda."""

_session_environment = pytest.MonkeyPatch()


def pytest_configure(config: pytest.Config) -> None:
    del config
    for name, value in FAKE_AWS_ENVIRONMENT.items():
        _session_environment.setenv(name, value)
    # The local engine's SQL translation cache goes to a folder of this session, not ~/.cache.
    _session_environment.setenv("BEDROCK_COST_CACHE_DIR", tempfile.mkdtemp(prefix="bedrock-cost-sql-"))
    _session_environment.delenv("AWS_PROFILE", raising=False)


def pytest_unconfigure(config: pytest.Config) -> None:
    del config
    _session_environment.undo()


@pytest.fixture(autouse=True)
def _fresh_lambda_container() -> Iterator[None]:
    """Cold handlers and empty Powertools state before and after every test."""
    _reset_lambda_state()
    yield
    _reset_lambda_state()


def _reset_lambda_state() -> None:
    from aws_lambda_powertools.logging import logger as powertools_logger
    from aws_lambda_powertools.metrics.provider import cold_start

    from bedrock_cost.handlers.wiring import LazyWiring
    from bedrock_cost.observability import logger, metrics

    LazyWiring.reset_all()
    metrics.clear_metrics()
    logger.clear_state()
    cold_start.reset_cold_start_flag()
    powertools_logger.is_cold_start = True
