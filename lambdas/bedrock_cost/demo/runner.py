"""``bedrock-cost demo``: the whole product on embedded engines, in about a minute.

Set-up (this module): a moto server on 127.0.0.1 standing in for AWS, a local endpoint
standing in for Slack, the config, two months of generated CUR 2.0, and in the emulator
the alert topic with a queue subscribed to it and the state table. Then each step runs
the product's real code against them, in order: the billed report, the near-real-time
estimate, tag governance, alerts, and the dashboard with the HTML report. At the end
every message the topic received is written to ``alerts.jsonl``; the metric records the
handlers print (EMF) go to ``metrics.jsonl``, everything else they log to ``demo.log``.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import logging
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TextIO

import boto3
from botocore.exceptions import ClientError

from bedrock_cost.adapters.aws_errors import translate_client_error
from bedrock_cost.config import Config
from bedrock_cost.config_loader import load_config_file, parse_config
from bedrock_cost.demo.context import DemoContext
from bedrock_cost.demo.emulator import EmfForwarder, demo_environment, moto_server, patched_environment
from bedrock_cost.demo.slack_standin import slack_standin
from bedrock_cost.demo.state_table import create_state_table
from bedrock_cost.errors import BedrockCostError
from bedrock_cost.sample_data import demo_scenario
from bedrock_cost.sample_data.cur_generator import generate_cur, parse_period

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

STEPS: tuple[str, ...] = (
    "report_step",
    "estimate_step",
    "reconcile_step",
    "outlook_step",
    "tags_step",
    "alerts_step",
    "requests_step",
    "dashboard_step",
)
"""Step modules under ``bedrock_cost.demo``, run in this order."""
DEFAULT_ROWS = 200_000
DEFAULT_SEED = 7
CUR_MONTHS = 2
"""The reported month and the one before it (month-over-month figures, forecasts)."""
TOPIC_NAME = "bedrock-cost-alerts"
QUEUE_NAME = "bedrock-cost-alerts-capture"
STATE_TABLE = "bedrock-cost-state"
DRAIN_DEADLINE_SECONDS = 20.0
REPO_CONFIG = Path(__file__).resolve().parents[3] / "config" / "example.yaml"
"""A source checkout's example config (also what editable installs read)."""
PACKAGED_CONFIG = ("data", "example.yaml")
"""Where a built wheel carries its copy of ``config/example.yaml`` inside the package."""


class DemoError(BedrockCostError):
    """A demo step failed; the message names it (the traceback is in demo.log)."""


@dataclass(frozen=True)
class DemoOptions:
    out_dir: Path
    period: str
    rows: int = DEFAULT_ROWS
    seed: int = DEFAULT_SEED
    config_file: Path | None = None


def previous_month(today: date) -> str:
    """The last closed billing period: the calendar month before ``today``."""
    year, month = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
    return f"{year}-{month:02d}"


def example_config() -> Path | None:
    """``config/example.yaml``: the copy inside an installed package first, then the checkout's."""
    packaged = Path(str(resources.files("bedrock_cost"))).joinpath(*PACKAGED_CONFIG)
    if packaged.is_file():
        return packaged
    return REPO_CONFIG if REPO_CONFIG.is_file() else None


def load_demo_config(config_file: Path | None) -> tuple[Config, str]:
    """The given file, else the example config (installed copy or checkout), else built-in defaults."""
    if config_file is not None:
        return load_config_file(config_file), str(config_file)
    example = example_config()
    if example is not None:
        return load_config_file(example), str(example)
    return parse_config({"cur": {"create_export": True}}, source="built-in defaults"), "built-in defaults"


def _client(service: str, endpoint_url: str, region: str) -> Any:
    """A boto3 client for the emulator (typed per service where it is used)."""
    return boto3.client(service, endpoint_url=endpoint_url, region_name=region)  # type: ignore[call-overload]


def create_alert_plumbing(endpoint_url: str, region: str) -> tuple[str, str, str]:
    """The alert topic, a queue capturing everything published to it, and the state table.

    Returns (topic ARN, queue URL, table name). The table has the product's schema:
    ``pk``/``sk`` strings and a TTL on ``expires_at``.
    """
    sns = _client("sns", endpoint_url, region)
    sqs = _client("sqs", endpoint_url, region)
    dynamodb = _client("dynamodb", endpoint_url, region)
    try:
        topic_arn: str = sns.create_topic(Name=TOPIC_NAME)["TopicArn"]
        queue_url: str = sqs.create_queue(QueueName=QUEUE_NAME)["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
        create_state_table(dynamodb, STATE_TABLE)
    except ClientError as exc:
        raise translate_client_error(exc, "creating the demo's topic, queue and state table") from exc
    return topic_arn, queue_url, STATE_TABLE


def drain_alerts(
    sqs: SQSClient, queue_url: str, out_file: Path, deadline_seconds: float = DRAIN_DEADLINE_SECONDS
) -> int:
    """Move every message of the capture queue into ``out_file`` (JSON lines); return the count.

    Each line is the SNS notification as delivered (``Subject``, ``Message``,
    ``MessageAttributes``, ``Timestamp``...), sorted by publication time.
    """
    notifications: list[dict[str, Any]] = []
    deadline = time.monotonic() + deadline_seconds
    empty_polls = 0
    while empty_polls < 2:
        if time.monotonic() > deadline:
            raise DemoError(f"draining the alert queue took longer than {deadline_seconds:.0f} s")
        try:
            response = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        except ClientError as exc:
            raise translate_client_error(exc, "reading the alert capture queue") from exc
        messages = response.get("Messages", [])
        if not messages:
            empty_polls += 1
            continue
        empty_polls = 0
        for message in messages:
            notifications.append(json.loads(message["Body"]))
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
    notifications.sort(key=lambda n: (str(n.get("Timestamp", "")), str(n.get("MessageId", ""))))
    with out_file.open("w", encoding="utf-8") as out:
        for notification in notifications:
            out.write(json.dumps(notification, sort_keys=True) + "\n")
    return len(notifications)


def alert_kinds(alerts_file: Path) -> dict[str, int]:
    """Count alerts by envelope ``kind`` (messages that are not our envelope count by Subject)."""
    kinds: dict[str, int] = {}
    for line in alerts_file.read_text(encoding="utf-8").splitlines():
        notification = json.loads(line)
        try:
            kind = str(json.loads(notification["Message"])["kind"])
        except (ValueError, KeyError, TypeError):
            kind = f"other: {notification.get('Subject', '(no subject)')}"
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def _load_step(name: str) -> ModuleType:
    return importlib.import_module(f"bedrock_cost.demo.{name}")


@contextlib.contextmanager
def _captured_log_handlers(target: io.TextIOBase) -> Iterator[None]:
    """Point every logging handler that writes to the console at ``target`` for the block.

    Powertools' Logger binds its stream when a module is imported, so redirecting
    ``sys.stdout`` alone would still print the handlers' JSON logs over the summary.
    """
    console = {id(sys.stdout), id(sys.stderr), id(sys.__stdout__), id(sys.__stderr__)}
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in list(logging.Logger.manager.loggerDict))]
    swapped: list[tuple[logging.StreamHandler[Any], Any]] = []
    for log in loggers:
        for handler in log.handlers:
            if isinstance(handler, logging.StreamHandler) and id(handler.stream) in console:
                swapped.append((handler, handler.setStream(target)))
    try:
        yield
    finally:
        for handler, stream in swapped:
            handler.setStream(stream)


def _run_steps(ctx: DemoContext, log: TextIO, say: Callable[[str], None]) -> list[str]:
    """Run each available step; what a step prints (EMF records, logs) goes to demo.log,
    and its EMF metrics into the emulator's CloudWatch, as CloudWatch Logs would do."""
    emf_log = (ctx.out_dir / "metrics.jsonl").open("w", encoding="utf-8")
    ctx.results["emf_log"] = emf_log  # closed by run_demo
    forwarder = EmfForwarder(log, _client("cloudwatch", ctx.endpoint_url, ctx.region), emf_log)
    ctx.results["metrics_published"] = forwarder.published  # updated live, read by the dashboard step
    ran = []
    for name in STEPS:
        module = _load_step(name)
        started = time.monotonic()
        print(f"\n===== {name} =====", file=log, flush=True)
        try:
            with contextlib.redirect_stdout(forwarder), _captured_log_handlers(forwarder):
                module.run(ctx)
            forwarder.flush()
        except Exception as exc:
            traceback.print_exc(file=log)
            raise DemoError(f"demo step {name} failed: {exc} (details in {log.name})") from exc
        say(f"  - {name}: done in {time.monotonic() - started:.1f} s")
        ran.append(name)
    ctx.results["emf_metrics_forwarded"] = forwarder.forwarded
    return ran


def _outputs(out_dir: Path) -> list[str]:
    lines = []
    for path in sorted(out_dir.iterdir()):
        if path.is_file():
            lines.append(f"  {path}  ({path.stat().st_size:,} bytes)")
    lines.append(f"  {out_dir / 'cur'}/  (generated CUR 2.0 export)")
    return lines


def run_demo(options: DemoOptions, stdout: TextIO | None = None) -> int:
    """Run the demo into ``options.out_dir``; print progress and a summary; return the exit code."""
    console = stdout or sys.stdout

    def say(line: str) -> None:
        print(line, file=console, flush=True)

    parse_period(options.period)
    started = time.monotonic()
    out = options.out_dir
    out.mkdir(parents=True, exist_ok=True)
    config, config_source = load_demo_config(options.config_file)
    region = config.regions[0]
    scenario = demo_scenario.build_scenario(options.period, region, tuple(config.report_tag_keys))
    say(f"Bedrock Cost Tracker demo: period {options.period}, config {config_source}, outputs in {out}")
    say(
        f"  now = {scenario.now:%Y-%m-%d %H:%M} UTC "
        "(every step runs as of this moment; CUR is complete to the day before)"
    )

    cur_dir = out / "cur"
    generate_cur(cur_dir, options.period, rows=options.rows, seed=options.seed, months=CUR_MONTHS)
    demo_scenario.apply_to_export(cur_dir, scenario)
    say(
        f"  - generated CUR 2.0: {options.rows:,} rows per month for {CUR_MONTHS} months; "
        f"account {scenario.account} {region} billed from its traffic, Claude "
        f"{demo_scenario.CLAUDE_DISCOUNT_PCT} % below list, a long-context share on {demo_scenario.LONG_CONTEXT_MODEL}"
    )

    with (
        (out / "demo.log").open("w", encoding="utf-8") as log,
        moto_server() as endpoint_url,
        slack_standin(out / "slack_messages.jsonl") as slack,
        patched_environment(demo_environment(endpoint_url, region, out)),
    ):
        say(f"  - AWS emulator (moto) on {endpoint_url}; Slack stand-in on {slack.url}")
        topic_arn, queue_url, table = create_alert_plumbing(endpoint_url, region)
        ctx = DemoContext(
            out_dir=out,
            cur_dir=cur_dir,
            period=options.period,
            config=config,
            endpoint_url=endpoint_url,
            region=region,
            alert_topic_arn=topic_arn,
            slack_url=slack.url,
            now=scenario.now,
        )
        ctx.results["scenario"] = scenario
        ctx.results["state_table"] = table
        ctx.results["queue_url"] = queue_url
        try:
            _run_steps(ctx, log, say)
        finally:
            if "emf_log" in ctx.results:
                ctx.results.pop("emf_log").close()
            engine = ctx.results.get("engine")
            if engine is not None and hasattr(engine, "close"):
                engine.close()
        count = drain_alerts(_client("sqs", endpoint_url, region), queue_url, out / "alerts.jsonl")
        kinds = alert_kinds(out / "alerts.jsonl")
        slack_posts = slack.count

    say("")
    say(f"Summary ({options.period}, as of {scenario.now:%Y-%m-%d %H:%M} UTC)")
    for line in ctx.summary:
        say(line)
    say(f"Alerts published to the topic: {count} ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items())) or 'none'})")
    say(f"Slack stand-in received: {slack_posts} message(s)")
    say("")
    say("Where to look:")
    for line in _outputs(out):
        say(line)
    say(f"Open {out / 'report.html'} in a browser; dashboard.json is the CloudWatch dashboard body.")
    say(f"Done in {time.monotonic() - started:.0f} s.")
    return 0
