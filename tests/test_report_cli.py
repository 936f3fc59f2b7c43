"""The `deepcheap` command as a user meets it: bad input gives a clear message and a non-zero exit,
never a traceback; the report writes its files; `deepcheap bench` turns a benchmark run into ratios."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import deepcheap_native as dc
from deepcheap_native import cli
from deepcheap_native.report import bench


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "deepcheap_native.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=300)


def assert_clean_failure(proc: subprocess.CompletedProcess, code: int, *needles: str) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    for needle in needles:
        assert needle in proc.stderr, proc.stderr


def test_console_script_is_installed():
    script = Path(sys.executable).with_name("deepcheap")
    assert script.exists() or shutil.which("deepcheap"), "the deepcheap console script is not installed"
    proc = subprocess.run([str(script) if script.exists() else "deepcheap", "report", "--help"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    for option in ("--out", "--quick", "--full", "--threads", "--seed"):
        assert option in proc.stdout


def test_unknown_option_is_a_usage_error():
    proc = run_cli("report", "--fast")
    assert_clean_failure(proc, 2, "unrecognized arguments: --fast")


def test_unknown_command_and_no_command():
    assert_clean_failure(run_cli("plot"), 2, "invalid choice")
    proc = run_cli()
    assert proc.returncode == 2 and "report" in proc.stderr


@pytest.mark.parametrize("args, needle", [
    (["--threads", "0"], "expected a positive integer, got 0"),
    (["--threads", "two"], "expected a positive integer, got 'two'"),
    (["--seed", "-1"], "expected an integer in [0, 2**64 - 1]"),
    (["--quick", "--full"], "not allowed with argument"),
    (["--only", "product,magic"], "unknown experiment(s) magic"),
])
def test_bad_values(args, needle, tmp_path):
    proc = run_cli("report", "--out", str(tmp_path / "r"), *args)
    assert_clean_failure(proc, 2, needle)


def test_unwritable_out(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    proc = run_cli("report", "--out", str(blocker / "report"))
    assert_clean_failure(proc, 2, f"--out {blocker / 'report'}: cannot write there")
    assert not (blocker.parent / "report").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only folders")
def test_read_only_out(tmp_path):  # pragma: no cover - CI runs as root here
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    assert_clean_failure(run_cli("report", "--out", str(ro)), 2, "cannot write there")


HIDE = textwrap.dedent("""
    import sys
    class Hide:
        def find_spec(self, name, path=None, target=None):
            if name == {name!r} or name.startswith({name!r} + "."):
                raise ImportError("hidden for the test: " + name)
    sys.meta_path.insert(0, Hide())
    from deepcheap_native.cli import main
    sys.exit(main(sys.argv[1:]))
""")


@pytest.mark.parametrize("module, extra", [("matplotlib", "report"), ("torch", "report")])
def test_missing_optional_dependency(module, extra, tmp_path):
    proc = subprocess.run([sys.executable, "-c", HIDE.format(name=module), "report", "--tiny",
                           "--out", str(tmp_path / "r")], capture_output=True, text=True, timeout=120)
    assert_clean_failure(proc, 1, module, f"pip install 'deepcheap-native[{extra}]'")
    assert not (tmp_path / "r" / "index.html").exists()


def test_main_returns_status_in_process(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["report", "--nope"])
    assert exc.value.code == 2
    assert cli.main(["report", "--out", str(tmp_path / "x" / "y"), "--only", "nope"]) == 2
    assert "unknown experiment" in capsys.readouterr().err


# ---- deepcheap bench ------------------------------------------------------------------------------

FAKE_BENCH = textwrap.dedent("""
    import numpy as np
    import pytest

    x = np.arange(200_000, dtype=np.float64)

    @pytest.mark.benchmark(group="sum")
    def test_native_sum(benchmark):
        assert benchmark(np.sum, x) == x.sum()

    @pytest.mark.benchmark(group="sum")
    def test_python_sum_peer(benchmark):
        assert benchmark(sum, x[:20_000].tolist()) == x[:20_000].sum()
""")


def test_bench_writes_comparison_table(tmp_path):
    suite = tmp_path / "proj" / "benchmarks"
    suite.mkdir(parents=True)
    (suite / "bench_fake.py").write_text(FAKE_BENCH)
    out = tmp_path / "out"
    proc = run_cli("bench", "--path", str(suite), "--out", str(out), "--min-rounds", "2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads((out / "bench.json").read_text())
    rows = bench.comparison_rows(data["benchmarks"])
    native = next(r for r in rows if r["native"])
    peer = next(r for r in rows if not r["native"])
    assert native["ratio"] == pytest.approx(1.0)
    assert peer["ratio"] == pytest.approx(peer["median_s"] / native["median_s"])
    table = (out / "bench.md").read_text()
    assert "| sum | test_native_sum |" in table and "native |" in table
    assert f"{peer['ratio']:.1f}×" in table
    assert "peer / native" in proc.stdout
    # The limits table (quick roofline) follows, one row per SIMD target, thread count and hot path.
    assert "## Limits" in table and "philox words/s" in table
    limits = json.loads((out / "limits.json").read_text())
    assert {r["target"] for r in limits} == set(dc.simd_targets())  # (product: FMA targets only)
    assert {r["hot path"] for r in limits} == {"Markov transitions/s", "sha256 gate-evals/s", "Ising flips/s",
                                               "product samples/s"}
    assert all(r["items/s"] > 0 and 0 < r["fraction"] < 100 for r in limits)
    for r in limits:
        assert f"| {r['target']} | {r['threads']} | {r['hot path']} |" in table


def test_bench_limits_off_writes_no_limits(tmp_path):
    suite = tmp_path / "proj" / "benchmarks"
    suite.mkdir(parents=True)
    (suite / "bench_fake.py").write_text(FAKE_BENCH)
    out = tmp_path / "out"
    proc = run_cli("bench", "--path", str(suite), "--out", str(out), "--min-rounds", "1", "--limits", "off",
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "## Limits" not in (out / "bench.md").read_text() and not (out / "limits.json").exists()
    assert_clean_failure(run_cli("bench", "--path", str(suite), "--limits", "some", cwd=tmp_path), 2,
                         "invalid choice: 'some'")


def test_bench_without_suite_is_a_usage_error(tmp_path):
    assert_clean_failure(run_cli("bench", "--out", str(tmp_path / "o"), cwd=tmp_path), 2,
                         "no benchmarks/ folder")
    assert_clean_failure(run_cli("bench", "--path", str(tmp_path / "none"), "--out", str(tmp_path / "o")),
                         2, "no such folder")


def test_comparison_rows_pick_fastest_native_as_reference():
    def b(name, median, group="g"):
        return {"name": name, "group": group, "stats": {"median": median, "rounds": 3}}

    rows = bench.comparison_rows([b("test_native_a", 2.0), b("test_native_b", 1.0), b("test_torch", 8.0),
                                  b("test_numpy", 3.0, group="alone")])
    by = {r["name"]: r for r in rows}
    assert by["test_torch"]["ratio"] == 8.0 and by["test_native_b"]["ratio"] == 1.0
    assert by["test_native_a"]["ratio"] == 2.0 and by["test_numpy"]["ratio"] is None


# ---- pieces of the report -------------------------------------------------------------------------


def test_presets_agree_across_sizes():
    import importlib

    from deepcheap_native import report

    for name in report.EXPERIMENTS:
        module = importlib.import_module(f"deepcheap_native.report.{name}")
        keys = {preset: set(params) for preset, params in module.PRESETS.items()}
        assert set(keys) == set(report.PRESETS), name
        assert keys["tiny"] == keys["quick"] == keys["full"], f"{name}: presets name different parameters"


def test_progress_bar_on_a_pipe_prints_start_and_end():
    import io

    from deepcheap_native.report.progress import Progress, track

    stream = io.StringIO()
    with Progress("sampling", 3, stream=stream) as bar:
        for _ in range(3):
            bar.update()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "  sampling ..." and lines[1].startswith("  sampling: done in ")
    assert list(track([1, 2, 3], "quiet", enabled=False)) == [1, 2, 3]


def test_progress_bar_on_a_terminal_redraws_in_place():
    import io

    from deepcheap_native.report.progress import Progress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    stream = Tty()
    with Progress("sweeps", 4, stream=stream) as bar:
        bar.update(4)
    text = stream.getvalue()
    assert "\r" in text and "[" + "#" * 28 + "] 4/4" in text and text.endswith("\n")


def test_failed_step_is_recorded_not_raised():
    from deepcheap_native.report.context import Context, MissingCapability, Section

    ctx = Context(preset="tiny", seed=1, threads=1, progress=False)
    section = Section("x", "X", "intro")
    with ctx.step(section, "missing data"):
        raise MissingCapability("no sha256.txt in /nowhere")
    with ctx.step(section, "bug"):
        raise ZeroDivisionError("boom")
    with ctx.step(section, "fine"):
        pass
    errors = {s.name: s.error for s in section.steps}
    assert errors["missing data"] == "no sha256.txt in /nowhere"
    assert errors["bug"] == "ZeroDivisionError: boom" and errors["fine"] is None
    assert [c.status for c in section.claims] == ["failed", "failed"]
    assert ctx.seed_for(1, 2) == Context("tiny", 1, 2).seed_for(1, 2) != ctx.seed_for(2, 1)


# ---- issue 15: defects a new user hit -------------------------------------------------------------


@pytest.mark.parametrize("content", [None, "README.md"])
def test_bench_path_without_benchmarks_is_refused_and_leaves_no_report(tmp_path, content):
    """`--path DIR` on a folder with no bench_*.py once ran pytest over the folder's parent (from / the
    whole filesystem) and left an empty report/ behind."""
    folder = tmp_path / "empty"
    folder.mkdir()
    if content:
        (folder / content).write_text("not a benchmark")
    out = tmp_path / "report"
    proc = run_cli("bench", "--path", str(folder), "--out", str(out), cwd=tmp_path)
    assert_clean_failure(proc, 2, f"--path {folder}: no bench_*.py files in that folder")
    assert not out.exists()


def test_bench_ratios_are_per_unit_of_work():
    """A peer that timed a tenth of the work in a tenth of the time is exactly as fast, not 10x faster."""
    def b(name, median, **info):
        return {"name": name, "group": "g", "stats": {"median": median, "rounds": 3}, "extra_info": info}

    rows = {r["name"]: r for r in bench.comparison_rows([
        b("test_native", 2.0, transitions=1000), b("test_torch_alias", 0.2, transitions=100),
        b("test_numpy", 1.0, transitions=50)])}
    assert rows["test_torch_alias"]["ratio"] == pytest.approx(1.0)
    assert rows["test_numpy"]["ratio"] == pytest.approx((1.0 / 50) / (2.0 / 1000))  # 10x slower per unit
    assert {r["basis"] for r in rows.values()} == {"per unit"}
    # rates recorded instead of counts (flips/ns, gate-evals/s) give the same normalisation
    rates = {r["name"]: r for r in bench.comparison_rows([
        b("test_native", 1.0, flips_per_ns=8.0), b("test_numpy", 1.0, flips_per_ns=0.1)])}
    assert rates["test_numpy"]["ratio"] == pytest.approx(80.0)
    # a group where one benchmark records no work falls back to whole calls, and says so
    mixed = bench.comparison_rows([b("test_native", 2.0, transitions=10), b("test_peer", 4.0)])
    assert {r["basis"] for r in mixed} == {"per call"} and mixed[1]["ratio"] == pytest.approx(2.0)


def _fake_report(monkeypatch, statuses):
    from deepcheap_native import report
    from deepcheap_native.report.context import Claim, Section

    section = Section("x", "X", "intro")
    section.claims = [Claim(f"claim {i}", "m", "e", s) for i, s in enumerate(statuses)]

    def run_report(out, **kwargs):
        document = {"run": {"seconds": 0.0, "threads": 1}}
        return report.ReportResult([section], document, out / "index.html", out / "results.json")

    monkeypatch.setattr(report, "run_report", run_report)
    monkeypatch.setattr(report, "check_dependencies", lambda: None)


@pytest.mark.parametrize("statuses, code", [(["ok", "info"], 0), (["ok", "deviates", "info"], 3)])
def test_exit_status_follows_the_claims(monkeypatch, tmp_path, capsys, statuses, code):
    _fake_report(monkeypatch, statuses)
    assert cli.main(["report", "--out", str(tmp_path / "r"), "--no-progress"]) == code
    captured = capsys.readouterr()
    assert "PASS: agrees with the theory" in captured.out and "DEVIATES: ran, but disagrees" in captured.out
    assert ("DEVIATES: these claims ran but disagree" in captured.err) == (code == 3)


def test_report_help_states_statuses_exit_codes_and_time():
    proc = run_cli("report", "--help")
    text = " ".join(proc.stdout.split())
    assert proc.returncode == 0
    assert "about 2 minutes of CPU time" in text and "a few minutes" not in text
    assert "DEVIATES ran but disagrees" in text and "3 some DEVIATES" in text


def test_status_marks_are_defined_once():
    from deepcheap_native.report.output import STATUS_MARK, STATUS_MEANING

    assert sorted(STATUS_MARK.values()) == sorted(STATUS_MEANING) == ["DEVIATES", "FAILED", "INFO", "PASS"]


def test_levelized_bound_counts_loads_and_stores():
    """The Brent figure showed parity deep at 1.35x above 'Brent allows <= 1.00x': the bound counted the
    gates only, while the levelized kernel also splits the input loads and output stores among its
    threads. Worked by hand: parity_chain(1024) has 1023 one-gate levels, 1024 loads and 1 store; on 2
    threads the gates take 1023 steps (1.00x) and the whole evaluation (1024 + 1023 + 1) / (512 + 1023 + 1)."""
    from deepcheap_native import circuits
    from deepcheap_native.report.circuits import levelized_speedup_bounds

    gates, whole = levelized_speedup_bounds(circuits.parity_chain(1024), 2)
    assert gates == pytest.approx(1.0) and whole == pytest.approx(2048 / 1536)
    # the tree: levels of 512, 256, ..., 1 gates split evenly except the last, 1 output
    gates, whole = levelized_speedup_bounds(circuits.parity_tree(1024), 2)
    assert gates == pytest.approx(1023 / (511 + 1)) and whole == pytest.approx(2048 / (512 + 512 + 1))


def test_report_sections_are_numbered_in_order_from_one_list(tmp_path):
    """Issue 21 (small defects): the numbers skipped (1 ... 5, two unnumbered, then 7). Numbers come from
    the position in EXPERIMENTS, so --only keeps them; the page's contents and headings use the titles."""
    import html
    import importlib
    import re

    from deepcheap_native import report

    for name in report.EXPERIMENTS:
        title = importlib.import_module(f"deepcheap_native.report.{name}").TITLE
        assert not re.match(r"\d+\.", title), title  # numbered once, by position, not by hand
    result = report.run_report(tmp_path, preset="tiny", progress=False, only=["hierarchy", "landscape"])
    titles = [s.title for s in result.sections]
    assert [t.split(".")[0] for t in titles] == [str(report.EXPERIMENTS.index(k) + 1) for k in ("hierarchy", "landscape")]
    page = result.html_path.read_text(encoding="utf-8")
    assert all(html.escape(t) in page or html.escape(t, quote=False) in page for t in titles)
