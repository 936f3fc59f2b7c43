"""`deepcheap report`: reproduce the theory's claims with the package's own kernels, beside the theory.

One module per experiment group (product, hierarchy, ising, critical, circuits, performance, landscape, capabilities, locality, relu); each exposes
``TITLE``, ``INTRO``, ``PRESETS`` (parameters per preset: tiny, quick, full) and ``run(ctx, section,
params)``. `run_report` runs them, then writes results.json and a self-contained index.html.
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .context import Context, MissingCapability, Section
from .figures import MissingDependency
from .output import markdown_summary, render_html, results_document, summary_rows, text_table, write_json

__all__ = ["EXPERIMENTS", "PRESETS", "MissingCapability", "MissingDependency", "ReportResult", "check_dependencies",
           "run_report"]

EXPERIMENTS = ("product", "hierarchy", "ising", "critical", "circuits", "performance", "landscape", "capabilities",
               "locality", "relu")
PRESETS = ("tiny", "quick", "full")


@dataclass
class ReportResult:
    sections: list[Section]
    document: dict[str, Any]
    html_path: Path
    json_path: Path

    @property
    def failed(self) -> list[str]:
        return [f"{s.key}: {st.name}: {st.error}" for s in self.sections for st in s.failed_steps]

    @property
    def deviating(self) -> list[str]:
        """Claims that ran but disagree with their theory (status DEVIATES)."""
        return [f"{s.key}: {c.name}: {c.measured} (expected {c.expected})" for s in self.sections
                for c in s.claims if c.status == "deviates"]

    def summary(self) -> str:
        return text_table(["section", "claim", "measured", "theory / reference", "status"],
                          summary_rows(self.sections))


def _load_average() -> float | None:
    try:
        return round(float(os.getloadavg()[0]), 2)
    except (AttributeError, OSError):  # pragma: no cover - not on this platform
        return None


def check_dependencies() -> None:
    """The report needs matplotlib (figures) and torch (torch peers, trained networks)."""
    from .figures import pyplot

    pyplot()
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        raise MissingDependency(
            "the report compares against PyTorch and trains small torch networks, but torch is not "
            "installed; install it with: pip install 'deepcheap-native[report]'"
        ) from exc


def run_report(out: str | Path, *, preset: str = "quick", threads: int | None = None, seed: int = 0,
               progress: bool = True, only: Sequence[str] | None = None,
               scheduler: str | None = None) -> ReportResult:
    """Run the experiments and write out/index.html and out/results.json.

    Parameters
    ----------
    out : directory to write into (created if missing).
    preset : "quick" (the default; a few minutes on 2 cores), "full", or "tiny" (for tests).
    threads : native (and torch) threads; None keeps the current count.
    seed : base seed; every experiment derives its own seeds from it.
    progress : draw progress bars on stderr.
    only : run just these experiment groups.
    scheduler : a Dask scheduler address: the heavy steps run there (same numbers as locally).
    """
    import deepcheap_native as dc

    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {PRESETS}, got {preset!r}")
    selected = list(EXPERIMENTS if not only else only)
    for name in selected:
        if name not in EXPERIMENTS:
            raise ValueError(f"unknown experiment {name!r}; choose from {', '.join(EXPERIMENTS)}")
    check_dependencies()
    import torch

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if threads is not None:
        dc.set_num_threads(threads)
    threads = dc.get_num_threads()
    torch.set_num_threads(threads)

    ctx = Context(preset=preset, seed=seed, threads=threads, progress=progress, scheduler=scheduler)
    sections = []
    load_start = _load_average()
    cpu_start = time.process_time()
    start = time.perf_counter()
    for _index, name in enumerate(selected):
        module = importlib.import_module(f".{name}", __name__)
        params = dict(module.PRESETS[preset])
        # Sections are numbered from the one list, EXPERIMENTS (the contents and the headings agree,
        # and --only keeps each section's number).
        title = f"{EXPERIMENTS.index(name) + 1}. {module.TITLE}"
        section = Section(key=name, title=title, intro=module.INTRO, parameters=params)
        t0 = time.perf_counter()
        with ctx.step(section, "experiment"):
            module.run(ctx, section, params)
        section.numbers["seconds"] = time.perf_counter() - t0
        sections.append(section)
    seconds = time.perf_counter() - start

    # Timings are only as good as the machine was quiet: record how busy it was.
    run = {"preset": preset, "seed": seed, "threads": threads, "torch_threads": torch.get_num_threads(),
           "experiments": selected, "seconds": seconds, "cpu_seconds": time.process_time() - cpu_start,
           "load_average_start": load_start, "load_average_end": _load_average()}
    document = results_document(sections, run)
    json_path = out / "results.json"
    html_path = out / "index.html"
    write_json(json_path, document)
    html_path.write_text(render_html(sections, document), encoding="utf-8")
    (out / "summary.md").write_text(markdown_summary(document), encoding="utf-8")
    return ReportResult(sections, document, html_path, json_path)

