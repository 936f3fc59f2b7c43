// Hamiltonian-network energies (device-neutral layer, issue 23 §1): the argument record that the CPU
// (and CUDA) drivers take, and the checks the bindings run before it reaches a driver.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace deepcheap::plan {

// The site network as a polynomial: monomial m reads the spins at offsets [start[m], start[m+1]) of
// (dr, dc) from its site, runs the deep product tree (gates, carries, extra_layers[m] carries at bias[m])
// and adds coef[m] times the tree's output to constant, monomial by monomial.
template <class T>
struct SiteNetwork {
  int32_t activation;  // deepcheap::product::Activation
  bool stable;
  T lambda, gate_coef, carry_coef, constant;
  int64_t monomials;
  const int32_t* start;  // monomials + 1 entries
  const int32_t* dr;
  const int32_t* dc;
  const T* coef;
  const T* bias;
  const int32_t* extra_layers;
  int64_t max_degree;  // max over m of start[m+1] - start[m]: the scratch one site needs
};

// spins: (batch, L, L) int8 holding -1/+1, row-major; out: (batch,) the sum over sites of the site
// network. Drivers return how many spins were neither -1 nor +1 (out is then unspecified).
template <class T>
struct LocalityEnergy {
  SiteNetwork<T> net;
  const int8_t* spins;
  int64_t batch, L;
  T* out;
};

// Throws std::invalid_argument (expected versus got) for a record a driver must never see.
inline void check_site_network(int64_t monomials, const int32_t* start, int64_t offsets, int32_t activation,
                               const int32_t* extra_layers) {
  if (activation < 0 || activation > 4)
    throw std::invalid_argument("activation code must be 0..4, got " + std::to_string(activation));
  if (monomials < 0 || start[0] != 0 || start[monomials] != offsets)
    throw std::invalid_argument("start must run from 0 to the number of offsets (" + std::to_string(offsets) + ")");
  for (int64_t m = 0; m < monomials; ++m) {
    if (start[m + 1] < start[m])
      throw std::invalid_argument("start must be non-decreasing, got start[" + std::to_string(m + 1) + "] = " +
                                  std::to_string(start[m + 1]) + " < " + std::to_string(start[m]));
    if (extra_layers[m] < 0 || extra_layers[m] > 64)
      throw std::invalid_argument("extra_layers must be in [0, 64], got " + std::to_string(extra_layers[m]));
  }
}

}  // namespace deepcheap::plan
