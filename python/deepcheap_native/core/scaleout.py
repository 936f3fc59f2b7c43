"""The scale-out engine: split a job into pieces (:func:`pieces`), map them on a client
(:class:`Engine`, :func:`run`) and merge the results in job order.

A client is a Dask ``Client`` (a local cluster made once per process, or one per scheduler address),
any ``concurrent.futures.Executor`` (or any object whose ``submit`` returns futures with ``result()``),
:class:`SyncExecutor`, or nothing: in-process, piece by piece. One handling for every caller: strings
("sync", a scheduler address) go through :func:`get_client`, Dask tasks are submitted with
``pure=False`` (each task carries its seed and position explicitly, so a retry recomputes the same
numbers and tasks are never keyed by hashing their arguments), and an interrupted map (an exception,
KeyboardInterrupt, a generator closed early) cancels the tasks it has not collected.

No area lives here: each area's distributed entry points use these (``deepcheap_native.distributed``
re-exports the clients under their public names).

Dask, distributed and pandas are imported lazily: ``import deepcheap_native`` never needs them.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from .progress import Bar, progress_bar
from .validate import call_threads, check_threads

__all__ = ["DEFAULT_CONNECT_TIMEOUT", "Engine", "SyncExecutor", "close_default_client", "get_client", "pieces", "run"]

#: Seconds :func:`get_client` waits for a scheduler address before raising ConnectionError.
DEFAULT_CONNECT_TIMEOUT = 10.0

_lock = threading.Lock()
_default: tuple[Any, Any] | None = None  # (LocalCluster, Client) made by get_client(None)
_clients: dict[str, Any] = {}  # scheduler address -> Client


def _require(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"deepcheap_native.distributed needs {module.split('.')[0]} ({exc}); "
            'install it with: pip install "deepcheap-native[dask]"'
        ) from None


class SyncExecutor(concurrent.futures.Executor):
    """Runs every task at once in the calling thread: the local reference for any split, and a way to
    debug a job without a cluster (``client="sync"``)."""

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller through the future, as any executor does
            future.set_exception(exc)
        return future


def _is_dask_client(obj: Any) -> bool:
    try:
        from distributed import Client
    except ImportError:
        return False
    return isinstance(obj, Client)


def get_client(client: Any = None, *, timeout: float | None = None) -> Any:
    """The executor a job runs on.

    Parameters
    ----------
    client : None, "sync", a scheduler address, a ``dask.distributed.Client`` or a
        ``concurrent.futures.Executor``
        None: a ``LocalCluster`` of worker processes, one single-threaded worker per core, made once
        per process and closed at exit. "sync": :class:`SyncExecutor`. A string such as
        "tcp://10.0.0.5:8786": a Client connected to that scheduler (one per address).
    timeout : seconds to wait for a scheduler address before giving up (default
        :data:`DEFAULT_CONNECT_TIMEOUT`, 10 s).

    Raises
    ------
    ConnectionError
        When no scheduler answers at the address within ``timeout`` seconds.
    TypeError
        For anything else.
    """
    global _default
    if client is None:
        with _lock:
            if _default is None or _default[1].status in ("closed", "closing"):
                dd = _require("distributed")
                cluster = dd.LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True,
                                          dashboard_address=":0")
                _default = (cluster, dd.Client(cluster))
                atexit.register(close_default_client)
            return _default[1]
    if isinstance(client, str):
        if client == "sync":
            return SyncExecutor()
        if timeout is None:
            timeout = DEFAULT_CONNECT_TIMEOUT
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        with _lock:
            existing = _clients.get(client)
            if existing is not None and existing.status == "running":
                return existing
            dd = _require("distributed")
            try:
                made = dd.Client(client, timeout=timeout)
            except (OSError, TimeoutError, ValueError) as exc:
                raise ConnectionError(
                    f"could not reach a Dask scheduler at {client!r} within {timeout:g} s: {exc}. Start one with "
                    "`dask scheduler` (and workers with `dask worker ADDRESS`), or pass client=None for a local cluster"
                ) from None
            _clients[client] = made
            return made
    if _is_dask_client(client) or isinstance(client, concurrent.futures.Executor):
        return client
    raise TypeError(
        "client must be None, 'sync', a scheduler address (str), a dask.distributed.Client or a "
        f"concurrent.futures.Executor, got {type(client).__name__}"
    )


def close_default_client() -> None:
    """Close the LocalCluster made by ``get_client(None)`` and every Client made from an address."""
    global _default
    with _lock:
        if _default is not None:
            cluster, client = _default
            _default = None
            client.close()
            cluster.close()
        for c in _clients.values():
            c.close()
        _clients.clear()


# ---- the engine ---------------------------------------------------------------------------------------


def pieces(total: int, size: int) -> list[tuple[int, int]]:
    """(start, size) pieces of ``size`` items covering [0, total), the last one shorter."""
    return [(start, min(size, total - start)) for start in range(0, total, size)]


def _run_task(fn: Callable, args: tuple, threads: int | None) -> Any:
    """A task body on ``threads`` native threads (results never depend on it). A per-call override,
    not ``set_num_threads``: tasks run inline or on a caller's thread pool must not change the calling
    process's setting, nor each other's."""
    with call_threads(threads):
        return fn(*args)


_CLIENT_TYPES = ("None, 'sync', a scheduler address (str), a dask.distributed.Client or a "
                 "concurrent.futures.Executor (anything with submit)")


class Engine:
    """One job's tasks on one client, submitted and collected in a fixed order.

    Parameters
    ----------
    client : as :func:`get_client`, or any object whose ``submit(fn, *args)`` returns futures with
        ``result()``.
    threads : native threads per task (None: the running process's setting; no override is set).
    local : what ``client=None`` means: True (default) runs the tasks here, one after another, when
        they are collected; False asks :func:`get_client` for the process's local Dask cluster.
    """

    def __init__(self, client: Any = None, *, threads: int | None = None, local: bool = True) -> None:
        self.threads = check_threads(threads)
        if client is None and local:
            self.executor: Any = None
        elif client is None or isinstance(client, str) or _is_dask_client(client) or isinstance(
                client, concurrent.futures.Executor):
            self.executor = get_client(client)
        elif callable(getattr(client, "submit", None)):
            self.executor = client
        else:
            raise TypeError(f"client must be {_CLIENT_TYPES}, got {type(client).__name__}")
        self.dask = _is_dask_client(self.executor)

    @property
    def inline(self) -> bool:
        """True when tasks run in this process as they are collected (no client, or "sync")."""
        return self.executor is None or isinstance(self.executor, SyncExecutor)

    def workers(self) -> int:
        """How many tasks the client runs at once (1 here; a Dask cluster's workers; a pool's size)."""
        if self.dask:
            return max(1, len(self.executor.scheduler_info().get("workers", {})))
        return max(1, int(getattr(self.executor, "_max_workers", 1) or 1))

    def _body(self, fn: Callable, args: tuple) -> tuple[Callable, tuple]:
        return (fn, args) if self.threads is None else (_run_task, (fn, args, self.threads))

    def call(self, fn: Callable, *args: Any) -> Any:
        """fn(*args) here, on this engine's thread count."""
        body, body_args = self._body(fn, args)
        return body(*body_args)

    def submit(self, fn: Callable, *args: Any) -> Any:
        """One task as a future (run at once, here, without a client)."""
        body, body_args = self._body(fn, args)
        if self.executor is None:
            return SyncExecutor().submit(body, *body_args)
        if self.dask:
            return self.executor.submit(body, *body_args, pure=False)
        return self.executor.submit(body, *body_args)

    def scatter(self, obj: Any) -> Any:
        """Ship a large argument (a circuit) to the cluster once instead of with every task.

        On Dask it becomes a task that returns it, not scattered data: the scheduler keeps the task and
        can run it again on another worker if the one holding the result dies. Scattered data cannot be
        recomputed, and even broadcast to every worker it does not survive the loss of one: the Active
        Memory Manager (on by default) drops the extra replicas within seconds (measured: two
        workers, one copy left after 5 s), so killing that worker cancelled the whole call."""
        if self.dask:
            return self.executor.submit(_identity, obj, pure=False)
        return obj

    def gather(self, futures: list) -> list:
        if self.dask:
            return self.executor.gather(futures)
        return [f.result() for f in futures]

    def as_completed(self, futures: list) -> Iterable:
        if self.dask:
            return _require("distributed").as_completed(futures)
        if self.executor is None or isinstance(self.executor, concurrent.futures.Executor):
            return concurrent.futures.as_completed(futures)
        return iter(futures)

    def cancel(self, futures: list) -> None:
        if self.dask:
            self.executor.cancel(futures)
        else:
            for f in futures:
                cancel = getattr(f, "cancel", None)
                if cancel is not None:
                    cancel()

    def map(self, fn: Callable, calls: Iterable[tuple], *, bar: Bar | None = None,
            weights: Sequence[int] | None = None) -> Iterator[Any]:
        """fn(*args) for each args in ``calls``, yielded in order. Inline, each call runs when it is
        collected (a checkpoint written per result loses nothing); on a client, every call is submitted
        first. ``bar`` (from :func:`~deepcheap_native.core.progress.progress_bar`) advances by
        ``weights[i]`` (default 1) per result. Stopping early cancels the uncollected tasks."""
        calls = list(calls)
        step = (lambda i: 1) if weights is None else (lambda i: int(weights[i]))
        if self.inline:
            for i, args in enumerate(calls):
                result = self.call(fn, *args)
                if bar is not None:
                    bar.update(step(i))
                yield result
            return
        futures = [self.submit(fn, *args) for args in calls]
        try:
            for i, future in enumerate(futures):
                result = future.result()
                if bar is not None:
                    bar.update(step(i))
                yield result
        except BaseException:
            self.cancel(futures)
            raise


def run(fn: Callable, calls: Iterable[tuple], *, client: Any = None, threads: int | None = None,
        local: bool = True, progress: Any = False, description: str = "tasks", unit: str = "it",
        weights: Sequence[int] | None = None) -> list[Any]:
    """[fn(*args) for args in calls] on ``client`` (see :class:`Engine`), in order, reporting to
    ``progress`` (the package's one contract, :func:`~deepcheap_native.core.progress.progress_bar`;
    one unit per call, or ``weights``). The bar is closed on any exit, KeyboardInterrupt included."""
    calls = list(calls)
    engine = Engine(client, threads=threads, local=local)
    total = len(calls) if weights is None else int(sum(weights))
    with progress_bar(progress, total, description, unit=unit) as bar:
        return list(engine.map(fn, calls, bar=bar, weights=weights))


def _identity(obj: Any) -> Any:
    """The task that holds a shipped argument on the cluster (Engine.scatter)."""
    return obj
