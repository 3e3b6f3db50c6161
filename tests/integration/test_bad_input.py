"""Hostile input against every command: exit code, ONE stderr line, no traceback, nothing clobbered.

Table-driven: each case names the command line (paths come from a small generated CUR
export and config files in a temporary folder), the exit code it must produce, and a
fragment the one stderr line must contain (the field, file, column or endpoint). Every
case also checks that no file in the workspace changed (bytes and mtime) and that no
partial file appeared. Commands run in-process through ``bedrock_cost.cli.main.main``;
a few run as real subprocesses (the console entry point, ``app.py`` synth).

Outages point the AWS SDK at a closed port on 127.0.0.1 (``AWS_ENDPOINT_URL``).
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from bedrock_cost.cli.main import main
from bedrock_cost.sample_data.cur_generator import generate_cur

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
PERIOD = "2026-10"


# --------------------------------------------------------------------------- the workspace


@dataclass
class Workspace:
    root: Path
    cur: Path
    parquet: Path
    config: Path
    closed_port: int

    def p(self, name: str) -> str:
        return str(self.root / name)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _poison(source: Path, target: Path, column: str, value: float) -> None:
    table = pq.read_table(source)
    values = table.column(column).to_pylist()
    values[0] = value
    index = table.schema.get_field_index(column)
    table = table.set_column(index, column, pa.array(values, type=table.schema.field(column).type))
    target.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, target)


BASE_CONFIG: dict[str, Any] = yaml.safe_load((REPO / "config" / "example.yaml").read_text(encoding="utf-8"))


def _config(
    root: Path, name: str, mutate: Callable[[dict[str, Any]], None] | None = None, raw: str | None = None
) -> Path:
    path = root / "configs" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if raw is not None:
        path.write_text(raw, encoding="utf-8")
        return path
    data = yaml.safe_load(yaml.safe_dump(BASE_CONFIG))
    if mutate:
        mutate(data)
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        node = data
        *parents, last = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value

    return mutate


BAD_CONFIGS: dict[str, tuple[Callable[[dict[str, Any]], None] | None, str | None, str]] = {
    "budget-inf.yaml": (None, "budgets:\n  total: {monthly_usd: 1e400}\ncur: {create_export: true}\n", "monthly_usd"),
    "budget-nan.yaml": (None, "budgets:\n  total: {monthly_usd: .nan}\ncur: {create_export: true}\n", "monthly_usd"),
    "budget-huge.yaml": (_set("budgets.total.monthly_usd", 1e30), None, "monthly_usd"),
    "budget-negative.yaml": (_set("budgets.total.monthly_usd", -5), None, "monthly_usd"),
    "budget-text.yaml": (_set("budgets.total.monthly_usd", "lots"), None, "monthly_usd"),
    "daily-inf.yaml": (
        None,
        "budgets:\n  total: {monthly_usd: 10, daily_usd: -.inf}\ncur: {create_export: true}\n",
        "daily_usd",
    ),
    "threshold-inf.yaml": (
        None,
        "thresholds: {anomaly_absolute_usd: .inf}\ncur: {create_export: true}\n",
        "anomaly_absolute_usd",
    ),
    "discount-huge.yaml": (_set("pricing.discount_pct", 1e300), None, "discount_pct"),
    "invalid-yaml.yaml": (None, "regions: [us-east-1\ncur: {create_export: true}\n", "invalid-yaml.yaml:"),
    "tabs-yaml.yaml": (None, "regions:\n\t- us-east-1\n", "tabs-yaml.yaml:"),
    "not-mapping.yaml": (None, "- just\n- a list\n", "expected a mapping"),
    "empty.yaml": (None, "", "expected a mapping"),
    "unknown-key.yaml": (_set("surprise", 1), None, "surprise"),
    "bad-region.yaml": (_set("regions", ["us-east"]), None, "us-east"),
    "bad-email.yaml": (_set("alerts.emails", ["not-an-address"]), None, "not-an-address"),
    "too-many-emails.yaml": (_set("alerts.emails", [f"a{i}@corp.io" for i in range(11)]), None, "10"),
    "bad-tag-key.yaml": (_set("report_tag_keys", ["team", "o'brien"]), None, "o'brien"),
    "dup-tag-key.yaml": (_set("report_tag_keys", ["team", "team"]), None, "distinct"),
    "redos-nested.yaml": (
        _set("tag_policy.allowed_values", {"team": {"pattern": "^(a+)+$"}}),
        None,
        "nested quantifier",
    ),
    "redos-star.yaml": (_set("tag_policy.allowed_values", {"team": {"pattern": "(a*)*"}}), None, "nested quantifier"),
    "redos-alt.yaml": (_set("tag_policy.allowed_values", {"team": {"pattern": "^(a|a)*$"}}), None, "alternation"),
    "redos-words.yaml": (_set("tag_policy.allowed_values", {"team": {"pattern": "^(\\w+\\s?)*$"}}), None, "nested"),
    "backref.yaml": (_set("tag_policy.allowed_values", {"team": {"pattern": "^(a)\\1$"}}), None, "backreference"),
    "bad-regex.yaml": (_set("tag_policy.allowed_values", {"team": {"pattern": "([a-z"}}), None, "regular expression"),
    "lookahead.yaml": (_set("tag_policy.allowed_values", {"team": {"pattern": "(?=a)a"}}), None, "lookaround"),
    "bad-mode.yaml": (_set("tag_policy.mode", "destroy"), None, "mode"),
    "bad-default.yaml": (_set("tag_policy.defaults", {"environment": "qa"}), None, "defaults.environment"),
    "thresholds-5.yaml": (_set("budgets.total.thresholds_pct", [10, 20, 30, 40, 50]), None, "thresholds_pct"),
    "schedule-0.yaml": (_set("estimator.schedule_minutes", 0), None, "schedule_minutes"),
    "per-tag-unknown.yaml": (_set("budgets.per_tag", {"owner": {"x": {"monthly_usd": 5}}}), None, "owner"),
    "bad-monitor.yaml": (_set("alerts.service_anomaly_monitor_arn", "arn:nope"), None, "service_anomaly_monitor_arn"),
    "bad-kms.yaml": (_set("alerts.slack_webhook_secret_kms_key_arn", "alias/mine"), None, "slack_webhook_secret_kms"),
    "binary.yaml": (None, None, "UTF-8"),
}


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("bad-input")
    cur = root / "cur"
    (parquet,) = generate_cur(cur, PERIOD, rows=300, seed=7)
    for column, value, name in (
        ("line_item_unblended_cost", float("nan"), "nan"),
        ("line_item_unblended_cost", float("inf"), "inf"),
        ("line_item_unblended_cost", 1e30, "huge"),
        ("line_item_usage_amount", float("-inf"), "usage-inf"),
        ("line_item_net_unblended_cost", float("nan"), "net-nan"),
    ):
        _poison(parquet, root / f"cur-{name}" / "data" / f"BILLING_PERIOD={PERIOD}" / "x.parquet", column, value)
    (root / "not-cur").mkdir()
    pq.write_table(pa.table({"a": [1, 2]}), root / "not-cur" / "a.parquet")
    (root / "garbage").mkdir()
    (root / "garbage" / "g.parquet").write_bytes(b"this is not parquet")
    (root / "empty-dir").mkdir()
    (root / "a-file").write_text("I am a file\n", encoding="utf-8")
    readonly = root / "readonly"
    readonly.mkdir()
    readonly.chmod(stat.S_IRUSR | stat.S_IXUSR)
    if os.geteuid() == 0:  # root writes through mode bits: use a folder no one can write into
        readonly.rmdir()
        readonly.symlink_to("/proc/1")
    (root / "existing.csv").write_text("keep me\n", encoding="utf-8")
    config = _config(root, "good.yaml")
    for name, (mutate, raw, _) in BAD_CONFIGS.items():
        if name == "binary.yaml":
            (root / "configs" / name).write_bytes(b"\xff\xfe\x00bad")
            continue
        _config(root, name, mutate, raw)
    return Workspace(root, cur, parquet, config, _closed_port())


@dataclass(frozen=True)
class Case:
    id: str
    argv: Callable[[Workspace], list[str]]
    code: int
    says: str
    env: tuple[tuple[str, str], ...] = ()


def C(id: str, argv: Callable[[Workspace], list[str]], code: int, says: str, **env: str) -> Case:
    return Case(id, argv, code, says, tuple(env.items()))


def report(*extra: str) -> Callable[[Workspace], list[str]]:
    return lambda w: ["report", "--cur", str(w.cur), *(a.format(w=w, root=w.root) for a in extra)]


def cmd(*parts: str) -> Callable[[Workspace], list[str]]:
    return lambda w: [a.format(w=w, root=w.root, port=w.closed_port, cur=w.cur) for a in parts]


CASES: list[Case] = [
    # ---- files: the CUR input
    C("cur-missing", cmd("report", "--cur", "{root}/nope"), 2, "does not exist"),
    C("cur-empty-dir", cmd("report", "--cur", "{root}/empty-dir"), 2, "no Parquet files"),
    C("cur-not-cur", cmd("report", "--cur", "{root}/not-cur"), 2, "missing column"),
    C("cur-garbage", cmd("report", "--cur", "{root}/garbage"), 2, "cannot read Parquet"),
    C("cur-is-text-file", cmd("report", "--cur", "{root}/a-file"), 2, "a-file"),
    C("cur-missing-csv", cmd("report", "--cur", "{root}/nope", "--format", "csv"), 2, "does not exist"),
    C("pricing-cur-missing", cmd("pricing", "--cur", "{root}/nope"), 2, "does not exist"),
    C("pricing-cur-garbage", cmd("pricing", "--cur", "{root}/garbage"), 2, "cannot read Parquet"),
    C("pricing-refreshed-missing", cmd("pricing", "--refreshed", "{root}/nope.json"), 2, "nope.json"),
    C("pricing-refreshed-garbage", cmd("pricing", "--refreshed", "{root}/a-file"), 2, "a-file"),
    # ---- values: numbers that do not fit DECIMAL(38,10), named with file and column
    *(
        C(f"cur-{name}-{fmt}", cmd("report", "--cur", f"{{root}}/cur-{name}", "--format", fmt), 2, column)
        for name, column in (
            ("nan", "line_item_unblended_cost"),
            ("inf", "line_item_unblended_cost"),
            ("huge", "line_item_unblended_cost"),
            ("usage-inf", "line_item_usage_amount"),
            ("net-nan", "line_item_net_unblended_cost"),
        )
        for fmt in ("table", "csv", "json")
    ),
    C("cur-nan-names-file", cmd("report", "--cur", "{root}/cur-nan"), 2, "x.parquet"),
    C("pricing-cur-nan", cmd("pricing", "--cur", "{root}/cur-nan"), 2, "line_item_unblended_cost"),
    # ---- periods
    *(
        C(f"period-{bad}", report("--period", bad), 2, "period")
        for bad in ("2026-13", "2026-00", "26-10", "2026/10", "octobre", "2026-1", "", "9999-99", "2026-10-01")
    ),
    C("period-absent", report("--period", "2020-01"), 2, "no data for 2020-01"),
    C("generate-period-bad", cmd("generate-cur", "--out", "{root}/gen1", "--period", "2026-13"), 2, "period"),
    C("generate-period-text", cmd("generate-cur", "--out", "{root}/gen1", "--period", "soon"), 2, "period"),
    C("estimate-since-bad", cmd("estimate", "--region", "us-east-1", "--since", "yesterday-ish"), 2, "--since"),
    C("estimate-until-bad", cmd("estimate", "--region", "us-east-1", "--until", "-3x"), 2, "--until"),
    # ---- keys and flags
    C("tag-keys-quote", report("--tag-keys", "team,o'brien"), 2, "o'brien"),
    C("tag-keys-semicolon", report("--tag-keys", "team;drop table"), 2, "team;drop table"),
    C("tag-keys-dup", report("--tag-keys", "team,team"), 2, "distinct"),
    C("tag-keys-space", report("--tag-keys", "cost center"), 2, "cost center"),
    C("by-unknown", report("--by", "colour"), 2, "--by"),
    C("by-tag-empty", report("--by", "tag:"), 2, "tag"),
    C("by-tag-quote", report("--by", "tag:o'brien"), 2, "o'brien"),
    C("format-unknown", report("--format", "xlsx"), 2, "xlsx"),
    C("engine-unknown", report("--engine", "spark"), 2, "spark"),
    C("athena-needs-workgroup", cmd("report", "--engine", "athena"), 2, "--workgroup"),
    C("duckdb-needs-cur", cmd("report"), 2, "--cur"),
    C("unknown-command", cmd("explode"), 2, "explode"),
    C("unknown-flag", report("--colour", "red"), 2, "--colour"),
    C("rows-text", cmd("generate-cur", "--out", "{root}/gen2", "--period", PERIOD, "--rows", "many"), 2, "--rows"),
    C("rows-zero", cmd("generate-cur", "--out", "{root}/gen2", "--period", PERIOD, "--rows", "0"), 2, "rows"),
    C("rows-negative", cmd("generate-cur", "--out", "{root}/gen2", "--period", PERIOD, "--rows", "-5"), 2, "rows"),
    C("months-zero", cmd("generate-cur", "--out", "{root}/gen2", "--period", PERIOD, "--months", "0"), 2, "months"),
    C("seed-text", cmd("generate-cur", "--out", "{root}/gen2", "--period", PERIOD, "--seed", "x"), 2, "--seed"),
    C("pricing-unknown-model", cmd("pricing", "--model", "\x1b[31mnot-a-model"), 2, "not-a-model"),
    C("estimate-bad-region", cmd("estimate", "--region", "mars-1"), 2, "mars-1"),
    C("tags-bad-region", cmd("tags", "check", "--region", "moon", "--config", "{w.config}"), 2, "moon"),
    C("tags-bad-type", cmd("tags", "check", "--type", "spaceship", "--config", "{w.config}"), 2, "spaceship"),
    C("doctor-bad-region", cmd("doctor", "--region", "nowhere"), 2, "nowhere"),
    C("demo-bad-period", cmd("demo", "--out", "{root}/demo1", "--period", "2026-13"), 2, "period"),
    C("demo-bad-rows", cmd("demo", "--out", "{root}/demo1", "--rows", "zero"), 2, "--rows"),
    # ---- outputs: nothing clobbered, nothing partial
    C("out-is-input-parquet", lambda w: ["report", "--cur", str(w.parquet), "--out", str(w.parquet)], 2, "input"),
    C("out-inside-input", report("--out", "{w.cur}/data/report.csv"), 2, "input"),
    C("out-is-config", report("--config", "{w.config}", "--out", "{w.config}"), 2, "input"),
    C("out-readonly", report("--format", "csv", "--out", "{root}/readonly/r.csv"), 2, "r.csv"),
    C("out-under-file", report("--format", "csv", "--out", "{root}/a-file/r.csv"), 2, "is a file"),
    C("out-is-dir", report("--format", "csv", "--out", "{root}/empty-dir"), 2, "is a folder"),
    C("generate-out-readonly", cmd("generate-cur", "--out", "{root}/readonly/g", "--period", PERIOD), 2, "/g"),
    C("generate-out-under-file", cmd("generate-cur", "--out", "{root}/a-file/g", "--period", PERIOD), 2, "a-file"),
    C("generate-out-is-file", cmd("generate-cur", "--out", "{root}/a-file", "--period", PERIOD), 2, "is a file"),
    C(
        "tag-policy-out-readonly",
        cmd("tag-policy", "--config", "{w.config}", "--out", "{root}/readonly/p.json"),
        2,
        "p.json",
    ),
    C(
        "tag-policy-out-under-file",
        cmd("tag-policy", "--config", "{w.config}", "--out", "{root}/a-file/p.json"),
        2,
        "a-file",
    ),
    C("tag-policy-out-is-config", cmd("tag-policy", "--config", "{w.config}", "--out", "{w.config}"), 2, "input"),
    C("demo-out-under-file", cmd("demo", "--out", "{root}/a-file/demo"), 2, "a-file"),
    # ---- configs, through every command that reads one
    *(
        C(f"config-{name}-{command}", cmd(*argv, "--config", f"{{root}}/configs/{name}"), 2, says)
        for name, (_, _, says) in BAD_CONFIGS.items()
        for command, argv in (("tag-policy", ("tag-policy",)),)
    ),
    *(
        C(f"config-{name}-report", report("--config", f"{{root}}/configs/{name}"), 2, says)
        for name in ("budget-inf.yaml", "invalid-yaml.yaml", "redos-nested.yaml", "bad-tag-key.yaml", "binary.yaml")
        for says in [BAD_CONFIGS[name][2]]
    ),
    *(
        C(f"config-{name}-tags", cmd("tags", "check", "--config", f"{{root}}/configs/{name}"), 2, BAD_CONFIGS[name][2])
        for name in ("redos-nested.yaml", "redos-alt.yaml", "invalid-yaml.yaml", "backref.yaml")
    ),
    C("config-missing", cmd("tag-policy", "--config", "{root}/configs/absent.yaml"), 2, "absent.yaml"),
    C("config-is-dir", cmd("tag-policy", "--config", "{root}/configs"), 2, "configs"),
    C("pricing-config-inf", cmd("pricing", "--config", "{root}/configs/discount-huge.yaml"), 2, "discount_pct"),
    C(
        "estimate-config-yaml",
        cmd("estimate", "--region", "us-east-1", "--config", "{root}/configs/invalid-yaml.yaml"),
        2,
        "invalid-yaml.yaml:",
    ),
    C("doctor-config-yaml", cmd("doctor", "--config", "{root}/configs/invalid-yaml.yaml"), 2, "invalid-yaml.yaml:"),
    # ---- outages: exit 1, naming the endpoint
    C(
        "estimate-endpoint-down",
        cmd("estimate", "--region", "us-east-1"),
        1,
        "127.0.0.1",
        AWS_ENDPOINT_URL="http://127.0.0.1:{port}",
    ),
    C(
        "tags-endpoint-down",
        cmd("tags", "check", "--region", "us-east-1", "--config", "{w.config}"),
        1,
        "127.0.0.1",
        AWS_ENDPOINT_URL="http://127.0.0.1:{port}",
    ),
    C(
        "doctor-endpoint-down",
        cmd("doctor", "--region", "us-east-1", "--config", "{w.config}"),
        1,
        "127.0.0.1",
        AWS_ENDPOINT_URL="http://127.0.0.1:{port}",
    ),
    C(
        "athena-endpoint-down",
        cmd("report", "--engine", "athena", "--workgroup", "wg", "--region", "us-east-1"),
        1,
        "127.0.0.1",
        AWS_ENDPOINT_URL="http://127.0.0.1:{port}",
    ),
]


def _snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    files: dict[str, tuple[int, bytes]] = {}
    for path in sorted(p for p in root.rglob("*") if not p.is_relative_to(root / "readonly")):
        if path.is_file():
            files[str(path.relative_to(root))] = (path.stat().st_mtime_ns, path.read_bytes())
    return files


@pytest.fixture
def clean(workspace: Workspace) -> Iterator[Workspace]:
    before = _snapshot(workspace.root)
    yield workspace
    after = _snapshot(workspace.root)
    created = sorted(set(after) - set(before))
    changed = sorted(k for k in before if k in after and after[k] != before[k])
    removed = sorted(set(before) - set(after))
    assert (created, changed, removed) == ([], [], []), "the failed command touched the workspace"
    for leftover in ("gen1", "gen2", "demo1"):
        shutil.rmtree(workspace.root / leftover, ignore_errors=True)


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(
    case: Case, clean: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a hostile command line (and, for outages, an AWS endpoint nobody answers)
    for name, value in case.env:
        monkeypatch.setenv(name, value.format(port=clean.closed_port))
    monkeypatch.chdir(clean.root)
    # When it runs
    code, _out, err = run_cli(case.argv(clean), capsys)
    # Then the exit code, exactly one stderr line naming what is wrong, and no traceback
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == case.code, err
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert case.says in lines[0], lines[0]
    assert "\x1b" not in lines[0]


def test_the_suite_has_at_least_100_cases() -> None:
    assert len(CASES) >= 100


def test_every_class_of_bad_input_is_covered() -> None:
    ids = " ".join(case.id for case in CASES)
    for fragment in ("cur-", "period-", "tag-keys", "out-", "config-", "endpoint-down", "nan", "redos"):
        assert fragment in ids


# --------------------------------------------------------------------------- a few as real processes


def _subprocess(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": f"{REPO / 'lambdas'}{os.pathsep}{REPO}", **env}
    return subprocess.run(args, cwd=cwd, env=environment, capture_output=True, text=True, timeout=180, check=False)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["report", "--cur", "{root}/cur-inf", "--format", "csv"], "line_item_unblended_cost"),
        (["report", "--cur", "{root}/cur", "--tag-keys", "team,o'brien"], "o'brien"),
        (["generate-cur", "--out", "{root}/readonly/x", "--period", PERIOD], "/x"),
    ],
)
def test_the_console_command_keeps_the_contract(workspace: Workspace, argv: list[str], says: str) -> None:
    result = _subprocess(
        [sys.executable, "-m", "bedrock_cost.cli.main", *(a.format(root=workspace.root) for a in argv)], workspace.root
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert says in line


def _synth(config: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    context = f'{{"config_file": "{config}"}}'
    return _subprocess(
        [sys.executable, str(REPO / "app.py")],
        REPO,
        CDK_CONTEXT_JSON=f'{{"bedrock-cost-tracker": {context}, "aws:cdk:bundling-stacks": []}}',
        CDK_OUTDIR=str(tmp),
        JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION="1",
        JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION="1",
    )


def _our_lines(stderr: str) -> list[str]:
    """stderr without jsii's Node.js end-of-life banner (printed by the CDK runtime, not by us)."""
    return [line for line in stderr.strip().splitlines() if line.strip() and not line.startswith("b'!!")]


@pytest.mark.parametrize(
    ("name", "says"),
    [("budget-inf.yaml", "monthly_usd"), ("invalid-yaml.yaml", "invalid-yaml.yaml:"), ("redos-nested.yaml", "nested")],
)
def test_synth_refuses_bad_configs_in_one_line(workspace: Workspace, tmp_path: Path, name: str, says: str) -> None:
    result = _synth(workspace.root / "configs" / name, tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    (line,) = _our_lines(result.stderr)
    assert says in line


def test_synth_refuses_a_config_beyond_the_resource_limit_with_the_count(tmp_path: Path) -> None:
    # Given 600 per-tag budgets (CloudFormation allows 500 resources per stack)
    data = yaml.safe_load(yaml.safe_dump(BASE_CONFIG))
    data["budgets"]["per_tag"] = {"team": {f"t{i:03d}": {"monthly_usd": 10} for i in range(600)}}
    config = tmp_path / "many.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = _synth(config, tmp_path / "out")
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    (line,) = _our_lines(result.stderr)
    assert "CloudFormation resources" in line
    assert "500" in line
    count = int(line.split("needs ")[1].split()[0])
    assert count > 600
