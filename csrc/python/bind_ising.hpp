// Bindings of the Ising and Boltzmann chain objects, written once for every driver: bind_ising.cpp
// instantiates them with the CPU chains (csrc/cpu/ising.hpp), bind_cuda.cpp with the CUDA chains
// (csrc/cuda/ising.hpp), whose state stays on the device. Same Python names and methods either way.
#pragma once

#include <string>
#include <type_traits>
#include <vector>

#include "python/pybind.hpp"

namespace deepcheap::python {

// get_spins() and set_spins(spins) of a sampler whose state is int8 spins of shape `shape(chain)`
// (replicas first). Chain: get_spins(int8_t*), set_spins(const int8_t*), each under its own mutex.
template <class Shape, class Chain, class... Options>
void define_spin_access(py::class_<Chain, Options...>& cls, Shape shape) {
  cls.def("get_spins",
          [shape](const Chain& chain) {
            carray<int8_t> out(shape(chain));
            int8_t* o = out.mutable_data();
            {
              // Safe: copies the chain's spins (under its mutex) into an array owned by this frame.
              py::gil_scoped_release release;
              chain.get_spins(o);
            }
            return out;
          })
      .def(
          "set_spins",
          [shape](Chain& chain, carray<int8_t> spins) {
            const std::vector<py::ssize_t> want = shape(chain);
            bool same = spins.ndim() == py::ssize_t(want.size());
            std::string expected = "(";
            for (size_t k = 0; k < want.size(); ++k) {
              same = same && spins.shape(py::ssize_t(k)) == want[k];
              expected += (k ? ", " : "") + std::to_string(want[k]);
            }
            DC_REQUIRE(same, "spins has shape " + shape_string(spins) + " but expected " + expected + ")");
            const int8_t* data = spins.data();
            // Safe: reads `spins` (held by this frame) into the chain under its mutex.
            py::gil_scoped_release release;
            chain.set_spins(data);
          },
          py::arg("spins"));
}

// snapshot() -> (sweeps_done, spins) of a chain whose uint64_t snapshot(int8_t*) copies the spins and
// returns the sweep count under one lock: a checkpoint no sweep from another thread can tear.
template <class Shape, class Chain, class... Options>
void define_snapshot(py::class_<Chain, Options...>& cls, Shape shape) {
  cls.def("snapshot", [shape](const Chain& chain) {
    carray<int8_t> out(shape(chain));
    int8_t* o = out.mutable_data();
    uint64_t sweeps = 0;
    {
      // Safe: copies the chain's state (under its mutex) into an array owned by this frame.
      py::gil_scoped_release release;
      sweeps = chain.snapshot(o);
    }
    return py::make_tuple(sweeps, out);
  });
}

// The state methods every stateful L x L lattice sampler shares (IsingChain on each driver, and
// IsingClusterChain in bind_cluster.cpp): measure() -> (magnetisation, energy) per replica,
// get_spins() -> (replicas, L, L) int8, set_spins(spins). Chain: replicas(), L(), measure(double*,
// double*) under its own mutex, and what define_spin_access needs.
template <class Chain, class... Options>
void define_lattice_state(py::class_<Chain, Options...>& cls) {
  define_spin_access(cls, [](const Chain& chain) {
    return std::vector<py::ssize_t>{py::ssize_t(chain.replicas()), py::ssize_t(chain.L()), py::ssize_t(chain.L())};
  });
  cls.def("measure", [](const Chain& chain) {
    carray<double> mag({py::ssize_t(chain.replicas())}), energy({py::ssize_t(chain.replicas())});
    double* pm = mag.mutable_data();
    double* pe = energy.mutable_data();
    {
      // Safe: reads the chain's buffers (under its mutex) and writes arrays owned by this frame.
      py::gil_scoped_release release;
      chain.measure(pm, pe);
    }
    return py::make_tuple(mag, energy);
  });
}

// A chain on `device`: the CUDA chains take it, the CPU chains have only device 0.
template <class Chain, class... Args>
Chain* new_chain(int device, Args... args) {
  if constexpr (std::is_constructible_v<Chain, Args..., int>) {
    return new Chain(args..., device);
  } else {
    DC_REQUIRE(device == 0, "the CPU driver has one device, 0; got device " + std::to_string(device));
    return new Chain(args...);
  }
}

template <class IsingChain, class BoltzmannChain>
void define_ising_chains(py::module_& m) {
  py::class_<IsingChain> ising(m, "IsingChain", py::module_local());
  define_lattice_state(ising);
  define_snapshot(ising, [](const IsingChain& chain) {
    return std::vector<py::ssize_t>{py::ssize_t(chain.replicas()), py::ssize_t(chain.L()), py::ssize_t(chain.L())};
  });
  ising.def(py::init([](int64_t L, double J, double h, double temperature, int64_t replicas, bool heatbath,
                       bool multispin, uint64_t seed, bool random_init, uint64_t first_replica, int device) {
             return new_chain<IsingChain>(device, L, J, h, temperature, replicas, heatbath, multispin, seed,
                                          random_init, first_replica);
           }),
           py::arg("L"), py::arg("J"), py::arg("h"), py::arg("temperature"), py::arg("replicas"),
           py::arg("heatbath"), py::arg("multispin"), py::arg("seed"), py::arg("random_init"),
           py::arg("first_replica") = 0, py::arg("device") = 0)
      .def(
          "sweep",
          [](IsingChain& chain, int64_t n) {
            // Safe: pure C++ on the chain's own buffers; Python holds the chain alive. The chain's own
            // mutex, taken inside after the GIL is gone, serialises calls from several threads.
            py::gil_scoped_release release;
            chain.sweep(n);
          },
          py::arg("n"))
      .def("set_sweeps_done", &IsingChain::set_sweeps_done, py::arg("n"),
           py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("first_replica", &IsingChain::first_replica)
      .def(
          "run",
          [](IsingChain& chain, int64_t n_measure, int64_t every) {
            DC_REQUIRE(n_measure >= 0, "number of measurements must be >= 0, got " + std::to_string(n_measure));
            carray<double> mag({py::ssize_t(n_measure), py::ssize_t(chain.replicas())});
            carray<double> energy({py::ssize_t(n_measure), py::ssize_t(chain.replicas())});
            double* pm = mag.mutable_data();
            double* pe = energy.mutable_data();
            {
              // Safe: pure C++ on the chain and on arrays owned by this frame.
              py::gil_scoped_release release;
              chain.run(n_measure, every, pm, pe);
            }
            return py::make_tuple(mag, energy);
          },
          py::arg("n_measure"), py::arg("every"))
      .def_property_readonly("L", &IsingChain::L)
      .def_property_readonly("replicas", &IsingChain::replicas)
      .def_property_readonly("sweeps_done", &IsingChain::sweeps_done)
      .def_property_readonly("multispin", &IsingChain::multispin)
      .def("set_rng_rounds", &IsingChain::set_rng_rounds, py::arg("rounds"), py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("rng_rounds", &IsingChain::rng_rounds);

  py::class_<BoltzmannChain> boltzmann(m, "BoltzmannChain", py::module_local());
  const auto boltzmann_shape = [](const BoltzmannChain& chain) {
    return std::vector<py::ssize_t>{py::ssize_t(chain.replicas()), py::ssize_t(chain.n_spins())};
  };
  define_spin_access(boltzmann, boltzmann_shape);
  define_snapshot(boltzmann, boltzmann_shape);
  boltzmann.def(py::init([](int64_t n_spins, carray<int32_t> term_indices, carray<double> coefficients, double temperature,
                       int64_t replicas, uint64_t seed, uint64_t first_replica, int device) {
             DC_REQUIRE(term_indices.ndim() == 2 && term_indices.shape(1) == 4,
                        "term_indices has shape " + shape_string(term_indices) + " but expected (n_terms, 4)");
             DC_REQUIRE(coefficients.ndim() == 1 && coefficients.shape(0) == term_indices.shape(0),
                        "coefficients has shape " + shape_string(coefficients) + " but expected (" +
                         std::to_string(term_indices.shape(0)) + ",)");
             return new_chain<BoltzmannChain>(device, n_spins, term_indices.data(), coefficients.data(),
                                               int64_t(term_indices.shape(0)), temperature, replicas, seed,
                                               first_replica);
           }),
           py::arg("n_spins"), py::arg("term_indices"), py::arg("coefficients"), py::arg("temperature"),
           py::arg("replicas"), py::arg("seed"), py::arg("first_replica") = 0, py::arg("device") = 0)
      .def(
          "sweep",
          [](BoltzmannChain& chain, int64_t n) {
            // Safe: pure C++ on the chain's own buffers; Python holds the chain alive.
            py::gil_scoped_release release;
            chain.sweep(n);
          },
          py::arg("n"))
      .def("set_sweeps_done", &BoltzmannChain::set_sweeps_done, py::arg("n"),
           py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("first_replica", &BoltzmannChain::first_replica)
      .def("energy",
           [](const BoltzmannChain& chain) {
             carray<double> out({py::ssize_t(chain.replicas())});
             double* o = out.mutable_data();
             {
               // Safe: reads the chain's buffers and writes an array owned by this frame.
               py::gil_scoped_release release;
               chain.energy(o);
             }
             return out;
           })
      .def("colours", &BoltzmannChain::colours)
      .def_property_readonly("n_spins", &BoltzmannChain::n_spins)
      .def_property_readonly("replicas", &BoltzmannChain::replicas)
      .def_property_readonly("sweeps_done", &BoltzmannChain::sweeps_done)
      .def_property_readonly("n_colours", &BoltzmannChain::n_colours);
}

}  // namespace deepcheap::python
