// Bindings shared by every area: threads, SIMD target selection, and bulk Philox.
#include "python/bind_random.hpp"
#include "cpu/dispatch.hpp"
#include "cpu/random.hpp"
#include "cpu/threads.hpp"
#include "deepcheap/common/exp.hpp"


void bind_common(py::module_& m) {
  m.def("get_num_threads", &deepcheap::cpu::num_threads);
  m.def("set_num_threads", &deepcheap::cpu::set_num_threads, py::arg("k"));
  // Per-call threads= (_validate.call_threads in python/deepcheap_native): the calling OS thread's override.
  m.def("set_thread_override", &deepcheap::cpu::set_thread_override, py::arg("k"));
  m.def("simd_targets", [] {
    std::vector<std::string> names;
    for (auto t : deepcheap::cpu::supported_targets()) names.emplace_back(deepcheap::cpu::target_name(t));
    return names;
  });
  m.def("simd_target", [] { return std::string(deepcheap::cpu::target_name(deepcheap::cpu::active_target())); });
  m.def("set_simd_target", &deepcheap::cpu::set_simd_target, py::arg("name"));

  deepcheap::python::define_philox<deepcheap::cpu::Driver>(m);

  // The exp that every device evaluates the same way (common/exp.hpp); private, for its accuracy test.
  m.def("_portable_exp", [](py::array_t<double, py::array::c_style | py::array::forcecast> x) {
    py::array_t<double> out(x.size());
    const double* in = x.data();
    double* o = out.mutable_data();
    for (py::ssize_t i = 0; i < x.size(); ++i) o[i] = deepcheap::portable_exp(in[i]);
    return out;
  }, py::arg("x"));
}
