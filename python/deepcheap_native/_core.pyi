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
def product_activation(z: npt.NDArray[np.floating], activation: int) -> npt.NDArray[np.floating]: ...
def product_deep(
    x: npt.NDArray[np.floating],
    activation: int,
    stable: bool,
    scale: float,
    bias: float,
    gate_coef: float,
    carry_coef: float,
    extra_layers: int,
    out: npt.NDArray[np.floating] | None = None,
) -> npt.NDArray[np.floating]: ...
def product_shallow(
    x: npt.NDArray[np.floating],
    activation: int,
    stable: bool,
    scale: float,
    bias: float,
    out_coef: float,
    out: npt.NDArray[np.floating] | None = None,
) -> npt.NDArray[np.floating]: ...



# --- markov ---------------------------------------------------------------------------------
def markov_alias_tables(p: npt.NDArray[np.float64], tolerance: float, name: str) -> npt.NDArray[np.uint32]: ...
def markov_sample(
    tables: list[npt.NDArray[np.uint32]],
    step_levels: npt.NDArray[np.int64],
    init_table: npt.NDArray[np.uint32],
    init_states: npt.NDArray[np.uint32] | None,
    n_chains: int,
    seed: int,
    keep: str,
    chunk: int = 0,
    out: npt.NDArray[np.uint8] | npt.NDArray[np.uint16] | None = None,
) -> npt.NDArray[np.uint8] | npt.NDArray[np.uint16] | list[npt.NDArray[np.uint8] | npt.NDArray[np.uint16]]: ...
def info_count(x: npt.NDArray[np.integer], k: int) -> npt.NDArray[np.int64]: ...
def info_count_pairs(
    x: npt.NDArray[np.integer], y: npt.NDArray[np.integer], kx: int, ky: int
) -> npt.NDArray[np.int64]: ...


# --- ising ----------------------------------------------------------------------------------



# --- circuit --------------------------------------------------------------------------------
def circuit_parse_bristol(data: bytes) -> dict[str, object]: ...
def circuit_parse_aiger(data: bytes) -> dict[str, object]: ...

class CircuitCore:
    def __init__(
        self,
        n_inputs: int,
        ops: npt.NDArray[np.uint8],
        in0: npt.NDArray[np.int32],
        in1: npt.NDArray[np.int32],
        outputs: npt.NDArray[np.int32],
    ) -> None: ...
    @property
    def n_inputs(self) -> int: ...
    @property
    def n_gates(self) -> int: ...
    @property
    def n_outputs(self) -> int: ...
    @property
    def work(self) -> int: ...
    @property
    def depth(self) -> int: ...
    @property
    def and_depth(self) -> int: ...
    @property
    def n_slots(self) -> int: ...
    def levels(self) -> npt.NDArray[np.int32]: ...
    def level_widths(self, alap: bool) -> npt.NDArray[np.int64]: ...
    def critical_path(self) -> npt.NDArray[np.int64]: ...
    def list_schedule(self, processors: int) -> int: ...
    def default_block_words(self, n_words: int, threads: int) -> int: ...
    def evaluate_packed(
        self,
        words: npt.NDArray[np.uint64],
        out: npt.NDArray[np.uint64],
        schedule: int,
        threads: int,
        block_words: int,
    ) -> npt.NDArray[np.uint64]: ...
