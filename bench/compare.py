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

Under Harvest's limits (``--limited-sizes``), every variant runs each size once, on its own sandbox of the same
data (:mod:`bench.__main__`). For every size, sync and mode, :func:`requests_and_state` compares the requests per
endpoint of each variant with those of the first (run by run; 429s left out, they depend on timing), and gives the
report requests and the size of each stream's final state.
"""

from __future__ import annotations

import re
import statistics
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .floor import is_report
from .sandbox import REPO
from .suite import CHECKOUT, UNTHROTTLED, Case, run_case

KINDS = ("full", "incremental")
_PLACEHOLDER = re.compile(r"^(?:\d+|\{\w+\})$")


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
        variants[baseline] = export_ref(baseline, scratch / f"variant-{safe(baseline)}")
    for spec in specs:
        label, sep, folder = spec.partition("=")
        if not sep or not label or not folder:
            raise SystemExit(f"--variant wants LABEL=DIR, got {spec!r}")
        variants[label] = Path(folder).resolve()
    variants[CHECKOUT] = None
    return variants


def safe(label: str) -> str:
    """``label`` (a git ref such as ``origin/main``) as one file name."""
    return label.replace("/", "_")


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
                    size,
                    UNTHROTTLED,
                    mutations=mutations,
                    workers=workers,
                    connector=folder or REPO,
                    digest=True,
                    variant=label,
                )
                log(f"[compare {size} {label} {rep}/{repeat}]")
                result = run_case(case, work / f"compare-{size}-{safe(label)}-{rep}", catalog, log)
                runs.append({**result, "variant": label, "rep": rep})
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


# -- requests per endpoint and final state, between variants ----------------------------------------------------------
def endpoint_key(endpoint: str) -> str:
    """The route of a request: ``GET /v2/invoices/17/messages?page=2`` -> ``GET /v2/invoices/{parent_id}/messages``.
    An id (digits, or a ``{name}`` placeholder) becomes ``{id}`` when it ends the path, else ``{parent_id}``: the
    sandbox's count keys (``/_sandbox/counts``) and :mod:`bench.minimum` name them so, and a raw path (from the
    request log) falls into the same group."""
    method, sep, path = endpoint.partition(" ")
    if not sep:
        method, path = "", endpoint
    parts = path.split("?", 1)[0].split("/")
    last = len(parts) - 1
    parts = [
        ("{id}" if i == last else "{parent_id}") if _PLACEHOLDER.match(part) else part for i, part in enumerate(parts)
    ]
    route = "/".join(parts)
    return f"{method} {route}" if method else route


def served_requests(endpoints: Mapping[str, Mapping[str, int]]) -> dict[str, int]:
    """Requests per route without the 429s (which depend on timing, not on what the connector asks for), from a
    sync's ``requests["endpoints"]`` (:func:`bench.suite.compare`: ``actual`` and ``throttled`` per endpoint)."""
    served: dict[str, int] = {}
    for endpoint, seen in endpoints.items():
        n = int(seen.get("actual", 0)) - int(seen.get("throttled", 0))
        if n:
            key = endpoint_key(endpoint)
            served[key] = served.get(key, 0) + n
    return dict(sorted(served.items()))


def request_differences(reference: Mapping[str, int], other: Mapping[str, int]) -> dict[str, tuple[int, int]]:
    """The routes whose requests differ: ``{route: (reference's, other's)}``; empty when identical."""
    return {
        route: (reference.get(route, 0), other.get(route, 0))
        for route in sorted(set(reference) | set(other))
        if reference.get(route, 0) != other.get(route, 0)
    }


def describe_differences(per_run: list[dict[str, tuple[int, int]]]) -> str:
    """``identical`` when every run pair is, else the routes that differ with both counts (``first -> other``),
    and in how many of the runs when not all of them."""
    differing = [d for d in per_run if d]
    if not differing:
        return "identical"
    pairs: dict[str, list[tuple[int, int]]] = {}
    for diff in differing:
        for route, pair in diff.items():
            if pair not in pairs.setdefault(route, []):
                pairs[route].append(pair)
    text = "differs: " + "; ".join(
        f"`{route}` " + ", ".join(f"{a:,} -> {b:,}" for a, b in found) for route, found in sorted(pairs.items())
    )
    if len(differing) < len(per_run):
        text += f" (in {len(differing)} of {len(per_run)} runs)"
    return text


def report_requests(served: Mapping[str, int]) -> int:
    """The requests to ``/v2/reports/*`` (their own bucket: 100 per 15 min)."""
    return sum(n for route, n in served.items() if is_report(route))


def largest_state(state_bytes: Mapping[str, int]) -> tuple[str, int] | None:
    """The stream with the largest final state and its bytes (the first by name on a tie), or None."""
    if not state_bytes:
        return None
    name = min(state_bytes, key=lambda stream: (-state_bytes[stream], stream))
    return name, state_bytes[name]


def requests_and_state(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per mode, size, sync and variant (in the order first seen): the requests and report requests of the
    variant's first run (without 429s) and their minimum, its 429s, its final state's bytes per stream, and its
    requests per route against the first variant's, run by run (the n-th run of each; ``None`` for the first
    variant). ``runs`` are :func:`bench.suite.run_case` results with ``variant`` (and ``rep``, 1 if absent)."""
    groups: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = {}
    for run in runs:
        by_variant = groups.setdefault((run["mode"], run["size"]), {})
        by_variant.setdefault(run.get("variant", CHECKOUT), []).append(run)
    rows = []
    for (mode, size), by_variant in groups.items():
        reference_label = next(iter(by_variant))
        for kind in KINDS:
            reference = {
                r.get("rep", 1): served_requests(r[kind]["requests"]["endpoints"]) for r in by_variant[reference_label]
            }
            for variant, mine in by_variant.items():
                mine = sorted(mine, key=lambda r: r.get("rep", 1))
                first = mine[0][kind]
                served = served_requests(first["requests"]["endpoints"])
                per_run = [
                    request_differences(reference[r.get("rep", 1)], served_requests(r[kind]["requests"]["endpoints"]))
                    for r in mine
                    if r.get("rep", 1) in reference
                ]
                state_bytes = dict(first.get("state_bytes") or {})
                largest = largest_state(state_bytes)
                rows.append(
                    {
                        "mode": mode,
                        "size": size,
                        "sync": kind,
                        "variant": variant,
                        "runs": len(mine),
                        "requests": sum(served.values()),
                        "minimum_requests": first["requests"]["minimum_total"],
                        "report_requests": report_requests(served),
                        "minimum_report_requests": first["report_requests"]["minimum"],
                        "throttled": first["requests"]["throttled_total"],
                        "requests_by_route": served,
                        "reference": reference_label,
                        "variants": len(by_variant),
                        "against_reference": None if variant == reference_label else describe_differences(per_run),
                        "differences": None
                        if variant == reference_label
                        else [{route: list(pair) for route, pair in d.items()} for d in per_run],
                        "state_bytes": state_bytes,
                        "state_bytes_total": sum(state_bytes.values()),
                        "largest_state": list(largest) if largest else None,
                    }
                )
    return rows


def requests_markdown(rows: list[dict[str, Any]]) -> list[str]:
    """The table of :func:`requests_and_state`."""
    if not rows:
        return []
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    compared = len(variants) > 1
    reference = rows[0]["reference"]
    lines = [
        "**Requests and final state**"
        + (" per variant" if compared else "")
        + " (requests without 429s"
        + (", of each variant's first run" if any(r["runs"] > 1 for r in rows) else "")
        + "; report requests: `/v2/reports/*`"
        + (
            f"; per route against `{reference}`, run by run: `identical`, or the routes that differ "
            f"(`{reference}` -> the variant)"
            if compared
            else ""
        )
        + "; state: the bytes of each stream's final `stream_state` as compact JSON):",
        "",
        "| mode | size | sync | variant | requests (min) | report requests (min) | 429s "
        + (f"| requests per route against `{reference}` " if compared else "")
        + "| state bytes, all streams | largest state (bytes) |",
        "|---|---|---|---|---:|---:|---:|" + ("---|" if compared else "") + "---:|---|",
    ]
    for r in rows:
        largest = f"`{r['largest_state'][0]}` ({r['largest_state'][1]:,})" if r["largest_state"] else "-"
        against = ""
        if compared:
            against = f"| {r['against_reference'] or ('(reference)' if r.get('variants', 2) > 1 else '-')} "
        lines.append(
            f"| {r['mode']} | {r['size']} | {r['sync']} | `{r['variant']}` | {r['requests']:,} "
            f"({r['minimum_requests']:,}) | {r['report_requests']:,} ({r['minimum_report_requests']:,}) "
            f"| {r['throttled']} {against}| {r['state_bytes_total']:,} | {largest} |"
        )
    return lines
