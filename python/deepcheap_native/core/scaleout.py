"""The clients a scale-out job runs on: a Dask ``Client`` (a local cluster made once per process, or
one per scheduler address), any ``concurrent.futures.Executor``, or :class:`SyncExecutor` in-process.
No area lives here: each area's distributed entry points use these (``deepcheap_native.distributed``
re-exports them under their public names).

Dask, distributed and pandas are imported lazily: ``import deepcheap_native`` never needs them.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import os
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["DEFAULT_CONNECT_TIMEOUT", "SyncExecutor", "close_default_client", "get_client"]

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
