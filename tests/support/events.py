"""Events as EventBridge delivers them to the tracker's scheduled functions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

REGION = "us-east-1"
ACCOUNT = "123456789012"


def scheduled_event(rule: str, at: datetime) -> dict[str, Any]:
    """The EventBridge Scheduler/rule event shape a function receives when ``rule`` fires at ``at``."""
    return {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule}"],
        "detail": {},
    }
