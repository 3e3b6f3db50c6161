"""A local Athena for tests: moto's server on 127.0.0.1 whose query results come from DuckDB.

The patching lives in ``bedrock_cost.demo.athena_local`` (the demo uses it too); this
module adds the server the real pyathena client talks to over HTTP.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

from moto.server import ThreadedMotoServer

from bedrock_cost.adapters.duckdb_engine import DuckDBEngine
from bedrock_cost.demo.athena_local import athena_answered_by, parse_literal

__all__ = ["athena_emulator", "parse_literal"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def athena_emulator(engine: DuckDBEngine) -> Iterator[str]:
    """Run moto's server on 127.0.0.1 with Athena answered by ``engine``; yield its URL."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    with athena_answered_by(engine):
        server.start()
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.stop()
