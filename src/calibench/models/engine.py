"""The embedded local engine: a real llama.cpp HTTP server, started in-process by calibench.

It listens on 127.0.0.1 on a free port and serves the OpenAI chat-completions API, so a
local GGUF model takes exactly the code path of a remote endpoint. It needs the ``local``
extra (``pip install 'calibench[local]'``, which brings the prebuilt ``xllamacpp`` wheel).
"""

from __future__ import annotations

import atexit
import gc
import os
import weakref

from calibench.errors import CalibenchError
from calibench.models.ladder import ResolvedModel, resolve

_LIVE: weakref.WeakSet = weakref.WeakSet()


def _stop_all() -> None:
    for engine in list(_LIVE):
        engine.close()


atexit.register(_stop_all)


class LocalEngine:
    """A llama.cpp server for one model, as a context manager.

    ``model`` is a ladder name, a .gguf path or a :class:`ResolvedModel`. ``threads``
    defaults to the CPU count; ``parallel`` is the number of slots (concurrent requests);
    ``context`` is each slot's context in tokens; ``prompt_cache`` keeps each slot's last
    prompt so that a request sharing its prefix skips re-processing it (requests may also
    turn it off with ``"cache_prompt": false``); ``cache_reuse`` is llama.cpp's
    ``--cache-reuse`` chunk size (0: off). Inside the ``with`` block, ``base_url`` is the
    endpoint (``http://127.0.0.1:PORT/v1``) and ``settings`` what results record.
    """

    def __init__(
        self,
        model: str | os.PathLike | ResolvedModel,
        *,
        threads: int | None = None,
        parallel: int = 1,
        context: int = 2048,
        prompt_cache: bool = True,
        cache_reuse: int = 0,
    ):
        for name, value, low in (("parallel", parallel, 1), ("context", context, 64), ("cache_reuse", cache_reuse, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise CalibenchError(f"{name} must be an integer of at least {low}, got {value!r}")
        threads = threads or os.cpu_count() or 1
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise CalibenchError(f"threads must be a positive integer, got {threads!r}")
        self.model = model if isinstance(model, ResolvedModel) else resolve(model)
        self.threads, self.parallel, self.context = threads, parallel, context
        self.prompt_cache, self.cache_reuse = prompt_cache, cache_reuse
        self._server = None
        self.base_url: str | None = None

    @property
    def settings(self) -> dict:
        """The engine's configuration, for provenance."""
        return {
            "engine": "llama.cpp (xllamacpp)",
            "xllamacpp": _xllamacpp_version(),
            "model": self.model.name,
            "model_sha256": self.model.sha256,
            "model_source": self.model.source,
            "threads": self.threads,
            "parallel": self.parallel,
            "context_per_slot": self.context,
            "prompt_cache": self.prompt_cache,
            "cache_reuse": self.cache_reuse,
        }

    def start(self) -> LocalEngine:
        if self._server is not None:
            return self
        try:
            import xllamacpp
        except ImportError:
            raise CalibenchError("the local engine needs xllamacpp: pip install 'calibench[local]'") from None
        params = xllamacpp.CommonParams()
        params.model.path = str(self.model.path)
        params.n_ctx = self.context * self.parallel  # llama.cpp splits the context over the slots
        params.n_parallel = self.parallel
        params.cpuparams.n_threads = self.threads
        params.cpuparams_batch.n_threads = self.threads
        params.cache_prompt = self.prompt_cache
        params.n_cache_reuse = self.cache_reuse
        params.port = 0  # the OS picks a free port
        params.hostnames = ["127.0.0.1"]
        params.verbosity = -1
        try:
            self._server = xllamacpp.Server(params)
        except Exception as exc:  # xllamacpp raises plain RuntimeErrors for unloadable models
            raise CalibenchError(f"the local engine could not load {self.model.path}: {exc}") from None
        self.base_url = self._server.listening_address.rstrip("/") + "/v1"
        _LIVE.add(self)
        return self

    def close(self) -> None:
        """Stop the server (idempotent). Dropping the last reference runs its shutdown."""
        if self._server is not None:
            self._server = None
            self.base_url = None
            gc.collect()
        _LIVE.discard(self)

    def __enter__(self) -> LocalEngine:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


def _xllamacpp_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("xllamacpp")
    except Exception:
        return None
