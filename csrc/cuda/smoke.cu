// Compile check only: every kernel header must stay device-clean (DC_HD functions callable from a
// kernel). CUDA drivers with real launches come in a later issue; this file proves nvcc accepts the
// per-item math of each area, as grid-stride loops over the same functions the CPU loops call.
#include <cstdint>

#include "deepcheap/census/threshold.hpp"
#include "deepcheap/circuit/gates.hpp"
#include "deepcheap/circuit/input_space.hpp"
#include "deepcheap/common/philox.hpp"
#include "deepcheap/ising/cluster.hpp"
#include "deepcheap/ising/ising.hpp"
#include "deepcheap/markov/alias.hpp"
#include "deepcheap/product/activations.hpp"

#define DC_GRID_STRIDE(i, n) \
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += blockDim.x * gridDim.x)

__global__ void smoke_philox(uint32_t* out, uint64_t seed, int n) {
  DC_GRID_STRIDE(i, n) {
    const deepcheap::Philox4x32 r = deepcheap::philox_draw(seed, static_cast<uint64_t>(i), 0, 0);
    out[i] = r.v[0] ^ r.v[1] ^ r.v[2] ^ r.v[3];
  }
}

__global__ void smoke_product(const float* x, float* y, const double* xd, double* yd, int n) {
  DC_GRID_STRIDE(i, n) {
    using namespace deepcheap::product;
    y[i] = activate<kSoftplus>(x[i]) + activate<kTanh>(x[i]) + activate<kLogistic>(x[i]) +
           activate<kExp>(x[i]) + activate<kGelu>(x[i]);
    yd[i] = stable_gate_numerator<kSoftplus>(xd[i], xd[i], 0.01, 0.0) +
            stable_carry_numerator<kTanh>(xd[i], 0.01, 0.5);
  }
}

__global__ void smoke_markov(const uint32_t* table, uint32_t* states, uint32_t cols, uint64_t seed, int n) {
  DC_GRID_STRIDE(i, n) {
    const uint32_t mask = (uint32_t(1) << deepcheap::alias_bits(cols)) - 1;
    const deepcheap::Philox4x32 r =
        deepcheap::philox_draw(seed, static_cast<uint64_t>(i), 0, deepcheap::kMarkovPurposeTransition);
    states[i] = deepcheap::alias_step(table, states[i], cols, mask, r.v[0]);
  }
}

__global__ void smoke_circuit(const uint64_t* a, const uint64_t* b, uint64_t* out, int op, int n) {
  DC_GRID_STRIDE(i, n) { out[i] = deepcheap::circuit_apply_gate<uint64_t>(op, a[i], b[i]); }
}

__global__ void smoke_ising(const int8_t* spins, int8_t* out, const uint64_t* threshold, uint64_t seed, int n) {
  DC_GRID_STRIDE(i, n) {
    const deepcheap::Philox4x32 r =
        deepcheap::philox_draw(seed, static_cast<uint64_t>(i), 0, deepcheap::kIsingPurposeInt8);
    const int sum = spins[i] + spins[(i + 1) % n] + spins[(i + n - 1) % n];
    out[i] = deepcheap::int8_heatbath_site(sum, r.v[0], threshold) +
             deepcheap::int8_metropolis_site(spins[i], sum, r.v[1], threshold) +
             deepcheap::block_majority(sum, r.v[2]);
  }
}

__global__ void smoke_multispin(const uint64_t* s, uint64_t* out, deepcheap::MultispinTable table, uint64_t seed,
                                int n) {
  DC_GRID_STRIDE(i, n) {
    out[i] = deepcheap::multispin_metropolis_site(s[i], s[(i + 1) % n], s[(i + n - 1) % n], s[i], s[i], true,
                                                  table, nullptr, 0, seed, static_cast<uint64_t>(i), 0,
                                                  deepcheap::kIsingPurposeMultispin);
  }
}

// Census: one weight vector's chain of threshold tables per item (7 weights each, n <= 5 so that the
// 64-entry level scratch holds every sum), plus the table transforms and the exact realisation check.
__global__ void smoke_census(const int* w, uint64_t* out, const uint8_t* table, int n, int count) {
  DC_GRID_STRIDE(i, count) {
    using namespace deepcheap::census;
    Table128 level[64];
    Table128 chain[129];
    const int c = weight_chain(w + 7 * i, n, level, chain);
    const Table128 t = chain[c - 1];
    const int64_t unit[2] = {1, 1};
    out[i] = t.lo ^ t.hi ^ negate_variable(t, i % 7).lo ^ (depends_on(t, 0) ? 1u : 0u) ^
             (symmetric_in(t, 0, 1, n) ? 2u : 0u) ^ compose64(0x8u, out, 2) ^ (realises(unit, 2, 2, table) ? 4u : 0u);
  }
}

__global__ void smoke_cluster(const int8_t* s, int32_t* parent, uint64_t threshold, uint64_t seed, uint32_t L,
                              int n) {
  DC_GRID_STRIDE(i, n) {
    uint32_t nb[4];
    deepcheap::torus_neighbours(static_cast<uint32_t>(i), L, nb);
    const deepcheap::Philox4x32 w =
        deepcheap::cluster_draw(seed, 0, static_cast<uint32_t>(i), 0, deepcheap::kClusterSwBonds);
    if (s[i] == s[nb[0]] && deepcheap::bond_active(w.v[0], threshold) &&
        deepcheap::torus_neighbour(static_cast<uint32_t>(i), L, 0) == nb[0])
      parent[i] = deepcheap::union_find_root(parent, static_cast<int32_t>(nb[0]));
  }
}
