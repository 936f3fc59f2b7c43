// deepcheap_native._cuda (nvcc build, real GPU) and deepcheap_native._cuda_emulated (the same .cu
// driver sources compiled as plain C++ through csrc/cuda/emulate.hpp): the binding templates of each
// area (bind_<area>.hpp) instantiated with the CUDA driver tag, plus what the runtime sees.
// New areas add one define_<area><deepcheap::cuda::Driver>(m) line to bind_cuda_module below.
#include "bind_circuit.hpp"
#include "bind_ising.hpp"
#include "bind_markov.hpp"
#include "bind_product.hpp"
#include "bind_random.hpp"
#include "cuda/circuit.hpp"
#include "cuda/driver.hpp"
#include "cuda/ising.hpp"
#include "cuda/markov.hpp"
#include "cuda/product.hpp"
#include "cuda/random.hpp"

namespace {

int no_threads() { return 1; }  // threads are a CPU notion; the CUDA circuit ignores them

void bind_cuda_module(py::module_& m) {
  m.doc() = "deepcheap_native private CUDA drivers; use device= on the public API instead";
  m.def("runtime_status", [] {
    const auto s = deepcheap::cuda::runtime_status();
    return py::make_tuple(s.device_count, s.problem);
  }, "(device_count, problem): devices the CUDA runtime sees and, when none, why.");
  m.attr("emulated") = deepcheap::cuda::is_emulated();
  deepcheap::python::define_philox<deepcheap::cuda::Driver>(m);
  deepcheap::python::define_product_forward<deepcheap::cuda::Driver>(m);
  deepcheap::python::define_circuit_core<deepcheap::cuda::CircuitCore>(m, &no_threads);
  deepcheap::python::define_markov_sample<deepcheap::cuda::Driver>(m);
  deepcheap::python::define_ising_chains<deepcheap::cuda::IsingChain, deepcheap::cuda::BoltzmannChain>(m);
}

}  // namespace

#if defined(DC_CUDA_EMULATED)
PYBIND11_MODULE(_cuda_emulated, m) { bind_cuda_module(m); }
#else
PYBIND11_MODULE(_cuda, m) { bind_cuda_module(m); }
#endif
