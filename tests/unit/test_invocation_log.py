"""Invocation-log records: parsing rules, pricing keys, and the SQL view agreeing with Python."""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from trino_query_parser import parse_statement

from bedrock_cost.adapters.invocation_logs_duckdb import InvocationLogEngine
from bedrock_cost.billing.sql import list_queries, load_sql, render
from bedrock_cost.domain.invocation_log import MalformedRecord, TokenUsage, parse_line, parse_record
from bedrock_cost.domain.model_catalog import load_model_catalog
from bedrock_cost.domain.model_resolution import InMemoryProfileDirectory, resolve_model_id
from bedrock_cost.domain.pricing import PriceCatalog, load_bundled_layer
from bedrock_cost.domain.request_pricing import price_usage
from bedrock_cost.sample_data.invocation_logs import generate_logs

pytestmark = pytest.mark.unit
ARN = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Dev_ab12/ana@example.com"


def _record(**extra):
    base = {
        "schemaType": "ModelInvocationLog",
        "timestamp": "2026-10-15T10:11:12Z",
        "accountId": "111122223333",
        "identity": {"arn": ARN},
        "region": "us-east-1",
        "requestId": "r-1",
        "operation": "Converse",
        "modelId": "us.anthropic.claude-sonnet-4-6",
        "input": {"inputTokenCount": 1000, "cacheReadInputTokenCount": 200, "cacheWriteInputTokenCount": 0},
        "output": {"outputTokenCount": 50},
        "requestMetadata": {"customer": "acme"},
    }
    base.update(extra)
    return base


def test_envelope_counts_without_body():
    rec = parse_record(_record())
    assert rec.usage == TokenUsage(1000, 50, 200, 0, 0)
    assert not rec.disagreement
    assert rec.metadata == {"customer": "acme"}
    assert rec.hour == "2026-10-15T10"


def test_body_usage_wins_and_disagreement_is_flagged():
    body = {
        "usage": {
            "inputTokens": 1000,
            "outputTokens": 50,
            "cacheReadInputTokens": 200,
            "cacheWriteInputTokens": 300,
            "cacheDetails": [{"ttl": "5m", "inputTokens": 100}, {"ttl": "1h", "inputTokens": 200}],
        }
    }
    rec = parse_record(_record(output={"outputTokenCount": 50, "outputBodyJson": body}))
    assert rec.usage == TokenUsage(1000, 50, 200, 300, 200)
    assert rec.disagreement


def test_anthropic_body_shape_splits_one_hour_writes():
    body = {
        "usage": {
            "input_tokens": 10,
            "output_tokens": 5,
            "cache_creation_input_tokens": 40,
            "cache_read_input_tokens": 0,
            "cache_creation": {"ephemeral_1h_input_tokens": 30},
        }
    }
    rec = parse_record(_record(input={"inputTokenCount": 10}, output={"outputTokenCount": 5, "outputBodyJson": body}))
    assert rec.usage == TokenUsage(10, 5, 0, 40, 30)


def test_error_records_count_requests_not_tokens():
    rec = parse_record(_record(errorCode="ThrottlingException"))
    assert rec.is_error
    assert rec.usage == TokenUsage()


@pytest.mark.parametrize(
    "line",
    [
        "{not json",
        "[]",
        json.dumps({"schemaType": "Other"}),
        json.dumps(_record(requestId="")),
        json.dumps(_record(input={"inputTokenCount": -1})),
        json.dumps(_record(timestamp="yesterday")),
    ],
)
def test_malformed_lines_raise_a_named_error(line):
    with pytest.raises(MalformedRecord):
        parse_line(line)


CATALOG = PriceCatalog(bundled=load_bundled_layer())


def _resolved(model_id):
    return resolve_model_id(model_id, InMemoryProfileDirectory(), load_model_catalog())


def test_one_hour_cache_writes_cost_twice_input():
    resolved = _resolved("us.anthropic.claude-sonnet-4-6")
    five = price_usage(TokenUsage(cache_write=1_000_000), resolved, CATALOG, tier="on-demand", long_context=False)
    hour = price_usage(
        TokenUsage(cache_write=1_000_000, cache_write_1h=1_000_000),
        resolved,
        CATALOG,
        tier="on-demand",
        long_context=False,
    )
    inp = CATALOG.price("Claude Sonnet 4.6", "input", "regional").usd_per_million
    assert hour.cost == inp * 2
    assert five.cost == CATALOG.price("Claude Sonnet 4.6", "cache-write", "regional").usd_per_million


def test_global_scope_and_batch_and_long_context_use_their_keys():
    glob = _resolved("global.anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert glob.scope == "global"
    on = price_usage(TokenUsage(input=1_000_000), glob, CATALOG, tier="on-demand", long_context=False).cost
    batch = price_usage(TokenUsage(input=1_000_000), glob, CATALOG, tier="batch", long_context=False).cost
    long = price_usage(TokenUsage(input=1_000_000), glob, CATALOG, tier="on-demand", long_context=True).cost
    assert batch == on / 2
    assert long == on * 2


def test_unknown_model_is_unpriced_never_zero():
    cost = price_usage(
        TokenUsage(input=10), _resolved("acme.unknown-model-v1"), CATALOG, tier="on-demand", long_context=False
    )
    assert cost.cost is None
    assert cost.missing == ("input",)
    assert price_usage(
        TokenUsage(), _resolved("acme.unknown-model-v1"), CATALOG, tier="on-demand", long_context=False
    ).cost == Decimal(0)


@pytest.mark.parametrize("name", list_queries("requests"))
def test_request_sql_parses_as_trino(name):
    holes = set(re.findall(r"(?<![:\w]):([a-z_]+)", load_sql(name)))
    rendered = render(name, {"database": '"db"', "table": '"t"', "dimension": "hour"}, dict.fromkeys(holes, "x"))
    parse_statement(rendered.sql)
    assert "::" not in rendered.sql


def test_sql_view_and_python_parser_agree_record_by_record(tmp_path):
    # Given generated logs, When the usage view (DuckDB) and parse_line read the same files
    logs = generate_logs(tmp_path, start=datetime(2026, 10, 15, tzinfo=UTC), hours=2, records=3_000, seed=11)
    python = {}
    malformed = 0
    for path in logs.files:
        with gzip.open(path, "rt") as handle:
            lines = handle.read().splitlines()
        for line in lines:
            try:
                rec = parse_line(line)
            except MalformedRecord:
                malformed += 1
                continue
            python[rec.request_id] = (*rec.usage.counts(), rec.usage.cache_write_1h, int(rec.disagreement))
    engine = InvocationLogEngine(list(logs.files))
    rows = engine._con.execute(
        "SELECT request_id, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, "
        "cache_write_1h_tokens, disagreement, malformed FROM bedrock_cost.bedrock_invocation_usage"
    ).fetchall()
    sql = {r[0]: tuple(r[1:7]) for r in rows if not r[7]}
    # Then both see the same requests with the same counts, and the same malformed lines
    assert sql == python
    assert sum(r[7] for r in rows) == malformed == logs.malformed
