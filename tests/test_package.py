"""The package as installed: location, stub, threads, SIMD targets; every public name of the flat tree
before the area subpackages (issue 24) still imports from its path; imports only go down, with no circle."""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import deepcheap_native as dc
from import_graph import collapse, find_cycle, import_graph, unresolved

PACKAGE = Path(dc.__file__).resolve().parent


def test_imports_installed_package_not_source_tree():
    location = Path(dc.__file__).resolve()
    assert "site-packages" in location.parts or "dist-packages" in location.parts, location
    assert (location.parent / "py.typed").exists()
    assert (location.parent / "_core.pyi").exists()


# The stub against the module: tests/test_stubs.py.


def test_threads_roundtrip_and_errors():
    before = dc.get_num_threads()
    assert before >= 1
    try:
        dc.set_num_threads(1)
        assert dc.get_num_threads() == 1
        dc.set_num_threads(3)
        assert dc.get_num_threads() == 3
    finally:
        dc.set_num_threads(before)
    with pytest.raises(ValueError, match=">= 1"):
        dc.set_num_threads(0)
    with pytest.raises(TypeError, match="integer"):
        dc.set_num_threads(1.5)


def test_default_threads_is_cores():
    code = "import deepcheap_native as dc; print(dc.get_num_threads())"
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert int(out.stdout) == os.cpu_count()


def test_simd_targets():
    targets = dc.simd_targets()
    assert targets[0] == "scalar" and dc.simd_target() in targets
    with pytest.raises(ValueError, match="unknown SIMD target"):
        dc.set_simd_target("neon")


def test_simd_env_variable_forces_target():
    code = "import deepcheap_native as dc; print(dc.simd_target())"
    env = dict(os.environ, DEEPCHEAP_SIMD="scalar")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "scalar"


def test_no_march_native_in_build():
    root = Path(__file__).resolve().parents[1]
    for name in ("CMakeLists.txt", "pyproject.toml"):
        assert "march=native" not in (root / name).read_text()


def test_one_version_number():
    """pyproject reads the version from __init__.py (scikit-build-core's regex provider): one source."""
    from importlib import metadata

    assert dc.__version__ == metadata.version("deepcheap-native")
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject and "\nversion =" not in pyproject


# ---- public names: every name of the flat tree's modules (the tree before the area subpackages), by path

# Modules whose path is public (and the report's, which tests and scripts import), with their names.
PUBLIC = {
    "deepcheap_native": (
        "BoltzmannSampler Circuit CircuitBuilder HierarchicalChain IsingModel IsingSampler MarkovChain "
        "ParseError ProductNetwork SphericalSpinGlass __version__ block_spin census circuits cuda "
        "get_num_threads info ising landscape multiplication_gate polynomial_network product_network "
        "product_network_neurons random set_num_threads set_simd_target simd_target simd_targets"
    ),
    "deepcheap_native.census": (
        "MAX_COUNT_N MAX_DEPTH2_N MAX_TABLES_N MAX_TEST_N depth2_functions estimate_seconds is_threshold "
        "max_weight min_hidden_units threshold_functions threshold_tables"
    ),
    "deepcheap_native.circuit": "Circuit CircuitBuilder OPS ParseError ScheduleResult pack_bits unpack_bits",
    "deepcheap_native.circuits": (
        "BRISTOL_CIRCUITS Equivalence ParseError array_multiplier bitonic_sorter brent_kung_adder bristol chain "
        "dadda_multiplier equivalent kogge_stone_adder odd_even_merge_sorter parallel parity_chain parity_tree "
        "ripple_carry_adder sklansky_adder"
    ),
    "deepcheap_native.cli": "EXIT_DEVIATES EXIT_FAILED EXIT_OK EXIT_USAGE build_parser main",
    "deepcheap_native.cuda": (
        "Device DeviceArray array_device device_count device_input device_output emulation is_available "
        "is_device_array like_device like_device_input parse_device resolve_device to_device to_host"
    ),
    "deepcheap_native.demo": "SHALLOW_BUILD_LIMIT error_report main neuron_table",
    "deepcheap_native.distributed": (
        "DEFAULT_CONNECT_TIMEOUT ISING_ALGORITHMS ISING_COLUMNS SyncExecutor close_default_client compute "
        "count_output_patterns equivalent get_client ising_scan ising_statistics product_network_map row_seed "
        "sample_chains"
    ),
    "deepcheap_native.info": "Estimate MAX_DENSE_CELLS entropy mutual_information",
    "deepcheap_native.ising": (
        "AutocorrelationTime BoltzmannSampler BoltzmannSeries CRITICAL_TEMPERATURE ClusterSampler ClusterSeries "
        "FiniteSizeScan IsingModel IsingSampler IsingSeries STATE_VERSION autocorrelation_time binder_cumulant "
        "block_spin exact_energy finite_size_scan onsager_energy onsager_magnetization reweight"
    ),
    "deepcheap_native.landscape": (
        "DEFAULT_MAX_BYTES DescentResult PURPOSE_COUPLINGS PURPOSE_STARTS SphericalSpinGlass "
        "ground_state_energy threshold_energy"
    ),
    "deepcheap_native.markov": "HierarchicalChain MAX_STATES MarkovChain ROW_SUM_TOLERANCE",
    "deepcheap_native.product": (
        "ACTIVATIONS MAX_DEEP_INPUTS MAX_DEEP_WEIGHT_INPUTS MAX_SHALLOW_INPUTS ProductNetwork "
        "activation_derivative built_neurons choose_bias multiplication_gate polynomial_network product_network "
        "product_network_hidden_layers product_network_neurons torch_activation"
    ),
    "deepcheap_native.random": "normal_pairs philox4x32 uniform_double",
    "deepcheap_native.report": "EXPERIMENTS MissingCapability MissingDependency PRESETS ReportResult check_dependencies run_report",
    "deepcheap_native.report.bench": (
        "NATIVE_MARKERS RATE_KEYS comparison_rows find_benchmarks is_native markdown_table run_bench "
        "seconds_per_unit"
    ),
    "deepcheap_native.report.capabilities": "A000609 INTRO PRESETS TITLE run",
    "deepcheap_native.report.circuits": (
        "BRISTOL_ENV INTRO PRESETS TITLE WIDE_DEEP_BLOCK_WORDS bristol_dir levelized_speedup_bounds "
        "load_bristol run scalar_result wide_versus_deep_levelized"
    ),
    "deepcheap_native.report.context": "Claim Context Figure MissingCapability Section StepRecord Table best_time fmt",
    "deepcheap_native.report.critical": "EXACT GOALS INTRO PRESETS TC TITLE U_CRITICAL Z_EXPECTED run",
    "deepcheap_native.report.figures": "MissingDependency pyplot subplots to_png",
    "deepcheap_native.report.hierarchy": "INTRO PRESETS TITLE exact_mutual_information random_hierarchy run",
    "deepcheap_native.report.ising": "INTRO PRESETS TC TITLE U_CRITICAL binder binder_with_error run",
    "deepcheap_native.report.landscape": (
        "EDGE_EXPONENT EXTRAPOLATE_FROM INTRO MAX_BYTES METHOD MOMENTUM P2_TOL PRESETS SLOPE_FROM TITLE "
        "disorder_samples run"
    ),
    "deepcheap_native.report.output": (
        "CSS STATUS_MARK STATUS_MEANING machine_info markdown_summary render_html results_document summary_rows "
        "text_table versions write_json"
    ),
    "deepcheap_native.report.performance": "INTRO PRESETS TITLE run",
    "deepcheap_native.report.product": (
        "CONSTRUCTION_NOISE INTRO PRESETS TITLE UNIT_ROUNDOFF run train_width_job width_law "
        "width_law_jobs width_law_summary"
    ),
    "deepcheap_native.report.progress": "Progress T track",
}

# Modules that moved into an area or core (their paths were never documented): where each name is now.
MOVED = {
    # The numpy peers serve the report and the benchmarks alike: a layer of their own.
    "deepcheap_native.report.peers": ("deepcheap_native.testing.peers",
                                      "NumpyLevelized numpy_alias_sampler numpy_checkerboard_sweep vose_tables"),
    "deepcheap_native._validate": ("deepcheap_native.core.validate", (
        "FixedAttributes SEED_MAX THREADS_MAX call_threads check_choice check_int check_out check_real "
        "check_seed check_threads progress_bar"
    )),
    "deepcheap_native._arrays": ("deepcheap_native.core.arrays", "ArrayOut as_float_array import_torch is_torch_tensor like_input to_numpy"),
    "deepcheap_native._memory": ("deepcheap_native.core.memory", "ADDRESSABLE_BYTES check_allocation format_bytes memory_limit"),
    "deepcheap_native.ising_cluster": ("deepcheap_native.ising.cluster", "ALGORITHMS ClusterSampler ClusterSeries wolff_clusters_per_sweep"),
    "deepcheap_native.ising_stats": ("deepcheap_native.ising.stats", (
        "AutocorrelationTime FiniteSizeScan analyse_finite_size autocorrelation_function autocorrelation_time "
        "finite_size_scan reweight"
    )),
    "deepcheap_native.circuit_io": ("deepcheap_native.circuit.io", (
        "AND BUF CONST0 CONST1 CONSTANT_OPS INV NAND NOR OPS OP_CODE OR ParseError UNARY_OPS XNOR XOR "
        "aiger_bytes bristol_text decompress read_source"
    )),
    "deepcheap_native.circuit_network": ("deepcheap_native.circuit.threshold", "ThresholdNetwork threshold_network"),
    "deepcheap_native.circuit_space": ("deepcheap_native.circuit.space", (
        "DEFAULT_CHUNK DENSE_OUTPUTS Equivalence check_chunk check_pair check_range count_output_patterns "
        "describe_difference equivalent evaluate_range first_difference merge_pattern_counts plan_equivalence "
        "random_input_words range_input_words"
    )),
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_names_import_from_their_path(module):
    found = importlib.import_module(module)
    missing = [name for name in PUBLIC[module].split() if not hasattr(found, name)]
    assert not missing, f"{module} lost {missing}"


@pytest.mark.parametrize("old", sorted(MOVED))
def test_moved_module_names_import_from_their_new_home(old):
    new, names = MOVED[old]
    found = importlib.import_module(new)
    missing = [name for name in names.split() if not hasattr(found, name)]
    assert not missing, f"{new} (was {old}) lost {missing}"
    area, _, leaf = new.rpartition(".")
    assert getattr(importlib.import_module(area), leaf) is found  # dc.ising.cluster, dc.circuit.space, ...


def _defined_public_names(path: Path) -> set[str]:
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return {n for n in names if not n.startswith("_")}


@pytest.mark.parametrize("area", ["census", "circuit", "ising", "landscape", "markov", "product"])
def test_area_package_reexports_every_public_name_of_the_modules_it_names(area):
    # dc.ising.X for every public X of ising/model.py, cluster.py and stats.py (as the flat ising module
    # had them), also for names added after the move; circuit.space and families are reached as modules.
    package = importlib.import_module(f"deepcheap_native.{area}")
    init = ast.parse((PACKAGE / area / "__init__.py").read_text(encoding="utf-8"))
    for node in init.body:
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            missing = sorted(_defined_public_names(PACKAGE / area / f"{node.module}.py") - set(dir(package)))
            assert not missing, f"deepcheap_native.{area} does not re-export {missing} of {node.module}.py"


def test_torch_op_names_live_with_their_areas():
    pytest.importorskip("torch")
    from deepcheap_native.circuit.torch_ops import circuit_evaluate_bits
    from deepcheap_native.core.torch_ops import handle_of
    from deepcheap_native.product.torch_ops import NativeProductNetwork, multiplication_gate, native_module

    assert all(callable(f) for f in (circuit_evaluate_bits, handle_of, NativeProductNetwork, multiplication_gate,
                                     native_module))


def test_public_module_paths_import_fresh_and_name_one_module():
    # cuda, random, info and circuits live inside core/ and the areas; their public paths import in a
    # fresh interpreter with `import a.b` and `from a.b import c`, and name the same module object.
    code = (
        "import deepcheap_native.cuda, deepcheap_native.random, deepcheap_native.info\n"
        "from deepcheap_native.circuits import bristol\n"
        "from deepcheap_native.info import mutual_information\n"
        "from deepcheap_native.random import philox4x32\n"
        "from deepcheap_native.circuit import ParseError\n"
        "import deepcheap_native as dc, deepcheap_native.core.cuda as cc, deepcheap_native.markov.info as mi\n"
        "assert dc.cuda is cc and deepcheap_native.info is mi and dc.circuits.bristol is bristol\n"
        "import sys; assert 'torch' not in sys.modules, 'import deepcheap_native imported torch'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---- the import graph: imports only go down (docs/guide/design.md: Layout)

TOP_LAYER = {"deepcheap_native", "deepcheap_native.cli", "deepcheap_native.demo", "deepcheap_native.distributed"}
CORE = "deepcheap_native.core"

# Deferred imports (inside a function) that close a circle between two modules of one area, each a
# method reaching a helper module that builds on the method's own class. Known debt: the list may only
# shrink (a test fails when an entry no longer exists), and nothing else may close a circle.
DEFERRED_BACK_EDGES = {
    # Circuit.evaluate_range / count_output_patterns call the input-space module, which checks Circuit.
    ("deepcheap_native.circuit.circuit", "deepcheap_native.circuit.space"),
    # IsingModel.sampler(algorithm="wolff") makes a ClusterSampler, which builds on the lattice sampler.
    ("deepcheap_native.ising.model", "deepcheap_native.ising.cluster"),
    # ProductNetwork.to_torch / the gate on tensors call the torch ops, which build the gate network.
    ("deepcheap_native.product.network", "deepcheap_native.product.torch_ops"),
}


def unit_of(module: str) -> str:
    """The layer unit of a module: core (with the compiled _core), an area, report, or a top-level module."""
    parts = module.split(".")
    if len(parts) == 1 or module in TOP_LAYER:
        return module
    if parts[1] in ("core", "_core"):
        return CORE
    return ".".join(parts[:2])


def check_layers(graph: dict[str, set[str]]) -> list[str]:
    """What breaks "imports only go down": core importing an area, an area importing the report, the
    CLI, the demo, distributed or the package's __init__, or any circle between units."""
    problems = []
    for module, targets in graph.items():
        for target in targets:
            here, there = unit_of(module), unit_of(target)
            if here == CORE and there != CORE:
                problems.append(f"core imports an area: {module} -> {target}")
            elif here not in TOP_LAYER and here != "deepcheap_native.report" and (
                    there in TOP_LAYER or there == "deepcheap_native.report"):
                problems.append(f"an area imports a layer above it: {module} -> {target}")
    cycle = find_cycle(collapse(graph, unit_of))
    if cycle:
        problems.append("circle between areas: " + " -> ".join(cycle))
    return problems


def test_every_import_names_an_existing_module():
    # Package code imports modules by their real paths (not the public aliases dc.cuda, dc.info, ...),
    # and a deferred import left on an old path after a move fails here, not when its function runs.
    assert unresolved(PACKAGE, "deepcheap_native") == []


def test_import_graph_goes_down_without_circles():
    graph = import_graph(PACKAGE, "deepcheap_native")
    assert check_layers(graph) == []
    # No circle between modules at import time, nor with deferred imports beyond the known back edges.
    assert find_cycle(import_graph(PACKAGE, "deepcheap_native", deferred=False)) is None
    for a, b in DEFERRED_BACK_EDGES:
        assert b in graph[a] and unit_of(a) == unit_of(b), (a, b)  # still there (else drop it from the list)
        graph[a].discard(b)
    assert find_cycle(graph) is None


def _fake_package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "deepcheap_native" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "deepcheap_native"


def test_import_graph_checker_finds_circles_and_upward_imports(tmp_path):
    # The checker fails on what it must: a circle made by one deferred import, core importing an area,
    # an area importing the report; annotations under TYPE_CHECKING are not edges.
    clean = {
        "__init__.py": "from . import ising\nfrom .core import cuda\n",
        "core/__init__.py": "",
        "core/cuda.py": "from .. import _core\n",
        "_core.pyi": "",
        "ising/__init__.py": "from .model import IsingModel\n",
        "ising/model.py": "from ..core.cuda import x\nif TYPE_CHECKING:\n    from .stats import y\n",
        "ising/stats.py": "from .model import IsingModel\n",
        "report/__init__.py": "import deepcheap_native as dc\nfrom ..ising import stats\n",
    }
    root = _fake_package(tmp_path / "clean", clean)
    graph = import_graph(root, "deepcheap_native")
    assert graph["deepcheap_native.ising.stats"] == {"deepcheap_native.ising.model"}
    assert graph["deepcheap_native.report"] == {"deepcheap_native", "deepcheap_native.ising.stats"}
    assert find_cycle(graph) is None and check_layers(graph) == []
    assert unresolved(root, "deepcheap_native") == []

    circle = dict(clean)
    circle["ising/model.py"] = "def sample():\n    from .stats import y\n"
    graph = import_graph(_fake_package(tmp_path / "circle", circle), "deepcheap_native")
    assert find_cycle(graph) == ["deepcheap_native.ising.model", "deepcheap_native.ising.stats",
                                 "deepcheap_native.ising.model"]
    assert find_cycle(import_graph(tmp_path / "circle" / "deepcheap_native", "deepcheap_native",
                                   deferred=False)) is None  # deferred only: seen by the full graph

    upward = dict(clean)
    upward["core/cuda.py"] = "from ..ising import model\n"
    upward["ising/stats.py"] = "def f():\n    from ..report import x\n    from .modle import y\n"
    problems = check_layers(import_graph(_fake_package(tmp_path / "up", upward), "deepcheap_native"))
    assert any(p.startswith("core imports an area: deepcheap_native.core.cuda") for p in problems)
    assert any("an area imports a layer above it: deepcheap_native.ising.stats" in p for p in problems)
    assert any(p.startswith("circle between areas") for p in problems)
    assert unresolved(tmp_path / "up" / "deepcheap_native", "deepcheap_native") == [
        "ising/stats.py:3: deepcheap_native.ising.modle"]
