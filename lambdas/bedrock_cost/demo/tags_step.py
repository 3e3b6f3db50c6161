"""Demo step: tag governance.

Registers two application inference profiles (one compliant, one not) and runs the real
tag-enforcer Lambda handler on its daily schedule against the emulator: the violation
goes to the alert topic through ``AlertPublisher`` and the state table. The emulator has
no inference-profile API, so the profiles live in ``InMemoryBedrockResources`` behind
the same interface; custom models, agents and knowledge bases are read from the
emulator's Bedrock APIs. Then the untagged / non-compliant spend of the billed CUR is
ranked and written to ``untagged_spend.csv``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3

from bedrock_cost.adapters.alert_publisher import AlertPublisher
from bedrock_cost.adapters.bedrock_resources import (
    BedrockResources,
    CombinedResources,
    DynamoViolationStore,
    InMemoryBedrockResources,
)
from bedrock_cost.adapters.duckdb_engine import DuckDBEngine
from bedrock_cost.billing.untagged_spend import rank_untagged_spend, to_csv
from bedrock_cost.demo.context import DemoContext, DemoLambdaContext
from bedrock_cost.domain.tag_rules import RESOURCE_TYPES, TaggedResource, evaluate
from bedrock_cost.handlers import tag_enforcer
from bedrock_cost.money import display_usd

EMULATED_TYPES = ("custom-model", "agent", "knowledge-base")
"""Types the emulator's Bedrock APIs serve with tags; the rest are registered in memory."""
TOP_N = 3


_CONTEXT = DemoLambdaContext("tag-enforcer", aws_request_id="demo-tag-enforcer")


def _client(ctx: DemoContext, service: str) -> Any:
    return boto3.client(service, region_name=ctx.region, endpoint_url=ctx.endpoint_url)  # type: ignore[call-overload]


def _profiles(ctx: DemoContext, account: str) -> list[TaggedResource]:
    """One profile that follows the policy (using its defaults) and one that does not."""
    policy = ctx.config.tag_policy
    good_tags = {key: policy.defaults.get(key, "demo") for key in policy.required_keys}
    for key, rule in policy.allowed_values.items():
        if key in good_tags and rule.values:
            good_tags[key] = rule.values[0]
    base = f"arn:aws:bedrock:{ctx.region}:{account}:application-inference-profile"
    good = TaggedResource(
        f"{base}/demo0000good", "application-inference-profile", ctx.region, "chatbot-prod", good_tags
    )
    bad_tags = dict(list(good_tags.items())[1:])  # drop the first required key
    bad = TaggedResource(f"{base}/demo00000bad", "application-inference-profile", ctx.region, "scratchpad", bad_tags)
    return [good, bad]


def run(ctx: DemoContext) -> None:
    account = _client(ctx, "sts").get_caller_identity()["Account"]
    in_memory = InMemoryBedrockResources(ctx.region, [t for t in RESOURCE_TYPES if t not in EMULATED_TYPES])
    profiles = [in_memory.register(p) for p in _profiles(ctx, account)]
    source = CombinedResources(
        ctx.region,
        [
            BedrockResources(
                ctx.region, account, _client(ctx, "bedrock"), _client(ctx, "bedrock-agent"), EMULATED_TYPES
            ),
            in_memory,
        ],
    )
    dynamodb = _client(ctx, "dynamodb")
    table = str(ctx.results["state_table"])
    tag_enforcer.configure(
        tag_enforcer.Dependencies(
            policy=ctx.config.tag_policy,
            regions=[ctx.region],
            sources={ctx.region: source},
            store=DynamoViolationStore(dynamodb, table),
            sink=AlertPublisher(_client(ctx, "sns"), ctx.alert_topic_arn, dynamodb, table),
        )
    )
    event = {
        "version": "0",
        "id": "demo-daily-tag-scan",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": ctx.region,
        "resources": [],
        "detail": {},
    }
    try:
        summary = tag_enforcer.handler(event, _CONTEXT)
    finally:
        tag_enforcer.configure(None)
    ctx.results["tags"] = summary
    bad = [p for p in profiles if evaluate(ctx.config.tag_policy, p.tags)]
    ctx.summary.append(
        f"Tags: {summary['non_compliant']} of {summary['resources']} Bedrock resources break the tag policy "
        f"(mode {summary['mode']}); {summary['alerts_sent']} tag_violation alert(s) sent"
    )
    for profile in bad:
        problems = "; ".join(v.describe() for v in evaluate(ctx.config.tag_policy, profile.tags))
        ctx.summary.append(f"  - inference profile '{profile.name}': {problems}")

    engine = ctx.results.get("engine") or DuckDBEngine.open(ctx.cur_dir, ctx.config.report_tag_keys)
    report = rank_untagged_spend(engine, ctx.period, ctx.config.tag_policy, top_n=TOP_N)
    (ctx.out_dir / "untagged_spend.csv").write_text(to_csv(report), encoding="utf-8")
    ctx.results["untagged_spend"] = report
    ctx.summary.append(
        f"Untagged spend {ctx.period}: {display_usd(report.untagged_cost_usd)} "
        f"({report.share_pct(report.untagged_cost_usd)} % of {display_usd(report.usage_cost_usd)}); "
        f"non-compliant with the tag policy: {display_usd(report.non_compliant_cost_usd)} -> untagged_spend.csv"
    )
    for item in report.untagged_by_resource[:TOP_N]:
        ctx.summary.append(f"  - {item.name}: {display_usd(item.cost_usd)} ({'; '.join(item.reasons)})")
