// Bindings for the markov area: alias-table construction, the batched sampler and histogram counting.
// The public API (validation with friendly errors, torch in/out, exact quantities) is
// python/deepcheap_native/markov.py and info.py; everything is re-checked here before the GIL goes.
#include "pybind.hpp"

#include <optional>
#include <vector>

#include "deepcheap/markov/alias.hpp"
#include "markov.hpp"
#include "threads.hpp"

using deepcheap::python::carray;
using deepcheap::python::require;
using deepcheap::python::shape_string;
namespace mk = deepcheap::markov;

namespace {

// States of a level with `cols` values use the smallest unsigned type that holds them.
int state_bytes(int64_t cols) { return cols <= 256 ? 1 : 2; }

// A fresh state array, or the caller's `out` after checking that it is exactly what would be made.
py::array new_states(int elem_bytes, std::vector<py::ssize_t> shape, const std::optional<py::array>& out) {
  const py::dtype dtype = elem_bytes == 1 ? py::dtype::of<uint8_t>() : py::dtype::of<uint16_t>();
  if (!out) return py::array(dtype, shape);
  const py::array& o = *out;
  bool same_shape = o.ndim() == static_cast<py::ssize_t>(shape.size());
  for (size_t d = 0; same_shape && d < shape.size(); ++d) same_shape = o.shape(d) == shape[d];
  std::string want = "(";
  for (size_t d = 0; d < shape.size(); ++d) want += (d ? ", " : "") + std::to_string(shape[d]);
  want += shape.size() == 1 ? ",)" : ")";
  require(same_shape, "out has shape " + shape_string(o) + " but expected " + want);
  require(o.dtype().is(dtype), "out has dtype " + std::string(py::str(o.dtype())) + " but expected " +
                                   std::string(py::str(dtype)));
  require((o.flags() & py::array::c_style) != 0 && o.writeable(), "out must be C-contiguous and writeable");
  return o;
}

// A table made by markov_alias_tables, re-checked: every alias index must be a valid column, so no
// table, however it was made, can send the sampler outside the next level's rows.
mk::Level checked_level(const carray<uint32_t>& t, const std::string& what) {
  require(t.ndim() == 2, what + " has shape " + shape_string(t) + " but expected (rows, cols)");
  const int64_t rows = t.shape(0), cols = t.shape(1);
  require(rows >= 1 && cols >= 1 && cols <= 65536,
          what + " has shape " + shape_string(t) + " but expected 1 to 65536 columns and at least one row");
  require(rows * cols < (int64_t(1) << 31), what + " has " + std::to_string(rows * cols) +
                                                " entries but the sampler supports fewer than 2^31");
  const uint32_t bits = deepcheap::alias_bits(static_cast<uint32_t>(cols));
  const uint32_t mask = (uint32_t(1) << bits) - 1u;
  const uint32_t* p = t.data();
  for (int64_t i = 0; i < rows * cols; ++i)
    if ((p[i] & mask) >= cols)  // the message is built only on failure: this loop is hot
      throw std::invalid_argument(what + " entry " + std::to_string(i) + " has alias " +
                                  std::to_string(p[i] & mask) + " but expected < " + std::to_string(cols));
  return mk::Level{p, static_cast<uint32_t>(rows), static_cast<uint32_t>(cols), bits};
}

// Chains per chunk. One table stays in L1/L2 whatever the chunk, so a small chunk keeps the chunk's
// states and words in L1. Distinct tables (a hierarchy) are streamed into the cache once per level
// and chunk, so large chunks amortise each table over many lookups (64 distinct 256-state levels, one
// thread, paths: 142 M/s with 2048 chains per chunk, 261 with 8192, 368 with 32768). Either way every
// thread gets chunks of equal size.
int64_t auto_chunk(const std::vector<mk::Level>& steps, int64_t n_chains) {
  bool one_table = true;
  for (const auto& s : steps) one_table = one_table && s.table == steps[0].table;
  const int64_t largest = one_table ? 512 : 32768;
  const int64_t threads = deepcheap::cpu::num_threads();
  const int64_t per_thread = (n_chains + threads - 1) / threads;
  const int64_t pieces = (per_thread + largest - 1) / largest;
  const int64_t chunk = pieces > 0 ? ((per_thread + pieces - 1) / pieces + 15) / 16 * 16 : 16;
  return chunk < 16 ? 16 : chunk;
}

const char* kind_of(const py::array& a, const std::string& name) {
  if (a.dtype().is(py::dtype::of<uint8_t>())) return "B";
  if (a.dtype().is(py::dtype::of<uint16_t>())) return "H";
  if (a.dtype().is(py::dtype::of<uint32_t>())) return "I";
  if (a.dtype().is(py::dtype::of<int32_t>())) return "i";
  if (a.dtype().is(py::dtype::of<int64_t>())) return "q";
  throw std::invalid_argument(name + " has dtype " + std::string(py::str(a.dtype())) +
                              " but expected uint8, uint16, uint32, int32 or int64");
}

void check_samples(const py::array& a, const std::string& name) {
  require(a.ndim() == 1, name + " has shape " + shape_string(a) + " but expected (n,)");
  require((a.flags() & py::array::c_style) != 0, name + " must be C-contiguous");
}

}  // namespace

void bind_markov(py::module_& m) {
  m.def(
      "markov_alias_tables",
      [](carray<double> p, double tolerance, const std::string& name) {
        require(p.ndim() == 2, name + " has shape " + shape_string(p) + " but expected (rows, cols)");
        const int64_t rows = p.shape(0), cols = p.shape(1);
        carray<uint32_t> out({static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(cols)});
        const double* src = p.data();
        uint32_t* dst = out.mutable_data();
        {
          // Safe: reads and writes only buffers held alive by this frame; errors are C++ exceptions,
          // rethrown after the GIL is re-acquired.
          py::gil_scoped_release release;
          mk::build_alias_tables(src, rows, cols, tolerance, name.c_str(), dst);
        }
        return out;
      },
      py::arg("p"), py::arg("tolerance"), py::arg("name"));

  m.def(
      "markov_sample",
      [](const std::vector<carray<uint32_t>>& tables, carray<int64_t> step_levels,
         carray<uint32_t> init_table, std::optional<carray<uint32_t>> init_states, int64_t n_chains,
         uint64_t seed, const std::string& keep, int64_t chunk, std::optional<py::array> out_arg,
         uint64_t first_chain, uint64_t first_step) -> py::object {
        require(keep == "final" || keep == "path", "keep is '" + keep + "' but expected 'final' or 'path'");
        require(n_chains >= 0, "n_chains is " + std::to_string(n_chains) + " but expected >= 0");
        require(step_levels.ndim() == 1,
                "step_levels has shape " + shape_string(step_levels) + " but expected (n_steps,)");
        std::vector<mk::Level> levels;
        for (size_t k = 0; k < tables.size(); ++k)
          levels.push_back(checked_level(tables[k], "table " + std::to_string(k)));
        const mk::Level init = checked_level(init_table, "init_table");
        require(init.rows == 1, "init_table has " + std::to_string(init.rows) + " rows but expected 1");
        const int64_t n_steps = step_levels.shape(0);
        require(n_steps < (int64_t(1) << 34) && first_step + uint64_t(n_steps) <= (uint64_t(1) << 34),
                "first_step + n_steps is " + std::to_string(first_step) + " + " + std::to_string(n_steps) +
                    " but expected <= 2^34");
        require(first_chain <= ~uint64_t(0) - uint64_t(n_chains),
                "first_chain + n_chains is " + std::to_string(first_chain) + " + " + std::to_string(n_chains) +
                    " but expected <= 2^64 - 1");
        std::vector<mk::Level> steps(n_steps);
        std::vector<int64_t> cols_at(n_steps + 1);  // the number of states at each path position
        cols_at[0] = init.cols;
        for (int64_t t = 0; t < n_steps; ++t) {
          const int64_t k = step_levels.at(t);
          if (k < 0 || k >= static_cast<int64_t>(levels.size()))  // messages built only on failure
            throw std::invalid_argument("step_levels[" + std::to_string(t) + "] is " + std::to_string(k) +
                                        " but expected 0 <= k < " + std::to_string(levels.size()));
          steps[t] = levels[k];
          if (steps[t].rows != cols_at[t])
            throw std::invalid_argument("step " + std::to_string(t) + " uses a table with " +
                                        std::to_string(steps[t].rows) + " rows but the chain has " +
                                        std::to_string(cols_at[t]) + " states there");
          cols_at[t + 1] = steps[t].cols;
        }
        const uint32_t* init_ptr = nullptr;
        if (init_states) {
          require(init_states->ndim() == 1 && init_states->shape(0) == n_chains,
                  "init_states has shape " + shape_string(*init_states) + " but expected (" +
                      std::to_string(n_chains) + ",)");
          init_ptr = init_states->data();
          for (int64_t i = 0; i < n_chains; ++i)
            if (init_ptr[i] >= cols_at[0])
              throw std::invalid_argument("init_states[" + std::to_string(i) + "] is " +
                                          std::to_string(init_ptr[i]) + " but expected < " +
                                          std::to_string(cols_at[0]));
        }

        // Outputs: final states, a (n_chains, n_steps + 1) path when one dtype fits every position,
        // else one (n_chains,) array per position.
        std::vector<mk::Store> stores(n_steps + 1, mk::Store{nullptr, 0, 1});
        py::object result;
        if (keep == "final") {
          const int b = state_bytes(cols_at[n_steps]);
          py::array out = new_states(b, {static_cast<py::ssize_t>(n_chains)}, out_arg);
          stores[n_steps] = mk::Store{static_cast<unsigned char*>(out.mutable_data()), b, b};
          result = out;
        } else {
          bool same = true;
          for (int64_t t = 0; t <= n_steps; ++t)
            same = same && state_bytes(cols_at[t]) == state_bytes(cols_at[0]);
          if (same) {
            const int b = state_bytes(cols_at[0]);
            const std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(n_chains),
                                                 static_cast<py::ssize_t>(n_steps + 1)};
            py::array out = new_states(b, shape, out_arg);
            auto* base = static_cast<unsigned char*>(out.mutable_data());
            for (int64_t t = 0; t <= n_steps; ++t) stores[t] = mk::Store{base + t * b, (n_steps + 1) * b, b};
            result = out;
          } else {
            require(!out_arg, "out is not supported when the levels need different state dtypes");
            py::list outs;
            for (int64_t t = 0; t <= n_steps; ++t) {
              const int b = state_bytes(cols_at[t]);
              py::array out = new_states(b, {static_cast<py::ssize_t>(n_chains)}, std::nullopt);
              stores[t] = mk::Store{static_cast<unsigned char*>(out.mutable_data()), b, b};
              outs.append(out);
            }
            result = outs;
          }
        }
        if (chunk <= 0) chunk = auto_chunk(steps, n_chains);
        {
          // Safe: the kernel reads the tables and init states and writes the output buffers, all kept
          // alive by this frame (tables, init_states, result); it touches no Python object.
          py::gil_scoped_release release;
          DC_DISPATCH(markov_sample)(steps.data(), n_steps, init, init_ptr, stores.data(), n_chains, seed,
                                     chunk, first_chain, first_step);
        }
        return result;
      },
      py::arg("tables"), py::arg("step_levels"), py::arg("init_table"), py::arg("init_states"),
      py::arg("n_chains"), py::arg("seed"), py::arg("keep"), py::arg("chunk") = 0,
      py::arg("out") = py::none(), py::arg("first_chain") = 0, py::arg("first_step") = 0);

  m.def(
      "info_count",
      [](py::array x, int64_t k) {
        check_samples(x, "x");
        const char* kind = kind_of(x, "x");
        require(k >= 1 && k <= (int64_t(1) << 28),
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
        require(x.shape(0) == y.shape(0), "x has " + std::to_string(x.shape(0)) + " samples but y has " +
                                              std::to_string(y.shape(0)));
        const char* xk = kind_of(x, "x");
        const char* yk = kind_of(y, "y");
        require(kx >= 1 && ky >= 1 && kx * ky <= (int64_t(1) << 28),
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
