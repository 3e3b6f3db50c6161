"""Read back the estimator's own CloudWatch metric: total estimated cost of a day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from bedrock_cost.adapters.aws_errors import translate_client_error
from bedrock_cost.metric_names import ESTIMATED_COST
from bedrock_cost.observability import METRICS_NAMESPACE

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

ESTIMATED_COST_METRIC = ESTIMATED_COST


class CloudWatchEstimates:
    """``EstimateSource`` over the ``BedrockCostTracker`` namespace."""

    def __init__(self, cloudwatch: CloudWatchClient) -> None:
        self._cloudwatch = cloudwatch

    def estimated_usd(self, day: date) -> Decimal | None:
        start = datetime.combine(day, time(0), tzinfo=UTC)
        try:
            response = self._cloudwatch.get_metric_data(
                MetricDataQueries=[
                    {
                        "Id": "estimate",
                        "MetricStat": {
                            "Metric": {"Namespace": METRICS_NAMESPACE, "MetricName": ESTIMATED_COST_METRIC},
                            "Period": 86_400,
                            "Stat": "Sum",
                        },
                    }
                ],
                StartTime=start,
                EndTime=start + timedelta(days=1),
            )
        except ClientError as exc:
            raise translate_client_error(exc, "reading the estimate from CloudWatch") from exc
        values = [v for result in response["MetricDataResults"] for v in result.get("Values", [])]
        if not values:
            return None
        # CloudWatch returns doubles; the sum of one datapoint is converted once, via str.
        return Decimal(str(sum(values)))
