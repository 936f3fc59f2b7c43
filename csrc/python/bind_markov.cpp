// Bindings for the markov area (filled in by its issue).
#include "pybind.hpp"

void bind_markov(py::module_& m) { (void)m; }
