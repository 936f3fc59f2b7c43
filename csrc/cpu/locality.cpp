// CPU driver for Hamiltonian-network energies: lattices in interruptible chunks, the SIMD target's kernel.
#include "locality.hpp"

#include "deepcheap/common/interrupt.hpp"  // run_chunks: Ctrl-C between chunks
#include "threads.hpp"

namespace deepcheap::cpu {

namespace {

// Lattices in interruptible chunks (deepcheap/common/interrupt.hpp): each lattice's energy depends on
// its own spins alone, so chunks never change a result; an interrupted call has written out[] for the
// lattices of every completed chunk. A lattice costs about L^2 * (4 neurons per input of each monomial).
template <class T, class Kernel>
int64_t energy_chunks(const plan::LocalityEnergy<T>& p, Kernel kernel) {
  const int64_t sites = p.L * p.L;
  const double cost = double(sites) * double(4 * (p.net.start[p.net.monomials] + 1));
  const int64_t grain = sites >= 4096 ? 1 : 4096 / sites;
  int64_t bad = 0;
  interrupt::run_chunks(p.batch, interrupt::first_chunk(cost), [&](int64_t begin, int64_t end) {
    plan::LocalityEnergy<T> piece = p;
    piece.spins = p.spins + begin * sites;
    piece.out = p.out + begin;
    piece.batch = end - begin;
    bad += kernel(piece);
  }, grain * int64_t(num_threads()));
  return bad;
}

}  // namespace

int64_t locality_energy(Driver, const plan::LocalityEnergy<float>& p, int device) {
  Driver::check_device(device);
  return energy_chunks(p, DC_DISPATCH(locality_energy_f32));
}

int64_t locality_energy(Driver, const plan::LocalityEnergy<double>& p, int device) {
  Driver::check_device(device);
  return energy_chunks(p, DC_DISPATCH(locality_energy_f64));
}

}  // namespace deepcheap::cpu
