// Binding of dc.random.philox4x32's native entry, written once for every driver: bind_common.cpp
// instantiates it with the CPU driver, bind_cuda.cpp with the CUDA driver (real or emulated).
#pragma once

#include "python/pybind.hpp"

namespace deepcheap::python {

template <class Driver>
void define_philox(py::module_& m) {
  m.def(
      "philox4x32",
      [](carray<uint32_t> counter, carray<uint32_t> key, int device) {
        DC_REQUIRE(counter.ndim() == 2 && counter.shape(1) == 4,
                   "counter has shape " + shape_string(counter) + " but expected (n, 4)");
        DC_REQUIRE(key.ndim() == 2 && key.shape(1) == 2, "key has shape " + shape_string(key) + " but expected (n, 2)");
        DC_REQUIRE(key.shape(0) == counter.shape(0), "key has " + std::to_string(key.shape(0)) +
                                                      " rows but counter has " + std::to_string(counter.shape(0)));
        const int64_t n = counter.shape(0);
        carray<uint32_t> out({static_cast<py::ssize_t>(n), py::ssize_t(4)});
        const uint32_t* c = counter.data();
        const uint32_t* k = key.data();
        uint32_t* o = out.mutable_data();
        {
          // Safe: reads and writes only buffers held alive by this frame; no Python objects touched.
          py::gil_scoped_release release;
          philox4x32(Driver{}, c, k, o, n, device);
        }
        return out;
      },
      py::arg("counter"), py::arg("key"), py::arg("device") = 0);
}

}  // namespace deepcheap::python
