"""The `deepcheap` command: `deepcheap report` (the main job) and `deepcheap bench`.

Exit status: 0 when every claim of the report is PASS or INFO; 3 when everything ran but a claim
DEVIATES from its theory; 1 when a step FAILED, a benchmark failed, or an optional dependency is
missing (a clear message says which); 2 for bad input (unknown option, bad value, unwritable --out,
a --path without benchmarks). Bad input never prints a traceback.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .core.validate import SEED_MAX

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_DEVIATES = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    """argparse, but errors go through one place so every message has the same shape."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"deepcheap: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if not 0 <= value <= SEED_MAX:  # the API's range (seeds are Philox's two 32-bit key words)
        raise argparse.ArgumentTypeError(f"expected an integer in [0, 2**64 - 1], got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="deepcheap", description="Why deep and cheap learning works, measured.")
    sub = parser.add_subparsers(dest="command", metavar="{report,bench}", parser_class=_Parser)

    rep = sub.add_parser("report", help="run the experiments; write index.html and results.json",
                         description="Reproduce the theory's claims beside the theory: writes "
                                     "OUT/index.html (self-contained, figures embedded), "
                                     "OUT/results.json (every number) and prints a summary table.",
                         epilog="Statuses: PASS agrees with the theory or reference; INFO is a measurement "
                                "shown beside a bound; DEVIATES ran but disagrees; FAILED could not run. Exit "
                                "status: 0 all PASS or INFO, 3 some DEVIATES, 1 some FAILED, 2 bad input.")
    rep.add_argument("--out", default="report", metavar="DIR", help="output directory (default: report)")
    size = rep.add_mutually_exclusive_group()
    size.add_argument("--quick", dest="preset", action="store_const", const="quick",
                      help="the default: about 2 minutes of CPU time (1-2 minutes on 2 idle cores)")
    size.add_argument("--full", dest="preset", action="store_const", const="full",
                      help="larger sizes and longer runs")
    size.add_argument("--tiny", dest="preset", action="store_const", const="tiny", help=argparse.SUPPRESS)
    rep.set_defaults(preset="quick")
    rep.add_argument("--threads", type=_positive_int, default=None, metavar="K",
                     help="native and torch threads (default: all cores)")
    rep.add_argument("--seed", type=_seed, default=0, metavar="S", help="base random seed (default 0)")
    rep.add_argument("--only", default=None, metavar="LIST",
                     help="comma-separated experiment groups: product,hierarchy,ising,critical,circuits,performance,"
                          "landscape,capabilities")
    rep.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")
    rep.add_argument("--scheduler", default=None, metavar="ADDRESS",
                     help="run the heavy steps on this Dask scheduler, e.g. tcp://host:8786 (needs the [dask] extra)")

    ben = sub.add_parser("bench", help="run the benchmarks/ suite and write a comparison table",
                         description="Run the pytest-benchmark suite (native beside its peers, same "
                                     "process) and write OUT/bench.json and OUT/bench.md with "
                                     "peer/native ratios of time per unit of work, then the limits "
                                     "table: each hot path's rate beside the limit this machine sets "
                                     "it, measured in the same run (OUT/limits.json).")
    ben.add_argument("--out", default="report", metavar="DIR", help="output directory (default: report)")
    ben.add_argument("--path", default=None, metavar="DIR",
                     help="the benchmarks folder (default: ./benchmarks, searched upwards)")
    ben.add_argument("-k", dest="keyword", default=None, metavar="EXPR", help="pytest -k expression")
    ben.add_argument("--min-rounds", type=_positive_int, default=3, metavar="N",
                     help="pytest-benchmark minimum rounds (default 3)")
    ben.add_argument("--threads", type=_positive_int, default=None, metavar="K",
                     help="native threads (default: all cores)")
    ben.add_argument("--limits", choices=("quick", "full", "off"), default="quick",
                     help="the limits table (roofline) after the suite: quick (small sizes, a few "
                          "seconds, the default), full (the benchmarks' sizes, about a minute) or off")
    return parser


def _writable_dir(path_text: str) -> Path:
    """Create --out if needed and prove it is writable, before any work starts."""
    path = Path(path_text).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".deepcheap-write-test-"):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise _UsageError(f"--out {path_text}: cannot write there ({reason})") from None
    return path


class _UsageError(Exception):
    pass


def _report(args: argparse.Namespace) -> int:
    from . import report

    only = None
    if args.only:
        only = [x.strip() for x in args.only.split(",") if x.strip()]
        unknown = [x for x in only if x not in report.EXPERIMENTS]
        if unknown:
            raise _UsageError(f"--only: unknown experiment(s) {', '.join(unknown)}; "
                              f"choose from {', '.join(report.EXPERIMENTS)}")
    out = _writable_dir(args.out)
    report.check_dependencies()
    if args.scheduler:  # connect first: a wrong address fails in seconds, before any experiment runs
        from . import distributed
        from .report.figures import MissingDependency

        try:
            distributed.get_client(args.scheduler)
        except ImportError as exc:
            raise MissingDependency(str(exc)) from None
    print(f"deepcheap report ({args.preset}) -> {out}/", file=sys.stderr, flush=True)
    result = report.run_report(out, preset=args.preset, threads=args.threads, seed=args.seed,
                               progress=args.progress, only=only, scheduler=args.scheduler)
    print(result.summary())
    from .report.output import STATUS_MEANING

    print("\n" + "; ".join(f"{mark}: {meaning}" for mark, meaning in STATUS_MEANING.items()))
    print(f"\nwrote {result.html_path} and {result.json_path} "
          f"({result.document['run']['seconds']:.1f} s, {result.document['run']['threads']} threads)")
    if result.failed:
        print("\nFAILED steps (see the page for details):", file=sys.stderr)
        for line in result.failed:
            print(f"  {line}", file=sys.stderr)
        return EXIT_FAILED
    if result.deviating:
        print("\nDEVIATES: these claims ran but disagree with their theory (timing claims are sensitive "
              "to a busy machine: see the load average in the header):", file=sys.stderr)
        for line in result.deviating:
            print(f"  {line}", file=sys.stderr)
        return EXIT_DEVIATES
    return EXIT_OK


def _bench(args: argparse.Namespace) -> int:
    from .report import bench

    try:  # before --out is created: a refused --path leaves no empty report folder behind
        folder = bench.find_benchmarks(args.path)
    except FileNotFoundError as exc:
        raise _UsageError(str(exc)) from None
    existed = Path(args.out).expanduser().exists()
    out = _writable_dir(args.out)
    status = bench.run_bench(folder, out, keyword=args.keyword, min_rounds=args.min_rounds,
                             threads=args.threads, limits=args.limits)
    if not existed and not any(out.iterdir()):
        out.rmdir()  # a bench that wrote nothing leaves nothing
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `deepcheap` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    from .report.figures import MissingDependency

    try:
        if args.command == "report":
            return _report(args)
        return _bench(args)
    except _UsageError as exc:
        print(f"deepcheap: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except MissingDependency as exc:
        print(f"deepcheap: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:  # e.g. the disk filled up or --out vanished while writing
        print(f"deepcheap: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("deepcheap: interrupted", file=sys.stderr)
        return 130


def _entry() -> None:  # pragma: no cover - `python -m deepcheap_native.cli`
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    _entry()
