"""The type stub `_core.pyi` against the compiled module: the same names, and for every function and
method the same parameters, in the same order, with defaults in the same places (read from the
signatures pybind11 writes into each docstring). A stub that drifts from the module misleads every
type checker and IDE, silently; this test makes the drift loud."""

from __future__ import annotations

import ast
import builtins
import inspect
from pathlib import Path

import pytest

import deepcheap_native as dc

STUB = Path(dc.__file__).with_name("_core.pyi")


def split_top_level(text: str) -> list[str]:
    """Split 'a: list[int, int], b: int = 3' at the commas outside brackets."""
    parts, depth, current = [], 0, []
    for ch in text:
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def pybind_signatures(obj: object, name: str) -> list[list[tuple[str, bool]]]:
    """[(parameter, has_default), ...] for each overload, from pybind11's docstring signatures."""
    doc = inspect.getdoc(obj) or ""
    signatures = []
    for line in doc.splitlines():
        line = line.strip()
        # "name(a: int, b: int = 0) -> int", or "1. name(...)" for overloads
        head = line.split(". ", 1)[1] if line[:1].isdigit() and ". " in line else line
        if not head.startswith(name + "(") or ") ->" not in head:
            continue
        inside = head[len(name) + 1 : head.rindex(") ->")]
        params = []
        for p in split_top_level(inside):
            pname = p.split(":", 1)[0].split("=", 1)[0].strip()
            if pname in ("self", "*", "/") or pname.startswith("*"):
                continue
            params.append((pname, "=" in p))
        signatures.append(params)
    return signatures


def stub_parameters(node: ast.FunctionDef) -> list[tuple[str, bool]]:
    args = node.args
    positional = args.posonlyargs + args.args
    with_default = set(a.arg for a in positional[len(positional) - len(args.defaults):]) if args.defaults else set()
    params = [(a.arg, a.arg in with_default) for a in positional if a.arg != "self"]
    params += [(a.arg, d is not None) for a, d in zip(args.kwonlyargs, args.kw_defaults)]
    return params


def stub_tree() -> ast.Module:
    return ast.parse(STUB.read_text())


def stubbed_callables() -> list[tuple[str, str, ast.FunctionDef]]:
    """(owner, name, node) for every function and method in the stub (properties excluded)."""
    out = []
    for node in stub_tree().body:
        if isinstance(node, ast.FunctionDef):
            out.append(("", node.name, node))
        elif isinstance(node, ast.ClassDef):
            for member in node.body:
                if isinstance(member, ast.FunctionDef) and not any(
                        isinstance(d, ast.Name) and d.id == "property" or
                        isinstance(d, ast.Attribute) and d.attr == "setter" for d in member.decorator_list):
                    out.append((node.name, member.name, member))
    return out


def test_stub_header_names_this_test():
    assert "tests/test_stubs.py" in STUB.read_text().splitlines()[0]
    assert Path(__file__).name == "test_stubs.py"


def test_stub_names_match_module():
    tree = stub_tree()
    stubbed = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    actual = {n for n in dir(dc._core) if not n.startswith("__")}
    assert stubbed == actual, f"in stub only: {stubbed - actual}; in module only: {actual - stubbed}"
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            cls = getattr(dc._core, node.name)
            if isinstance(cls, type) and issubclass(cls, BaseException):
                bases = tuple(getattr(builtins, b.id) for b in node.bases)
                assert cls.__bases__ == bases, f"{node.name}: bases {cls.__bases__} in the module, {bases} in the stub"
                continue  # an exception class: its members are BaseException's
            stub_members = {n.name for n in node.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")}
            members = {n for n, _ in inspect.getmembers(cls) if not n.startswith("_")}
            assert members == stub_members, (f"{node.name}: only in the module {members - stub_members}, "
                                             f"only in the stub {stub_members - members}")
            for member in node.body:  # properties are properties in both
                if isinstance(member, ast.FunctionDef) and member.name in members:
                    is_prop = any(isinstance(d, ast.Name) and d.id == "property" for d in member.decorator_list)
                    assert is_prop == isinstance(inspect.getattr_static(cls, member.name), property), \
                        f"{node.name}.{member.name}: property in one, method in the other"


@pytest.mark.parametrize("owner, name, node", stubbed_callables(),
                         ids=[f"{o}.{n}" if o else n for o, n, _ in stubbed_callables()])
def test_stub_signature_matches_module(owner, name, node):
    obj = getattr(getattr(dc._core, owner), name if name != "__init__" else "__init__") if owner else \
        getattr(dc._core, name)
    signatures = pybind_signatures(obj, name)
    assert signatures, f"no pybind11 signature found in the docstring of {owner}.{name}"
    stub = stub_parameters(node)
    assert stub in signatures, (f"{owner + '.' if owner else ''}{name}: stub has {stub}, the module has "
                                f"{' or '.join(map(str, signatures))}")


def test_signature_parser_on_known_shapes():
    assert split_top_level("a: list[int, int], b: dict[str, tuple[int, int]] = {}, c: int") == [
        "a: list[int, int]", "b: dict[str, tuple[int, int]] = {}", "c: int"]

    def f():
        pass

    f.__doc__ = "f(self: X, a: int, b: numpy.ndarray[numpy.uint32] | None = None) -> int\n\nText."
    assert pybind_signatures(f, "f") == [[("a", False), ("b", True)]]
    tree = ast.parse("def f(a: int, b: int = 0, *, c: int, d: int = 1) -> None: ...")
    assert stub_parameters(tree.body[0]) == [("a", False), ("b", True), ("c", False), ("d", True)]


# ---- return annotations of torch-in/torch-out functions (the rule, written once in _arrays.ArrayOut):
# a result that follows an argument has overloads (torch.Tensor -> torch.Tensor, np.ndarray -> np.ndarray);
# a result that follows how the object was built is annotated ArrayOut. Both are checked against what
# the functions actually return.


def _overload_cases():
    import numpy as np

    circuit = dc.circuits.ripple_carry_adder(2)
    bits = np.array([[0, 1, 1, 0]], np.uint8)
    return [
        (dc.multiplication_gate, lambda a: dc.multiplication_gate(a(np.array([0.5, 0.25])), 2.0)),
        (dc.random.philox4x32, lambda a: dc.random.philox4x32(a(np.zeros((2, 4), np.uint32)),
                                                               np.zeros(2, np.uint32))),
        (dc.block_spin, lambda a: dc.block_spin(a(np.ones((1, 4, 4), np.int8)), 2)),
        (dc.ProductNetwork.__call__, lambda a: dc.product_network(2)(a(np.full((3, 2), 0.5)))),
        (dc.Circuit.evaluate_bits, lambda a: circuit.evaluate_bits(a(bits))),
        (dc.Circuit.evaluate_packed, lambda a: circuit.evaluate_packed(a(np.zeros((4, 1), np.uint64)))),
    ]


@pytest.mark.parametrize("fn, call", _overload_cases(), ids=lambda v: getattr(v, "__qualname__", "call"))
def test_argument_following_results_have_torch_and_numpy_overloads(fn, call):
    import typing

    import numpy as np

    if not hasattr(typing, "get_overloads"):  # Python < 3.11 does not record overloads
        pytest.skip("typing.get_overloads needs Python 3.11")
    overloads = typing.get_overloads(fn)
    assert overloads, f"{fn.__qualname__} has no overloads"
    returns = set()
    for o in overloads:
        sig = inspect.signature(o)
        annotations = [p.annotation for p in sig.parameters.values()]
        if "torch.Tensor" in annotations:
            assert sig.return_annotation == "torch.Tensor", f"{fn.__qualname__}: torch in must say torch out"
        elif "np.ndarray" in annotations[:2]:
            assert sig.return_annotation == "np.ndarray", f"{fn.__qualname__}: numpy in must say numpy out"
        returns.add(sig.return_annotation)
    assert {"torch.Tensor", "np.ndarray"} <= returns
    assert isinstance(call(np.asarray), np.ndarray)
    torch = pytest.importorskip("torch")
    assert isinstance(call(torch.from_numpy), torch.Tensor)


def test_object_following_results_are_annotated_array_out():
    import typing

    import numpy as np

    from deepcheap_native.core import arrays as _arrays

    assert _arrays.ArrayOut is typing.Any
    methods = [dc.MarkovChain.sample, dc.HierarchicalChain.sample, dc.IsingSampler.magnetization,
               dc.IsingSampler.energy, dc.IsingSampler.energy_per_spin, dc.ising.ClusterSampler.energy_per_spin]
    for m in methods:
        assert inspect.signature(m).return_annotation == "ArrayOut", m.__qualname__
    assert inspect.signature(dc.IsingSampler.spins.fget).return_annotation == "ArrayOut"
    P = np.array([[0.9, 0.1], [0.4, 0.6]])
    assert isinstance(dc.MarkovChain(P).sample(3, 2), np.ndarray)
    s = dc.IsingModel(4).sampler(2.0, replicas=2)
    assert isinstance(s.magnetization(), np.ndarray) and isinstance(s.spins, np.ndarray)
    torch = pytest.importorskip("torch")
    assert isinstance(dc.MarkovChain(torch.from_numpy(P)).sample(3, 2), torch.Tensor)
    assert isinstance(dc.HierarchicalChain([torch.from_numpy(P)], torch.tensor([0.5, 0.5])).sample(3), torch.Tensor)
    s = dc.IsingModel(4).sampler(2.0, replicas=2, init=torch.ones((2, 4, 4), dtype=torch.int8))
    assert isinstance(s.energy_per_spin(), torch.Tensor) and isinstance(s.spins, torch.Tensor)
