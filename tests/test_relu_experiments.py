"""The ReLU area's measured experiments (issue 22 §3) on tiny sizes with fixed seeds, each against a
reference written here: the exact sawtooth error against dense sampling and the closed form, the
group tables and products against permutations composed by hand, the region densities against the
native walk called directly, the parameter budget against counting a torch model, and the product
circuits of the report against the brute-force products. Plus bad input, seeds and Ctrl-C."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from deepcheap_native import relu  # noqa: E402
from deepcheap_native.relu import experiments as ex  # noqa: E402


def dense_sup_error(net, k, n=2**16):
    x = np.linspace(0.0, 1.0, n + 1)
    y = x.copy()
    for _ in range(k):
        y = 2.0 * np.minimum(y, 1.0 - y)
    h = x[:, None]
    for W, b in net.layers[:-1]:
        h = np.maximum(h @ W.T + b, 0.0)
    W, b = net.layers[-1]
    return float(np.max(np.abs((h @ W.T + b)[:, 0] - y)))


# ---- (a) sawtooth ---------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 3, 5])
def test_sawtooth_error_of_the_construction_is_zero_and_of_a_constant_is_a_half(k):
    assert ex.sawtooth_error(relu.sawtooth_network(k), k) == 0.0
    constant = relu.ReLUNetwork([(np.ones((1, 1)), np.zeros(1)), (np.zeros((1, 1)), np.array([0.5]))])
    assert ex.sawtooth_error(constant, k) == 0.5


def test_sawtooth_error_is_the_supremum_dense_sampling_approaches():
    rng = np.random.default_rng(3)
    for _ in range(5):
        net = relu.ReLUNetwork([(rng.normal(size=(6, 1)), rng.normal(size=6)), (rng.normal(size=(1, 6)), rng.normal(size=1))])
        exact, sampled = ex.sawtooth_error(net, 3), dense_sup_error(net, 3)
        # the sampled max is a lower bound, within (slope bound) x (grid spacing) of the supremum
        slope = 16 + np.abs(net.layers[0][0]).sum() * np.abs(net.layers[1][0]).sum()
        assert sampled <= exact + 1e-12 and exact - sampled <= slope * 2**-16


def test_train_sawtooth_records_are_honest():
    r = ex.train_sawtooth([1, 2], shallow_widths=lambda k: [2**k - 1, 2 ** (k + 1)], deep_widths=[2], restarts=1,
                          steps=60, seed=5, threads=1)
    assert r.seed == 5 and r.bound == {1: 1, 2: 3}
    for rec in r.shallow + r.deep:
        assert rec["reached"] == (rec["error"] <= r.epsilon) and 1 <= rec["steps"] <= 60
    for k, w in r.shallow_needed.items():
        if w is not None:
            assert w >= 2**k - 1 and any(rec["reached"] for rec in r.shallow if rec["k"] == k and rec["width"] == w)
    # the same seed, the same runs
    again = ex.train_sawtooth([1, 2], shallow_widths=lambda k: [2**k - 1, 2 ** (k + 1)], deep_widths=[2], restarts=1,
                              steps=60, seed=5, threads=1)
    assert [rec["error"] for rec in again.shallow + again.deep] == [rec["error"] for rec in r.shallow + r.deep]


def test_train_sawtooth_bad_input():
    with pytest.raises(ValueError, match="epsilon must be < 0.5"):
        ex.train_sawtooth([1], epsilon=0.5)
    with pytest.raises(TypeError, match="ks must be a sequence"):
        ex.train_sawtooth("12")
    with pytest.raises(ValueError, match="ks\\[0\\] must be >= 1"):
        ex.train_sawtooth([0])
    with pytest.raises(TypeError, match="shallow_widths must be a callable"):
        ex.train_sawtooth([1], shallow_widths=[1, 2])
    with pytest.raises(ValueError, match="needs a network from R to R"):
        ex.sawtooth_error(relu.random_network((2, 3, 1), seed=0), 2)


# ---- (b) Hanin & Rolnick ------------------------------------------------------------------------------


def test_regions_at_initialization_against_the_walk_called_directly():
    r = ex.regions_at_initialization([8, 16], [1, 2], input_dim=3, networks=3, lines=7, seed=11)
    segs = relu.random_lines(7, 3, seed=ex._sub_seed(11, 0), length=2.0)
    for d in (1, 2):
        for i, N in enumerate([8, 16]):
            w = round(N / d)
            s = ex._sub_seed(11, 1, N, d)
            for j in range(3):
                net = relu.random_network((3, *([w] * d), 1), seed=s, bias_std=0.1, index=j)
                counts = relu.linear_regions(net, segs).counts[0]
                assert r.density[d][i][j] == pytest.approx(np.mean(counts / np.linalg.norm(segs[:, 1] - segs[:, 0], axis=1)))
        x = np.repeat(r.neurons[d], 3).astype(float)
        y = np.concatenate(r.density[d])
        assert r.slope[d] == pytest.approx(np.polyfit(x, y, 1)[0], rel=1e-9)
        assert r.worst_case[d] == [float(round(N / d)) ** d for N in (8, 16)]


def test_one_hidden_layer_regions_never_exceed_neurons_plus_one():
    r = ex.regions_at_initialization([5, 9], [1], input_dim=2, networks=2, lines=5, seed=1)
    for i, N in enumerate(r.neurons[1]):
        assert (r.density[1][i] * r.length <= N + 1).all()


def test_regions_through_training_counts_the_trained_model():
    r = ex.regions_through_training([1, 2], neurons=8, input_dim=2, steps=20, checkpoints=3, restarts=2, lines=5, threads=1,
                                    seed=4)
    assert r.checkpoints == [0, 10, 20] and r.density[1].shape == (2, 3)
    net = relu.random_network((2, 8, 1), seed=ex._sub_seed(4, 2, 1, 0), bias_std=0.1)
    segs = relu.random_lines(5, 2, seed=ex._sub_seed(4, 0), length=2.0)
    assert r.density[1][0, 0] == pytest.approx(relu.linear_regions(net, segs).per_unit_length.mean())
    assert (r.loss[1][:, -1] < r.loss[1][:, 0]).all()


# ---- (c) logical depth --------------------------------------------------------------------------------


def test_group_tables_against_permutations_composed_here():
    perms = list(itertools.permutations(range(5)))
    table = ex.group_table("S5")
    rng = np.random.default_rng(0)
    for a, b in rng.integers(0, 120, size=(200, 2)):
        composed = tuple(perms[a][perms[b][i]] for i in range(5))
        assert perms[table[a, b]] == composed
    assert (np.sort(table, axis=1) == np.arange(120)).all()          # a Latin square: a group table
    z = ex.group_table("Z2^3")
    assert all(z[a, b] == a ^ b for a in range(8) for b in range(8))
    assert ex.group_order("S5") == 120 and ex.group_order("Z2^7") == 128 and ex.group_order("S3") == 6


def test_group_words_products_by_brute_force():
    perms = list(itertools.permutations(range(5)))
    g, y = ex.group_words("S5", 4, 50, seed=9)
    for row, label in zip(g, y):
        acc = tuple(range(5))
        for e in row:
            acc = tuple(acc[perms[e][i]] for i in range(5))       # acc · e
        assert perms[label] == acc
    g, y = ex.group_words("Z2^7", 5, 50, seed=9)
    assert (y == np.bitwise_xor.reduce(g, axis=1)).all()


def test_parameter_budget_matches_a_counted_torch_model():
    for k, d in ((2, 1), (3, 4)):
        w = ex.mlp_width_for_budget(128 * k, d, 128, 20000)
        model = ex._word_mlp(torch, k, 128, w, d, 128)
        n = sum(p.numel() for p in model.parameters())
        assert n == ex.mlp_parameters(128 * k, w, d, 128) <= 20000 < ex.mlp_parameters(128 * k, w + 1, d, 128)
        # the embedding first layer is the Linear on one-hot inputs
        words = torch.randint(0, 128, (4, k))
        onehot = torch.nn.functional.one_hot(words, 128).reshape(4, -1).float()
        first = onehot @ model.table.reshape(k * 128, w) + model.bias
        assert torch.allclose(model.rest(first), model(words), atol=1e-5)


def test_word_mlp_embedding_lookup_is_the_indexed_tables_exactly():
    # the first layer is one embedding lookup in the tables seen as (k * symbols) rows: the same numbers,
    # forward and gradient, as indexing table[j, words[:, j]] per element (what it replaced)
    torch.manual_seed(4)
    k, w = 3, 17
    model = ex._word_mlp(torch, k, 128, w, 2, 128)
    words = torch.randint(0, 120, (64, k))
    words[1] = words[0]  # repeated rows: the backward's scatter-add
    out = model(words)
    indexed = model.rest(model.table[torch.arange(k), words].sum(dim=1) + model.bias)
    assert torch.equal(out, indexed)
    (g_new,) = torch.autograd.grad(out.square().sum(), model.table)
    (g_old,) = torch.autograd.grad(indexed.square().sum(), model.table)
    assert torch.equal(g_new, g_old)


def test_report_presets_fit_their_budgets_and_grow_from_quick_to_full():
    # a preset whose logical-depth grid does not fit its budget would fail only after the sawtooth's minutes
    from deepcheap_native.report import relu as section

    for name, p in section.PRESETS.items():
        for k in p["ld_ks"]:
            for d in p["ld_depths"]:
                assert ex.mlp_width_for_budget(128 * k, d, 128, p["ld_budget"]) >= 1, (name, k, d)
    quick, full = section.PRESETS["quick"], section.PRESETS["full"]
    for key in ("saw_restarts", "saw_steps", "hr_networks", "hr_lines", "train_steps", "train_restarts",
                "ld_budget", "ld_restarts", "ld_steps"):
        assert full[key] > quick[key], key
    for key in ("saw_ks", "saw_deep_widths", "hr_neurons", "train_depths", "ld_ks"):
        assert max(full[key]) > max(quick[key]) or set(full[key]) > set(quick[key]), key


def test_logical_depth_k1_is_learned_and_records_are_consistent():
    r = ex.logical_depth(["S5", "Z2^7"], [1], [1, 2], budget=20000, restarts=1, steps=300, lr=1e-2, seed=2, threads=1,
                         eval_every=50)
    for g in ("S5", "Z2^7"):
        assert r.needed[g][1][0] == 1                                   # the identity map, one hidden layer
    for run in r.runs:
        assert run["reached"] == (run["accuracy"] >= r.target) and run["parameters"] <= r.budget


def test_logical_depth_bad_input():
    with pytest.raises(ValueError, match="group must be 'S<n>'"):
        ex.logical_depth(["S7"], [1], [1])
    with pytest.raises(TypeError, match="group must be a str"):
        ex.group_table(5)
    with pytest.raises(ValueError, match="budget 100 is below"):
        ex.logical_depth(["S5"], [1], [1], budget=100)
    with pytest.raises(ValueError, match="target is an accuracy"):
        ex.logical_depth(["S5"], [1], [1], target=1.5)
    with pytest.raises(ValueError, match="must not repeat"):
        ex.logical_depth(["S5"], [1, 1], [1])


# ---- seeds, progress, Ctrl-C ------------------------------------------------------------------------


def test_seed_none_is_drawn_and_recorded():
    r = ex.regions_at_initialization([4, 8], [1], input_dim=2, networks=2, lines=2)
    again = ex.regions_at_initialization([4, 8], [1], input_dim=2, networks=2, lines=2, seed=r.seed)
    assert np.array_equal(np.concatenate(r.density[1]), np.concatenate(again.density[1]))


def test_ctrl_c_passes_through_closes_the_bar_and_restores_torch_threads():
    before = torch.get_num_threads()

    class Bar:
        n = 0

        def update(self, k):
            self.n += k
            if self.n >= 100:
                raise KeyboardInterrupt

        def close(self):
            pass

    with pytest.raises(KeyboardInterrupt):
        ex.logical_depth(["Z2^3"], [2], [1, 2], budget=5000, steps=1000, eval_every=50, seed=1, threads=1,
                         progress=Bar())
    assert torch.get_num_threads() == before
    seen = []
    ex.regions_at_initialization([4, 8], [1, 2], input_dim=2, networks=2, lines=2, seed=0,
                                 progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (4, 4)


# ---- the report's product circuits --------------------------------------------------------------------


def test_report_product_circuits_against_brute_force():
    pytest.importorskip("matplotlib")
    from deepcheap_native.report.relu import product_circuit, s5_element_bits

    perms = list(itertools.permutations(range(5)))
    codes = np.array([s5_element_bits(p) for p in perms], dtype=np.uint64)
    for k in (1, 2, 3, 5):
        g, y = ex.group_words("S5", k, 64, seed=k)
        z, zy = ex.group_words("Z2^4", k, 64, seed=k)
        for tree in (False, True):
            out = product_circuit("S5", k, tree).evaluate(*[codes[g[:, j]] for j in range(k)])
            assert (np.asarray(out, dtype=np.uint64) == codes[y]).all()
            c = product_circuit("Z2^4", k, tree)
            assert (np.asarray(c.evaluate(*[z[:, j].astype(np.uint64) for j in range(k)])) == zy).all()
            if k > 1:
                assert c.depth == (int(np.ceil(np.log2(k))) if tree else k - 1)
