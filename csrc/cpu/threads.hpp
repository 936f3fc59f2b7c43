// The package's thread count: every OpenMP loop asks num_threads() so that
// deepcheap_native.set_num_threads(k) governs all kernels without touching the global OpenMP state,
// and a per-call threads=k (a per-OS-thread override, ThreadsOverride) governs one call.
#pragma once

namespace deepcheap::cpu {

int num_threads();
void set_num_threads(int k);  // throws std::invalid_argument for k < 1

// The calling OS thread's override: k >= 1 wins over set_num_threads for calls made on this thread;
// 0 clears it. Per OS thread, so two Python threads calling with different threads= (each releasing
// the GIL inside the kernel) never see each other's value. Returns the previous override.
int set_thread_override(int k);  // throws std::invalid_argument for k < 0

}  // namespace deepcheap::cpu
