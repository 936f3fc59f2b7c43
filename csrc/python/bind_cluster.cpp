// _core.IsingClusterChain: the cluster chain binding (bind_cluster.hpp) over the CPU chain.
#include "python/bind_cluster.hpp"
#include "cpu/ising_cluster.hpp"

void bind_cluster(py::module_& m) { deepcheap::python::define_cluster_chain<deepcheap::cpu::IsingClusterChain>(m); }
