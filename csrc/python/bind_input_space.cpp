// Bindings for walking a circuit's input space (csrc/cpu/input_space.hpp): range and random input
// words and output-pattern counting. The public API is Circuit.evaluate_range / count_output_patterns
// and circuits.equivalent (python/deepcheap_native/circuit.py, circuits.py); arguments are re-checked here.
#include "python/pybind.hpp"

#include "cpu/input_space.hpp"
#include "cpu/threads.hpp"

using deepcheap::python::carray;
using deepcheap::python::shape_string;
namespace ci = deepcheap::circuit;

namespace {

int resolve_threads(int threads) { return threads <= 0 ? deepcheap::cpu::num_threads() : threads; }

py::array_t<uint64_t> new_words(int64_t rows, int64_t cols) {
  return py::array_t<uint64_t>({static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(cols)});
}

void check_packed(const carray<uint64_t>& words, int64_t count, int64_t max_rows) {
  DC_REQUIRE(words.ndim() == 2, "words has shape " + shape_string(words) + " but expected (n_outputs, n_words)");
  DC_REQUIRE(words.shape(0) <= max_rows, "words has " + std::to_string(words.shape(0)) +
                                          " rows but patterns hold at most " + std::to_string(max_rows) + " outputs");
  DC_REQUIRE(count >= 0 && count <= 64 * words.shape(1),
             "count is " + std::to_string(count) + " but words hold " + std::to_string(64 * words.shape(1)) + " vectors");
}

}  // namespace

void bind_input_space(py::module_& m) {
  m.def(
      "circuit_range_inputs",
      [](const carray<uint64_t>& high, unsigned r, int64_t n_inputs, int64_t n_words, int threads) {
        DC_REQUIRE(high.ndim() == 1 && high.shape(0) >= 1,
                   "high has shape " + shape_string(high) + " but expected (n_limbs,) with n_limbs >= 1");
        DC_REQUIRE(r < 64, "r is " + std::to_string(r) + " but expected 0 <= r < 64");
        DC_REQUIRE(n_inputs >= 0 && n_words >= 0, "n_inputs and n_words must be >= 0");
        auto out = new_words(n_inputs, n_words);
        const uint64_t* h = high.data();
        const int n_limbs = static_cast<int>(high.shape(0));
        uint64_t* o = out.mutable_data();
        threads = resolve_threads(threads);
        {
          py::gil_scoped_release release;  // plain C++ on arrays this call owns or holds a reference to
          ci::fill_range_inputs(h, n_limbs, r, n_inputs, n_words, o, threads);
        }
        return out;
      },
      py::arg("high"), py::arg("r"), py::arg("n_inputs"), py::arg("n_words"), py::arg("threads") = 0);

  m.def(
      "circuit_random_inputs",
      [](uint64_t seed, uint64_t first_word, int64_t n_inputs, int64_t n_words, int threads) {
        DC_REQUIRE(n_inputs >= 0 && n_words >= 0, "n_inputs and n_words must be >= 0");
        DC_REQUIRE(n_inputs <= 2 * int64_t(UINT32_MAX), "n_inputs is too large for the random-input counter");
        auto out = new_words(n_inputs, n_words);
        uint64_t* o = out.mutable_data();
        threads = resolve_threads(threads);
        {
          py::gil_scoped_release release;  // plain C++ on an array this call owns
          ci::fill_random_inputs(seed, first_word, n_inputs, n_words, o, threads);
        }
        return out;
      },
      py::arg("seed"), py::arg("first_word"), py::arg("n_inputs"), py::arg("n_words"), py::arg("threads") = 0);

  m.def(
      "circuit_pattern_values",
      [](const carray<uint64_t>& words, int64_t count, int threads) {
        check_packed(words, count, 64);
        py::array_t<uint64_t> values(static_cast<py::ssize_t>(count));
        const uint64_t* w = words.data();
        uint64_t* v = values.mutable_data();
        const int64_t rows = words.shape(0), cols = words.shape(1);
        threads = resolve_threads(threads);
        {
          py::gil_scoped_release release;  // words is kept alive by the caller's reference
          ci::output_pattern_values(w, rows, cols, count, v, threads);
        }
        return values;
      },
      py::arg("words"), py::arg("count"), py::arg("threads") = 0);

  m.def(
      "circuit_pattern_histogram",
      [](const carray<uint64_t>& words, int64_t count, py::array_t<uint64_t, py::array::c_style>& histogram) {
        check_packed(words, count, 24);
        DC_REQUIRE(histogram.ndim() == 1 && histogram.shape(0) == (py::ssize_t(1) << words.shape(0)),
                   "histogram has shape " + shape_string(histogram) + " but expected (" +
                    std::to_string(int64_t(1) << words.shape(0)) + ",)");
        DC_REQUIRE(histogram.writeable(), "histogram must be writeable");
        const uint64_t* w = words.data();
        uint64_t* h = histogram.mutable_data();
        const int64_t rows = words.shape(0), cols = words.shape(1);
        {
          py::gil_scoped_release release;  // both arrays are held by the caller
          ci::add_output_pattern_histogram(w, rows, cols, count, h);
        }
      },
      py::arg("words"), py::arg("count"), py::arg("histogram"));
}
