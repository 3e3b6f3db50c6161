"""What every demo step receives.

``bedrock-cost demo`` runs the whole product on embedded engines. The runner sets up the
emulator (moto server on 127.0.0.1), generated CUR and config, then calls each step's
``run(ctx)`` in order. Steps write their files into ``ctx.out_dir``, append human lines
to ``ctx.summary`` and may leave results in ``ctx.results`` for later steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bedrock_cost.config import Config

DEMO_ACCOUNT = "123456789012"
"""The account the demo's function ARNs name (the CUR reporter reads its id from the ARN)."""


@dataclass(frozen=True)
class DemoLambdaContext:
    """What the Lambda runtime passes to a handler, for running one in-process.

    Powertools reads the name, memory, ARN and request id; handlers read the remaining
    time to set their deadlines and the ARN for the account id.
    """

    function_name: str
    remaining_ms: int = 60_000
    memory_limit_in_mb: int = 256
    aws_request_id: str = "demo"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:{DEMO_ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@dataclass
class DemoContext:
    out_dir: Path
    """Where outputs go (report.html, alerts.jsonl, dashboard.json, *.csv)."""
    cur_dir: Path
    """Root of the generated CUR 2.0 export (hive folders BILLING_PERIOD=YYYY-MM)."""
    period: str
    """The billing period the demo reports on, 'YYYY-MM'."""
    config: Config
    endpoint_url: str
    """moto server, http://127.0.0.1:<port>; boto3 clients in steps must use it."""
    region: str
    alert_topic_arn: str
    """SNS topic every alert is published to (its messages end up in alerts.jsonl)."""
    slack_url: str
    """Local HTTP endpoint standing in for the Slack webhook."""
    now: datetime | None = None
    """The demo's one "now" (UTC), printed first and used by every step."""
    summary: list[str] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)
