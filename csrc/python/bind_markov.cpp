// Bindings for the markov area in _core: alias-table construction, the batched sampler (the template in
// bind_markov.hpp, shared with the CUDA modules) and histogram counting.
// The public API (validation with friendly errors, torch in/out, exact quantities) is
// python/deepcheap_native/markov.py and info.py; everything is re-checked here before the GIL goes.
#include "python/pybind.hpp"

#include "python/bind_markov.hpp"
#include "cpu/driver.hpp"
#include "cpu/markov.hpp"
#include "plan/markov.hpp"

using deepcheap::python::carray;
using deepcheap::python::shape_string;
namespace mk = deepcheap::markov;

namespace {

const char* kind_of(const py::array& a, const std::string& name) {
  if (deepcheap::python::has_dtype<uint8_t>(a)) return "B";
  if (deepcheap::python::has_dtype<uint16_t>(a)) return "H";
  if (deepcheap::python::has_dtype<uint32_t>(a)) return "I";
  if (deepcheap::python::has_dtype<int32_t>(a)) return "i";
  if (deepcheap::python::has_dtype<int64_t>(a)) return "q";
  throw std::invalid_argument(name + " has dtype " + std::string(py::str(a.dtype())) +
                              " but expected uint8, uint16, uint32, int32 or int64");
}

void check_samples(const py::array& a, const std::string& name) {
  DC_REQUIRE(a.ndim() == 1, name + " has shape " + shape_string(a) + " but expected (n,)");
  DC_REQUIRE((a.flags() & py::array::c_style) != 0, name + " must be C-contiguous");
}

}  // namespace

void bind_markov(py::module_& m) {
  m.def(
      "markov_alias_tables",
      [](carray<double> p, double tolerance, const std::string& name) {
        DC_REQUIRE(p.ndim() == 2, name + " has shape " + shape_string(p) + " but expected (rows, cols)");
        const int64_t rows = p.shape(0), cols = p.shape(1);
        carray<uint32_t> out({static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(cols)});
        const double* src = p.data();
        uint32_t* dst = out.mutable_data();
        {
          // Safe: reads and writes only buffers held alive by this frame; errors are C++ exceptions,
          // rethrown after the GIL is re-acquired.
          py::gil_scoped_release release;
          deepcheap::plan::build_alias_tables(src, rows, cols, tolerance, name.c_str(), dst);
        }
        return out;
      },
      py::arg("p"), py::arg("tolerance"), py::arg("name"));

  deepcheap::python::define_markov_sample<deepcheap::cpu::Driver>(m);

  m.def(
      "info_count",
      [](py::array x, int64_t k) {
        check_samples(x, "x");
        const char* kind = kind_of(x, "x");
        DC_REQUIRE(k >= 1 && k <= (int64_t(1) << 28),
                   "k is " + std::to_string(k) + " but expected 1 <= k <= 2^28");
        carray<int64_t> counts({static_cast<py::ssize_t>(k)});
        const void* data = x.data();
        const int64_t n = x.shape(0);
        int64_t* out = counts.mutable_data();
        {
          // Safe: reads x and writes counts, both held by this frame; no Python object touched.
          py::gil_scoped_release release;
          mk::count_values(data, kind[0], n, k, out);
        }
        return counts;
      },
      py::arg("x"), py::arg("k"));

  m.def(
      "info_count_pairs",
      [](py::array x, py::array y, int64_t kx, int64_t ky) {
        check_samples(x, "x");
        check_samples(y, "y");
        DC_REQUIRE(x.shape(0) == y.shape(0), "x has " + std::to_string(x.shape(0)) + " samples but y has " +
                                              std::to_string(y.shape(0)));
        const char* xk = kind_of(x, "x");
        const char* yk = kind_of(y, "y");
        DC_REQUIRE(kx >= 1 && ky >= 1 && kx * ky <= (int64_t(1) << 28),
                   "kx * ky is " + std::to_string(kx * ky) + " but expected 1 <= kx * ky <= 2^28");
        carray<int64_t> counts({static_cast<py::ssize_t>(kx), static_cast<py::ssize_t>(ky)});
        const void* xd = x.data();
        const void* yd = y.data();
        const int64_t n = x.shape(0);
        int64_t* out = counts.mutable_data();
        {
          // Safe: reads x, y and writes counts, all held by this frame; no Python object touched.
          py::gil_scoped_release release;
          mk::count_pairs(xd, xk[0], yd, yk[0], n, kx, ky, out);
        }
        return counts;
      },
      py::arg("x"), py::arg("y"), py::arg("kx"), py::arg("ky"));
}
