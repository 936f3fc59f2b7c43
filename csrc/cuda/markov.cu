// Markov sampling on the GPU: one thread per chain runs markov_chain (deepcheap/markov/alias.hpp), the
// same header math as the CPU kernel, so paths are bit-identical to the CPU's for the same seed, first
// chain and first step (tests/test_cuda.py on a GPU, tests/test_cuda_emulated.py everywhere).
#include <map>
#include <vector>

#include "deepcheap/markov/alias.hpp"
#include "markov.hpp"
#include "plan/markov.hpp"
#include "runtime.hpp"

namespace deepcheap::cuda {
namespace {

__global__ void markov_kernel(const markov::Level* steps, int64_t n_steps, markov::Level init,
                              const uint32_t* init_states, const markov::Store* stores, int64_t n_chains,
                              uint64_t seed, uint64_t first_chain, uint64_t first_step) {
  DC_GRID_STRIDE(i, n_chains) {
    markov_chain(steps, n_steps, init, init_states, stores, i, seed, first_chain, first_step);
  }
}

int64_t table_entries(const markov::Level& level) { return int64_t(level.rows) * level.cols; }

}  // namespace

void markov_sample(Driver, const plan::MarkovSample& p, int device, bool resident) {
  check_device(device);
  if (p.n_chains <= 0) return;
  DeviceGuard guard(device);
  // Each distinct table once (a hierarchy may repeat one level many times).
  std::map<const uint32_t*, DeviceBuffer<uint32_t>> tables;
  auto on_device = [&](markov::Level level) {
    auto it = tables.find(level.table);
    if (it == tables.end())
      it = tables.emplace(level.table, DeviceBuffer<uint32_t>(level.table, table_entries(level), "markov (copy tables)"))
               .first;
    level.table = it->second.data();
    return level;
  };
  std::vector<markov::Level> steps(p.steps.size());
  for (size_t t = 0; t < steps.size(); ++t) steps[t] = on_device(p.steps[t]);
  const markov::Level init = on_device(p.init);
  DeviceBuffer<markov::Level> d_steps(steps.data(), int64_t(steps.size()), "markov (copy steps)");
  DeviceBuffer<uint32_t> d_init_states;
  if (p.init_states != nullptr) d_init_states = DeviceBuffer<uint32_t>(p.init_states, p.n_chains, "markov (copy init)");
  // The planned output arrays on the device; each store points into one of them at the same offset.
  // Resident: the plan's arrays are device addresses already, written in place.
  std::vector<DeviceBuffer<unsigned char>> outputs;
  std::vector<markov::Store> stores(p.stores);
  if (!resident) {
    for (size_t a = 0; a < p.arrays.size(); ++a) outputs.emplace_back(plan::output_bytes(p, a), "markov (allocate output)");
    for (auto& s : stores) {
      if (s.base == nullptr) continue;
      for (size_t a = 0; a < p.arrays.size(); ++a) {
        if (s.base >= p.arrays[a] && s.base < p.arrays[a] + plan::output_bytes(p, a)) {
          s.base = outputs[a].data() + (s.base - p.arrays[a]);
          break;
        }
      }
    }
  }
  DeviceBuffer<markov::Store> d_stores(stores.data(), int64_t(stores.size()), "markov (copy stores)");
  launch("markov_kernel", markov_kernel, dim3(grid_for(p.n_chains)), dim3(kBlockThreads), d_steps.data(), p.n_steps,
         init, p.init_states != nullptr ? d_init_states.data() : nullptr, d_stores.data(), p.n_chains, p.seed,
         p.first_chain, p.first_step);
  for (size_t a = 0; a < outputs.size(); ++a)
    outputs[a].copy_to_host(p.arrays[a], plan::output_bytes(p, a), "markov (copy result)");
}

}  // namespace deepcheap::cuda
