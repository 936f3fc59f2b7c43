"""What every Ising-area sampler shares (local, cluster and k-local Boltzmann): a native chain of
``replicas`` ±1 configurations advanced a sweep at a time, the one chunked sweep / measure loop with its
progress reports, checkpoints (``state()`` / ``from_state``, one layout for every sampler) and pickling
through them, the temperature setter (annealing) and torch in, torch out."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..core import cuda
from ..core.arrays import ArrayOut, like_input, to_numpy
from ..core.progress import progress_bar
from ..core.validate import FixedAttributes, call_threads, check_int, check_real, check_threads

__all__ = ["STATE_VERSION"]

#: Version of the dictionaries made by the samplers' ``state()``.
STATE_VERSION = 1

# Sampler name in a state -> its class: every public sampler class registers itself (unpickling).
_SAMPLERS: dict[str, type] = {}


def _pack_spins(spins: np.ndarray) -> np.ndarray:
    """(replicas, ...) ±1 int8 -> (replicas, ceil(n / 8)) uint8, one bit per spin (1 = +1)."""
    return np.packbits(spins.reshape(spins.shape[0], -1) > 0, axis=1)


def _unpack_spins(packed: Any, shape: tuple[int, ...]) -> np.ndarray:
    n = int(np.prod(shape[1:]))
    want = (shape[0], (n + 7) // 8)
    if not isinstance(packed, np.ndarray) or packed.dtype != np.uint8 or packed.shape != want:
        got = f"{type(packed).__name__} {getattr(packed, 'dtype', '')} {getattr(packed, 'shape', '')}"
        raise ValueError(f"state['spins'] must be a uint8 array of shape {want}, got {got.strip()}")
    bits = np.unpackbits(packed, axis=1, count=n)
    return (bits.astype(np.int8) * 2 - 1).reshape(shape)


def _check_state(state: Any, sampler: str, keys: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(state, Mapping):
        raise TypeError(f"state must be a dict made by {sampler}.state(), got {type(state).__name__}")
    if state.get("sampler") != sampler:
        raise ValueError(f"state is for {state.get('sampler')!r} but expected {sampler!r}")
    if state.get("version") != STATE_VERSION:
        raise ValueError(f"state has version {state.get('version')!r} but expected {STATE_VERSION}")
    missing = [k for k in keys if k not in state]
    if missing:
        raise ValueError(f"state lacks {', '.join(missing)}")
    return state


def _state_torch(state: Mapping[str, Any]) -> bool:
    """Whether the saved sampler's spins were torch tensors (states made before the key: no)."""
    value = state.get("torch", False)
    if not isinstance(value, bool):
        raise ValueError(f"state['torch'] must be True or False, got {value!r}")
    return value


def _check_spin_array(x: Any, name: str) -> tuple[np.ndarray, bool]:
    a, came_from_torch = to_numpy(x, name)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold spins -1/+1 as numbers, got dtype {a.dtype}")
    bad = (a != 1) & (a != -1)
    if bad.any():
        where = tuple(int(v) for v in np.argwhere(bad)[0])
        raise ValueError(f"{name} must hold only -1 and +1, but {name}[{', '.join(map(str, where))}] is {a[where]}")
    return np.ascontiguousarray(a, dtype=np.int8), came_from_torch


def _from_state(state: Mapping[str, Any]) -> Any:
    """Unpickling: the sampler class named in the state, rebuilt from it."""
    kind = state.get("sampler") if isinstance(state, Mapping) else None
    if kind not in _SAMPLERS:
        raise ValueError(f"state names sampler {kind!r} but expected one of {sorted(_SAMPLERS)}")
    return _SAMPLERS[kind].from_state(state)


class _NativeChain(FixedAttributes):
    """The base of every sampler: a native chain object (``self._chain``) of ``replicas`` ±1
    configurations of shape ``_spin_shape``, advanced a sweep at a time.

    One sampler may be used from several Python threads: the native object holds a mutex, so calls
    run one at a time, exactly as if made in sequence (separate samplers run in parallel).

    ``temperature`` is the one parameter that changes in place (annealing): its setter rebuilds the
    native chain at the new temperature from the current spins and stream counters, exactly as
    ``from_state`` of a state with the new temperature would. Every other constructor argument is
    fixed (``_FIXED``): assigning it is an AttributeError, not a value the native chain never sees.

    A checkpoint is ``{"sampler", "version", *_PARAMS, "sweeps_done", *_COUNTERS, "spins", "torch"}``:
    a subclass gives its parameters (``_state_params``), how to build itself from them
    (``_from_params``) and, when its streams count more than sweeps, its extra counters."""

    _chain: Any
    device: Any  # cuda.Device where the chain lives (every sampler sets it)
    _torch = False  # configurations given as torch tensors: spins and measurements come back as torch
    _temperature: float
    _FIXED_HINT = ("only temperature changes in place (sampler.temperature = T); for other parameters make "
                   "a new sampler, e.g. model.sampler(T, ..., init=old.spins)")
    _PARAMS: tuple[str, ...] = ()  # the constructor's parameters a state holds, in order
    _COUNTERS: tuple[str, ...] = ()  # stream counters beyond sweeps_done (after it in a state)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            _SAMPLERS.setdefault(cls.__name__, cls)

    @property
    def temperature(self) -> float:
        """T > 0 (k_B = 1). Assigning it changes the temperature of the following sweeps (an annealing
        schedule): the spins, ``sweeps_done`` and the random streams carry on, and ``state()`` records
        the new value, so a checkpoint continues exactly as this sampler does."""
        return self._temperature

    @temperature.setter
    def temperature(self, value: Any) -> None:
        t = check_real(value, "temperature", positive=True)
        if "_chain" not in self.__dict__:  # during construction
            self._temperature = t
            return
        self._retarget(self._state_at(t))

    def _state_at(self, temperature: float) -> dict[str, Any]:
        """This sampler's state with another temperature (what the temperature setter rebuilds from)."""
        state = self.state()
        state["temperature"] = temperature
        return state

    def _retarget(self, state: dict[str, Any]) -> None:
        """Replace the native chain (and every derived attribute) by the one ``from_state(state)``
        builds on this sampler's device; torch-ness of the results is kept."""
        fresh = type(self).from_state(state, device=self.device)
        torch_out = self._torch
        for name, value in fresh.__dict__.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_torch", torch_out)

    # ---- checkpoints ---------------------------------------------------------------------------

    def _state_params(self) -> dict[str, Any]:
        raise NotImplementedError

    def _state_counters(self, snapshot: tuple[Any, ...]) -> dict[str, Any]:
        return {}

    @classmethod
    def _from_params(cls, state: Mapping[str, Any], device: Any) -> Any:
        raise NotImplementedError

    def _set_counters(self, state: Mapping[str, Any]) -> None:
        self._chain.set_sweeps_done(check_int(state["sweeps_done"], "state['sweeps_done']", minimum=0,
                                              maximum=2**32))

    def state(self) -> dict[str, Any]:
        """A checkpoint: plain Python numbers and strings, the stream counters and the spins packed
        one bit per spin (a uint8 array), picklable and small. ``type(self).from_state(state)``
        continues this sampler's chain bit for bit; the sampler itself pickles through it."""
        snapshot = self._chain.snapshot()  # one lock: no sweep lands between the counters and the spins
        return {"sampler": type(self)._kind(), "version": STATE_VERSION, **self._state_params(),
                "sweeps_done": int(snapshot[0]), **self._state_counters(snapshot),
                "spins": _pack_spins(snapshot[-1]), "torch": self._torch}

    @classmethod
    def _kind(cls) -> str:
        """The sampler name a state holds: the public class this one is (or derives from)."""
        return next(k.__name__ for k in cls.__mro__ if k.__name__ in _SAMPLERS and _SAMPLERS[k.__name__] is k)

    @classmethod
    def from_state(cls, state: Mapping[str, Any], *, device: Any = None) -> Any:
        """The sampler saved by :meth:`state`: same parameters, spins and stream counters, so its next
        sweeps are exactly those the saved sampler would have made, on ``device`` (default the CPU;
        the devices give the same lattices)."""
        state = _check_state(state, cls._kind(), cls._PARAMS + ("sweeps_done",) + cls._COUNTERS + ("spins",))
        sampler = cls._from_params(state, device)
        sampler._set_counters(state)
        sampler._torch = _state_torch(state)
        return sampler

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (_from_state, (self.state(),))

    # ---- sweeps ------------------------------------------------------------------------------

    @property
    def _spin_shape(self) -> tuple[int, ...]:
        raise NotImplementedError

    @property
    def sweeps_done(self) -> int:
        """Sweeps made so far (each one updates every spin once)."""
        return self._chain.sweeps_done

    def _advance(self, n_sweeps: int, every: int | None, progress: Any, threads: int | None,
                 description: str) -> list[tuple[np.ndarray, ...]]:
        """The one sweep loop: ``n_sweeps`` sweeps, with a native ``run`` measurement after every
        ``every`` sweeps (None: none), the sweeps after the last measurement made too. Reported to
        ``progress`` in sweeps (total ``n_sweeps``) after chunks of about 5 % of the run; the same chain
        either way. Returns the native runs' outputs in order."""
        if not progress and not hasattr(progress, "update"):
            progress = False
        size = 1 if every is None else every
        steps = n_sweeps // size  # measurements, or sweeps when there are none
        bar = progress_bar(progress, n_sweeps, description, unit="sweep")
        chunk = steps if progress is False else max(1, steps // 20)
        parts: list[tuple[np.ndarray, ...]] = []
        done = 0
        try:  # the bar closes on Ctrl-C too (the chain keeps its last completed sweep)
            with call_threads(threads):
                while done < steps:
                    k = min(chunk, steps - done)
                    if every is None:
                        self._chain.sweep(k)
                    else:
                        parts.append(self._chain.run(k, every))
                    done += k
                    bar.update(k * size)
                left = n_sweeps - steps * size
                if left:
                    self._chain.sweep(left)
                    bar.update(left)
        finally:
            bar.close()
        return parts

    def sweep(self, n: int = 1, *, progress: Any = False, threads: int | None = None) -> Any:
        """Make ``n`` sweeps (every spin of every replica once per sweep); returns self.

        ``progress``: False (default), True (a tqdm bar), a callable ``progress(done, n)`` or a bar with
        ``update``, reported after chunks of about 5 % of the sweeps (the same chain either way).
        ``threads``: CPU threads for this call (None: :func:`~deepcheap_native.set_num_threads`); the
        chain does not depend on it.
        """
        n = check_int(n, "n", minimum=0)
        if progress is False and threads is None:  # what _advance does then, without its set-up (small calls)
            if n:
                self._chain.sweep(n)
            return self
        threads = check_threads(threads)
        self._advance(n, None, progress, threads, f"{type(self).__name__} sweeps")
        return self

    # ---- configurations ------------------------------------------------------------------------

    @property
    def spins(self) -> ArrayOut:
        """A copy of the configurations: int8 ±1 of shape (replicas, ...) (torch when the sampler's
        spins were given as a torch tensor)."""
        return like_input(self._chain.get_spins(), self._torch)

    @spins.setter
    def spins(self, value: Any) -> None:
        spins, self._torch = _check_spin_array(value, "spins")
        if spins.shape != self._spin_shape:
            raise ValueError(f"spins must have shape {self._spin_shape}, got {spins.shape}")
        self._chain.set_spins(spins)

    def device_spins(self) -> Any:
        """The configurations on the sampler's GPU, with no copy to the host: a
        :class:`~deepcheap_native.cuda.DeviceArray` of int8 ±1, shape (replicas, ...), made on the
        sampler's device (view it with ``torch.as_tensor(a, device=...)`` or ``cupy.asarray(a)``).
        Raises ValueError for a sampler on the CPU, whose :attr:`spins` are already on the host."""
        if self.device.kind != "cuda":
            raise ValueError(f"device_spins() is for a sampler on a GPU; this one runs on {self.device} (use .spins)")
        # Memory from the module that made the chain (the emulation's or the GPU's), whatever is current now.
        module = importlib.import_module(type(self._chain).__module__)
        arr = cuda.DeviceArray._allocate(module, self.device.index, self._spin_shape, np.int8)
        self._chain.get_spins_resident(arr._memory.address)
        return arr
