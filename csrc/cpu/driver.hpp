// The CPU driver tag. Every CPU driver entry takes it first, the CUDA drivers take
// deepcheap::cuda::Driver: the binding templates in csrc/python/bind_<area>.hpp call entries
// unqualified (product_forward(Driver{}, ...)), and argument-dependent lookup picks the driver.
#pragma once

#include <stdexcept>
#include <string>

namespace deepcheap::cpu {

struct Driver {
  static constexpr const char* name = "cpu";
  // The CPU module has one device, number 0.
  static void check_device(int device) {
    if (device != 0)
      throw std::invalid_argument("the CPU driver has one device, 0; got device " + std::to_string(device));
  }
};

}  // namespace deepcheap::cpu
