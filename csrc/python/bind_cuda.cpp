// deepcheap_native._cuda (nvcc build, real GPU) and deepcheap_native._cuda_emulated (the same .cu
// driver sources compiled as plain C++ through csrc/cuda/emulate.hpp): the binding templates of each
// area (bind_<area>.hpp) instantiated with the CUDA driver tag, plus what the runtime sees, plus the
// zero-copy entries (`*_resident`): they take device addresses (integers from __cuda_array_interface__,
// checked in python/deepcheap_native/cuda.py) and read and write them in place.
// New areas add one define_<area><deepcheap::cuda::Driver>(m) line to bind_cuda_module below.
#include <memory>
#include <vector>

#include "python/bind_circuit.hpp"
#include "python/bind_cluster.hpp"
#include "python/bind_ising.hpp"
#include "python/bind_locality.hpp"
#include "python/bind_markov.hpp"
#include "python/bind_product.hpp"
#include "python/bind_random.hpp"
#include "python/bind_relu.hpp"
#include "cuda/circuit.hpp"
#include "cuda/driver.hpp"
#include "cuda/ising.hpp"
#include "cuda/ising_cluster.hpp"
#include "cuda/locality.hpp"
#include "cuda/markov.hpp"
#include "cuda/memory.hpp"
#include "cuda/product.hpp"
#include "cuda/random.hpp"
#include "cuda/relu.hpp"

namespace {

namespace cuda = deepcheap::cuda;
namespace plan = deepcheap::plan;

int no_threads() { return 1; }  // threads are a CPU notion; the CUDA circuit ignores them

template <class T>
T* address(uintptr_t a) {
  return reinterpret_cast<T*>(a);
}

template <class T>
void product_resident(plan::ProductKind kind, uintptr_t x, int64_t batch, int64_t n, int32_t activation, bool stable,
                      double scale, double bias, double gate_coef, double carry_coef, int32_t extra_layers,
                      uintptr_t out, int device) {
  const plan::ProductForward<T> p{kind,      address<const T>(x), batch,        n,           activation,
                                  stable,    T(scale),            T(bias),      T(gate_coef), T(carry_coef),
                                  extra_layers, address<T>(out)};
  int64_t nonfinite = 0;
  {
    // Safe: device memory kept alive by the Python caller (the arrays it took the addresses from).
    py::gil_scoped_release release;
    nonfinite = product_forward(cuda::Driver{}, p, device, true);
  }
  plan::check_product_nonfinite(nonfinite);
}

// ---- DLPack export of device memory (the DLPack 0.8 ABI, unversioned capsule "dltensor") -------------
struct DLDevice {
  int32_t device_type;  // 1 CPU, 2 CUDA
  int32_t device_id;
};
struct DLDataType {
  uint8_t code;  // 0 int, 1 uint, 2 float, 6 bool
  uint8_t bits;
  uint16_t lanes;
};
struct DLTensor {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides;
  uint64_t byte_offset;
};
struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(DLManagedTensor*);
};
// What a capsule keeps alive: the memory and the shape array the DLTensor points at.
struct DLPackContext {
  std::shared_ptr<cuda::DeviceMemory> memory;
  std::vector<int64_t> shape;
  DLManagedTensor managed;
};
void dlpack_deleter(DLManagedTensor* t) { delete static_cast<DLPackContext*>(t->manager_ctx); }
void dlpack_capsule_destructor(PyObject* capsule) {
  // A consumer renames the capsule to "used_dltensor" and calls the deleter itself; otherwise it is ours.
  if (PyCapsule_IsValid(capsule, "dltensor")) {
    auto* t = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule, "dltensor"));
    if (t && t->deleter) t->deleter(t);
  }
}

py::capsule dlpack_capsule(const std::shared_ptr<cuda::DeviceMemory>& memory, const std::vector<int64_t>& shape,
                           int code, int bits) {
  DC_REQUIRE(code == 0 || code == 1 || code == 2 || code == 6, "DLPack type code must be 0, 1, 2 or 6");
  auto* ctx = new DLPackContext{memory, shape, {}};
  DLTensor& t = ctx->managed.dl_tensor;
  t.data = memory->data();
  // The emulated device's memory is host memory: it says so, so CPU consumers (numpy) can take it.
  t.device = DLDevice{cuda::is_emulated() ? 1 : 2, cuda::is_emulated() ? 0 : memory->device()};
  t.ndim = int32_t(ctx->shape.size());
  t.dtype = DLDataType{uint8_t(code), uint8_t(bits), 1};
  t.shape = ctx->shape.data();
  t.strides = nullptr;  // C-contiguous
  t.byte_offset = 0;
  ctx->managed.manager_ctx = ctx;
  ctx->managed.deleter = &dlpack_deleter;
  PyObject* capsule = PyCapsule_New(&ctx->managed, "dltensor", &dlpack_capsule_destructor);
  if (!capsule) {
    delete ctx;
    throw py::error_already_set();
  }
  return py::reinterpret_steal<py::capsule>(capsule);
}

void bind_resident(py::module_& m) {
  py::class_<cuda::DeviceMemory, std::shared_ptr<cuda::DeviceMemory>>(m, "DeviceMemory", py::module_local())
      .def(py::init([](int64_t bytes, int device) {
             return std::make_shared<cuda::DeviceMemory>(bytes, device, "DeviceArray (cudaMalloc)");
           }),
           py::arg("bytes"), py::arg("device"))
      .def_property_readonly("address", [](const cuda::DeviceMemory& d) { return reinterpret_cast<uintptr_t>(d.data()); })
      .def_property_readonly("bytes", &cuda::DeviceMemory::bytes)
      .def_property_readonly("device", &cuda::DeviceMemory::device)
      .def("copy_from_host",
           [](cuda::DeviceMemory& d, py::array a) {
             DC_REQUIRE((a.flags() & py::array::c_style) != 0, "the host array must be C-contiguous");
             DC_REQUIRE(static_cast<int64_t>(a.nbytes()) == d.bytes(),
                        "the host array has " + std::to_string(a.nbytes()) + " bytes but the device memory " +
                         std::to_string(d.bytes()));
             const void* src = a.data();
             py::gil_scoped_release release;
             d.copy_from_host(src, d.bytes());
           })
      .def(
          "dlpack",
          [](const std::shared_ptr<cuda::DeviceMemory>& d, const std::vector<int64_t>& shape, int code, int bits) {
            int64_t count = 1;
            for (int64_t n : shape) count *= n;
            DC_REQUIRE(count * (bits / 8) <= d->bytes(), "the shape needs more bytes than the device memory holds");
            return dlpack_capsule(d, shape, code, bits);
          },
          py::arg("shape"), py::arg("code"), py::arg("bits"),
          "A DLPack capsule (\"dltensor\") viewing this memory as a C-contiguous array.")
      .def_property_readonly("dlpack_device", [](const cuda::DeviceMemory& d) {
        return py::make_tuple(cuda::is_emulated() ? 1 : 2, cuda::is_emulated() ? 0 : d.device());
      })
      .def("copy_to_host", [](const cuda::DeviceMemory& d, py::array a) {
        DC_REQUIRE((a.flags() & py::array::c_style) != 0 && a.writeable(), "the host array must be C-contiguous and writeable");
        DC_REQUIRE(static_cast<int64_t>(a.nbytes()) == d.bytes(),
                   "the host array has " + std::to_string(a.nbytes()) + " bytes but the device memory " +
                    std::to_string(d.bytes()));
        void* dst = a.mutable_data();
        py::gil_scoped_release release;
        d.copy_to_host(dst, d.bytes());
      });
  m.def(
      "check_address",
      [](uintptr_t at, int device, const std::string& name) {
        cuda::check_device_address(address<const void>(at), device, name.c_str());
      },
      py::arg("address"), py::arg("device"), py::arg("name"),
      "ValueError unless address is device (or managed) memory of `device`.");
  m.def(
      "product_resident",
      [](bool deep, uintptr_t x, int64_t batch, int64_t n, bool is_double, int32_t activation, bool stable,
         double scale, double bias, double gate_coef, double carry_coef, int32_t extra_layers, uintptr_t out,
         int device) {
        const auto kind = deep ? plan::ProductKind::deep : plan::ProductKind::shallow;
        DC_REQUIRE(batch >= 0, "batch must be >= 0, got " + std::to_string(batch));
        plan::check_product_forward(kind, n, activation, stable, scale, bias, gate_coef, carry_coef, extra_layers);
        if (is_double)
          product_resident<double>(kind, x, batch, n, activation, stable, scale, bias, gate_coef, carry_coef,
                                   extra_layers, out, device);
        else
          product_resident<float>(kind, x, batch, n, activation, stable, scale, bias, gate_coef, carry_coef,
                                  extra_layers, out, device);
      },
      py::arg("deep"), py::arg("x"), py::arg("batch"), py::arg("n"), py::arg("is_double"), py::arg("activation"),
      py::arg("stable"), py::arg("scale"), py::arg("bias"), py::arg("gate_coef"), py::arg("carry_coef"),
      py::arg("extra_layers"), py::arg("out"), py::arg("device"),
      "Product forward on device arrays: x (batch, n) and out (batch,) are device addresses.");
  m.def(
      "philox4x32_resident",
      [](uintptr_t counter, uintptr_t key, uintptr_t out, int64_t n, int device) {
        DC_REQUIRE(n >= 0, "n must be >= 0, got " + std::to_string(n));
        py::gil_scoped_release release;
        philox4x32(cuda::Driver{}, address<const uint32_t>(counter), address<const uint32_t>(key),
                   address<uint32_t>(out), n, device, true);
      },
      py::arg("counter"), py::arg("key"), py::arg("out"), py::arg("n"), py::arg("device"),
      "Philox4x32-10 on device arrays: counter (n, 4), key (n, 2) and out (n, 4) are device addresses.");
  m.def(
      "markov_sample_resident",
      [](const std::vector<deepcheap::python::carray<uint32_t>>& tables,
         deepcheap::python::carray<int64_t> step_levels, deepcheap::python::carray<uint32_t> init_table,
         std::optional<deepcheap::python::carray<uint32_t>> init_states, int64_t n_chains, uint64_t seed,
         const std::string& keep, uint64_t first_chain, uint64_t first_step, int device) {
        plan::MarkovSample p = deepcheap::python::plan_markov_call(tables, step_levels, init_table, init_states,
                                                                   n_chains, seed, keep, first_chain, first_step, 0);
        // The outputs are made on the device and handed to Python: (memory, element bytes, shape) each.
        std::vector<unsigned char*> bases;
        py::list made;
        for (size_t a = 0; a < p.array_shapes.size(); ++a) {
          auto memory = std::make_shared<cuda::DeviceMemory>(plan::output_bytes(p, a), device,
                                                             "markov (allocate output on the device)");
          bases.push_back(static_cast<unsigned char*>(memory->data()));
          made.append(py::make_tuple(memory, p.array_bytes[a], py::tuple(py::cast(p.array_shapes[a]))));
        }
        plan::set_outputs(p, bases);
        {
          // Safe: tables and init states are held by this frame, the outputs by `made`.
          py::gil_scoped_release release;
          markov_sample(cuda::Driver{}, p, device, true);
        }
        return py::make_tuple(made, p.output == plan::MarkovSample::Output::path_per_position);
      },
      py::arg("tables"), py::arg("step_levels"), py::arg("init_table"), py::arg("init_states"), py::arg("n_chains"),
      py::arg("seed"), py::arg("keep"), py::arg("first_chain"), py::arg("first_step"), py::arg("device"),
      "Markov sample whose outputs are made on the device: ([(DeviceMemory, element bytes, shape)], per_position).");
}

// get_spins_resident(address): the chain's spins, int8 (replicas, ...), written to device memory.
template <class Chain>
void add_resident_spins(py::module_& m, const char* name) {
  py::reinterpret_borrow<py::class_<Chain>>(m.attr(name)).def(
      "get_spins_resident",
      [](const Chain& chain, uintptr_t out) {
        // Safe: the chain copies under its own mutex into memory the Python caller keeps alive.
        py::gil_scoped_release release;
        chain.get_spins_resident(address<int8_t>(out));
      },
      py::arg("out"), "Copy the spins (int8, replicas first) to `out`, a device address on the chain's device.");
}

void bind_cuda_module(py::module_& m) {
  m.doc() = "deepcheap_native private CUDA drivers; use device= on the public API instead";
  m.def("runtime_status", [] {
    const auto s = cuda::runtime_status();
    return py::make_tuple(s.device_count, s.problem);
  }, "(device_count, problem): devices the CUDA runtime sees and, when none, why.");
  m.attr("emulated") = cuda::is_emulated();
  deepcheap::python::install_interrupt_poll(m);
  deepcheap::python::define_philox<cuda::Driver>(m);
  deepcheap::python::define_product_forward<cuda::Driver>(m);
  deepcheap::python::define_locality<cuda::Driver>(m);
  deepcheap::python::define_circuit_core<cuda::CircuitCore>(m, &no_threads)
      .def(
          "evaluate_resident",
          [](cuda::CircuitCore& c, uintptr_t words, uintptr_t out, int64_t n_words, int schedule) {
            DC_REQUIRE(n_words >= 0, "n_words must be >= 0, got " + std::to_string(n_words));
            // Safe: the device plan is read-only; the arrays are kept alive by the Python caller.
            py::gil_scoped_release release;
            c.evaluate_resident(address<const uint64_t>(words), address<uint64_t>(out), n_words, schedule);
          },
          py::arg("words"), py::arg("out"), py::arg("n_words"), py::arg("schedule") = 0,
          "Evaluate on device arrays: words (n_inputs, n_words) and out (n_outputs, n_words) are device "
          "addresses on this core's device; schedule 0 batch, 1 levelized, 2 sequential.");
  deepcheap::python::define_markov_sample<cuda::Driver>(m);
  deepcheap::python::define_ising_chains<cuda::IsingChain, cuda::BoltzmannChain>(m);
  add_resident_spins<cuda::IsingChain>(m, "IsingChain");
  add_resident_spins<cuda::BoltzmannChain>(m, "BoltzmannChain");
  deepcheap::python::define_cluster_chain<cuda::IsingClusterChain>(m);
  add_resident_spins<cuda::IsingClusterChain>(m, "IsingClusterChain");
  deepcheap::python::define_relu<cuda::Driver>(m);
  bind_resident(m);
}

}  // namespace

#if defined(DC_CUDA_EMULATED)
PYBIND11_MODULE(_cuda_emulated, m) { bind_cuda_module(m); }
#else
PYBIND11_MODULE(_cuda, m) { bind_cuda_module(m); }
#endif
