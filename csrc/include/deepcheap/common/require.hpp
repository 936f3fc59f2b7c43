// DC_REQUIRE(ok, message): throw std::invalid_argument(message) when ok is false, the message built only
// then. The host-side argument checks of every binding and plan use it: a message such as
// "x has dtype " + str(x.dtype) + " but expected float32 or float64", built on every call by the function
// it replaces, cost each small call microseconds of string work for nothing (issue 26, small calls).
// Host code only (never in a DC_HD kernel function).
#pragma once

#include <stdexcept>
#include <string>

#define DC_REQUIRE(ok, ...)                                          \
  do {                                                               \
    if (!(ok)) throw std::invalid_argument(std::string(__VA_ARGS__)); \
  } while (0)
