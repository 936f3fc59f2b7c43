// deepcheap_native._core: the private extension module. Each area registers itself from its own file.
#include "python/pybind.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "deepcheap_native private native core; use the public deepcheap_native API instead";
  deepcheap::python::install_interrupt_poll(m);
  bind_common(m);
  bind_product(m);
  bind_markov(m);
  bind_ising(m);
  bind_circuit(m);
  bind_input_space(m);
  bind_census(m);
  bind_cluster(m);
  bind_relu(m);
  bind_locality(m);
  bind_roofline(m);
}
