// Binding of the cluster samplers' chain, IsingClusterChain (the state object behind
// deepcheap_native.ising_cluster.ClusterSampler), written once for every driver: bind_cluster.cpp
// instantiates it with the CPU chain (csrc/cpu/ising_cluster.hpp), bind_cuda.cpp with the CUDA chain
// (csrc/cuda/ising_cluster.hpp). Its state methods are shared with IsingChain through bind_ising.hpp.
// Arguments are checked again in plan::cluster_setup; std::invalid_argument becomes ValueError.
#pragma once

#include <string>

#include "python/bind_ising.hpp"
#include "plan/ising.hpp"

namespace deepcheap::python {

template <class Chain>
py::class_<Chain> define_cluster_chain(py::module_& m) {
  py::class_<Chain> chain_class(m, "IsingClusterChain", py::module_local());
  define_lattice_state(chain_class);  // measure, get_spins, set_spins: as every lattice sampler
  chain_class
      .def(py::init([](int64_t L, double J, double temperature, int64_t replicas, int algorithm, uint64_t seed,
                       uint64_t first_replica, int init, int64_t clusters_per_sweep, int device) {
             // plan::cluster_setup checks everything, the size of the state included, before it is allocated.
             return new_chain<Chain>(device, L, J, temperature, replicas, algorithm, seed, first_replica, init,
                                     clusters_per_sweep);
           }),
           py::arg("L"),
           py::arg("J"), py::arg("temperature"), py::arg("replicas"), py::arg("algorithm"), py::arg("seed"),
           py::arg("first_replica"), py::arg("init"), py::arg("clusters_per_sweep"), py::arg("device") = 0)
      .def(
          "sweep",
          [](Chain& chain, int64_t n) {
            // Safe: pure C++ on the chain's own buffers under its own mutex; Python holds the chain alive.
            py::gil_scoped_release release;
            chain.sweep(n);
          },
          py::arg("n"))
      .def(
          "run",
          [](Chain& chain, int64_t n_measure, int64_t every) {
            DC_REQUIRE(n_measure >= 0, "number of measurements must be >= 0, got " + std::to_string(n_measure));
            const py::ssize_t rows = py::ssize_t(n_measure), cols = py::ssize_t(chain.replicas());
            carray<double> mag({rows, cols}), energy({rows, cols});
            carray<int64_t> clusters({rows, cols}), flipped({rows, cols});
            double* pm = mag.mutable_data();
            double* pe = energy.mutable_data();
            int64_t* pc = clusters.mutable_data();
            int64_t* pf = flipped.mutable_data();
            {
              // Safe: pure C++ on the chain (under its mutex) and on arrays owned by this frame.
              py::gil_scoped_release release;
              chain.run(n_measure, every, pm, pe, pc, pf);
            }
            return py::make_tuple(mag, energy, clusters, flipped);
          },
          py::arg("n_measure"), py::arg("every"))
      .def("get_counters",
           [](const Chain& chain) {
             carray<uint64_t> clusters({py::ssize_t(chain.replicas())});
             uint64_t sweeps = 0;
             chain.get_counters(&sweeps, clusters.mutable_data());
             return py::make_tuple(sweeps, clusters);
           })
      .def("snapshot",
           [](const Chain& chain) {
             // (sweeps, clusters per replica, spins) under the chain's one lock: an untorn checkpoint.
             const py::ssize_t L = py::ssize_t(chain.L());
             carray<int8_t> spins({py::ssize_t(chain.replicas()), L, L});
             carray<uint64_t> clusters({py::ssize_t(chain.replicas())});
             int8_t* ps = spins.mutable_data();
             uint64_t* pc = clusters.mutable_data();
             uint64_t sweeps = 0;
             {
               // Safe: copies the chain's state (under its mutex) into arrays owned by this frame.
               py::gil_scoped_release release;
               chain.snapshot(ps, &sweeps, pc);
             }
             return py::make_tuple(sweeps, clusters, spins);
           })
      .def(
          "set_counters",
          [](Chain& chain, uint64_t sweeps, carray<uint64_t> clusters) {
            DC_REQUIRE(clusters.ndim() == 1 && clusters.shape(0) == chain.replicas(),
                       "clusters has shape " + shape_string(clusters) + " but expected (" +
                        std::to_string(chain.replicas()) + ",)");
            chain.set_counters(sweeps, clusters.data());
          },
          py::arg("sweeps"), py::arg("clusters"))
      .def_property_readonly("L", &Chain::L)
      .def_property_readonly("replicas", &Chain::replicas)
      .def_property_readonly("clusters_per_sweep", &Chain::clusters_per_sweep)
      .def_property_readonly("algorithm", &Chain::algorithm)
      .def_property_readonly("first_replica", &Chain::first_replica)
      .def_property_readonly("bond_threshold", &Chain::bond_threshold)
      .def_property_readonly("sweeps_done", &Chain::sweeps_done);
  return chain_class;
}

}  // namespace deepcheap::python
