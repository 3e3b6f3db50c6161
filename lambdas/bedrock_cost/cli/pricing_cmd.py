"""``bedrock-cost pricing``: the price in force for a model, and where it came from.

Shows every usage kind, scope and tier of one model (``--model``) or a summary of all,
with the source that won (``override``, ``cur``, ``refresh``, ``bundled``) and the ones it
shadows. Sources: the bundled catalog, ``pricing`` in the config (``--config``, else the
config ``./cdk.json`` names, else none), a refreshed Price List catalog (``--refreshed
FILE``, as the price-refresh Lambda writes it) and effective prices from a local CUR
export (``--cur PATH``).
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bedrock_cost.adapters.price_list import assemble_catalog, calibration_from_engine
from bedrock_cost.cli.options import add_command
from bedrock_cost.config import CONTEXT_KEY, Config, Pricing
from bedrock_cost.config_loader import load_config_file, load_from_context
from bedrock_cost.domain.model_catalog import load_model_catalog
from bedrock_cost.domain.pricing import (
    TOKEN_KINDS,
    CatalogError,
    PriceCatalog,
    PricedEntry,
    PriceLayer,
    decimal_text,
    parse_catalog_document,
)
from bedrock_cost.errors import ConfigError, UserError


def optional_config(path: Path | None, cwd: Path | None = None) -> Config | None:
    """``--config FILE``, else the config ``./cdk.json`` names, else ``None`` (defaults)."""
    if path is not None:
        return load_config_file(path)
    folder = cwd or Path.cwd()
    cdk_json = folder / "cdk.json"
    if not cdk_json.is_file():
        return None
    try:
        context = json.loads(cdk_json.read_text(encoding="utf-8")).get("context", {})
    except (OSError, json.JSONDecodeError, AttributeError) as exc:
        raise ConfigError(f"cannot read {cdk_json}: {exc}") from None
    if CONTEXT_KEY not in context:
        return None
    return load_from_context(context[CONTEXT_KEY], folder)


def load_refreshed(path: Path) -> PriceLayer:
    try:
        return parse_catalog_document(json.loads(path.read_text(encoding="utf-8")), "refresh")
    except OSError as exc:
        raise UserError(f"--refreshed: cannot read {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, CatalogError) as exc:
        raise UserError(f"--refreshed: {path} is not a price catalog: {exc}") from None


def load_calibration(cur: Path, period: str | None, tag_keys: list[str]) -> PriceLayer | None:
    """Effective unit prices from a local CUR export (DuckDB)."""
    from bedrock_cost.adapters.duckdb_engine import DuckDBEngine

    if not cur.exists():
        raise UserError(f"--cur: {cur} does not exist (expected a CUR 2.0 export folder or a Parquet file)")
    engine = DuckDBEngine.open(cur, tag_keys)
    try:
        present = engine.periods()
        if not present:
            raise UserError(f"--cur: no billing period found in {cur}")
        chosen = period or present[-1]
        if chosen not in present:
            raise UserError(f"--period: no data for {chosen} in {cur} (periods present: {', '.join(present)})")
        return calibration_from_engine(engine, chosen)
    finally:
        engine.close()


def build_catalog(args: argparse.Namespace, config: Config | None) -> PriceCatalog:
    pricing = config.pricing if config else Pricing()
    tag_keys = list(config.report_tag_keys) if config else ["team", "project", "environment"]
    refreshed = load_refreshed(args.refreshed) if getattr(args, "refreshed", None) else None
    calibrated = load_calibration(args.cur, getattr(args, "period", None), tag_keys) if args.cur else None
    return assemble_catalog(
        pricing,
        refresh=(lambda: refreshed) if refreshed else None,
        calibration=(lambda: calibrated) if calibrated else None,
    )


def resolve_model_name(name: str, catalog: PriceCatalog) -> str:
    """The catalog's model for ``name`` (readable name or any alias); close matches on a miss."""
    models = catalog.models()
    lowered = {m.lower(): m for m in models}
    if name.strip().lower() in lowered:
        return lowered[name.strip().lower()]
    info = load_model_catalog().resolve(name)
    if info is not None and info.model in models:
        return info.model
    close = difflib.get_close_matches(name, models, n=4, cutoff=0.4)
    close += [m for m in models if name.lower() in m.lower() and m not in close][:4]
    hint = f"; did you mean: {', '.join(close)}" if close else f"; known models: {', '.join(models)}"
    if info is not None:
        raise UserError(
            f"--model: {info.model} is a known model but no source prices it (its tokens are reported as "
            f"unpriced; add a price under pricing.overrides){hint}"
        )
    raise UserError(f"--model: no price for {name!r}{hint}")


def _entry_dict(entry: PricedEntry) -> dict[str, Any]:
    return {
        "usage_kind": entry.key.usage_kind,
        "scope": entry.key.scope,
        "tier": entry.key.tier,
        "usd_per_million": decimal_text(entry.price.usd_per_million),
        "source": entry.price.source,
        "as_of": entry.price.as_of,
        "reference": entry.price.reference,
        "list_price": decimal_text(entry.list_price) if entry.list_price is not None else None,
        "shadowed": [
            {"source": p.source, "usd_per_million": decimal_text(p.usd_per_million), "as_of": p.as_of}
            for p in entry.shadowed
        ],
    }


def format_table(rows: list[list[str]], header: list[str]) -> str:
    from bedrock_cost.text_safety import terminal_safe

    rows = [[terminal_safe(str(cell)) for cell in row] for row in rows]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines) + "\n"


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "pricing",
        run,
        help="show the price in force for a model (all kinds, scopes, tiers) and its source",
        description="Price catalog in force: config overrides > CUR-observed > Price List refresh > bundled.",
    )
    parser.add_argument("--model", help="model name or id (e.g. 'Claude Sonnet 4.6', anthropic.claude-sonnet-4-6)")
    parser.add_argument("--config", type=Path, help="config YAML with pricing.overrides / discount_pct")
    parser.add_argument("--cur", type=Path, help="CUR 2.0 export: use the effective unit prices it shows")
    parser.add_argument("--period", help="billing period of --cur to calibrate from (default: newest)")
    parser.add_argument("--refreshed", type=Path, help="a refreshed catalog JSON (pricing/price-list/<region>.json)")
    parser.add_argument("--format", choices=["table", "json"], default="table")


def run(args: argparse.Namespace) -> int:
    config = optional_config(args.config)
    catalog = build_catalog(args, config)
    models = [resolve_model_name(args.model, catalog)] if args.model else catalog.models()
    order = {kind: i for i, kind in enumerate(TOKEN_KINDS)}
    entries = {
        model: sorted(catalog.entries_for(model), key=lambda e: (order[e.key.usage_kind], e.key.scope, e.key.tier))
        for model in models
    }
    if args.format == "json":
        document = {
            "catalog_version": catalog.version,
            "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "discount_pct": decimal_text(catalog.discount_pct),
            "models": {model: [_entry_dict(e) for e in items] for model, items in entries.items()},
        }
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return 0
    if args.model:
        (model,) = models
        rows = [
            [
                e.key.usage_kind,
                e.key.scope,
                e.key.tier,
                decimal_text(e.price.usd_per_million),
                e.price.source,
                e.price.as_of,
                ", ".join(f"{p.source} {decimal_text(p.usd_per_million)}" for p in e.shadowed) or "-",
            ]
            for e in entries[model]
        ]
        sys.stdout.write(f"{model} — USD per 1M tokens (catalog {catalog.version})\n")
        sys.stdout.write(format_table(rows, ["kind", "scope", "tier", "usd_per_1M", "source", "as_of", "shadows"]))
        references = sorted({e.price.reference for e in entries[model]})
        sys.stdout.write("sources:\n" + "".join(f"  {ref}\n" for ref in references))
        return 0
    rows = []
    for model, items in entries.items():
        on_demand = {(e.key.usage_kind, e.key.scope): e for e in items if e.key.tier == "on-demand"}
        regional_in = on_demand.get(("input", "regional")) or on_demand.get(("input", "global"))
        regional_out = on_demand.get(("output", "regional")) or on_demand.get(("output", "global"))
        rows.append(
            [
                model,
                decimal_text(regional_in.price.usd_per_million) if regional_in else "-",
                decimal_text(regional_out.price.usd_per_million) if regional_out else "-",
                ",".join(sorted({e.price.source for e in items})),
            ]
        )
    sys.stdout.write(f"USD per 1M tokens, on demand, regional (catalog {catalog.version})\n")
    sys.stdout.write(format_table(rows, ["model", "input", "output", "sources"]))
    sys.stdout.write("Use --model NAME for every kind, scope and tier.\n")
    return 0
