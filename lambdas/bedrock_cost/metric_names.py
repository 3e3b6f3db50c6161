"""Every metric name and dimension the product publishes or reads, in one place.

Alarms, the dashboard, the burn-rate forecast and the tests match metrics by exact name
and dimension set, so a name spelled twice is a silent break waiting to happen. Each
custom series also costs money (see the bill table in the README): add one here, with
its dimensions, only when an alarm or a widget needs it.
"""

from __future__ import annotations

from typing import Final

NAMESPACE: Final = "BedrockCostTracker"
"""Our custom namespace (EMF); no metric carries Powertools' automatic ``service`` dimension."""
BEDROCK_NAMESPACE: Final = "AWS/Bedrock"
BEDROCK_MANTLE_NAMESPACE: Final = "AWS/BedrockMantle"

# --- the product's figures ---------------------------------------------------------------
ESTIMATED_COST: Final = "EstimatedCostUSD"
"""Estimate clock, per minute of data: {} / {Model} / {TagKey, TagValue}."""
TOKENS: Final = "Tokens"
"""Estimated tokens by {TokenKind} and finer sets."""
UNPRICED_TOKENS: Final = "UnpricedTokens"
"""Tokens of models the catalog cannot price: {} / {Model}. Never priced at 0."""
BILLED_COST: Final = "BilledCostUSD"
"""Billed clock, month to date from CUR: {} / {Model} / {TagKey, TagValue}."""
ESTIMATE_DRIFT: Final = "EstimateDriftPct"
"""Reconciled clock: estimate against bill, like for like."""
TAG_COMPLIANCE: Final = "TagCompliancePct"
NON_COMPLIANT: Final = "NonCompliantResources"

# --- dimensions --------------------------------------------------------------------------
DIM_MODEL: Final = "Model"
DIM_TAG_KEY: Final = "TagKey"
DIM_TAG_VALUE: Final = "TagValue"
DIM_TOKEN_KIND: Final = "TokenKind"  # noqa: S105 - a dimension name, not a secret
DIM_RESOURCE_TYPE: Final = "ResourceType"
DIM_MODEL_ID: Final = "ModelId"
"""The dimension of the native ``AWS/Bedrock`` metrics (whatever the caller passed)."""

# --- native AWS/Bedrock token metrics the estimator reads --------------------------------
BEDROCK_INPUT_TOKENS: Final = "InputTokenCount"
BEDROCK_OUTPUT_TOKENS: Final = "OutputTokenCount"
BEDROCK_CACHE_READ_TOKENS: Final = "CacheReadInputTokenCount"
BEDROCK_CACHE_WRITE_TOKENS: Final = "CacheWriteInputTokenCount"
