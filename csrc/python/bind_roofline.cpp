// Private binding of the machine-limit probes (benchmarks/roofline.py).
#include "python/pybind.hpp"
#include "cpu/roofline.hpp"

void bind_roofline(py::module_& m) {
  m.def("_roofline_probe", [](const std::string& kind, int64_t amount, int64_t bytes, int threads) {
    deepcheap::cpu::RooflineProbe r;
    {
      py::gil_scoped_release release;
      r = deepcheap::cpu::roofline_probe(kind, amount, bytes, threads);
    }
    return py::make_tuple(r.seconds, r.work, r.check);
  }, py::arg("kind"), py::arg("amount"), py::arg("bytes") = 0, py::arg("threads") = 1);
  m.def("_roofline_lanes", [] { return DC_DISPATCH(roofline_lanes)(); });
}
