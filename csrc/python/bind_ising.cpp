// Bindings for the ising area in _core: the CPU chains (through the template in bind_ising.hpp, shared
// with the CUDA modules) and block_spin. Every argument is checked again here or in the plan;
// std::invalid_argument becomes ValueError.
#include "deepcheap/common/interrupt.hpp"
#include "python/pybind.hpp"

#include "python/bind_ising.hpp"
#include "cpu/ising.hpp"

using deepcheap::python::carray;
using deepcheap::python::shape_string;

void bind_ising(py::module_& m) {
  deepcheap::python::define_ising_chains<deepcheap::cpu::IsingChain, deepcheap::cpu::BoltzmannChain>(m);

  m.def(
      "block_spin",
      [](carray<int8_t> spins, int64_t b, int rule, uint64_t seed) {
        DC_REQUIRE(spins.ndim() == 3 && spins.shape(1) == spins.shape(2),
                   "spins has shape " + shape_string(spins) + " but expected (replicas, L, L)");
        const int64_t replicas = spins.shape(0), L = spins.shape(1);
        DC_REQUIRE(b >= 1 && L % b == 0 && L > 0,
                   "b must divide L: b=" + std::to_string(b) + ", L=" + std::to_string(L));
        DC_REQUIRE(rule == 0 || rule == 1, "rule must be 0 (majority) or 1 (decimation), got " + std::to_string(rule));
        const int8_t* in = spins.data();
        const int64_t n = L / b;
        carray<int8_t> out({py::ssize_t(replicas), py::ssize_t(n), py::ssize_t(n)});
        int8_t* o = out.mutable_data();
        {
          // Safe: reads `spins` and writes `out`, both held alive by this frame. The check of the spins
          // and the blocks both run in interruptible chunks (a batch can be gigabytes: issue 21).
          py::gil_scoped_release release;
          const int64_t entries = spins.size();
          deepcheap::interrupt::run_chunks(entries, deepcheap::interrupt::first_chunk(1.0), [&](int64_t k0, int64_t k1) {
            for (int64_t k = k0; k < k1; ++k)
              if (in[k] != 1 && in[k] != -1)  // the message is built only on failure: this loop is hot
                throw std::invalid_argument("spins must hold only -1 and +1, but entry " + std::to_string(k) +
                                            " is " + std::to_string(int(in[k])));
          });
          block_spin(deepcheap::cpu::Driver{}, in, replicas, L, b, rule, seed, o);
        }
        return out;
      },
      py::arg("spins"), py::arg("b"), py::arg("rule"), py::arg("seed"));
}
