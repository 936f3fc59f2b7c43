// Binding of the Markov sampler, written once for every driver (CPU in bind_markov.cpp, CUDA in
// bind_cuda.cpp): convert the arguments, plan and check the call (csrc/plan/markov.hpp), allocate the
// outputs the plan asks for, call the driver's markov_sample with the GIL released.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "plan/markov.hpp"
#include "python/pybind.hpp"

namespace deepcheap::python {

// A fresh state array, or the caller's `out` after checking that it is exactly what would be made.
inline py::array new_markov_states(int elem_bytes, const std::vector<int64_t>& dims, const std::optional<py::array>& out) {
  const py::dtype dtype = elem_bytes == 1 ? py::dtype::of<uint8_t>() : py::dtype::of<uint16_t>();
  const std::vector<py::ssize_t> shape(dims.begin(), dims.end());
  if (!out) return py::array(dtype, shape);
  const py::array& o = *out;
  bool same_shape = o.ndim() == static_cast<py::ssize_t>(shape.size());
  for (size_t d = 0; same_shape && d < shape.size(); ++d) same_shape = o.shape(d) == shape[d];
  if (!same_shape) {
    std::string want = "(";
    for (size_t d = 0; d < shape.size(); ++d) want += (d ? ", " : "") + std::to_string(shape[d]);
    want += shape.size() == 1 ? ",)" : ")";
    throw std::invalid_argument("out has shape " + shape_string(o) + " but expected " + want);
  }
  DC_REQUIRE(deepcheap::python::same_dtype(o.dtype(), dtype),
             "out has dtype " + std::string(py::str(o.dtype())) + " but expected " + std::string(py::str(dtype)));
  DC_REQUIRE((o.flags() & py::array::c_style) != 0 && o.writeable(), "out must be C-contiguous and writeable");
  return o;
}

inline markov::Level markov_level(const carray<uint32_t>& t, const std::string& what) {
  return plan::checked_level(t.data(), t.ndim(), t.ndim() == 2 ? t.shape(0) : 0, t.ndim() == 2 ? t.shape(1) : 0, what);
}

// The checked plan of a markov_sample call (the argument conversion every driver's binding shares).
inline plan::MarkovSample plan_markov_call(const std::vector<carray<uint32_t>>& tables,
                                           const carray<int64_t>& step_levels, const carray<uint32_t>& init_table,
                                           const std::optional<carray<uint32_t>>& init_states, int64_t n_chains,
                                           uint64_t seed, const std::string& keep, uint64_t first_chain,
                                           uint64_t first_step, int64_t chunk) {
  DC_REQUIRE(keep == "final" || keep == "path", "keep is '" + keep + "' but expected 'final' or 'path'");
  DC_REQUIRE(step_levels.ndim() == 1, "step_levels has shape " + shape_string(step_levels) + " but expected (n_steps,)");
  std::vector<markov::Level> levels;
  for (size_t k = 0; k < tables.size(); ++k) levels.push_back(markov_level(tables[k], "table " + std::to_string(k)));
  const markov::Level init = markov_level(init_table, "init_table");
  if (init_states)
    DC_REQUIRE(init_states->ndim() == 1,
               "init_states has shape " + shape_string(*init_states) + " but expected (" + std::to_string(n_chains) + ",)");
  return plan::plan_markov_sample(levels, step_levels.data(), step_levels.shape(0), init,
                                  init_states ? init_states->data() : nullptr, init_states ? init_states->shape(0) : 0,
                                  n_chains, seed, keep == "path", first_chain, first_step, chunk);
}

template <class Driver>
void define_markov_sample(py::module_& m) {
  m.def(
      "markov_sample",
      [](const std::vector<carray<uint32_t>>& tables, carray<int64_t> step_levels, carray<uint32_t> init_table,
         std::optional<carray<uint32_t>> init_states, int64_t n_chains, uint64_t seed, const std::string& keep,
         int64_t chunk, std::optional<py::array> out_arg, uint64_t first_chain, uint64_t first_step,
         int device) -> py::object {
        plan::MarkovSample p = plan_markov_call(tables, step_levels, init_table, init_states, n_chains, seed, keep,
                                                first_chain, first_step, chunk);
        DC_REQUIRE(!out_arg || p.array_shapes.size() == 1,
                   "out is not supported when the levels need different state dtypes");
        std::vector<unsigned char*> bases;
        py::list arrays;
        for (size_t a = 0; a < p.array_shapes.size(); ++a) {
          py::array out = new_markov_states(p.array_bytes[a], p.array_shapes[a], out_arg);
          bases.push_back(static_cast<unsigned char*>(out.mutable_data()));
          arrays.append(out);
        }
        plan::set_outputs(p, bases);
        {
          // Safe: the driver reads the tables and init states and writes the output arrays, all kept
          // alive by this frame (tables, init_states, arrays); it touches no Python object.
          py::gil_scoped_release release;
          markov_sample(Driver{}, p, device);
        }
        if (p.output == plan::MarkovSample::Output::path_per_position) return std::move(arrays);
        return arrays[0];
      },
      py::arg("tables"), py::arg("step_levels"), py::arg("init_table"), py::arg("init_states"), py::arg("n_chains"),
      py::arg("seed"), py::arg("keep"), py::arg("chunk") = 0, py::arg("out") = py::none(), py::arg("first_chain") = 0,
      py::arg("first_step") = 0, py::arg("device") = 0);
}

}  // namespace deepcheap::python
