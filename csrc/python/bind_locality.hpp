// Bindings of the Hamiltonian-network energies, written once for every driver (CPU in bind_locality.cpp,
// CUDA in bind_cuda.cpp): convert the site network's polynomial and the lattices, check them
// (plan/locality.hpp, plan/product.hpp), call the driver's locality_energy with the GIL released.
#pragma once

#include <string>
#include <vector>

#include "python/pybind.hpp"
#include "plan/locality.hpp"
#include "plan/product.hpp"

namespace deepcheap::python {

template <class Driver, class T>
py::array locality_energy_typed(const py::array_t<int8_t, py::array::c_style>& spins, deepcheap::plan::SiteNetwork<T> net,
                       const std::vector<T>& coef, const std::vector<T>& bias, py::object out, int device) {
  const py::ssize_t batch = spins.shape(0);
  py::array_t<T> result;
  if (out.is_none()) {
    result = py::array_t<T>(batch);
  } else {
    auto o = py::cast<py::array>(out);
    DC_REQUIRE(deepcheap::python::has_dtype<T>(o), "out has dtype " + std::string(py::str(o.dtype())) +
                                                    " but expected " + std::string(py::str(py::dtype::of<T>())));
    DC_REQUIRE(o.ndim() == 1 && o.shape(0) == batch,
               "out has shape " + shape_string(o) + " but expected (" + std::to_string(batch) + ",)");
    DC_REQUIRE((o.flags() & py::array::c_style) && (o.flags() & deepcheap::python::aligned_input) && o.writeable(),
               "out must be C-contiguous, aligned and writeable");
    result = py::cast<py::array_t<T>>(o);
  }
  net.coef = coef.data();
  net.bias = bias.data();
  const deepcheap::plan::LocalityEnergy<T> p{net, spins.data(), batch, spins.shape(1), result.mutable_data()};
  int64_t bad = 0;
  {
    // Safe: the driver reads spins and the network's vectors and writes result, all kept alive by this
    // frame; no Python objects touched.
    py::gil_scoped_release release;
    bad = locality_energy(Driver{}, p, device);
  }
  DC_REQUIRE(bad == 0, "spins must hold only -1 and +1, but " + std::to_string(bad) + " entries are neither");
  return result;
}

template <class Driver>
void define_locality(py::module_& m) {
  m.def(
      "locality_energy",
      [](py::array spins_any, py::array_t<int32_t, py::array::c_style | py::array::forcecast> dr,
         py::array_t<int32_t, py::array::c_style | py::array::forcecast> dc,
         py::array_t<int32_t, py::array::c_style | py::array::forcecast> start,
         py::array_t<double, py::array::c_style | py::array::forcecast> coef,
         py::array_t<double, py::array::c_style | py::array::forcecast> bias,
         py::array_t<int32_t, py::array::c_style | py::array::forcecast> extra_layers, int32_t activation,
         bool stable, double scale, double gate_coef, double carry_coef, double constant, bool float64,
         py::object out, int device) -> py::array {
        DC_REQUIRE(deepcheap::python::has_dtype<int8_t>(spins_any),
                   "spins has dtype " + std::string(py::str(spins_any.dtype())) + " but expected int8");
        DC_REQUIRE(spins_any.ndim() == 3 && spins_any.shape(1) == spins_any.shape(2) && spins_any.shape(1) >= 1,
                   "spins has shape " + shape_string(spins_any) + " but expected (batch, L, L)");
        DC_REQUIRE(spins_any.flags() & py::array::c_style, "spins must be C-contiguous");
        auto spins = py::cast<py::array_t<int8_t, py::array::c_style>>(spins_any);
        const int64_t monomials = coef.size();
        DC_REQUIRE(dr.ndim() == 1 && dc.ndim() == 1 && dr.size() == dc.size(),
                   "dr and dc must be 1-d of equal length, got " + shape_string(dr) + " and " + shape_string(dc));
        DC_REQUIRE(start.ndim() == 1 && start.size() == monomials + 1,
                   "start has shape " + shape_string(start) + " but expected (" + std::to_string(monomials + 1) + ",)");
        DC_REQUIRE(bias.size() == monomials && extra_layers.size() == monomials,
                   "coef, bias and extra_layers must have one entry per monomial (" + std::to_string(monomials) + ")");
        deepcheap::plan::check_site_network(monomials, start.data(), dr.size(), activation, extra_layers.data());
        int64_t max_degree = 1;
        for (int64_t k = 0; k < monomials; ++k) {
          const int64_t n = start.data()[k + 1] - start.data()[k];
          if (n > 0)
            deepcheap::plan::check_product_forward(deepcheap::plan::ProductKind::deep, n, activation, stable, scale,
                                                   bias.data()[k], gate_coef, carry_coef, extra_layers.data()[k]);
          max_degree = n > max_degree ? n : max_degree;
        }
        auto build = [&](auto zero) {
          using T = decltype(zero);
          deepcheap::plan::SiteNetwork<T> net{activation,    stable,       T(scale),   T(gate_coef), T(carry_coef),
                                              T(constant),   monomials,    start.data(), dr.data(),  dc.data(),
                                              nullptr,       nullptr,      extra_layers.data(), max_degree};
          std::vector<T> c(coef.data(), coef.data() + monomials), b(bias.data(), bias.data() + monomials);
          return locality_energy_typed<Driver, T>(spins, net, c, b, out, device);
        };
        return float64 ? build(double(0)) : build(float(0));
      },
      py::arg("spins"), py::arg("dr"), py::arg("dc"), py::arg("start"), py::arg("coef"), py::arg("bias"),
      py::arg("extra_layers"), py::arg("activation"), py::arg("stable"), py::arg("scale"), py::arg("gate_coef"),
      py::arg("carry_coef"), py::arg("constant"), py::arg("float64"), py::arg("out") = py::none(),
      py::arg("device") = 0,
      "Sum over the sites of each (L, L) int8 +-1 lattice of the site polynomial: monomial m the deep product "
      "tree over the spins at offsets (dr, dc)[start[m]:start[m+1]] times coef[m], plus constant; returns (batch,).");
}

}  // namespace deepcheap::python
