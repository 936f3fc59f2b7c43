// Bindings for the product area (filled in by its issue).
#include "pybind.hpp"

void bind_product(py::module_& m) { (void)m; }
