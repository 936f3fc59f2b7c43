# Type stub for the private extension module; tests/test_stubs.py checks it against the module.
import numpy as np
import numpy.typing as npt

# --- common ---------------------------------------------------------------------------------
def get_num_threads() -> int: ...
def set_num_threads(k: int) -> None: ...
def simd_targets() -> list[str]: ...
def simd_target() -> str: ...
def set_simd_target(name: str) -> None: ...
def philox4x32(counter: npt.NDArray[np.uint32], key: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]: ...

# --- product --------------------------------------------------------------------------------



# --- markov ---------------------------------------------------------------------------------



# --- ising ----------------------------------------------------------------------------------



# --- circuit --------------------------------------------------------------------------------
