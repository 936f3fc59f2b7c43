"""torch is optional: importing the package, and using it on numpy arrays, never imports torch; with
torch hidden (as if not installed) the numpy API works and the torch features fail with an ImportError
that says how to install it."""

from __future__ import annotations

import subprocess
import sys
import textwrap

HIDE_TORCH = textwrap.dedent("""
    import sys
    class Hide:
        def find_spec(self, name, path=None, target=None):
            if name == "torch" or name.startswith("torch."):
                raise ImportError("hidden for the test: " + name)
    sys.meta_path.insert(0, Hide())
""")

NUMPY_USE = textwrap.dedent("""
    import numpy as np
    import deepcheap_native as dc
    assert "torch" not in sys.modules, "import deepcheap_native imported torch"
    x = np.random.default_rng(0).uniform(0.5, 1, (100, 8))
    net = dc.product_network(8, scale=1e-3)
    assert np.max(np.abs(net(x) / x.prod(1) - 1)) < 1e-4
    assert dc.multiplication_gate(np.array([2.0]), np.array([3.0]), scale=1e-3)[0] == __import__("pytest").approx(6.0, rel=1e-5)
    P = np.array([[0.9, 0.1], [0.3, 0.7]])
    assert dc.MarkovChain(P).sample(1000, 5, seed=1).shape == (1000,)
    assert dc.HierarchicalChain([P, P], [0.5, 0.5]).mutual_information(0, 2) > 0
    assert dc.info.entropy(np.array([0, 1, 1, 0])).value > 0
    s = dc.IsingModel(8).sampler(2.0, replicas=64, seed=1).sweep(3)
    assert s.spins.shape == (64, 8, 8)
    assert dc.block_spin(s.spins, 2).shape == (64, 4, 4)
    c = dc.circuits.bristol("adder64")
    assert c.evaluate(2**64 - 1, 2) == 1
    assert dc.random.philox4x32(np.zeros(4, np.uint32), np.zeros(2, np.uint32)).shape == (4,)
    assert "torch" not in sys.modules, "the numpy API imported torch"
""")


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def test_import_and_numpy_use_do_not_import_torch():
    proc = run("import sys\n" + NUMPY_USE)
    assert proc.returncode == 0, proc.stderr


def test_numpy_api_works_with_torch_hidden():
    proc = run(HIDE_TORCH + NUMPY_USE)
    assert proc.returncode == 0, proc.stderr


def test_torch_features_fail_cleanly_with_torch_hidden():
    proc = run(HIDE_TORCH + textwrap.dedent("""
        import deepcheap_native as dc
        try:
            dc.product_network(4).to_torch()
        except ImportError as exc:
            print("ImportError:", exc)
        else:
            raise SystemExit("to_torch() worked without torch")
    """))
    assert proc.returncode == 0, proc.stderr
    assert "needs PyTorch" in proc.stdout and "pip install 'deepcheap-native[torch]'" in proc.stdout
    assert "Traceback" not in proc.stderr
