// Per-site math of the Wolff and Swendsen-Wang cluster updates of the ferromagnetic Ising model
// (J > 0, h = 0) on the L x L torus: bond activation p = 1 - exp(-2 J / T), the Philox counters each
// site draws its bond tests from, torus neighbours and union-find. No loops over the lattice: the CPU
// kernels (csrc/cpu/kernels/ising_cluster.cpp) and any GPU driver call these per site.
//
// Counters, all through philox_draw(seed, item, step, purpose) with item = (replica << 32) | site:
//   Wolff cluster c of a replica: site i draws (item(r, i), low32(c), kClusterWolffBonds | high24(c))
//     and tests its four bonds (right, left, down, up) with words 0..3; the seed site of cluster c comes
//     from (item(r, 0), low32(c), kClusterWolffSeed | high24(c)). A site tests the bonds to its equal,
//     not yet flipped neighbours once, when its turn comes, so each word is used at most once per
//     cluster (exact Wolff). The cluster is then the set of sites reachable from the seed along bonds
//     activated by their tail site's word, which does not depend on the order in which sites take their
//     turn: the kernel's breadth-first queue gives the lattices of a depth-first stack bit for bit.
//   Swendsen-Wang sweep t: site i draws (item(r, i), low32(t), kClusterSwBonds | high24(t)): word 0 the
//     bond to the right, word 1 the bond below, bit 31 of word 2 the flip of the cluster whose root
//     (smallest site index) is i.
//   Initial random lattices: bits of (item(r, block of 128 sites), 0, kClusterInit).
// Every number depends only on (seed, replica, site, cluster or sweep), never on the order in which a
// thread visits sites, so results are identical on any thread count or device.
#pragma once

#include "deepcheap/common/config.hpp"
#include "deepcheap/common/philox.hpp"
#include "deepcheap/ising/ising.hpp"

DC_NAMESPACE_BEGIN

// Purposes live in the top byte of the counter's fourth word; the low 24 bits extend the step.
constexpr uint32_t kClusterWolffSeed = 0x31u << 24;
constexpr uint32_t kClusterWolffBonds = 0x32u << 24;
constexpr uint32_t kClusterSwBonds = 0x33u << 24;
constexpr uint32_t kClusterInit = 0x34u << 24;

DC_HD uint64_t cluster_item(uint64_t replica, uint32_t site) { return (replica << 32) | site; }

// The counter's fourth word: the purpose in the top byte, bits 32..55 of the step below it.
DC_HD uint32_t cluster_purpose(uint32_t purpose, uint64_t step) {
  return purpose | (static_cast<uint32_t>(step >> 32) & 0xFFFFFFu);
}

DC_HD Philox4x32 cluster_draw(uint64_t seed, uint64_t replica, uint32_t site, uint64_t step, uint32_t purpose) {
  return philox_draw(seed, cluster_item(replica, site), static_cast<uint32_t>(step), cluster_purpose(purpose, step));
}

// Bond activation on the 2^32 scale: a bond between equal spins is active when its word < threshold,
// probability threshold / 2^32, within 2^-32 of p = 1 - exp(-2 J / T).
DC_HD bool bond_active(uint32_t word, uint64_t threshold) { return static_cast<uint64_t>(word) < threshold; }

// The neighbour of `site` (row-major on the L x L torus) in direction d: 0 right, 1 left, 2 down, 3 up.
DC_HD uint32_t torus_neighbour(uint32_t site, uint32_t L, int d) {
  const uint32_t row = site / L, col = site - row * L;
  switch (d) {
    case 0: return row * L + (col + 1 == L ? 0 : col + 1);
    case 1: return row * L + (col == 0 ? L - 1 : col - 1);
    case 2: return (row + 1 == L ? 0 : row + 1) * L + col;
    default: return (row == 0 ? L - 1 : row - 1) * L + col;
  }
}

// All four neighbours at once (one division instead of four), in the order of torus_neighbour.
DC_HD void torus_neighbours(uint32_t site, uint32_t L, uint32_t* nb) {
  const uint32_t row = site / L, col = site - row * L, base = row * L;
  nb[0] = base + (col + 1 == L ? 0 : col + 1);
  nb[1] = base + (col == 0 ? L - 1 : col - 1);
  nb[2] = (row + 1 == L ? 0 : base + L) + col;
  nb[3] = (row == 0 ? (L - 1) * L : base - L) + col;
}

// Union-find over int32 parents with path halving. Roots are the smallest site of their cluster: the
// union links the larger root under the smaller, so the root (and with it the flip coin drawn there)
// does not depend on the order in which bonds were joined.
DC_HD int32_t union_find_root(int32_t* parent, int32_t i) {
  while (parent[i] != i) {
    parent[i] = parent[parent[i]];
    i = parent[i];
  }
  return i;
}

DC_HD void union_find_join(int32_t* parent, int32_t a, int32_t b) {
  a = union_find_root(parent, a);
  b = union_find_root(parent, b);
  if (a < b)
    parent[b] = a;
  else if (b < a)
    parent[a] = b;
}

// m and e per spin of one L x L lattice (int8 +-1): the measurement of every cluster chain on every device.
DC_HD void cluster_measure(const int8_t* lattice, int64_t L, double J, double& magnetization, double& energy) {
  int64_t spin_sum = 0, bond_sum = 0;
  int8_replica_sums(lattice, L, spin_sum, bond_sum);
  magnetization = double(spin_sum) / double(L * L);
  energy = -J * double(bond_sum) / double(L * L);
}

// The start of Wolff cluster c: its seed site (drawn uniformly from the L^2 sites), flipped and put first in
// the queue. Returns the spin the cluster is made of (the seed's value before the flip).
DC_HD int8_t wolff_start(int8_t* s, uint32_t L, uint64_t seed, uint64_t replica, uint64_t cluster, uint32_t* queue) {
  const uint32_t start = bounded_u32(cluster_draw(seed, replica, 0, cluster, kClusterWolffSeed).v[0], L * L);
  const int8_t old = s[start];
  s[start] = int8_t(-old);
  queue[0] = start;
  return old;
}

// One Wolff cluster of one replica, one site at a time: the scalar form of the CPU kernel's batched
// growth (csrc/cpu/kernels/ising_cluster.cpp), which draws the same words (site i's, for cluster c) and
// tests the same bonds in the same queue order, so the lattices agree bit for bit; the GPU runs it with
// one thread per replica. `queue` holds L^2 + 1 entries. Returns the cluster size.
DC_HD int64_t wolff_grow(int8_t* s, uint32_t L, uint64_t seed, uint64_t replica, uint64_t cluster, uint64_t threshold,
                         uint32_t* queue) {
  const int8_t old = wolff_start(s, L, seed, replica, cluster, queue), flipped = int8_t(-old);
  uint32_t head = 0, tail = 1;
  while (head < tail) {
    const uint32_t i = queue[head++];
    uint32_t nb[4];
    torus_neighbours(i, L, nb);
    if (s[nb[0]] != old && s[nb[1]] != old && s[nb[2]] != old && s[nb[3]] != old) continue;
    const Philox4x32 w = cluster_draw(seed, replica, i, cluster, kClusterWolffBonds);
    for (int d = 0; d < 4; ++d) {  // in order: on L = 2 two directions reach the same site
      const uint32_t j = nb[d];
      if (s[j] == old && bond_active(w.v[d], threshold)) {
        s[j] = flipped;
        queue[tail++] = j;
      }
    }
  }
  return tail;
}

// The two bonds site i owns in a Swendsen-Wang sweep: to its right and below (row-major L x L torus).
DC_HD void swendsen_wang_bonds_of(uint32_t i, uint32_t L, uint32_t& right, uint32_t& down) {
  const uint32_t col = i % L;
  right = col + 1 == L ? i - col : i + 1;
  down = i + L >= L * L ? col : i + L;
}

// Swendsen-Wang, site i of one replica, from its three words of the sweep: bit 0 the bond to the right is
// active (equal spins and word 0 below the threshold), bit 1 the bond below (word 1), bit 2 the flip coin
// (bit 31 of word 2). The CPU kernel joins clusters from these bits by union-find, the GPU driver by
// label propagation.
DC_HD uint8_t swendsen_wang_bits(const int8_t* s, uint32_t L, uint32_t i, uint32_t w0, uint32_t w1, uint32_t w2,
                                 uint64_t threshold) {
  uint32_t right, down;
  swendsen_wang_bonds_of(i, L, right, down);
  return uint8_t((s[right] == s[i] && bond_active(w0, threshold) ? 1u : 0u) |
                 (s[down] == s[i] && bond_active(w1, threshold) ? 2u : 0u) | ((w2 >> 31) << 2));
}

// The bits of site i in sweep t, drawn as the CPU kernel draws them (one site at a time).
DC_HD uint8_t swendsen_wang_site(const int8_t* s, uint32_t L, uint64_t seed, uint64_t replica, uint64_t sweep,
                                 uint64_t threshold, uint32_t i) {
  const Philox4x32 w = cluster_draw(seed, replica, i, sweep, kClusterSwBonds);
  return swendsen_wang_bits(s, L, i, w.v[0], w.v[1], w.v[2], threshold);
}

DC_NAMESPACE_END
