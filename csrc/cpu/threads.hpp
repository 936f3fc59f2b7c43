// The package's thread count: every OpenMP loop asks num_threads() so that
// deepcheap_native.set_num_threads(k) governs all kernels without touching the global OpenMP state.
#pragma once

namespace deepcheap::cpu {

int num_threads();
void set_num_threads(int k);  // throws std::invalid_argument for k < 1

}  // namespace deepcheap::cpu
