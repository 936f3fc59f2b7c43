// Bindings of the Ising and Boltzmann chain objects, written once for every driver: bind_ising.cpp
// instantiates them with the CPU chains (csrc/cpu/ising.hpp), bind_cuda.cpp with the CUDA chains
// (csrc/cuda/ising.hpp), whose state stays on the device. Same Python names and methods either way.
#pragma once

#include <type_traits>

#include "pybind.hpp"

namespace deepcheap::python {

template <class IsingChain>
carray<int8_t> ising_spins(const IsingChain& chain) {
  carray<int8_t> out({py::ssize_t(chain.replicas()), py::ssize_t(chain.L()), py::ssize_t(chain.L())});
  int8_t* o = out.mutable_data();
  {
    // Safe: the chain is kept alive by the caller's reference, and `out` by this frame.
    py::gil_scoped_release release;
    chain.get_spins(o);
  }
  return out;
}

template <class IsingChain>
void check_ising_spins(const IsingChain& chain, const carray<int8_t>& spins) {
  require(spins.ndim() == 3 && spins.shape(0) == chain.replicas() && spins.shape(1) == chain.L() &&
              spins.shape(2) == chain.L(),
          "spins has shape " + shape_string(spins) + " but expected (" + std::to_string(chain.replicas()) + ", " +
              std::to_string(chain.L()) + ", " + std::to_string(chain.L()) + ")");
}

// A chain on `device`: the CUDA chains take it, the CPU chains have only device 0.
template <class Chain, class... Args>
Chain* new_chain(int device, Args... args) {
  if constexpr (std::is_constructible_v<Chain, Args..., int>) {
    return new Chain(args..., device);
  } else {
    require(device == 0, "the CPU driver has one device, 0; got device " + std::to_string(device));
    return new Chain(args...);
  }
}

template <class IsingChain, class BoltzmannChain>
void define_ising_chains(py::module_& m) {
  py::class_<IsingChain>(m, "IsingChain", py::module_local())
      .def(py::init([](int64_t L, double J, double h, double temperature, int64_t replicas, bool heatbath,
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
      .def("get_spins", &ising_spins<IsingChain>)
      .def(
          "set_spins",
          [](IsingChain& chain, carray<int8_t> spins) {
            check_ising_spins(chain, spins);
            const int8_t* data = spins.data();
            // Safe: reads `spins` (held by this frame) into the chain under its mutex.
            py::gil_scoped_release release;
            chain.set_spins(data);
          },
          py::arg("spins"))
      .def("set_sweeps_done", &IsingChain::set_sweeps_done, py::arg("n"),
           py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("first_replica", &IsingChain::first_replica)
      .def("measure",
           [](const IsingChain& chain) {
             carray<double> mag({py::ssize_t(chain.replicas())}), energy({py::ssize_t(chain.replicas())});
             double* pm = mag.mutable_data();
             double* pe = energy.mutable_data();
             {
               // Safe: reads the chain's buffers and writes arrays owned by this frame.
               py::gil_scoped_release release;
               chain.measure(pm, pe);
             }
             return py::make_tuple(mag, energy);
           })
      .def(
          "run",
          [](IsingChain& chain, int64_t n_measure, int64_t every) {
            require(n_measure >= 0, "number of measurements must be >= 0, got " + std::to_string(n_measure));
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
      .def_property_readonly("multispin", &IsingChain::multispin);

  py::class_<BoltzmannChain>(m, "BoltzmannChain", py::module_local())
      .def(py::init([](int64_t n_spins, carray<int32_t> term_indices, carray<double> coefficients, double temperature,
                       int64_t replicas, uint64_t seed, uint64_t first_replica, int device) {
             require(term_indices.ndim() == 2 && term_indices.shape(1) == 4,
                     "term_indices has shape " + shape_string(term_indices) + " but expected (n_terms, 4)");
             require(coefficients.ndim() == 1 && coefficients.shape(0) == term_indices.shape(0),
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
      .def("get_spins",
           [](const BoltzmannChain& chain) {
             carray<int8_t> out({py::ssize_t(chain.replicas()), py::ssize_t(chain.n_spins())});
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
          [](BoltzmannChain& chain, carray<int8_t> spins) {
            require(spins.ndim() == 2 && spins.shape(0) == chain.replicas() && spins.shape(1) == chain.n_spins(),
                    "spins has shape " + shape_string(spins) + " but expected (" + std::to_string(chain.replicas()) +
                        ", " + std::to_string(chain.n_spins()) + ")");
            const int8_t* data = spins.data();
            // Safe: reads `spins` (held by this frame) into the chain under its mutex.
            py::gil_scoped_release release;
            chain.set_spins(data);
          },
          py::arg("spins"))
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
