"""A local HTTP endpoint standing in for the Slack incoming webhook during the demo.

It accepts what Slack accepts (a JSON POST), answers ``ok`` like Slack, and appends each
message to ``slack_messages.jsonl`` so the demo shows exactly what a channel would get.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

MAX_BODY_BYTES = 1_000_000
"""Slack rejects payloads far smaller than this; anything bigger is a bug, not a message."""


class _Recorder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._lock = threading.Lock()
        path.write_text("", encoding="utf-8")

    def record(self, request_path: str, body: bytes) -> None:
        try:
            payload: Any = json.loads(body)
        except ValueError:
            payload = body.decode("utf-8", "replace")
        line = json.dumps(
            {"received_at": datetime.now(UTC).isoformat(), "path": request_path, "payload": payload},
            sort_keys=True,
        )
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
            self.count += 1


def _handler(recorder: _Recorder) -> type[BaseHTTPRequestHandler]:
    class SlackHandler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length <= 0 or length > MAX_BODY_BYTES:
                self._reply(400, "invalid_payload")
                return
            recorder.record(self.path, self.rfile.read(length))
            self._reply(200, "ok")

        def _reply(self, status: int, text: str) -> None:
            body = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Silence the per-request stderr line; the JSONL file is the record."""

    return SlackHandler


class SlackStandIn:
    """A running stand-in: ``url`` to post to, ``count`` of messages received."""

    def __init__(self, url: str, recorder: _Recorder) -> None:
        self.url = url
        self._recorder = recorder

    @property
    def count(self) -> int:
        return self._recorder.count

    @property
    def path(self) -> Path:
        return self._recorder.path


@contextmanager
def slack_standin(out_file: Path) -> Iterator[SlackStandIn]:
    """Serve on 127.0.0.1 on a free port until the block ends."""
    recorder = _Recorder(out_file)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(recorder))
    thread = threading.Thread(target=server.serve_forever, name="slack-standin", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield SlackStandIn(f"http://{host!s}:{port}/services/demo/webhook", recorder)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
