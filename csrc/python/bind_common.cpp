// Bindings shared by every area: threads, SIMD target selection, and bulk Philox.
#include "bind_random.hpp"
#include "dispatch.hpp"
#include "random.hpp"
#include "threads.hpp"


void bind_common(py::module_& m) {
  m.def("get_num_threads", &deepcheap::cpu::num_threads);
  m.def("set_num_threads", &deepcheap::cpu::set_num_threads, py::arg("k"));
  // Per-call threads= (python/deepcheap_native/_threads.py): the calling OS thread's override.
  m.def("set_thread_override", &deepcheap::cpu::set_thread_override, py::arg("k"));
  m.def("simd_targets", [] {
    std::vector<std::string> names;
    for (auto t : deepcheap::cpu::supported_targets()) names.emplace_back(deepcheap::cpu::target_name(t));
    return names;
  });
  m.def("simd_target", [] { return std::string(deepcheap::cpu::target_name(deepcheap::cpu::active_target())); });
  m.def("set_simd_target", &deepcheap::cpu::set_simd_target, py::arg("name"));

  deepcheap::python::define_philox<deepcheap::cpu::Driver>(m);
}
