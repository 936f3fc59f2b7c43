// Bindings for the census area: canonical threshold tables, counts, all tables, the exact threshold
// test and depth-2 minimal hidden units. python/deepcheap_native/census.py validates and explains;
// everything is re-checked here (n ranges, table lengths and values) before the GIL is released.
#include "python/pybind.hpp"

#include "cpu/census.hpp"

using deepcheap::python::carray;
using deepcheap::python::shape_string;
namespace cc = deepcheap::cpu::census;

namespace {

// Canonical tables travel as an (k, 2) uint64 array of (lo, hi) words, sorted by (hi, lo).
py::array_t<uint64_t> tables_to_array(const std::vector<cc::Table128>& v) {
  py::array_t<uint64_t> out({static_cast<py::ssize_t>(v.size()), py::ssize_t(2)});
  uint64_t* p = out.mutable_data();
  for (size_t i = 0; i < v.size(); ++i) {
    p[2 * i] = v[i].lo;
    p[2 * i + 1] = v[i].hi;
  }
  return out;
}

std::vector<cc::Table128> array_to_tables(const carray<uint64_t>& a) {
  DC_REQUIRE(a.ndim() == 2 && a.shape(1) == 2, "canonical has shape " + shape_string(a) + " but expected (k, 2)");
  std::vector<cc::Table128> v(static_cast<size_t>(a.shape(0)));
  const uint64_t* p = a.data();
  for (size_t i = 0; i < v.size(); ++i) v[i] = cc::Table128{p[2 * i], p[2 * i + 1]};
  return v;
}

}  // namespace

void bind_census(py::module_& m) {
  m.def("census_max_weight", &cc::max_weight, py::arg("n"));
  m.def("census_item_count", &cc::canonical_item_count, py::arg("n"));
  m.def("census_vector_count", &cc::canonical_vector_count, py::arg("n"), py::arg("begin"), py::arg("end"));
  m.def(
      "census_canonical",
      [](int n, int64_t begin, int64_t end) {
        std::vector<cc::Table128> v;
        {
          py::gil_scoped_release release;  // pure C++ on its own vectors
          v = cc::canonical_tables(n, begin, end);
        }
        return tables_to_array(v);
      },
      py::arg("n"), py::arg("begin"), py::arg("end"));
  m.def(
      "census_count",
      [](int n, const carray<uint64_t>& canonical) {
        const auto v = array_to_tables(canonical);
        py::gil_scoped_release release;  // reads only the copied tables
        return cc::count_from_canonical(n, v);
      },
      py::arg("n"), py::arg("canonical"));
  m.def(
      "census_tables",
      [](int n) {
        std::vector<uint64_t> v;
        {
          py::gil_scoped_release release;  // pure C++ on its own vectors
          v = cc::all_tables(n);
        }
        py::array_t<uint64_t> out(static_cast<py::ssize_t>(v.size()));
        if (!v.empty()) std::copy(v.begin(), v.end(), out.mutable_data());
        return out;
      },
      py::arg("n"));
  m.def(
      "census_is_threshold",
      [](const carray<uint8_t>& table) -> py::object {
        DC_REQUIRE(table.ndim() == 1, "table has shape " + shape_string(table) + " but expected (2**n,)");
        const py::ssize_t size = table.shape(0);
        int n = 0;
        while (n <= 10 && (py::ssize_t(1) << n) != size) ++n;
        DC_REQUIRE(n <= 10, "table has " + std::to_string(size) + " entries but expected 2**n with n <= 10");
        const uint8_t* p = table.data();
        for (py::ssize_t i = 0; i < size; ++i)
          DC_REQUIRE(p[i] <= 1, "table entry " + std::to_string(i) + " is " + std::to_string(p[i]) + " but expected 0 or 1");
        cc::Realisation r;
        {
          py::gil_scoped_release release;  // reads the table, which the caller's array keeps alive
          r = cc::is_threshold(n, p);
        }
        if (!r.threshold) return py::none();
        return py::make_tuple(py::tuple(py::cast(r.w)), r.t);
      },
      py::arg("table"));
  m.def(
      "census_depth2_min_units",
      [](int n, int kmax, py::object progress) {
        std::function<void(int, int)> report;
        if (!progress.is_none())
          report = [&progress](int done, int total) {
            py::gil_scoped_acquire acquire;
            progress(done, total);
          };
        std::vector<uint8_t> v;
        {
          py::gil_scoped_release release;  // the callback re-acquires the GIL for itself
          v = cc::depth2_min_units(n, kmax, report);
        }
        py::array_t<uint8_t> out(static_cast<py::ssize_t>(v.size()));
        std::copy(v.begin(), v.end(), out.mutable_data());
        return out;
      },
      py::arg("n"), py::arg("kmax"), py::arg("progress") = py::none());
}
