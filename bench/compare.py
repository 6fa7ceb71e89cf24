"""Several connector variants measured in ONE bench run, on the same sandbox data: before/after figures that share
the machine's load of the moment.

A variant is a folder with ``manifest.yaml`` + ``components.py``: ``--variant LABEL=DIR``, or ``--baseline REF``,
which exports both files of a git ref (``git show REF:manifest.yaml``) into the run's scratch folder. The checkout
is the last variant (``checkout``). Per size, the variants take turns (A B A B ...), ``repeat`` times each; every
run is a fresh sandbox of the same seed (the same records), a full sync, the same seeded changes and an
incremental sync (:func:`bench.suite.run_case`), nothing throttling. The table gives the median per variant and the
change of the last variant against the first. A full sync's records (an order-independent digest per stream) and
final state must be identical between variants; an incremental sync's records per stream (its changes carry the
sandbox clock's timestamps, so their content differs from run to run).
"""

from __future__ import annotations

import statistics
import subprocess
from pathlib import Path
from typing import Any

from .sandbox import REPO
from .suite import UNTHROTTLED, Case, run_case

CHECKOUT = "checkout"
KINDS = ("full", "incremental")


def export_ref(ref: str, dest: Path) -> Path:
    """``manifest.yaml`` and ``components.py`` of git ``ref`` of this repository, written into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("manifest.yaml", "components.py"):
        content = subprocess.run(["git", "show", f"{ref}:{name}"], cwd=REPO, capture_output=True, check=True).stdout
        (dest / name).write_bytes(content)
    return dest


def parse_variants(specs: list[str], baseline: str | None, scratch: Path) -> dict[str, Path | None]:
    """``LABEL=DIR`` specs (and the ``baseline`` git ref) in order, then the checkout (``None``: the repo itself)."""
    variants: dict[str, Path | None] = {}
    if baseline:
        variants[baseline] = export_ref(baseline, scratch / f"variant-{baseline}")
    for spec in specs:
        label, sep, folder = spec.partition("=")
        if not sep or not label or not folder:
            raise SystemExit(f"--variant wants LABEL=DIR, got {spec!r}")
        variants[label] = Path(folder).resolve()
    variants[CHECKOUT] = None
    return variants


def run_comparison(
    variants: dict[str, Path | None],
    sizes: list[str],
    repeat: int,
    work: Path,
    catalog: dict[str, Any],
    mutations: int,
    workers: int | None,
    log: Any = print,
) -> list[dict[str, Any]]:
    """Every (size, repetition, variant) case, the variants alternating within each repetition."""
    runs = []
    for size in sizes:
        for rep in range(1, repeat + 1):
            for label, folder in variants.items():
                case = Case(
                    size, UNTHROTTLED, mutations=mutations, workers=workers, connector=folder or REPO, digest=True
                )
                log(f"[compare {size} {label} {rep}/{repeat}]")
                result = run_case(case, work / f"compare-{size}-{label}-{rep}", catalog, log)
                runs.append({"variant": label, "rep": rep, **result})
    return runs


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def summarise(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per size, sync kind and variant: medians of CPU s, records/CPU s and peak RSS, and the spread of CPU s; and
    whether the records and final state equal those of the first variant."""
    rows = []
    sizes = list(dict.fromkeys(r["size"] for r in runs))
    variants = list(dict.fromkeys(r["variant"] for r in runs))
    for size in sizes:
        for kind in KINDS:
            reference: dict[str, str] | None = None
            for variant in variants:
                mine = [r[kind] for r in runs if r["size"] == size and r["variant"] == variant]
                # The changes between the two syncs carry the sandbox clock's timestamps, so an incremental sync's
                # records differ from run to run: there, the records per stream are compared, not their content.
                digests = [m.get("digests", {}) if kind == "full" else m["records"] for m in mine]
                if reference is None:
                    reference = digests[0]
                streams_differ = sorted(
                    {s for d in digests for s in set(d) | set(reference) if d.get(s) != reference.get(s)}
                )
                cpu = [m["cpu_s"] for m in mine]
                rows.append(
                    {
                        "size": size,
                        "sync": kind,
                        "variant": variant,
                        "runs": len(mine),
                        "records": mine[0]["total_records"],
                        "requests": mine[0]["requests"]["actual_total"],
                        "minimum_requests": mine[0]["requests"]["minimum_total"],
                        "cpu_s": _median(cpu),
                        "cpu_s_min": round(min(cpu), 3),
                        "cpu_s_max": round(max(cpu), 3),
                        "records_per_cpu_s": _median([m["records_per_cpu_s"] for m in mine]),
                        "max_rss_mb": _median([m["max_rss_mb"] for m in mine]),
                        "differs_from_first_variant": streams_differ,
                        "errors": sum(len(m["errors"]) for m in mine),
                    }
                )
    return rows


def _change(after: float, before: float) -> str:
    return "-" if not before else f"{(after - before) / before * 100:+.1f}%"


def markdown(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return []
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    first, last = variants[0], variants[-1]
    lines = [
        f"**Variants compared in this run** (nothing throttling; alternated, median of the runs; CPU s min-max in "
        f"brackets; change: `{last}` against `{first}`):",
        "",
        "| size | sync | variant | runs | records | requests (min) | CPU s (min-max) | records/CPU s | peak RSS MB "
        "| same as the first (full: records and state; incremental: records per stream) |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    by_key = {(r["size"], r["sync"], r["variant"]): r for r in rows}
    for r in rows:
        same = "yes" if not r["differs_from_first_variant"] else "NO: " + ", ".join(r["differs_from_first_variant"])
        lines.append(
            f"| {r['size']} | {r['sync']} | `{r['variant']}` | {r['runs']} | {r['records']:,} "
            f"| {r['requests']:,} ({r['minimum_requests']:,}) | {r['cpu_s']:.1f} ({r['cpu_s_min']:.1f}-"
            f"{r['cpu_s_max']:.1f}) | {r['records_per_cpu_s']:,.0f} | {r['max_rss_mb']:.0f} | {same} |"
        )
        if r["variant"] == last and len(variants) > 1:
            before = by_key[(r["size"], r["sync"], first)]
            lines.append(
                f"| {r['size']} | {r['sync']} | **change** | | | | **{_change(r['cpu_s'], before['cpu_s'])}** "
                f"| **{_change(r['records_per_cpu_s'], before['records_per_cpu_s'])}** "
                f"| **{_change(r['max_rss_mb'], before['max_rss_mb'])}** | |"
            )
    return lines
