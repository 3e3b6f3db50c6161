"""One mapping from an exception to the CLI's exit code and its one-line message.

The contract every command keeps (README, "The CLI"): 0 ok; 2 bad input, one line naming
the field, file or column; 1 an outage or failure, one line naming the endpoint; never a
traceback. ``cli/main.py`` calls ``describe_failure`` for whatever a command raises, so a
new command only has to raise ``UserError`` for bad input and let the rest propagate.

=====================================================  ====  ====================================
exception                                              exit  message
=====================================================  ====  ====================================
``UserError`` (``ConfigError`` ...)                     2     ``bedrock-cost: error: <msg>``
``FileNotFoundError``/``IsADirectoryError``/            2     names the file
``NotADirectoryError``/``PermissionError``
``BedrockCostError`` (outages, AWS errors, queries)     1     ``bedrock-cost: failed: <msg>``
botocore ``EndpointConnectionError``/``ConnectTimeout``  1     names the endpoint URL
other ``BotoCoreError`` (credentials, timeouts)         1     botocore's one-line reason
``NoCredentialsError``/``ProfileNotFound``              2     says how to configure credentials
anything else (a bug)                                   1     ``internal error: <type>: <msg>``
=====================================================  ====  ====================================

Set ``BEDROCK_COST_DEBUG=1`` to get the traceback of an internal error.
"""

from __future__ import annotations

from bedrock_cost.cli.safe_output import one_line
from bedrock_cost.errors import BedrockCostError, UserError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2

_FILE_ERRORS = (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError)


def describe_failure(exc: BaseException) -> tuple[int, str]:
    """``(exit code, one line for stderr)`` for ``exc``."""
    if isinstance(exc, UserError):
        return EXIT_BAD_INPUT, f"bedrock-cost: error: {one_line(str(exc))}"
    if isinstance(exc, _FILE_ERRORS):
        where = exc.filename or ""
        return EXIT_BAD_INPUT, f"bedrock-cost: error: {where}: {one_line(exc.strerror or str(exc))}"
    if isinstance(exc, BedrockCostError):
        return EXIT_FAILURE, f"bedrock-cost: failed: {one_line(str(exc))}"
    try:
        from botocore.exceptions import BotoCoreError, NoCredentialsError, ProfileNotFound
    except ImportError:  # pragma: no cover - botocore is a runtime dependency
        BotoCoreError = NoCredentialsError = ProfileNotFound = ()  # type: ignore[assignment,misc]  # noqa: N806
    if isinstance(exc, (NoCredentialsError, ProfileNotFound)):
        return EXIT_BAD_INPUT, f"bedrock-cost: error: AWS credentials: {one_line(str(exc))} (configure a profile)"
    if isinstance(exc, BotoCoreError):
        endpoint = getattr(exc, "kwargs", {}).get("endpoint_url")
        prefix = f"{endpoint}: " if endpoint else ""
        return EXIT_FAILURE, f"bedrock-cost: failed: {prefix}{one_line(str(exc))}"
    return EXIT_FAILURE, f"bedrock-cost: internal error: {type(exc).__name__}: {one_line(str(exc))}"
