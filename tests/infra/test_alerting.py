"""Spec of the alerting infrastructure: topic, notifier, alarms, budgets, anomaly detection.

Three synths of the real app (cdk-nag on, bundling skipped), one per module:
- ``full``: every alert feature on (e-mails, Slack, daily and per-tag budgets, deny action,
  burn-rate forecast);
- ``minimal``: no budgets, no Slack, an existing services anomaly monitor;
- ``example``: the shipped ``config/example.yaml``, for the latency guarantee.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from cfnlint.api import ManualArgs, lint_file  # type: ignore[import-untyped]

from bedrock_cost.config_loader import parse_config
from bedrock_cost.domain.aws_notifications import parse_alarm_marker
from bedrock_cost.domain.forecast import targets_from_json
from infra.anomaly_detection import threshold_expression
from infra.nag import flatten_reference
from tests.infra.synth_support import Synth, synthesize

pytestmark = pytest.mark.infra

REPO = Path(__file__).resolve().parents[2]
SECRET = "bedrock-cost/slack-webhook"
FULL_CONFIG: dict[str, Any] = {
    "regions": ["us-east-1"],
    "report_tag_keys": ["team", "project"],
    "cur": {"create_export": True},
    "tag_policy": {"allowed_values": {"project": {"values": ["chat", "search"]}}},
    "budgets": {
        "total": {"monthly_usd": 20000, "daily_usd": 1000},
        "per_tag": {"team": {"ml": {"monthly_usd": 8000, "daily_usd": 400}, "search": {"monthly_usd": 4000}}},
        "budget_action": "deny",
        "deny_role_names": ["chat-app", "batch-jobs"],
        "extra_service_names": ["Amazon Bedrock AgentCore"],
    },
    "alerts": {"emails": ["finops@example.com", "ml-owner@example.com"], "slack_webhook_secret_name": SECRET},
    "thresholds": {"spike_input_tokens_5min": 250000, "error_rate_pct": 7, "anomaly_band_stddevs": 3},
}
EXISTING_MONITOR = "arn:aws:ce::123456789012:anomalymonitor/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
MINIMAL_CONFIG: dict[str, Any] = {
    "report_tag_keys": ["team"],
    "cur": {"bucket": "acme-billing-exports"},
    "alerts": {"service_anomaly_monitor_arn": EXISTING_MONITOR},
}


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize(FULL_CONFIG, tmp_path_factory.mktemp("alerting-full"))


@pytest.fixture(scope="module")
def minimal(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize(MINIMAL_CONFIG, tmp_path_factory.mktemp("alerting-minimal"))


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    config = yaml.safe_load((REPO / "config" / "example.yaml").read_text(encoding="utf-8"))
    return synthesize(config, tmp_path_factory.mktemp("alerting-example"))


# --------------------------------------------------------------------------- reading the template


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def only(resources: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    assert len(resources) == 1, list(resources)
    return next(iter(resources.items()))


def topic_id(synth: Synth) -> str:
    return only(synth.resources("AWS::SNS::Topic"))[0]


def alarms_by_kind(synth: Synth) -> dict[str, list[dict[str, Any]]]:
    """Alarm properties grouped by the alert kind their description marker declares."""
    out: dict[str, list[dict[str, Any]]] = {}
    for kind in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"):
        for logical_id, alarm in synth.resources(kind).items():
            marker = parse_alarm_marker(alarm["Properties"].get("AlarmDescription"))
            assert marker is not None, f"{logical_id} has no alert marker"
            key = marker.kind + (f":{marker.subject['signal']}" if "signal" in marker.subject else "")
            if "component" in marker.subject:
                key = f"health:{marker.subject['component']}"
            out.setdefault(key, []).append({"id": logical_id, **alarm["Properties"]})
    return out


def metric_names(alarm: dict[str, Any]) -> set[str]:
    names = {alarm.get("MetricName")} - {None}
    for query in alarm.get("Metrics", []):
        stat = query.get("MetricStat")
        if stat:
            names.add(stat["Metric"]["MetricName"])
    return names  # type: ignore[return-value]


def role_statements(synth: Synth, role_id: str) -> list[dict[str, Any]]:
    found = []
    for policy in synth.resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            found.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return found


def function_by_handler(synth: Synth, handler: str) -> dict[str, Any]:
    (function,) = [
        f for f in synth.resources("AWS::Lambda::Function").values() if f["Properties"]["Handler"] == handler
    ]
    return function


def grants(synth: Synth, handler: str) -> dict[str, set[str]]:
    role_id = function_by_handler(synth, handler)["Properties"]["Role"]["Fn::GetAtt"][0]
    out: dict[str, set[str]] = {}
    for statement in role_statements(synth, role_id):
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            out.setdefault(action, set()).update(flatten_reference(r) for r in as_list(statement["Resource"]))
    return out


# --------------------------------------------------------------------------- topic and key


ALERTING_SOURCES = {
    "cloudwatch.amazonaws.com": "arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:*",
    "budgets.amazonaws.com": "arn:<AWS::Partition>:budgets::<AWS::AccountId>:*",
    "costalerts.amazonaws.com": "arn:<AWS::Partition>:ce::<AWS::AccountId>:anomalysubscription/*",
}
"""The services that publish alerts, and the resources of this account they may publish for."""


def assert_one_scoped_statement_per_source(statements: dict[str, dict[str, Any]]) -> None:
    """One statement per alerting service, limited to this account and that service's resources."""
    assert set(statements) == set(ALERTING_SOURCES)
    for service, statement in statements.items():
        assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
        assert flatten_reference(statement["Condition"]["ArnLike"]["aws:SourceArn"]) == ALERTING_SOURCES[service]


def test_topic_is_encrypted_with_a_rotating_customer_key(full: Synth) -> None:
    (_, topic) = only(full.resources("AWS::SNS::Topic"))
    key_id = topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    key = full.resources("AWS::KMS::Key")[key_id]
    assert key["Properties"]["EnableKeyRotation"] is True
    # And the key lets each alerting service encrypt, one documented statement per service,
    # for this account's alarms / budgets / anomaly subscriptions only
    statements = {
        s["Principal"]["Service"]: s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if "Service" in s.get("Principal", {})
    }
    assert_one_scoped_statement_per_source(statements)
    for statement in statements.values():
        assert sorted(as_list(statement["Action"])) == ["kms:Decrypt", "kms:GenerateDataKey*"]
        assert statement["Resource"] == "*"


def test_topic_policy_denies_plain_http_and_scopes_each_service(full: Synth) -> None:
    (_, policy) = only(full.resources("AWS::SNS::TopicPolicy"))
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Principal"] == "*"
    allows = {s["Principal"]["Service"]: s for s in statements if s["Effect"] == "Allow"}
    assert_one_scoped_statement_per_source(allows)
    for statement in allows.values():
        assert statement["Action"] == "sns:Publish"
        assert statement["Resource"] == {"Ref": topic_id(full)}


def test_emails_subscribe_to_everything_once(full: Synth) -> None:
    emails = [
        s["Properties"]
        for s in full.resources("AWS::SNS::Subscription").values()
        if s["Properties"]["Protocol"] == "email"
    ]
    assert sorted(e["Endpoint"] for e in emails) == ["finops@example.com", "ml-owner@example.com"]
    for email in emails:
        assert email["TopicArn"] == {"Ref": topic_id(full)}
        # No filter: Budgets notifies the topic only, so its text arrives once, through it
        assert "FilterPolicy" not in email


# --------------------------------------------------------------------------- Slack notifier

NOTIFIER = "bedrock_cost.handlers.slack_notifier.handler"


def test_notifier_reads_only_its_secret_and_its_idempotency_table(full: Synth) -> None:
    function = function_by_handler(full, NOTIFIER)
    env = function["Properties"]["Environment"]["Variables"]
    assert env["SLACK_WEBHOOK_SECRET_ID"] == SECRET
    table_id = env["IDEMPOTENCY_TABLE_NAME"]["Ref"]
    allowed = grants(full, NOTIFIER)
    assert allowed["secretsmanager:GetSecretValue"] == {
        f"arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:{SECRET}-??????"
    }
    for action in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"):
        assert allowed[action] == {f"<{table_id}.Arn>"}
    assert not {a for a in allowed if a.startswith(("dynamodb:Scan", "dynamodb:Query", "secretsmanager:List"))}
    # And the idempotency table expires its records and can be restored
    table = full.resources("AWS::DynamoDB::Table")[table_id]["Properties"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_notifier_failures_go_to_an_encrypted_dead_letter_queue(full: Synth) -> None:
    function_id = next(
        k for k, f in full.resources("AWS::Lambda::Function").items() if f["Properties"]["Handler"] == NOTIFIER
    )
    (properties,) = [
        c["Properties"]
        for c in full.resources("AWS::Lambda::EventInvokeConfig").values()
        if c["Properties"]["FunctionName"] == {"Ref": function_id}
    ]
    dlq_id = properties["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
    assert properties["MaximumRetryAttempts"] == 2
    queue = full.resources("AWS::SQS::Queue")[dlq_id]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    # And the SNS subscription of the function dead-letters into the same queue
    (lambda_subscription,) = [
        s["Properties"]
        for s in full.resources("AWS::SNS::Subscription").values()
        if s["Properties"]["Protocol"] == "lambda"
    ]
    assert lambda_subscription["TopicArn"] == {"Ref": topic_id(full)}
    assert lambda_subscription["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]}}
    # And the queue refuses plain HTTP
    policies = [
        p for p in full.resources("AWS::SQS::QueuePolicy").values() if {"Ref": dlq_id} in p["Properties"]["Queues"]
    ]
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )


def test_notifier_health_alarms_reach_the_topic(full: Synth) -> None:
    health = alarms_by_kind(full)["health:slack-notifier"]
    names = {next(iter(metric_names(a))) for a in health}
    assert names == {"ApproximateNumberOfMessagesVisible", "NotificationFailures"}
    for alarm in health:
        assert alarm["AlarmActions"] == [{"Ref": topic_id(full)}]
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["Threshold"] == 0


def test_no_slack_secret_means_no_notifier(minimal: Synth) -> None:
    handlers = {f["Properties"]["Handler"] for f in minimal.resources("AWS::Lambda::Function").values()}
    assert NOTIFIER not in handlers
    assert not minimal.resources("AWS::SNS::Subscription")


# --------------------------------------------------------------------------- alarms


def test_token_spike_is_one_standard_alarm_on_the_account_wide_series(full: Synth) -> None:
    # One metric ($0.10/month) instead of a Metrics Insights alarm billed per ModelId it analyses
    (spike,) = alarms_by_kind(full)["token_spike"]
    assert (spike["Namespace"], spike["MetricName"], spike["Statistic"]) == ("AWS/Bedrock", "InputTokenCount", "Sum")
    assert "Dimensions" not in spike
    assert spike["Period"] == 300
    assert spike["Threshold"] == 250000
    assert spike["EvaluationPeriods"] == 1
    assert spike["ComparisonOperator"] == "GreaterThanThreshold"
    assert spike["TreatMissingData"] == "notBreaching"
    assert spike["AlarmActions"] == [{"Ref": topic_id(full)}]


def test_cost_pace_alarms_follow_each_daily_budget(full: Synth) -> None:
    pace = alarms_by_kind(full)["budget_threshold"]
    by_subject = {}
    for alarm in pace:
        marker = parse_alarm_marker(alarm["AlarmDescription"])
        assert marker is not None
        by_subject[marker.subject.get("tag_value", "total")] = alarm
    assert set(by_subject) == {"total", "ml", "search"}
    # Then: daily budget × 5 min / 24 h × 3 (the default pace multiple)
    expected = {
        "total": Decimal(1000) * 300 / 86400 * 3,
        "ml": Decimal(400) * 300 / 86400 * 3,
        "search": Decimal(4000) / 30 * 300 / 86400 * 3,  # no daily budget: monthly / 30
    }
    for subject, alarm in by_subject.items():
        assert alarm["Threshold"] == pytest.approx(float(expected[subject]))
        assert alarm["MetricName"] == "EstimatedCostUSD"
        assert alarm["Namespace"] == "BedrockCostTracker"
        assert alarm["Statistic"] == "Sum"
        assert alarm["Period"] == 300
        assert alarm["EvaluationPeriods"] == 1
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["AlarmActions"] == [{"Ref": topic_id(full)}]
    assert "Dimensions" not in by_subject["total"]
    assert by_subject["ml"]["Dimensions"] == [{"Name": "TagKey", "Value": "team"}, {"Name": "TagValue", "Value": "ml"}]


def test_anomaly_band_alarm_uses_an_explicit_detector(full: Synth) -> None:
    (_, detector) = only(full.resources("AWS::CloudWatch::AnomalyDetector"))
    assert detector["Properties"]["SingleMetricAnomalyDetector"] == {
        "Namespace": "BedrockCostTracker",
        "MetricName": "EstimatedCostUSD",
        "Stat": "Sum",
    }
    anomalies = [a for a in alarms_by_kind(full)["anomaly"] if "ThresholdMetricId" in a]
    (band,) = anomalies
    expressions = {q["Id"]: q for q in band["Metrics"]}
    band_query = expressions[band["ThresholdMetricId"]]
    (metric_id,) = [i for i, q in expressions.items() if "MetricStat" in q]
    assert band_query["Expression"] == f"ANOMALY_DETECTION_BAND({metric_id}, 3)"
    assert expressions[metric_id]["MetricStat"]["Period"] == 900
    assert expressions[metric_id]["MetricStat"]["Metric"] == {
        "MetricName": "EstimatedCostUSD",
        "Namespace": "BedrockCostTracker",
    }
    assert band["ComparisonOperator"] == "GreaterThanUpperThreshold"
    assert (band["EvaluationPeriods"], band["DatapointsToAlarm"]) == (2, 2)
    assert band["TreatMissingData"] == "ignore"
    assert band["AlarmActions"] == [{"Ref": topic_id(full)}]


@pytest.mark.parametrize(
    ("signal", "expression", "variables"),
    [
        (
            "throttles",
            "IF(invocations + throttles > 0, 100 * throttles / (invocations + throttles), 0)",
            {"invocations": "Invocations", "throttles": "InvocationThrottles"},
        ),
        (
            "errors",
            "IF(invocations > 0, 100 * (client + server) / invocations, 0)",
            {"invocations": "Invocations", "client": "InvocationClientErrors", "server": "InvocationServerErrors"},
        ),
    ],
)
def test_throttle_and_error_rates_are_metric_math_on_bedrock(
    full: Synth, signal: str, expression: str, variables: dict[str, str]
) -> None:
    (alarm,) = alarms_by_kind(full)[f"anomaly:{signal}"]
    queries = {q["Id"]: q for q in alarm["Metrics"]}
    (result,) = [q for q in queries.values() if q.get("ReturnData", True) and "Expression" in q]
    assert result["Expression"] == expression
    for variable, metric in variables.items():
        stat = queries[variable]["MetricStat"]
        assert stat["Metric"] == {"MetricName": metric, "Namespace": "AWS/Bedrock"}
        assert (stat["Stat"], stat["Period"]) == ("Sum", 300)
        assert queries[variable]["ReturnData"] is False
    assert alarm["Threshold"] == 7
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (3, 2)
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [{"Ref": topic_id(full)}]


def test_unpriced_tokens_alarm_fires_on_the_first_token(full: Synth) -> None:
    (alarm,) = alarms_by_kind(full)["unpriced_model"]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
        "BedrockCostTracker",
        "UnpricedTokens",
        "Sum",
    )
    assert "Dimensions" not in alarm
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [{"Ref": topic_id(full)}]


def test_composite_pages_only_on_spike_and_anomaly(full: Synth) -> None:
    (_, composite) = only(full.resources("AWS::CloudWatch::CompositeAlarm"))
    properties = composite["Properties"]
    (spike,) = alarms_by_kind(full)["token_spike"]
    (band,) = [a for a in alarms_by_kind(full)["anomaly"] if "ThresholdMetricId" in a]
    rule = flatten_reference(properties["AlarmRule"])
    assert rule == f'(ALARM("<{spike["id"]}.Arn>") AND ALARM("<{band["id"]}.Arn>"))'
    assert properties["AlarmActions"] == [{"Ref": topic_id(full)}]
    marker = parse_alarm_marker(properties["AlarmDescription"])
    assert marker is not None
    assert marker.severity == "critical"


def test_every_alarm_notifies_the_topic_on_alarm_only(full: Synth) -> None:
    for kind in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"):
        for logical_id, alarm in full.resources(kind).items():
            properties = alarm["Properties"]
            assert properties["AlarmActions"] == [{"Ref": topic_id(full)}], logical_id
            assert "OKActions" not in properties, logical_id
            if kind == "AWS::CloudWatch::Alarm":
                assert properties["TreatMissingData"] in {"notBreaching", "ignore"}, logical_id


def test_fastest_cost_alarm_path_is_within_ten_minutes(example: Synth) -> None:
    # Given the shipped config, When its template is synthesized,
    config = parse_config(yaml.safe_load((REPO / "config" / "example.yaml").read_text(encoding="utf-8")))
    cost_alarms = [
        alarm["Properties"]
        for alarm in example.resources("AWS::CloudWatch::Alarm").values()
        if "EstimatedCostUSD" in metric_names(alarm["Properties"])
    ]
    assert cost_alarms

    def window_minutes(alarm: dict[str, Any]) -> float:
        period = alarm.get("Period") or max(q["MetricStat"]["Period"] for q in alarm["Metrics"] if "MetricStat" in q)
        return period * alarm["EvaluationPeriods"] / 60

    # Then estimator schedule + alarm period × evaluation periods of the fastest cost alarm <= 10 min
    fastest = min(window_minutes(alarm) for alarm in cost_alarms)
    assert config.estimator.schedule_minutes + fastest <= 10


def test_without_budgets_there_are_no_pace_alarms_but_the_rest_stays(minimal: Synth) -> None:
    kinds = alarms_by_kind(minimal)
    assert "budget_threshold" not in kinds
    assert {"token_spike", "unpriced_model", "anomaly:throttles", "anomaly:errors"} <= set(kinds)
    # And with nothing to forecast there is no forecast function
    handlers = {f["Properties"]["Handler"] for f in minimal.resources("AWS::Lambda::Function").values()}
    assert BURN_RATE not in handlers


# --------------------------------------------------------------------------- budgets


def budgets_by_name(synth: Synth) -> dict[str, dict[str, Any]]:
    out = {}
    for budget in synth.resources("AWS::Budgets::Budget").values():
        name = flatten_reference(budget["Properties"]["Budget"]["BudgetName"])
        out[name] = budget["Properties"]
    return out


def test_budgets_catch_claude_under_its_marketplace_service_names(full: Synth) -> None:
    budgets = budgets_by_name(full)
    assert set(budgets) == {
        "<AWS::StackName> total monthly",
        "<AWS::StackName> total daily",
        "<AWS::StackName> team=ml monthly",
        "<AWS::StackName> team=ml daily",
        "<AWS::StackName> team=search monthly",
    }
    total = budgets["<AWS::StackName> total monthly"]["Budget"]
    services = total["CostFilters"]["Service"]
    assert "Amazon Bedrock" in services
    assert "Claude Sonnet 4.6 (Amazon Bedrock Edition)" in services
    assert "Claude Haiku 4.5 (Amazon Bedrock Edition)" in services
    assert "Amazon Bedrock AgentCore" in services  # budgets.extra_service_names
    assert "TagKeyValue" not in total["CostFilters"]
    assert total["BudgetLimit"] == {"Amount": 20000, "Unit": "USD"}
    assert total["CostTypes"] == {"IncludeCredit": False, "IncludeRefund": False, "IncludeTax": False}
    # And a tag budget is the same services AND the tag value
    ml = budgets["<AWS::StackName> team=ml monthly"]["Budget"]
    assert ml["CostFilters"] == {"Service": services, "TagKeyValue": ["user:team$ml"]}


def test_monthly_budgets_notify_thresholds_and_forecast_to_the_topic(full: Synth) -> None:
    for name, budget in budgets_by_name(full).items():
        notifications = budget["NotificationsWithSubscribers"]
        assert len(notifications) <= 5
        specs = sorted((n["Notification"]["NotificationType"], n["Notification"]["Threshold"]) for n in notifications)
        expected = [("ACTUAL", 50), ("ACTUAL", 75), ("ACTUAL", 90), ("ACTUAL", 100)]
        if name.endswith("monthly"):
            expected.append(("FORECASTED", 100))
        assert specs == expected, name
        for notification in notifications:
            assert notification["Notification"]["ThresholdType"] == "PERCENTAGE"
            assert notification["Notification"]["ComparisonOperator"] == "GREATER_THAN"
            assert notification["Subscribers"] == [{"SubscriptionType": "SNS", "Address": {"Ref": topic_id(full)}}]


def test_deny_action_applies_a_deny_policy_at_100_percent_of_the_total(full: Synth) -> None:
    (_, action) = only(full.resources("AWS::Budgets::BudgetsAction"))
    properties = action["Properties"]
    assert flatten_reference(properties["BudgetName"]) == "<AWS::StackName> total monthly"
    assert properties["ActionType"] == "APPLY_IAM_POLICY"
    assert properties["NotificationType"] == "ACTUAL"
    assert properties["ActionThreshold"] == {"Type": "PERCENTAGE", "Value": 100}
    assert properties["ApprovalModel"] == "AUTOMATIC"
    definition = properties["Definition"]["IamActionDefinition"]
    assert definition["Roles"] == ["chat-app", "batch-jobs"]
    policy_id = definition["PolicyArn"]["Ref"]
    (statement,) = full.resources("AWS::IAM::ManagedPolicy")[policy_id]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Action"] == "bedrock:InvokeModel*"
    assert {"SubscriptionType": "SNS", "Address": {"Ref": topic_id(full)}} not in properties["Subscribers"]
    assert {"Type": "SNS", "Address": {"Ref": topic_id(full)}} in properties["Subscribers"]
    # And Budgets' execution role may only attach/detach that policy on those roles
    role_id = properties["ExecutionRoleArn"]["Fn::GetAtt"][0]
    role = full.resources("AWS::IAM::Role")[role_id]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "budgets.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    (permission,) = role_statements(full, role_id)
    assert sorted(as_list(permission["Action"])) == ["iam:AttachRolePolicy", "iam:DetachRolePolicy"]
    assert sorted(flatten_reference(r) for r in permission["Resource"]) == [
        "arn:<AWS::Partition>:iam::<AWS::AccountId>:role/batch-jobs",
        "arn:<AWS::Partition>:iam::<AWS::AccountId>:role/chat-app",
    ]
    assert permission["Condition"] == {"ArnEquals": {"iam:PolicyARN": {"Ref": policy_id}}}


def test_enforcement_is_off_by_default(minimal: Synth, example: Synth) -> None:
    for synth in (minimal, example):
        assert not synth.resources("AWS::Budgets::BudgetsAction")
        assert not synth.resources("AWS::IAM::ManagedPolicy")
    assert not minimal.resources("AWS::Budgets::Budget")


# --------------------------------------------------------------------------- anomaly detection


def test_anomaly_monitors_and_immediate_subscription(full: Synth) -> None:
    monitors = {
        flatten_reference(m["Properties"]["MonitorName"]): (k, m["Properties"])
        for k, m in full.resources("AWS::CE::AnomalyMonitor").items()
    }
    # The services monitor is not declared (a second one fails with AlreadyExists): a custom
    # resource finds the account's, or creates it, and hands its ARN to the subscription
    assert "<AWS::StackName> services" not in monitors
    (services_id, services) = only(full.resources("Custom::ServicesAnomalyMonitor"))
    assert flatten_reference(services["Properties"]["MonitorName"]) == "<AWS::StackName> services"
    team_id, team = monitors["<AWS::StackName> tag team"]
    assert team["MonitorType"] == "CUSTOM"
    assert json.loads(team["MonitorSpecification"]) == {
        "Tags": {"Key": "team", "Values": ["ml", "search"], "MatchOptions": ["EQUALS"]}
    }
    project_id, project = monitors["<AWS::StackName> tag project"]
    assert json.loads(project["MonitorSpecification"])["Tags"]["Values"] == ["chat", "search"]
    (_, subscription) = only(full.resources("AWS::CE::AnomalySubscription"))
    properties = subscription["Properties"]
    assert properties["Frequency"] == "IMMEDIATE"
    assert properties["Subscribers"] == [{"Type": "SNS", "Address": {"Ref": topic_id(full)}}]
    assert sorted(m["Fn::GetAtt"][0] for m in properties["MonitorArnList"]) == sorted(
        [services_id, team_id, project_id]
    )
    assert json.loads(properties["ThresholdExpression"]) == {
        "And": [
            {
                "Dimensions": {
                    "Key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
                    "MatchOptions": ["GREATER_THAN_OR_EQUAL"],
                    "Values": ["100"],
                }
            },
            {
                "Dimensions": {
                    "Key": "ANOMALY_TOTAL_IMPACT_PERCENTAGE",
                    "MatchOptions": ["GREATER_THAN_OR_EQUAL"],
                    "Values": ["20"],
                }
            },
        ]
    }


def test_existing_services_monitor_is_reused_and_unlisted_keys_are_skipped(minimal: Synth) -> None:
    # Given an existing services monitor and a tag key with no known values
    assert not minimal.resources("AWS::CE::AnomalyMonitor")
    assert not minimal.resources("Custom::ServicesAnomalyMonitor")
    (_, subscription) = only(minimal.resources("AWS::CE::AnomalySubscription"))
    assert subscription["Properties"]["MonitorArnList"] == [EXISTING_MONITOR]


def test_anomaly_match_any_ors_the_thresholds() -> None:
    config = parse_config({**MINIMAL_CONFIG, "thresholds": {"anomaly_match": "any", "anomaly_absolute_usd": 250}})
    expression = json.loads(threshold_expression(config))
    assert list(expression) == ["Or"]
    assert expression["Or"][0]["Dimensions"]["Values"] == ["250"]


# --------------------------------------------------------------------------- burn-rate forecast

BURN_RATE = "bedrock_cost.handlers.burn_rate.handler"


def test_burn_rate_function_knows_every_budget_to_forecast(full: Synth) -> None:
    env = function_by_handler(full, BURN_RATE)["Properties"]["Environment"]["Variables"]
    targets = targets_from_json(env["BUDGET_TARGETS"])
    assert [t.key for t in targets] == ["total", "tag:team=ml", "tag:team=search"]
    assert env["ALERT_TOPIC_ARN"] == {"Ref": topic_id(full)}
    assert (env["FORECAST_TRAILING_DAYS"], env["FORECAST_MIN_DAYS"]) == ("7", "3")
    rules = [
        r["Properties"]
        for r in full.resources("AWS::Events::Rule").values()
        if r["Properties"].get("ScheduleExpression") == "rate(1 hour)"
    ]
    assert len(rules) == 1


def test_burn_rate_may_read_metrics_claim_alert_keys_and_publish(full: Synth) -> None:
    allowed = grants(full, BURN_RATE)
    (state_id,) = [
        k
        for k, t in full.resources("AWS::DynamoDB::Table").items()
        if [a["AttributeName"] for a in t["Properties"]["KeySchema"]] == ["pk", "sk"]
    ]
    # Claims: UpdateItem (claim, complete), GetItem (read-back of an ambiguous write), DeleteItem (release)
    for action in ("dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"):
        assert allowed[action] == {f"<{state_id}.Arn>"}
    assert "dynamodb:PutItem" not in allowed
    role_id = function_by_handler(full, BURN_RATE)["Properties"]["Role"]["Fn::GetAtt"][0]
    (claims,) = [s for s in role_statements(full, role_id) if "dynamodb:UpdateItem" in as_list(s["Action"])]
    # Then only the alert-dedupe keys of the shared state table, never the estimator's watermarks
    assert claims["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["alert#*"]}}
    assert allowed["cloudwatch:GetMetricData"] == {"*"}
    assert allowed["cloudwatch:ListMetrics"] == {"*"}
    assert allowed["sns:Publish"] == {f"<{topic_id(full)}>"}
    key_id = full.resources("AWS::SNS::Topic")[topic_id(full)]["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    assert allowed["kms:GenerateDataKey"] == {f"<{key_id}.Arn>"}
    assert not [a for a in allowed if a.endswith("*")]


# --------------------------------------------------------------------------- linting


def test_cfn_lint_finds_nothing_in_the_alerting_templates(full: Synth, minimal: Synth) -> None:
    for synth in (full, minimal):
        # W3005: CDK writes DependsOn next to Ref/GetAtt on purpose; nothing else is ignored
        matches = lint_file(synth.template_path, ManualArgs(regions=["us-east-1"], ignore_checks=["W3005"]))
        assert [f"{m.rule.id} {m.message}" for m in matches] == []


def test_cdk_nag_reports_nothing_unacknowledged(full: Synth, minimal: Synth) -> None:
    for synth in (full, minimal):
        report = json.loads((synth.outdir / "validation-report.json").read_text())
        assert report["pluginReports"] == []


# --------------------------------------------------------------------------- ready for a real account

KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"


def test_a_slack_secret_under_a_customer_key_is_decryptable_only_through_secrets_manager(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    config = {**FULL_CONFIG, "alerts": {**FULL_CONFIG["alerts"], "slack_webhook_secret_kms_key_arn": KMS_KEY}}
    synth = synthesize(config, tmp_path_factory.mktemp("alerting-kms"))
    role_id = function_by_handler(synth, NOTIFIER)["Properties"]["Role"]["Fn::GetAtt"][0]
    (decrypt,) = [s for s in role_statements(synth, role_id) if "kms:Decrypt" in as_list(s["Action"])]
    assert decrypt["Resource"] == KMS_KEY
    assert flatten_reference(decrypt["Condition"]["StringEquals"]["kms:ViaService"]) == (
        "secretsmanager.<AWS::Region>.amazonaws.com"
    )


def test_budget_filters_are_refreshed_daily_from_cost_explorer(full: Synth) -> None:
    function = function_by_handler(full, "bedrock_cost.handlers.budget_filters.handler")
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = role_statements(full, role_id)
    (modify,) = [s for s in statements if "budgets:ModifyBudget" in as_list(s["Action"])]
    assert all(":budget/" in flatten_reference(r) for r in as_list(modify["Resource"]))
    assert len(as_list(modify["Resource"])) == len(full.resources("AWS::Budgets::Budget"))
    assert any("ce:GetDimensionValues" in as_list(s["Action"]) for s in statements)
