"""The benchmark's outputs from its JSON result: a markdown table (bench/results/latest.md) and a plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import compare


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:+.1f}%"


def markdown(result: dict[str, Any], name: str) -> str:
    m = result["machine"]
    lines = [
        f"Run `{name}` ({result['finished_at']}): `{result['command']}`; {m['nproc']} cores ({m['cpu']}), "
        f"Python {m['python']}, airbyte-cdk {m['airbyte_cdk']}; load average at start "
        f"{', '.join(f'{x:.2f}' for x in m['load_average_at_start'])}.",
        "",
        "**Connector cost, nothing throttling** (sandbox limits off, connector budget removed):",
        "",
        "| size | time entries | sync | records | wall s | start-up s | CPU s | records/s | records/CPU s "
        "| peak RSS MB | requests (min) | sandbox CPU s |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for case in result["cases"]:
        if case["mode"] != "unthrottled":
            continue
        for kind in ("full", "incremental"):
            s = case[kind]
            r = s["requests"]
            lines.append(
                f"| {case['size']} | {case['time_entries']:,} | {kind} | {s['total_records']:,} | {_fmt(s['wall_s'])} "
                f"| {_fmt(s['timeline'].get('startup_s'))} | {_fmt(s['cpu_s'])} | {_fmt(s['records_per_s'], 0)} "
                f"| {_fmt(s['records_per_cpu_s'], 0)} | {_fmt(s['max_rss_mb'], 0)} "
                f"| {r['actual_total']:,} ({r['minimum_total']:,}) | {_fmt(s.get('sandbox_cpu_s'))} |"
            )
    comparison = compare.markdown(result.get("comparison", []))
    if comparison:
        lines += ["", *comparison]
    limited = [c for c in result["cases"] if c["mode"] == "limited"]
    if limited:
        lines += ["", *limited_markdown(limited)]
    lines += ["", *compare.requests_markdown(result.get("requests_and_state", []))]
    excess_lines = []
    for case in result["cases"]:
        for kind in ("full", "incremental"):
            for endpoint, extra in case[kind]["requests"]["excess"].items():
                excess_lines.append(f"| {case['label']} | {kind} | `{endpoint}` | {extra:+d} |")
    lines += ["", "**Requests above (or below) the minimum**, per endpoint:", ""]
    if excess_lines:
        lines += ["| case | sync | endpoint | actual - minimum |", "|---|---|---|---:|", *excess_lines]
    else:
        lines.append("none: every endpoint made exactly the minimum number of requests.")
    differ = [
        f"{case['label']} {kind}: " + ", ".join(f"{k} {v[0]} (truth {v[1]})" for k, v in d.items())
        for case in result["cases"]
        for kind in ("full", "incremental")
        if (d := case[kind]["records_differ_from_truth"])
    ]
    if differ:
        lines += ["", "Record counts that differ from the sandbox's ground truth:", "", *(f"- {d}" for d in differ)]
    errors = [
        f"{case['label']} {kind}: {e}"
        for case in result["cases"]
        for kind in ("full", "incremental")
        for e in case[kind]["errors"]
    ]
    if errors:
        lines += ["", "Errors reported by the connector:", "", *(f"- {e}" for e in errors[:20])]
    for prof in result.get("profiles", []):
        lines += [
            "",
            f"**CPU profile** of a full `{prof['size']}` sync, nothing throttling ({prof['records']:,} records; "
            f"every thread, CPU time; the profiler inflates it to {prof['profiled_cpu_s']:,.0f} s): top functions "
            "by own time. Full listing: `python -m bench.profiling --top <file>`.",
            "",
            "| function | calls | own s | cumulative s |",
            "|---|---:|---:|---:|",
            *(
                f"| `{row['function']}` | {row['calls']:,} | {row['own_s']:.2f} | {row['cumulative_s']:.2f} |"
                for row in prof["top_own"][:15]
            ),
        ]
    for traced in result.get("memory", []):
        lines += [
            "",
            f"**Memory** of a full `{traced['size']}` sync under tracemalloc ({traced['records']:,} records; peak RSS "
            f"{traced['max_rss_mb']:.0f} MB with tracing; traced peak {traced['traced_peak_mb']:.0f} MB): the "
            f"allocation sites holding the most at the peak snapshot ({traced['peak_snapshot_mb']:.0f} MB at "
            f"{traced['peak_snapshot_at_s']:.0f} s). Full listing: `python -m bench.memory --top <file>`.",
            "",
            "| MB | blocks | allocated at (innermost first) |",
            "|---:|---:|---|",
            *(
                f"| {row['mb']:.1f} | {row['blocks']:,} | `{' <- '.join(reversed(row['frames'][-3:]))}` |"
                for row in traced["sites"][:10]
            ),
        ]
    return "\n".join(lines) + "\n"


def limited_markdown(limited: list[dict[str, Any]]) -> list[str]:
    """The rate-limited table: per size, sync and variant (when there are several), with the change of the last
    variant against the first."""
    scale = limited[0]["time_scale"]
    note = (
        "" if scale == 1.0 else f" (windows scaled x{scale:g}: 15 s -> {15 * scale:g} s, 15 min -> {900 * scale:g} s)"
    )
    variants = list(dict.fromkeys(c.get("variant", "checkout") for c in limited))
    several = len(variants) > 1
    lines = [
        f"**Harvest's rate limits on**{note}: wall time against the floor of the minimum requests. Floor: the "
        "earliest start of the last request, `(ceil(n/100) - 1) x window` per bucket (100 per 15 s general, "
        "100 per 15 min reports); the sustained-rate figure `max(n / (100/15 s), reports / (100/15 min))` in "
        "brackets"
        + (
            f". Every variant on its own sandbox of the same data; change: `{variants[-1]}` against "
            f"`{variants[0]}` (wall time, and the difference in points over the floor)"
            if several
            else ""
        )
        + ":",
        "",
        "| size | sync | " + ("variant | " if several else "") + "records | general req (min) | report req (min) "
        "| 429s | floor s (rate) | wall s | over floor (rate) |",
        "|---|---|" + ("---|" if several else "") + "---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size in dict.fromkeys(c["size"] for c in limited):
        mine = {c.get("variant", "checkout"): c for c in limited if c["size"] == size}
        for kind in ("full", "incremental"):
            for variant, case in mine.items():
                s = case[kind]
                g, rp = s["general_requests"], s["report_requests"]
                lines.append(
                    f"| {size} | {kind} | " + (f"`{variant}` | " if several else "") + f"{s['total_records']:,} "
                    f"| {g['actual']:,} ({g['minimum']:,}) | {rp['actual']:,} ({rp['minimum']:,}) "
                    f"| {s['requests']['throttled_total']} | {_fmt(s['floor_burst_s'])} ({_fmt(s['floor_rate_s'])}) "
                    f"| {_fmt(s['wall_s'])} | {_pct(s['over_floor'])} ({_pct(s['over_rate_floor'])}) |"
                )
            first, last = mine.get(variants[0]), mine.get(variants[-1])
            if several and first and last and first is not last:
                before, after = first[kind], last[kind]
                wall = f"{(after['wall_s'] / before['wall_s'] - 1) * 100:+.1f}%" if before["wall_s"] else "-"
                points = (
                    "-"
                    if before["over_floor"] is None or after["over_floor"] is None
                    else f"{(after['over_floor'] - before['over_floor']) * 100:+.1f} pt"
                )
                lines.append(f"| {size} | {kind} | **change** | | | | | | **{wall}** | **{points}** |")
    return lines


def plot(result: dict[str, Any], path: Path) -> bool:
    """Sync time against account size (time entries), with the rate-limit floor; False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(8, 5))
    limited_variants = list(
        dict.fromkeys(c.get("variant", "checkout") for c in result["cases"] if c["mode"] == "limited")
    )
    series = [
        ("limited", v, "o", "rate-limited" + (f" {v}" if len(limited_variants) > 1 else "")) for v in limited_variants
    ]
    series.append(("unthrottled", None, "s", "unthrottled"))
    for mode, variant, marker, label in series:
        cases = sorted(
            (c for c in result["cases"] if c["mode"] == mode and variant in (None, c.get("variant", "checkout"))),
            key=lambda c: c["time_entries"],
        )
        if not cases:
            continue
        xs = [max(c["time_entries"], 1) for c in cases]
        scale = cases[0]["time_scale"]
        suffix = "" if scale == 1.0 or mode != "limited" else f" (windows x{scale:g})"
        ax.plot(xs, [c["full"]["wall_s"] for c in cases], marker=marker, label=f"full sync, {label}{suffix}")
        ax.plot(
            xs,
            [c["incremental"]["wall_s"] for c in cases],
            marker=marker,
            linestyle=":",
            label=f"incremental sync, {label}{suffix}",
        )
        if mode == "limited" and variant == limited_variants[-1]:  # the same data: one floor for every variant
            for kind, color in (("full", "black"), ("incremental", "grey")):
                ax.plot(
                    xs,
                    [max(c[kind]["floor_burst_s"], 0.1) for c in cases],
                    color=color,
                    linestyle="--",
                    marker="x",
                    label=f"rate-limit floor, {kind} sync",
                )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("account size (time entries)")
    ax.set_ylabel("sync wall time (s)")
    ax.set_title(f"source-harvest: sync time vs account size ({result['name']})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


START, END = "<!-- bench:latest:start -->", "<!-- bench:latest:end -->"


def embed(readme: Path, table: str) -> bool:
    """Put ``table`` between the bench markers of ``readme`` (bench/README.md); False if it has no markers."""
    if not readme.is_file():
        return False
    text = readme.read_text()
    if START not in text or END not in text:
        return False
    head, rest = text.split(START, 1)
    _old, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{table}{END}{tail}")
    return True


def write_all(result: dict[str, Any], out: Path, name: str, readme: Path | None = None) -> None:
    """``<name>.md``, ``latest.md``, ``<name>.png`` and ``latest.png`` in ``out``; the table into ``readme`` too."""
    table = markdown(result, name)
    (out / f"{name}.md").write_text(table)
    (out / "latest.md").write_text(table)
    if plot(result, out / f"{name}.png"):
        (out / "latest.png").write_bytes((out / f"{name}.png").read_bytes())
    if readme is not None:
        embed(readme, table)
