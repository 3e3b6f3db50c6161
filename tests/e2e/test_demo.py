"""The demo, end to end: `bedrock-cost demo` run in-process into a temporary folder, once per module."""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import io
import json
import os
import re
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from bedrock_cost.cli.main import main
from bedrock_cost.demo.emulator import EmfForwarder, emf_to_datums, moto_server
from bedrock_cost.demo.runner import DEFAULT_ROWS, STEPS, alert_kinds, previous_month
from bedrock_cost.demo.slack_standin import slack_standin
from bedrock_cost.domain.alerts import Alert
from tests.unit.test_dashboard_schema import validate_dashboard_body

pytestmark = pytest.mark.e2e

PERIOD = "2026-10"
ROWS = DEFAULT_ROWS
"""The rows users get: config/example.yaml's budgets are sized for them."""
PRESENT_STEPS = [s for s in STEPS if importlib.util.find_spec(f"bedrock_cost.demo.{s}") is not None]
EXPECTED_ALERT_KINDS: dict[tuple[str, ...], set[str]] = {
    ("tags_step",): {"tag_violation"},
    ("alerts_step",): {"budget_threshold", "forecast_overrun", "unpriced_model"},
    ("estimate_step", "alerts_step"): {"token_spike"},
}
"""Alert kinds the demo must produce when all the listed steps are installed."""
EXPECTED_METRICS: dict[str, set[str]] = {
    "tags_step": {"TagCompliancePct", "NonCompliantResources"},
    "estimate_step": {"EstimatedCostUSD", "UnpricedTokens"},
}
"""Dashboard metrics each step must leave in the emulator's CloudWatch."""


def _expected_kinds() -> set[str]:
    kinds: set[str] = set()
    for steps, expected in EXPECTED_ALERT_KINDS.items():
        if all(step in PRESENT_STEPS for step in steps):
            kinds |= expected
    return kinds


@dataclass(frozen=True)
class DemoRun:
    out: Path
    exit_code: int
    stdout: str
    seconds: float


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    out = tmp_path_factory.mktemp("demo") / "out"
    environment_before = dict(os.environ)
    buffer = io.StringIO()
    started = time.monotonic()
    with contextlib.redirect_stdout(buffer):
        code = main(["demo", "--out", str(out), "--period", PERIOD, "--rows", str(ROWS)])
    run = DemoRun(out=out, exit_code=code, stdout=buffer.getvalue(), seconds=time.monotonic() - started)
    assert dict(os.environ) == environment_before, "the demo must restore the environment"
    return run


def _jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_demo_exits_zero_quickly_and_says_where_to_look(demo: DemoRun) -> None:
    assert demo.exit_code == 0, demo.stdout
    assert demo.seconds < 150
    assert f"period {PERIOD}" in demo.stdout
    assert "Where to look:" in demo.stdout
    for name in ("report.html", "alerts.jsonl", "dashboard.json", "cost_by_model.csv"):
        assert str(demo.out / name) in demo.stdout
    # And each step either ran or was reported as not available
    for step in STEPS:
        assert re.search(rf"- {step}: (done in|skipped)", demo.stdout)


def test_dashboard_json_is_a_valid_dashboard_body(demo: DemoRun) -> None:
    body = json.loads((demo.out / "dashboard.json").read_text(encoding="utf-8"))
    assert validate_dashboard_body(body) == []
    assert [w for w in body["widgets"] if w["properties"].get("view") == "gauge"]
    # The header links the demo's alert topic
    assert "sns" in body["widgets"][0]["properties"]["markdown"]


def test_dashboard_metrics_were_published_by_the_steps(demo: DemoRun) -> None:
    # Given the steps that ran, Then the metrics they publish exist in the emulator for the dashboard
    line = next(line for line in demo.stdout.splitlines() if line.startswith("Dashboard:"))
    missing = set(re.findall(r"\w+", line.split("none yet:", 1)[1])) if "none yet:" in line else set()
    for step in PRESENT_STEPS:
        assert not EXPECTED_METRICS.get(step, set()) & missing, f"{step} published no {missing}"


def test_report_html_matches_the_csv_reports(demo: DemoRun) -> None:
    html = (demo.out / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert f'<strong id="period">{PERIOD}</strong>' in html
    # The HTML total (from its own SQL) equals the CSV report's total (the report command's SQL)
    with (demo.out / "cost_by_model.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    csv_total = sum((Decimal(r["cost_usd"]) for r in rows), Decimal(0))
    card = re.search(r"Billed usage cost</div><div class=\"value\">\$([\d,]+\.\d\d)<", html)
    assert card, "usage cost card missing"
    assert Decimal(card.group(1).replace(",", "")) == csv_total.quantize(Decimal("0.01"))
    # And nothing in it is fetched from the network
    assert not re.search(r"""(src|href)=["']?https?://(?!console\.aws\.amazon\.com/athena)""", html)


def test_alerts_jsonl_holds_every_sns_message_with_subject_and_message(demo: DemoRun) -> None:
    notifications = _jsonl(demo.out / "alerts.jsonl")
    expected = _expected_kinds()
    if expected:
        assert notifications, "alert-producing steps ran but the topic received nothing"
    for notification in notifications:
        assert notification["Subject"]
        message = str(notification["Message"])
        if '"source":"bedrock-cost-tracker"' in message:
            Alert.from_json(message)  # a valid envelope, or ValueError
    assert expected <= set(alert_kinds(demo.out / "alerts.jsonl"))


def test_slack_stand_in_record_is_valid_json_lines(demo: DemoRun) -> None:
    records = _jsonl(demo.out / "slack_messages.jsonl")
    if "alerts_step" in PRESENT_STEPS:
        # The alerts step runs the Slack notifier: its alerts reach the stand-in, once each
        assert records
        assert f"Slack stand-in received: {len(records)} message(s)" in demo.stdout
    for record in records:
        assert record["path"] == "/services/demo/webhook"
        assert record["payload"]


def test_csv_reports_are_written(demo: DemoRun) -> None:
    for name in ("cost_by_model.csv", "cost_by_team.csv", "cost_by_usage_kind.csv"):
        header = (demo.out / name).read_text(encoding="utf-8").splitlines()[0]
        assert header.endswith("cost_usd,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens")


# --------------------------------------------------------------------------- the demo's own machinery


def test_default_period_is_the_previous_calendar_month() -> None:
    assert previous_month(date(2027, 1, 15)) == "2026-12"
    assert previous_month(date(2026, 11, 1)) == "2026-10"


def test_a_bad_period_is_a_user_error_before_anything_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--out", str(tmp_path / "x"), "--period", "2026-13"]) == 2
    assert "YYYY-MM" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_emf_records_become_cloudwatch_metrics() -> None:
    # Given an EMF record as Powertools prints it, with two dimension sets
    record = {
        "_aws": {
            "Timestamp": int(datetime(2026, 10, 5, 12, tzinfo=UTC).timestamp() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": "BedrockCostTracker",
                    "Dimensions": [[], ["Model"]],
                    "Metrics": [{"Name": "EstimatedCostUSD", "Unit": "None"}],
                }
            ],
        },
        "Model": "Nova Pro",
        "EstimatedCostUSD": [1.25],
    }
    assert len(emf_to_datums(record)) == 2
    with mock_aws():
        cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
        log = io.StringIO()
        forwarder = EmfForwarder(log, cloudwatch)
        # When a handler prints it (in two writes) and the step ends
        forwarder.write(json.dumps(record)[:40])
        forwarder.write(json.dumps(record)[40:] + "\nplain log line\n")
        forwarder.flush()
        # Then both series exist in CloudWatch and the log kept every line
        metrics = cloudwatch.list_metrics(Namespace="BedrockCostTracker")["Metrics"]
        assert sorted(str(m.get("Dimensions")) for m in metrics) == sorted(
            ["[]", "[{'Name': 'Model', 'Value': 'Nova Pro'}]"]
        )
        assert forwarder.forwarded == 2
        assert "plain log line" in log.getvalue()


def test_a_malformed_emf_record_fails_loudly() -> None:
    forwarder = EmfForwarder(io.StringIO(), boto3.client("cloudwatch", region_name="us-east-1"))
    with pytest.raises(Exception, match="malformed EMF record"):
        forwarder.write('{"_aws": {"Timestamp": 1}, "broken"\n')


def test_slack_stand_in_records_posts_and_answers_like_slack(tmp_path: Path) -> None:
    with slack_standin(tmp_path / "slack.jsonl") as slack:
        request = urllib.request.Request(
            slack.url, data=b'{"text": "budget at 90 %"}', headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert (response.status, response.read()) == (200, b"ok")
        assert slack.count == 1
    assert _jsonl(tmp_path / "slack.jsonl")[0]["payload"] == {"text": "budget at 90 %"}


def test_moto_server_listens_on_loopback_only_and_stops() -> None:
    with moto_server() as url:
        assert url.startswith("http://127.0.0.1:")
        sns = boto3.client("sns", endpoint_url=url, region_name="us-east-1")
        assert sns.create_topic(Name="t")["TopicArn"].endswith(":t")
    with pytest.raises(Exception):  # noqa: B017, PT011 - connection refused, whatever botocore calls it
        boto3.client("sns", endpoint_url=url, region_name="us-east-1").list_topics()


# --------------------------------------------------------------------------- the three clocks meet


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_one_now_is_printed_first_and_demo_log_stays_small(demo: DemoRun) -> None:
    lines = demo.stdout.splitlines()
    assert lines[1].startswith("  now = 2026-10-20 00:10 UTC")
    assert sum(1 for line in lines if line.startswith("  now = ")) == 1
    assert (demo.out / "demo.log").stat().st_size < 1_000_000
    assert (demo.out / "metrics.jsonl").stat().st_size > 0  # the metric records live on their own


def test_reconcile_csv_proves_the_calibration(demo: DemoRun) -> None:
    rows = _csv_rows(demo.out / "reconcile.csv")
    assert list(rows[0])[:8] == [
        "day",
        "model",
        "account",
        "region",
        "estimated_usd",
        "billed_usd",
        "drift_pct",
        "calibrated",
    ]
    # At least three days overlap, all before the demo's now
    days = sorted({r["day"] for r in rows})
    assert len(days) >= 3
    assert days[-1] < "2026-10-20"
    # Calibrated, every priced model-day is within 1 %; uncalibrated, the 12 % Claude discount shows
    calibrated = [r for r in rows if r["calibrated"] == "true" and r["drift_pct"]]
    assert calibrated
    assert all(abs(Decimal(r["drift_pct"])) <= 1 for r in calibrated)
    assert {r["drift_pct"] for r in rows if r["model"] == "Claude Haiku 4.5" and r["calibrated"] == "false"} == {
        "13.64"
    }
    # And the summary says so per model, with what the estimate cannot see in dollars
    assert re.search(r"Claude Haiku 4\.5 .*uncalibrated\s+\+13\.64 %\s+calibrated\s+\+0\.00 %", demo.stdout)
    assert "not estimated (billed, no estimate can see it)" in demo.stdout


def test_forecast_csv_has_correct_crossing_dates(demo: DemoRun) -> None:
    rows = {r["budget"]: r for r in _csv_rows(demo.out / "forecast.csv")}
    assert list(next(iter(rows.values())))[:7] == [
        "budget", "period", "budget_usd", "actual_usd", "projected_usd", "crosses_on", "method",
    ]  # fmt: skip
    statuses = {r["status"] for r in rows.values() if r["budget_usd"]}
    assert "over" in statuses
    assert "under" in statuses
    for row in rows.values():
        if not row["budget_usd"]:
            assert row["crosses_on"] == ""
            continue
        budget, actual = Decimal(row["budget_usd"]), Decimal(row["actual_usd"])
        if actual >= budget:  # already over: the day it happened, before now
            assert "2026-10-01" <= row["crosses_on"] < "2026-10-20"
        elif Decimal(row["projected_usd"]) < budget:
            assert row["crosses_on"] == ""
        else:
            assert "2026-10-20" <= row["crosses_on"] <= "2026-10-31"
        assert "weekday" in row["method"] or "trailing" in row["method"]


def test_recommendations_have_five_kinds_and_stay_below_the_spend(demo: DemoRun) -> None:
    rows = _csv_rows(demo.out / "recommendations.csv")
    assert list(rows[0]) == ["kind", "subject", "saving_usd_month", "confidence", "evidence"]
    assert len({r["kind"] for r in rows}) >= 5
    savings = sum((Decimal(r["saving_usd_month"]) for r in rows), Decimal(0))
    billed = sum((Decimal(r["cost_usd"]) for r in _csv_rows(demo.out / "cost_by_model.csv")), Decimal(0))
    assert savings < billed
    # And report.html carries the same sections and figures
    html = (demo.out / "report.html").read_text(encoding="utf-8")
    for section in ('id="reconciliation"', 'id="forecast"', 'id="recommendations"'):
        assert section in html
    rendered = {Decimal(m.replace(",", "")) for m in re.findall(r"worth \$([\d,]+\.\d\d) a month", html)}
    assert rendered == {savings.quantize(Decimal("0.01"))}
    assert "+13.64 %" in html


def test_drift_widget_has_data(demo: DemoRun) -> None:
    line = next(line for line in demo.stdout.splitlines() if line.startswith("Dashboard:"))
    assert "EstimateDriftPct" not in line.split("none yet:", 1)[-1] if "none yet:" in line else True


def test_request_ledger_step_counts_redelivery_once_alerts_once_and_blocks_then_lifts(demo: DemoRun) -> None:
    if "requests_step" not in PRESENT_STEPS:
        pytest.skip("requests_step not installed")
    # requests_by_user.csv is the `requests --by user` CSV
    with (demo.out / "requests_by_user.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == [
        "user", "cost_usd", "requests", "input_tokens", "output_tokens",
        "cache_read_tokens", "cache_write_tokens", "unpriced_requests",
    ]  # fmt: skip
    assert "by customer (request metadata):" in demo.stdout
    line = next(x for x in demo.stdout.splitlines() if "ingest via subscription payloads" in x)
    counted = int(re.search(r"(\d+) counted", line).group(1))  # type: ignore[union-attr]
    redelivered = int(re.search(r"(\d+) redelivered", line).group(1))  # type: ignore[union-attr]
    # The well-formed lines are each counted once; the redelivered batch adds nothing
    assert counted == sum(int(r["requests"]) for r in rows)
    assert redelivered > 0
    assert "1 control message ignored" in line
    # One user's budget: each threshold alerted once, one block and one unblock
    ledger = [
        json.loads(str(n["Message"]))
        for n in _jsonl(demo.out / "alerts.jsonl")
        if "request-budget" in str(n["Message"])
    ]
    thresholds = [a["figures"]["threshold_pct"] for a in ledger if "threshold_pct" in a.get("figures", {})]
    assert sorted(thresholds, key=int) == ["50", "75", "90", "100"]
    assert len({a["subject"]["value"] for a in ledger if "value" in a["subject"]}) == 1
    assert sorted(a["subject"]["action"] for a in ledger if "action" in a["subject"]) == ["blocked", "unblocked"]
    assert "denied (bedrock-cost-budget-deny-" in demo.stdout
    assert "-> lifted" in demo.stdout
