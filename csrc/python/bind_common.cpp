// Bindings shared by every area: threads, SIMD target selection, and bulk Philox.
#include "pybind.hpp"
#include "dispatch.hpp"
#include "random.hpp"
#include "threads.hpp"

using deepcheap::python::carray;
using deepcheap::python::require;
using deepcheap::python::shape_string;

void bind_common(py::module_& m) {
  m.def("get_num_threads", &deepcheap::cpu::num_threads);
  m.def("set_num_threads", &deepcheap::cpu::set_num_threads, py::arg("k"));
  m.def("simd_targets", [] {
    std::vector<std::string> names;
    for (auto t : deepcheap::cpu::supported_targets()) names.emplace_back(deepcheap::cpu::target_name(t));
    return names;
  });
  m.def("simd_target", [] { return std::string(deepcheap::cpu::target_name(deepcheap::cpu::active_target())); });
  m.def("set_simd_target", &deepcheap::cpu::set_simd_target, py::arg("name"));

  m.def(
      "philox4x32",
      [](carray<uint32_t> counter, carray<uint32_t> key) {
        require(counter.ndim() == 2 && counter.shape(1) == 4,
                "counter has shape " + shape_string(counter) + " but expected (n, 4)");
        require(key.ndim() == 2 && key.shape(1) == 2,
                "key has shape " + shape_string(key) + " but expected (n, 2)");
        require(key.shape(0) == counter.shape(0),
                "key has " + std::to_string(key.shape(0)) + " rows but counter has " +
                    std::to_string(counter.shape(0)));
        const int64_t n = counter.shape(0);
        carray<uint32_t> out({static_cast<py::ssize_t>(n), py::ssize_t(4)});
        const uint32_t* c = counter.data();
        const uint32_t* k = key.data();
        uint32_t* o = out.mutable_data();
        {
          // Safe: reads and writes only buffers held alive by this frame; no Python objects touched.
          py::gil_scoped_release release;
          DC_DISPATCH(philox4x32_batch)(c, k, o, n);
        }
        return out;
      },
      py::arg("counter"), py::arg("key"));
}
