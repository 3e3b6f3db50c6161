"""``bedrock-cost recommend --logs``: prompt caching judged per caller from invocation logs."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bedrock_cost.cli.main import main
from bedrock_cost.sample_data.cur_generator import generate_cur
from tests.support import log_files as lf
from tests.support.cli import run_cli

pytestmark = pytest.mark.integration
SONNET = "us.anthropic.claude-sonnet-4-6"
DAYS = 3


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("advice")
    generate_cur(root / "cur", "2026-10", rows=4_000, seed=5)
    start = datetime(2026, 10, 12, tzinfo=UTC)
    records = []
    for n in range(DAYS * 200):
        when = start + timedelta(minutes=n * 7)
        # rag-worker resends a 30K-token context, never cached: calls for a cache point
        records.append(lf.record(when, lf.role("rag-worker"), SONNET, inp=30_000, out=400))
        # alice sends as much, but reads most of it from cache already: silent
        records.append(lf.record(when, lf.sso("alice@example.com"), SONNET, inp=6_000, out=400, read=24_000))
        # bob's prompts are small: silent
        records.append(lf.record(when, lf.sso("bob@example.com"), SONNET, inp=800, out=400))
    return root / "cur", lf.write(root / "logs", records)


def test_caching_is_advised_for_the_caller_whose_large_prompts_are_uncached(inputs):
    cur, logs = inputs
    code, text = run_cli("recommend", "--cur", str(cur), "--logs", str(logs), "--format", "json")
    assert code == 0
    rows = json.loads(text)
    caching = [r for r in rows if r["kind"] == "prompt-caching"]
    # Then exactly one caller is advised, and the per-model row for the same model is replaced
    assert [r["subject"] for r in caching if "Sonnet 4.6" in r["subject"]] == ["rag-worker · Claude Sonnet 4.6"]
    [row] = [r for r in caching if r["subject"].startswith("rag-worker")]
    assert row["evidence"].startswith("invocation logs: rag-worker sends 6,200 prompts a month of 4,000+ tokens")
    # And the saving is 30 % of the month's input spend at the evidence's own prices
    read, inp = (Decimal(p) for p in re.findall(r"\$([0-9.]+)/1M", row["evidence"]))
    spend = Decimal(DAYS * 200 * 30_000) * inp / 1_000_000 * Decimal(31) / DAYS
    assert Decimal(row["saving_usd_month"]) == (spend * Decimal("0.3") * (1 - read / inp)).quantize(Decimal("0.01"))
    assert Decimal(row["saving_usd_month"]) < spend


def test_without_logs_the_caching_advice_stays_per_model(inputs):
    cur, _ = inputs
    code, text = run_cli("recommend", "--cur", str(cur), "--format", "json")
    assert code == 0
    assert not any("·" in r["subject"] for r in json.loads(text) if r["kind"] == "prompt-caching")


def test_profiles_without_logs_is_bad_input(inputs, capsys):
    assert main(["recommend", "--cur", str(inputs[0]), "--profiles", "p.json"]) == 2
    assert "--profiles" in capsys.readouterr().err
