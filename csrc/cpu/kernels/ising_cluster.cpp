// Hot loops of the Wolff and Swendsen-Wang cluster updates (compiled once per SIMD target). The Philox
// words of a batch of sites are drawn together (philox_strided: 16 lanes on AVX-512, 8 on AVX2) and then
// used in a fixed order, so the batch size and the SIMD target never change a result; the per-site math
// (counters, thresholds, neighbours, union-find) is deepcheap/ising/cluster.hpp. The driver that owns the
// lattices and runs replicas in parallel is csrc/cpu/ising_cluster.cpp.
#include "deepcheap/ising/cluster.hpp"
#include "philox_simd.hpp"

DC_NAMESPACE_BEGIN

namespace {
// Sites whose bond words are drawn in one philox_strided call: a multiple of the widest SIMD width (16),
// small enough that the words stay in L1 between the draw and their use.
constexpr int kClusterBatch = 64;
}  // namespace

// One Wolff cluster of one replica, grown breadth-first from its seed site: `queue` (L^2 + 1 entries) holds
// the sites in the order they joined, and each site is flipped as it joins, so it is never tested again.
// The sites waiting in the queue are taken kClusterBatch at a time: those with an unflipped equal
// neighbour (a site that has none now never gets one later in this cluster) draw their four bond words in
// one vectorised call, then each tests its bonds in queue order without branches on the random words.
// Returns the cluster size.
int64_t wolff_cluster(int8_t* DC_RESTRICT s, uint32_t L, uint64_t seed, uint64_t replica, uint64_t cluster,
                      uint64_t threshold, uint32_t* DC_RESTRICT queue) {
  const int8_t old = wolff_start(s, L, seed, replica, cluster, queue), flipped = int8_t(-old);
  uint32_t head = 0, tail = 1;
  const uint32_t c1 = uint32_t(replica), c2 = uint32_t(cluster), c3 = cluster_purpose(kClusterWolffBonds, cluster);
  alignas(64) uint32_t list[kClusterBatch], w0[kClusterBatch], w1[kClusterBatch], w2[kClusterBatch],
      w3[kClusterBatch], nb[kClusterBatch][4];
  while (head < tail) {
    const uint32_t end = tail - head < uint32_t(kClusterBatch) ? tail : head + uint32_t(kClusterBatch);
    int64_t n = 0;
    for (; head < end; ++head) {
      const uint32_t i = queue[head];
      torus_neighbours(i, L, nb[n]);
      list[n] = i;
      n += (s[nb[n][0]] == old) | (s[nb[n][1]] == old) | (s[nb[n][2]] == old) | (s[nb[n][3]] == old);
    }
    philox_strided(0, 0, c1, c2, c3, seed_key0(seed), seed_key1(seed), n, list, w0, w1, w2, w3);
    for (int64_t k = 0; k < n; ++k) {
      const uint32_t words[4] = {w0[k], w1[k], w2[k], w3[k]};
      for (int d = 0; d < 4; ++d) {  // in order: on L = 2 two directions reach the same site
        const uint32_t j = nb[k][d];
        const bool join = (s[j] == old) & bond_active(words[d], threshold);
        s[j] = join ? flipped : s[j];
        queue[tail] = j;  // overwritten unless it joined; the queue has room for one past L^2
        tail += join;
      }
    }
  }
  return tail;
}

// One Swendsen-Wang sweep of one replica: activate bonds (right and down of every site, the words of
// kClusterBatch consecutive sites drawn in one vectorised call), join clusters, flip each cluster with the
// coin drawn at its root. Adds the clusters and the spins flipped to the counts.
void swendsen_wang_sweep(int8_t* DC_RESTRICT s, uint32_t L, uint64_t seed, uint64_t replica, uint64_t sweep,
                         uint64_t threshold, int32_t* DC_RESTRICT parent, uint8_t* DC_RESTRICT coin,
                         int64_t& n_clusters, int64_t& n_flipped) {
  const uint32_t sites = L * L;
  for (uint32_t i = 0; i < sites; ++i) parent[i] = int32_t(i);
  const uint32_t c1 = uint32_t(replica), c2 = uint32_t(sweep), c3 = cluster_purpose(kClusterSwBonds, sweep);
  alignas(64) uint32_t w0[kClusterBatch], w1[kClusterBatch], w2[kClusterBatch], w3[kClusterBatch];
  for (uint32_t first = 0; first < sites; first += uint32_t(kClusterBatch)) {
    const uint32_t n = sites - first < uint32_t(kClusterBatch) ? sites - first : uint32_t(kClusterBatch);
    philox_strided(first, 1, c1, c2, c3, seed_key0(seed), seed_key1(seed), n, nullptr, w0, w1, w2, w3);
    for (uint32_t k = 0; k < n; ++k) {
      const uint32_t i = first + k;
      const uint8_t bits = swendsen_wang_bits(s, L, i, w0[k], w1[k], w2[k], threshold);
      coin[i] = uint8_t(bits >> 2);
      uint32_t right, down;
      swendsen_wang_bonds_of(i, L, right, down);
      if (bits & 1u) union_find_join(parent, int32_t(i), int32_t(right));
      if (bits & 2u) union_find_join(parent, int32_t(i), int32_t(down));
    }
  }
  int64_t clusters = 0, flipped = 0;
  for (uint32_t i = 0; i < sites; ++i) {
    const int32_t root = union_find_root(parent, int32_t(i));
    clusters += root == int32_t(i);
    const bool flip = coin[root] != 0;
    s[i] = flip ? int8_t(-s[i]) : s[i];
    flipped += flip;
  }
  n_clusters += clusters;
  n_flipped += flipped;
}

DC_NAMESPACE_END
