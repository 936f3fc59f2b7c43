"""Boolean circuits: Circuit and CircuitBuilder (``circuit``), file I/O and the one op table (``io``),
threshold networks (``threshold``), input spaces and equivalence (``space``), generated families and
published circuits (``families``, public as ``deepcheap_native.circuits``). ``ParseError`` keeps its
path ``deepcheap_native.circuit.ParseError``.
"""

from . import families, space  # noqa: F401  (submodules, as attributes: dc.circuit.space)
from .circuit import (
    Circuit,
    CircuitBuilder,
    ScheduleResult,
    pack_bits,
    unpack_bits,
)
from .io import (
    AND,
    BUF,
    CONST0,
    CONST1,
    CONSTANT_OPS,
    DEFAULT_MAX_BYTES,
    INV,
    NAND,
    NOR,
    OP_CODE,
    OPS,
    OR,
    UNARY_OPS,
    XNOR,
    XOR,
    ParseError,
    aiger_bytes,
    bristol_text,
    check_max_bytes,
    decompress,
    default_max_bytes,
    read_source,
)
from .threshold import (
    ThresholdNetwork,
    threshold_network,
)

__all__ = [
    "AND",
    "BUF",
    "CONST0",
    "CONST1",
    "CONSTANT_OPS",
    "Circuit",
    "CircuitBuilder",
    "DEFAULT_MAX_BYTES",
    "INV",
    "NAND",
    "NOR",
    "OPS",
    "OP_CODE",
    "OR",
    "ParseError",
    "ScheduleResult",
    "ThresholdNetwork",
    "UNARY_OPS",
    "XNOR",
    "XOR",
    "aiger_bytes",
    "bristol_text",
    "check_max_bytes",
    "decompress",
    "default_max_bytes",
    "pack_bits",
    "read_source",
    "threshold_network",
    "unpack_bits",
]

from ..core.namespace import public_dir as _public_dir  # noqa: E402  (tab completion: __all__ only)

__dir__ = _public_dir(globals())
