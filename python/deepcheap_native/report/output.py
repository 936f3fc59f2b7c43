"""Writing the report: results.json (every number, with parameters, machine, threads, versions),
index.html (one self-contained page, figures embedded as base64 PNG data URIs) and the summary table
printed on the terminal."""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import os
import platform
import sys
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from .context import Section

# What each status means (docs/guide/report.md; `deepcheap report` exits with the worst of them):
#   PASS      the measurement agrees with the theory or reference within the stated tolerance
#   INFO      a measurement shown beside a bound or for context; no pass/fail criterion
#   DEVIATES  the experiment ran, but the measurement disagrees with the theory (exit status 3)
#   FAILED    the step could not run or raised (exit status 1)
STATUS_MARK = {"ok": "PASS", "deviates": "DEVIATES", "failed": "FAILED", "info": "INFO"}
STATUS_MEANING = {
    "PASS": "agrees with the theory or reference within the stated tolerance",
    "INFO": "a measurement shown beside a bound or for context, not a pass/fail claim",
    "DEVIATES": "ran, but disagrees with the theory or reference (exit status 3)",
    "FAILED": "the step could not run or raised an error (exit status 1)",
}


def machine_info() -> dict[str, Any]:
    """Where the numbers were measured: CPU, cores, SIMD targets, Python."""
    import deepcheap_native as dc

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        available = os.cpu_count()
    return {
        "cpu": cpu,
        "logical_cores": os.cpu_count(),
        "cores_available": available,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "simd_targets": list(dc.simd_targets()),
        "simd_target": dc.simd_target(),
    }


def versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for dist in ("deepcheap-native", "numpy", "torch", "matplotlib", "scipy"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def _jsonable(x: Any) -> Any:
    """numpy scalars and arrays into plain JSON; NaN/inf become null (JSON has no such numbers)."""
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, (np.bool_, bool)):
        return bool(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return x if np.isfinite(x) else None
    return x


def results_document(sections: list[Section], run: dict[str, Any]) -> dict[str, Any]:
    return _jsonable({
        "report": "deepcheap report",
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "run": run,
        "machine": machine_info(),
        "versions": versions(),
        "sections": {
            s.key: {
                "title": s.title,
                "parameters": s.parameters,
                "numbers": s.numbers,
                "claims": [c.as_dict() for c in s.claims],
                "tables": [{"key": t.key, "caption": t.caption, "headers": t.headers, "rows": t.rows}
                           for t in s.tables],
                "figures": [{"key": f.key, "caption": f.caption} for f in s.figures],
                "steps": [{"name": st.name, "seconds": st.seconds, "error": st.error,
                           "traceback": st.traceback} for st in s.steps],
            }
            for s in sections
        },
    })


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=1, allow_nan=False) + "\n", encoding="utf-8")


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#1b1b1b;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.8em 0;font-size:.9em}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.9em;color:#444}
.ok{color:#176b1e;font-weight:600}.deviates{color:#a35a00;font-weight:600}
.failed{color:#b00020;font-weight:700}.info{color:#555}
.error{border:2px solid #b00020;background:#fff3f4;padding:.6em 1em;margin:1em 0}
pre{white-space:pre-wrap;font-size:.8em;background:#f7f7f7;padding:.5em}
.meta td{text-align:left}
"""


def _cell(v: Any) -> str:
    return html.escape(str(v))


def _table_html(headers: Iterable[str], rows: Iterable[Iterable[Any]], caption: str = "",
                cls: str = "") -> str:
    head = "".join(f"<th>{_cell(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    cap = f"<caption>{_cell(caption)}</caption>" if caption else ""
    c = f' class="{cls}"' if cls else ""
    return f"<table{c}>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _claims_html(section: Section) -> str:
    if not section.claims:
        return ""
    rows = []
    for c in section.claims:
        rows.append(
            f"<tr><td>{_cell(c.name)}</td><td>{_cell(c.measured)}</td><td>{_cell(c.expected)}</td>"
            f'<td class="{c.status}">{_cell(STATUS_MARK.get(c.status, c.status))}</td>'
            f"<td>{_cell(c.note)}</td></tr>"
        )
    return ("<table><thead><tr><th>claim</th><th>measured</th><th>theory / reference</th>"
            "<th>status</th><th>note</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def render_html(sections: list[Section], document: dict[str, Any]) -> str:
    run = document["run"]
    machine = document["machine"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>deepcheap report</title>",
        '<link rel="icon" href="data:,">',
        f"<style>{CSS}</style></head><body>",
        "<h1>deepcheap report: why deep and cheap learning works, measured</h1>",
        "<p>Each section reproduces a claim of Lin, Tegmark &amp; Rolnick (product gates, hierarchies, "
        "Boltzmann distributions) or Hoang &amp; Guerraoui (serial depth versus parallel width) beside "
        "its theory. Every number on this page is also in <code>results.json</code>.</p>",
    ]
    meta = [
        ["created (UTC)", document["created_utc"]],
        ["preset", run["preset"]],
        ["seed", run["seed"]],
        ["threads", run["threads"]],
        ["wall time", f"{run['seconds']:.1f} s (process CPU time {run.get('cpu_seconds', 0):.1f} s)"],
        ["load average", f"{run.get('load_average_start')} at start, {run.get('load_average_end')} at end "
                         f"(timings are noisy when it exceeds the {machine['cores_available']} cores)"],
        ["CPU", f"{machine['cpu']} ({machine['cores_available']} cores available)"],
        ["SIMD", f"{machine['simd_target']} (supported: {', '.join(machine['simd_targets'])})"],
        ["versions", ", ".join(f"{k} {v}" for k, v in document["versions"].items() if v)],
    ]
    parts.append(_table_html(["", ""], meta, cls="meta"))
    loads = [x for x in (run.get("load_average_start"), run.get("load_average_end")) if x is not None]
    if loads and max(loads) > machine["cores_available"]:
        parts.append(f'<div class="error"><b>The machine was busy</b> (load average up to {max(loads):.1f} on '
                     f'{machine["cores_available"]} cores): statistical and exact results are unaffected, but '
                     "timings, thread speedups above all, measure waiting for a free core as much as the code."
                     "</div>")
    failed = [s for s in sections if s.failed_steps]
    if failed:
        parts.append('<div class="error"><b>Some steps failed</b>; their numbers are missing, not '
                     "invented: " + ", ".join(
                         f"{html.escape(s.title)} ({len(s.failed_steps)})" for s in failed) + "</div>")
    parts.append("<h2>Contents</h2><ol>" + "".join(
        f'<li><a href="#{s.key}">{html.escape(s.title)}</a></li>' for s in sections) + "</ol>")
    for s in sections:
        parts.append(f'<h2 id="{s.key}">{html.escape(s.title)}</h2>')
        parts.append(f"<p>{html.escape(s.intro)}</p>")
        for st in s.failed_steps:
            parts.append(
                f'<div class="error"><b>Step failed: {html.escape(st.name)}</b><br>'
                f"{html.escape(st.error or '')}"
                + (f"<details><summary>traceback</summary><pre>{html.escape(st.traceback)}</pre>"
                   "</details>" if st.traceback else "")
                + "</div>"
            )
        parts.append(_claims_html(s))
        for f in s.figures:
            data = base64.b64encode(f.png).decode("ascii")
            parts.append(
                f'<figure id="fig-{s.key}-{f.key}"><img src="data:image/png;base64,{data}" '
                f'alt="{html.escape(f.caption, quote=True)}"><figcaption>{html.escape(f.caption)}'
                "</figcaption></figure>"
            )
        for t in s.tables:
            parts.append(_table_html(t.headers, t.rows, t.caption))
        if s.parameters:
            parts.append("<details><summary>parameters</summary><pre>"
                         + html.escape(json.dumps(_jsonable(s.parameters), indent=1)) + "</pre></details>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def summary_rows(sections: list[Section]) -> list[list[str]]:
    rows = []
    for s in sections:
        for c in s.claims:
            rows.append([s.key, c.name, c.measured, c.expected, STATUS_MARK.get(c.status, c.status)])
    return rows


def text_table(headers: list[str], rows: list[list[str]], *, max_width: int = 46) -> str:
    """A plain aligned table for the terminal (long cells are cut with an ellipsis)."""
    def cut(v: Any) -> str:
        s = str(v)
        return s if len(s) <= max_width else s[: max_width - 1] + "…"

    cells = [[cut(h) for h in headers]] + [[cut(v) for v in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cells[0], widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells[1:]]
    return "\n".join(lines)


def markdown_summary(document: dict[str, Any]) -> str:
    """The summary as a markdown table with the run's conditions (summary.md)."""
    run, machine = document["run"], document["machine"]
    lines = [
        f"`deepcheap report --{run['preset']}` (seed {run['seed']}), {document['created_utc'][:16].replace('T', ' ')} "
        f"UTC: {run['seconds']:.0f} s wall, {run.get('cpu_seconds', 0):.0f} s CPU, {run['threads']} threads, "
        f"{machine['cpu']} ({machine['cores_available']} cores, {machine['simd_target']}), load average "
        f"{run.get('load_average_start')} → {run.get('load_average_end')}.",
        "",
        "| section | claim | measured | theory / reference | status |",
        "|---|---|---|---|---|",
    ]
    for key, section in document["sections"].items():
        for c in section["claims"]:
            cells = [key, c["name"], c["measured"], c["expected"], STATUS_MARK.get(c["status"], c["status"])]
            lines.append("| " + " | ".join(str(x).replace("|", "\\|") for x in cells) + " |")
    return "\n".join(lines) + "\n"
