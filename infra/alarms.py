"""CloudWatch alarms: the fast clock of alerting (minutes, not the 8-24 h of billing).

Every alarm notifies the alert topic on ALARM only (OK notifications would double the
traffic for no decision), and carries a marker in its description (``alarm_marker``)
telling the Slack notifier which kind of alert it is.

1. **Token spike** on native ``AWS/Bedrock`` ``InputTokenCount``, the account-wide
   series (all model ids): one standard alarm, $0.10 a month. A per-model Metrics
   Insights alarm (``GROUP BY ModelId``) is billed per series it analyses, one per
   ``ModelId`` (each application inference profile is one): $12 a month at 120 ids,
   more than the rest of the tracker. Which model spiked is on the dashboard (tokens by
   model) and in the estimate records. 1-minute native data, 5-minute sum.
2. **Cost pace per budget**: the estimator's ``EstimatedCostUSD`` (per
   ``TagKey``/``TagValue``, and the dimensionless total) summed over 5 minutes, against
   the daily budget pro-rated to 5 minutes × ``thresholds.daily_pace_multiple``
   (monthly budget / 30 when no daily budget is set). This is the fastest cost alarm:
   estimator schedule + 5 minutes.
3. **Anomaly band** (``AWS::CloudWatch::AnomalyDetector`` + ``ANOMALY_DETECTION_BAND``)
   on total estimated cost: above the learnt band for two 15-minute periods.
4. **Throttle rate and error rate** on ``AWS/Bedrock`` (metric math over the
   account-wide series, "across all model IDs").
5. **Unpriced tokens**: any token of a model the catalog cannot price (the estimator's
   dimensionless ``UnpricedTokens``; the per-``Model`` series say which model).
6. **Composite: spike AND anomaly**, the low-noise page.

Alarms cover the stack's region for ``AWS/Bedrock`` metrics; the estimator's metrics
(2, 3, 5) already aggregate every configured region.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from bedrock_cost.config import Budget, Config
from bedrock_cost.domain.aws_notifications import alarm_marker
from bedrock_cost.metric_names import ESTIMATED_COST, UNPRICED_TOKENS
from infra.lambda_function import METRICS_NAMESPACE

BEDROCK_NAMESPACE: Final = "AWS/Bedrock"
COST_METRIC: Final = ESTIMATED_COST
UNPRICED_METRIC: Final = UNPRICED_TOKENS
FAST_PERIOD: Final = Duration.minutes(5)
ANOMALY_PERIOD: Final = Duration.minutes(15)
DAYS_PER_MONTH_FOR_PACE: Final = Decimal(30)
SECONDS_PER_DAY: Final = Decimal(86_400)


@dataclass(frozen=True)
class PaceTarget:
    """A cost-pace alarm's subject: the total (no tag) or one tag value, and its daily pace."""

    label: str
    daily_usd: Decimal
    from_monthly: bool
    tag_key: str | None = None
    tag_value: str | None = None


def daily_pace(budget: Budget) -> tuple[Decimal, bool]:
    """The daily amount a budget allows: its daily budget, else monthly / 30."""
    if budget.daily_usd is not None:
        return budget.daily_usd, False
    return budget.monthly_usd / DAYS_PER_MONTH_FOR_PACE, True


def pace_targets(config: Config) -> list[PaceTarget]:
    targets = []
    if config.budgets.total is not None:
        daily, derived = daily_pace(config.budgets.total)
        targets.append(PaceTarget("all Bedrock spend", daily, derived))
    for key, values in sorted(config.budgets.per_tag.items()):
        for value, budget in sorted(values.items()):
            daily, derived = daily_pace(budget)
            targets.append(PaceTarget(f"{key}={value}", daily, derived, key, value))
    return targets


def pace_threshold_usd(daily_usd: Decimal, multiple: Decimal, period: Duration = FAST_PERIOD) -> Decimal:
    """Cost in one alarm period that, sustained, burns ``multiple`` × the daily budget per day."""
    return daily_usd * Decimal(period.to_seconds()) / SECONDS_PER_DAY * multiple


def _money(value: Decimal) -> str:
    return f"${value.quantize(Decimal('0.01')):,}"


class CostAlarms(Construct):
    """``.token_spike``, ``.pace`` (per target), ``.anomaly``, ``.throttles``, ``.errors``,
    ``.unpriced``, ``.spike_and_anomaly``; ``.all`` lists every alarm."""

    def __init__(self, scope: Construct, construct_id: str, *, config: Config, topic: sns.ITopic) -> None:
        super().__init__(scope, construct_id)
        self._action = cw_actions.SnsAction(topic)
        self.all: list[cloudwatch.IAlarm] = []
        thresholds = config.thresholds
        self._thresholds = thresholds

        # 1. Token spike per model ---------------------------------------------------
        self.token_spike = self._alarm(
            "TokenSpike",
            cloudwatch.Metric(
                namespace=BEDROCK_NAMESPACE,
                metric_name="InputTokenCount",
                statistic="Sum",
                period=FAST_PERIOD,
            ),
            threshold=thresholds.spike_input_tokens_5min,
            evaluation_periods=1,
            description=f"Input tokens above {thresholds.spike_input_tokens_5min:,} in 5 minutes "
            "(AWS/Bedrock InputTokenCount, all models).",
            marker=alarm_marker("token_spike", "warning"),
            # No invocations means no data points: that is the quietest state, not a problem.
            missing=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

        # 2. Cost pace per budget ------------------------------------------------------
        self.pace: dict[str, cloudwatch.Alarm] = {}
        for index, target in enumerate(pace_targets(config)):
            dimensions: dict[str, str] = {}
            if target.tag_key is not None and target.tag_value is not None:
                dimensions = {"TagKey": target.tag_key, "TagValue": target.tag_value}
            threshold = pace_threshold_usd(target.daily_usd, thresholds.daily_pace_multiple)
            source = "monthly budget / 30" if target.from_monthly else "daily budget"
            subject = {} if target.tag_key is None else {"tag_key": target.tag_key, "tag_value": str(target.tag_value)}
            self.pace[target.label] = self._alarm(
                f"CostPace{index}",
                cloudwatch.Metric(
                    namespace=METRICS_NAMESPACE,
                    metric_name=COST_METRIC,
                    dimensions_map=dimensions,
                    statistic="Sum",
                    period=FAST_PERIOD,
                ),
                threshold=float(threshold),
                evaluation_periods=1,
                description=f"Estimated cost of {target.label} above {_money(threshold)} in 5 minutes: "
                f"{thresholds.daily_pace_multiple}x the pace of its {_money(target.daily_usd)} {source}.",
                marker=alarm_marker("budget_threshold", "warning", subject),
                # The estimator writes no point for a tag value that spent nothing: missing
                # data is zero spend.
                missing=cloudwatch.TreatMissingData.NOT_BREACHING,
            )

        # 3. Anomaly band on total estimated cost ------------------------------------
        total_cost = cloudwatch.Metric(
            namespace=METRICS_NAMESPACE, metric_name=COST_METRIC, statistic="Sum", period=ANOMALY_PERIOD
        )
        self.anomaly_detector = cloudwatch.CfnAnomalyDetector(
            self,
            "TotalCostModel",
            single_metric_anomaly_detector=cloudwatch.CfnAnomalyDetector.SingleMetricAnomalyDetectorProperty(
                namespace=METRICS_NAMESPACE, metric_name=COST_METRIC, stat="Sum"
            ),
        )
        self.anomaly = cloudwatch.AnomalyDetectionAlarm(
            self,
            "CostAnomaly",
            metric=total_cost,
            std_devs=float(thresholds.anomaly_band_stddevs),
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_UPPER_THRESHOLD,
            evaluation_periods=2,
            datapoints_to_alarm=2,
            alarm_description=f"Total estimated cost above its expected band ({thresholds.anomaly_band_stddevs} "
            "standard deviations) for 30 minutes. " + alarm_marker("anomaly", "warning"),
            # The estimator writes the total every minute, zeros included: a gap means the
            # estimator is down, which is not a cost anomaly (its own alarms cover that).
            treat_missing_data=cloudwatch.TreatMissingData.IGNORE,
        )
        self.anomaly.node.add_dependency(self.anomaly_detector)
        self._register(self.anomaly)

        # 4. Throttle and error rates on AWS/Bedrock -----------------------------------
        def bedrock(metric: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=BEDROCK_NAMESPACE, metric_name=metric, statistic="Sum", period=FAST_PERIOD
            )

        invocations = bedrock("Invocations")
        throttles = bedrock("InvocationThrottles")
        self.throttles = self._call_rate_alarm(
            "ThrottleRate",
            "throttles",
            cloudwatch.MathExpression(
                expression="IF(invocations + throttles > 0, 100 * throttles / (invocations + throttles), 0)",
                using_metrics={"invocations": invocations, "throttles": throttles},
                period=FAST_PERIOD,
                label="Throttled calls (%)",
            ),
            "throttled in 2 of 3 five-minute periods: quota too low for the load, or a runaway client.",
        )
        errors = cloudwatch.MathExpression(
            expression="IF(invocations > 0, 100 * (client + server) / invocations, 0)",
            using_metrics={
                "invocations": invocations,
                "client": bedrock("InvocationClientErrors"),
                "server": bedrock("InvocationServerErrors"),
            },
            period=FAST_PERIOD,
            label="Failed calls (%)",
        )
        self.errors = self._call_rate_alarm(
            "ErrorRate",
            "errors",
            errors,
            "failed in 2 of 3 five-minute periods (client and server errors): failed calls can still be billed tokens.",
        )

        # 5. Unpriced tokens -----------------------------------------------------------
        self.unpriced = self._alarm(
            UNPRICED_TOKENS,
            cloudwatch.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name=UNPRICED_METRIC,
                statistic="Sum",
                period=FAST_PERIOD,
            ),
            threshold=0,
            evaluation_periods=1,
            description="Tokens of a model the price catalog cannot price: its cost is unknown, not zero. "
            "Add a price override or update the catalog.",
            marker=alarm_marker("unpriced_model", "warning"),
            # The estimator only writes this metric when unpriced tokens exist.
            missing=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

        # 6. Composite: a spike that also moves total cost out of its band ----------------
        self.spike_and_anomaly = cloudwatch.CompositeAlarm(
            self,
            "SpikeAndAnomaly",
            alarm_rule=cloudwatch.AlarmRule.all_of(
                cloudwatch.AlarmRule.from_alarm(self.token_spike, cloudwatch.AlarmState.ALARM),
                cloudwatch.AlarmRule.from_alarm(self.anomaly, cloudwatch.AlarmState.ALARM),
            ),
            alarm_description="A token spike while total estimated cost is above its anomaly band: page someone. "
            + alarm_marker("anomaly", "critical"),
        )
        self._register(self.spike_and_anomaly)

    def _alarm(
        self,
        construct_id: str,
        metric: cloudwatch.Metric | cloudwatch.MathExpression,
        *,
        threshold: float,
        evaluation_periods: int,
        description: str,
        marker: str,
        missing: cloudwatch.TreatMissingData,
        datapoints_to_alarm: int | None = None,
    ) -> cloudwatch.Alarm:
        alarm = metric.create_alarm(
            self,
            construct_id,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            alarm_description=f"{description} {marker}",
            treat_missing_data=missing,
        )
        self._register(alarm)
        return alarm

    def _call_rate_alarm(
        self, construct_id: str, signal: str, rate: cloudwatch.MathExpression, what: str
    ) -> cloudwatch.Alarm:
        """``ThrottleRate`` / ``ErrorRate``: a percentage of Bedrock calls above ``error_rate_pct``.

        No traffic is neither a throttling nor an error problem: missing data does not breach.
        """
        pct = self._thresholds.error_rate_pct
        return self._alarm(
            construct_id,
            rate,
            threshold=float(pct),
            evaluation_periods=3,
            datapoints_to_alarm=2,
            description=f"More than {pct} % of Bedrock calls {what}",
            marker=alarm_marker("anomaly", "warning", {"signal": signal}),
            missing=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    def _register(self, alarm: cloudwatch.Alarm | cloudwatch.CompositeAlarm) -> None:
        alarm.add_alarm_action(self._action)
        self.all.append(alarm)
