// Bindings of the cluster samplers: IsingClusterChain, the state object behind
// deepcheap_native.ising_cluster.ClusterSampler. Arguments are checked again in the driver;
// std::invalid_argument becomes ValueError.
#include "pybind.hpp"

#include "ising_cluster.hpp"

using deepcheap::cpu::IsingClusterChain;
using deepcheap::python::carray;
using deepcheap::python::require;
using deepcheap::python::shape_string;

void bind_cluster(py::module_& m) {
  py::class_<IsingClusterChain>(m, "IsingClusterChain", py::module_local())
      .def(py::init<int64_t, double, double, int64_t, int, uint64_t, uint64_t, int, int64_t>(), py::arg("L"),
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
      .def("measure",
           [](const IsingClusterChain& chain) {
             carray<double> mag({py::ssize_t(chain.replicas())}), energy({py::ssize_t(chain.replicas())});
             double* pm = mag.mutable_data();
             double* pe = energy.mutable_data();
             {
               // Safe: reads the chain under its mutex and writes arrays owned by this frame.
               py::gil_scoped_release release;
               chain.measure(pm, pe);
             }
             return py::make_tuple(mag, energy);
           })
      .def("get_spins",
           [](const IsingClusterChain& chain) {
             carray<int8_t> out({py::ssize_t(chain.replicas()), py::ssize_t(chain.L()), py::ssize_t(chain.L())});
             int8_t* o = out.mutable_data();
             {
               // Safe: copies under the chain's mutex into an array owned by this frame.
               py::gil_scoped_release release;
               chain.get_spins(o);
             }
             return out;
           })
      .def(
          "set_spins",
          [](IsingClusterChain& chain, carray<int8_t> spins) {
            require(spins.ndim() == 3 && spins.shape(0) == chain.replicas() && spins.shape(1) == chain.L() &&
                        spins.shape(2) == chain.L(),
                    "spins has shape " + shape_string(spins) + " but expected (" + std::to_string(chain.replicas()) +
                        ", " + std::to_string(chain.L()) + ", " + std::to_string(chain.L()) + ")");
            chain.set_spins(spins.data());
          },
          py::arg("spins"))
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
