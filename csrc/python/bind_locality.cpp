// Bindings for Hamiltonian-network energies on the CPU (issue 23 §1): the template of bind_locality.hpp
// (shared with the CUDA modules) with the CPU driver.
#include "python/bind_locality.hpp"

#include "cpu/locality.hpp"

void bind_locality(py::module_& m) { deepcheap::python::define_locality<deepcheap::cpu::Driver>(m); }
