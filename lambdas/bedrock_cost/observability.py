"""Logger, Metrics and Tracer, created once for the whole package.

Every handler imports these instead of building its own, so the service name, the
metrics namespace and the log format are the same in every Lambda. The service name is
overridden per function by ``POWERTOOLS_SERVICE_NAME``.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

METRICS_NAMESPACE = "BedrockCostTracker"

logger = Logger(service="bedrock-cost-tracker")
metrics = Metrics(namespace=METRICS_NAMESPACE, service="bedrock-cost-tracker")
tracer = Tracer(service="bedrock-cost-tracker")
