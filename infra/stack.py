"""The one stack of the product: a thin composition of constructs, one per concern."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from bedrock_cost.config import Config
from infra.cur_analytics import CurAnalytics


class BedrockCostTrackerStack(Stack):
    """Everything ``cdk deploy`` creates, driven by the validated ``Config``.

    Each concern is one construct built from the config; later constructs receive the
    ones they depend on (e.g. ``self.analytics.grant_query`` for a CUR reader) instead
    of reaching into each other.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: Config, **kwargs: Any) -> None:
        super().__init__(
            scope,
            construct_id,
            description="Bedrock Cost Tracker: Amazon Bedrock cost estimate, CUR 2.0 truth, alerts",
            **kwargs,
        )
        self.config = config

        # --- composition: one line per concern -----------------------------------
        self.analytics = CurAnalytics(self, "Analytics", config=config)
