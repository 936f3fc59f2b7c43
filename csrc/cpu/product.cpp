// CPU driver for product-network forward passes: the one place that picks the SIMD target's kernel.
#include "product.hpp"

#include "deepcheap/common/interrupt.hpp"  // run_chunks: Ctrl-C between chunks
#include "threads.hpp"

namespace deepcheap::cpu {

namespace {

// Rows in interruptible chunks (deepcheap/common/interrupt.hpp): every row is computed from its own
// inputs alone, so chunks never change a result, and an interrupted call has written out[] for the rows
// of every completed chunk and left the others untouched. A row costs about n (deep) or 2^n (shallow)
// neuron evaluations. Chunks are multiples of what the kernels' threads share evenly (blocks of 64 rows,
// 16 blocks a piece for the deep walk, one for the shallow one).
template <class T, class Kernel>
int64_t forward_chunks(const plan::ProductForward<T>& p, Kernel kernel) {
  const bool shallow = p.kind == plan::ProductKind::shallow;
  const double neurons = shallow ? double(int64_t(1) << p.n) : double(4 * p.n);
  const int64_t quantum = (shallow ? 64 : 1024) * int64_t(num_threads());
  int64_t nonfinite = 0;
  interrupt::run_chunks(p.batch, interrupt::first_chunk(neurons * 4.0), [&](int64_t begin, int64_t end) {
    plan::ProductForward<T> piece = p;
    piece.x = p.x + begin * p.n;
    piece.out = p.out + begin;
    piece.batch = end - begin;
    nonfinite += kernel(piece);
  }, quantum);
  return nonfinite;
}

}  // namespace

int64_t product_forward(Driver, const plan::ProductForward<float>& p, int device) {
  Driver::check_device(device);
  return forward_chunks(p, DC_DISPATCH(product_forward_f32));
}

int64_t product_forward(Driver, const plan::ProductForward<double>& p, int device) {
  Driver::check_device(device);
  return forward_chunks(p, DC_DISPATCH(product_forward_f64));
}

void product_activation(Driver, const float* z, int64_t count, int32_t activation, float* out) {
  DC_DISPATCH(product_activation_f32)(z, count, activation, out);
}

void product_activation(Driver, const double* z, int64_t count, int32_t activation, double* out) {
  DC_DISPATCH(product_activation_f64)(z, count, activation, out);
}

}  // namespace deepcheap::cpu
