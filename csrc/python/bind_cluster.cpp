// Bindings of the cluster samplers: IsingClusterChain, the state object behind
// deepcheap_native.ising_cluster.ClusterSampler (its state methods shared with IsingChain through
// bind_ising.hpp). Arguments are checked again in the driver;
// std::invalid_argument becomes ValueError.
#include "bind_ising.hpp"
#include "ising_cluster.hpp"
#include "plan/ising.hpp"

using deepcheap::cpu::IsingClusterChain;
using deepcheap::python::carray;
using deepcheap::python::define_lattice_state;
using deepcheap::python::require;
using deepcheap::python::shape_string;

void bind_cluster(py::module_& m) {
  py::class_<IsingClusterChain> chain_class(m, "IsingClusterChain", py::module_local());
  define_lattice_state(chain_class);  // measure, get_spins, set_spins: as every lattice sampler
  chain_class
      .def(py::init([](int64_t L, double J, double temperature, int64_t replicas, int algorithm, uint64_t seed,
                       uint64_t first_replica, int init, int64_t clusters_per_sweep) {
             // The state is replicas x L x L spins: the product is re-checked here, before the chain
             // allocates it (the chain checks the ranges of L and replicas themselves, with their messages).
             if (L >= 2 && L <= 32768 && replicas >= 1)
               deepcheap::plan::checked_state_spins(replicas, L * L, "L x L = " + std::to_string(L * L) + " sites");
             return new IsingClusterChain(L, J, temperature, replicas, algorithm, seed, first_replica, init,
                                          clusters_per_sweep);
           }),
           py::arg("L"),
           py::arg("J"), py::arg("temperature"), py::arg("replicas"), py::arg("algorithm"), py::arg("seed"),
           py::arg("first_replica"), py::arg("init"), py::arg("clusters_per_sweep"))
      .def(
          "sweep",
          [](IsingClusterChain& chain, int64_t n) {
            // Safe: pure C++ on the chain's own buffers under its own mutex; Python holds the chain alive.
            py::gil_scoped_release release;
            chain.sweep(n);
          },
          py::arg("n"))
      .def(
          "run",
          [](IsingClusterChain& chain, int64_t n_measure, int64_t every) {
            require(n_measure >= 0, "number of measurements must be >= 0, got " + std::to_string(n_measure));
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
           [](const IsingClusterChain& chain) {
             carray<uint64_t> clusters({py::ssize_t(chain.replicas())});
             uint64_t sweeps = 0;
             chain.get_counters(&sweeps, clusters.mutable_data());
             return py::make_tuple(sweeps, clusters);
           })
      .def(
          "set_counters",
          [](IsingClusterChain& chain, uint64_t sweeps, carray<uint64_t> clusters) {
            require(clusters.ndim() == 1 && clusters.shape(0) == chain.replicas(),
                    "clusters has shape " + shape_string(clusters) + " but expected (" +
                        std::to_string(chain.replicas()) + ",)");
            chain.set_counters(sweeps, clusters.data());
          },
          py::arg("sweeps"), py::arg("clusters"))
      .def_property_readonly("L", &IsingClusterChain::L)
      .def_property_readonly("replicas", &IsingClusterChain::replicas)
      .def_property_readonly("clusters_per_sweep", &IsingClusterChain::clusters_per_sweep)
      .def_property_readonly("algorithm", &IsingClusterChain::algorithm)
      .def_property_readonly("first_replica", &IsingClusterChain::first_replica)
      .def_property_readonly("bond_threshold", &IsingClusterChain::bond_threshold)
      .def_property_readonly("sweeps_done", &IsingClusterChain::sweeps_done);
}
