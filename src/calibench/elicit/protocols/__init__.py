"""Elicitation protocols: one module each, and the registry a study looks them up in.

Built in: :mod:`.answer` (the answer read every confidence protocol builds on),
:mod:`.stated`, :mod:`.logprob`, :mod:`.p_true`, :mod:`.verbalized`,
:mod:`.verbalized_json`, :mod:`.top_k`, :mod:`.cot`, :mod:`.linguistic` and
:mod:`.p_true_samples`. A protocol of one's own is a :class:`Protocol` (or a subclass) in
any importable module, made known in one of two ways:

- in a study file, ``plugins = ["mypkg.module:MY_PROTOCOL"]`` (or the ``module:NAME`` form
  directly in ``protocols``), imported when the study is read;
- in a package's metadata, an entry point in the group ``calibench.protocols``, found by
  :func:`available`.

Either way it is :func:`register`-ed under its ``name`` and runs like a built-in one; its
content hash (:attr:`Protocol.sha256`, cited in results and part of every store key) covers
its fields and, for a subclass, its class's source.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from importlib.metadata import entry_points
from pathlib import Path

from calibench.elicit.protocols.answer import ANSWER
from calibench.elicit.protocols.base import (
    ANSWER_INSTRUCTION,
    ANSWER_PREFILL,
    BACKENDS,
    CONFIDENCE_PREFILL,
    CONSTRAINTS,
    NUMBER_GRAMMAR,
    READINGS,
    SYSTEM_PROMPT,
    TOP_LOGPROBS,
    Backend,
    Protocol,
    grammar,
    schema,
)
from calibench.elicit.protocols.cot import CONCLUSION, COT
from calibench.elicit.protocols.linguistic import LINGUISTIC
from calibench.elicit.protocols.logprob import LOGPROB
from calibench.elicit.protocols.p_true import P_TRUE, P_TRUE_QUESTION
from calibench.elicit.protocols.p_true_samples import BRAINSTORM, P_TRUE_SAMPLES
from calibench.elicit.protocols.stated import STATED, STATED_QUESTION
from calibench.elicit.protocols.templates import SEPARATOR, TEMPLATES, split_name, with_template
from calibench.elicit.protocols.top_k import TOP_K
from calibench.elicit.protocols.verbalized import VERBALIZED
from calibench.elicit.protocols.verbalized_json import VERBALIZED_JSON
from calibench.errors import CalibenchError

ENTRY_POINT_GROUP = "calibench.protocols"

PROTOCOLS: dict[str, Protocol] = {p.name: p for p in (STATED, LOGPROB, P_TRUE, VERBALIZED, VERBALIZED_JSON, TOP_K, COT, LINGUISTIC, P_TRUE_SAMPLES)}
# what is sent: the answer read, and every protocol that sends its own request
REQUESTS: dict[str, Protocol] = {"answer": ANSWER, **{name: p for name, p in PROTOCOLS.items() if p.sends},
                                  **{b.name: b for b in BRAINSTORM}, CONCLUSION.name: CONCLUSION}
DEFAULT_PROTOCOLS = ("stated", "logprob", "p-true", "verbalized", "verbalized-json")
BUILT_IN = tuple(PROTOCOLS)
_entry_points_loaded = False


def register(protocol: Protocol) -> Protocol:
    """Make ``protocol`` known to studies under its name; registering the same one again is a no-op."""
    if not isinstance(protocol, Protocol):
        raise CalibenchError(f"a protocol must be a calibench Protocol, got {type(protocol).__name__}")
    known = PROTOCOLS.get(protocol.name) or REQUESTS.get(protocol.name)
    if known is not None and known != protocol:
        raise CalibenchError(f"protocol name {protocol.name!r} is taken; give yours another name")
    if "~" in protocol.name or ":" in protocol.name:
        raise CalibenchError(f"protocol name {protocol.name!r}: '~' and ':' are kept for samples and plugin specs")
    if (SEPARATOR in protocol.name) != (protocol.template != "plain") or split_name(protocol.name)[1] != protocol.template:
        raise CalibenchError(f"protocol name {protocol.name!r}: '{SEPARATOR}' is kept for templates (<protocol>{SEPARATOR}<template>)")
    if protocol.follows not in (None, "answer"):
        raise CalibenchError(f"protocol {protocol.name!r} follows {protocol.follows!r}: a protocol can follow only the answer read")
    unsent = [name for name in protocol.builds_on if name not in REQUESTS]
    if unsent:
        raise CalibenchError(f"protocol {protocol.name!r} builds on {', '.join(unsent)}, which send(s) no request")
    if not protocol.sends and protocol.request not in REQUESTS:
        raise CalibenchError(f"protocol {protocol.name!r} reads the request of {protocol.request!r}, which sends none")
    PROTOCOLS[protocol.name] = protocol
    if protocol.sends:
        REQUESTS[protocol.name] = protocol
    return protocol


def load_protocol(spec: str) -> Protocol:
    """Import ``"package.module:NAME"`` or ``"path/to/file.py:NAME"`` (a Protocol, or a class or
    function that returns one) and register it."""
    module_name, _, attr = spec.rpartition(":")
    if not module_name or not attr:
        raise CalibenchError(f"a protocol plugin is 'package.module:NAME' or 'file.py:NAME', got {spec!r}")
    try:
        module = _import_file(module_name) if module_name.endswith(".py") else importlib.import_module(module_name)
    except Exception as exc:  # whatever the plugin's own code raised: one line, not its traceback
        raise CalibenchError(f"protocol plugin {spec!r}: cannot import {module_name} ({type(exc).__name__}: {exc})") from None
    found = getattr(module, attr, None)
    if found is None:
        raise CalibenchError(f"protocol plugin {spec!r}: {module_name} has no {attr}")
    try:
        protocol = found() if callable(found) and not isinstance(found, Protocol) else found
    except Exception as exc:
        raise CalibenchError(f"protocol plugin {spec!r}: calling {attr}() failed ({type(exc).__name__}: {exc}); "
                             "name a Protocol, or a function that returns one") from None
    return register(protocol)


def _import_file(path: str):
    """A plugin module given as a file (relative to the working directory)."""
    file = Path(path).resolve()
    name = "calibench_plugin_" + hashlib.sha256(str(file).encode()).hexdigest()[:12]
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or not file.is_file():
        raise ImportError(f"no such file {file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and inspect look their module up by name
    spec.loader.exec_module(module)
    return module


def available() -> dict[str, Protocol]:
    """Every protocol a study can name: the built-in ones, those registered, and those that
    installed packages declare under the ``calibench.protocols`` entry point (loaded once)."""
    global _entry_points_loaded
    if not _entry_points_loaded:
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            try:
                load_protocol(entry.value)
            except CalibenchError as exc:
                raise CalibenchError(f"an installed package declares protocol {entry.name!r} that does not load: {exc}; "
                                     f"fix or uninstall it") from None
        _entry_points_loaded = True
    return PROTOCOLS


def get_protocol(name: str) -> Protocol:
    """The protocol named ``name``; a template of a known one (``stated@few-shot``) is registered when first named."""
    protocols = available()
    base, template = split_name(name)
    if name not in protocols and base in protocols and SEPARATOR in name:
        if template == "plain":
            raise CalibenchError(f"protocol {name!r}: the plain template is the protocol itself; name it {base!r}")
        return register(with_template(protocols[base], template))
    if name not in protocols:
        raise CalibenchError(f"unknown protocol {name!r}; known: {', '.join(protocols)}")
    return protocols[name]


def self_answering(names) -> list[str]:
    """The protocols among ``names`` that fix their own letter: their effect on the answers is
    measured against the answer read."""
    return [name for name in names if PROTOCOLS[name].self_answering]


def sampleable(names) -> list[str]:
    """The protocols among ``names`` that sampling consistency can sample: those that fix their
    own letter, in their plain template."""
    return [name for name in self_answering(names) if PROTOCOLS[name].template == "plain"]


def request_protocols(protocols) -> list[Protocol]:
    """The requests a set of protocols sends, each once, in a fixed order: the answer read first,
    then its follow-ups, then the self-answering protocols (so a question's requests share a prefix)."""
    wanted = set()
    for name in protocols:
        p = PROTOCOLS[name]
        wanted.add(p.request)
        if p.follows:
            wanted.add(p.follows)
        wanted.update(p.builds_on)
        if p.conclusion:
            wanted.add(p.conclusion)
    sent = [p for name, p in REQUESTS.items() if name in wanted]
    # stable: the built-ins keep their order, and a protocol that builds on others comes after them
    return sorted(sent, key=lambda p: (p.name != "answer", bool(p.builds_on), p.follows is None))


__all__ = [
    "ANSWER", "ANSWER_INSTRUCTION", "ANSWER_PREFILL", "BACKENDS", "BUILT_IN", "CONFIDENCE_PREFILL", "CONSTRAINTS",
    "DEFAULT_PROTOCOLS", "ENTRY_POINT_GROUP", "NUMBER_GRAMMAR", "PROTOCOLS", "P_TRUE_QUESTION", "READINGS",
    "REQUESTS", "STATED_QUESTION", "SYSTEM_PROMPT", "TEMPLATES", "TOP_LOGPROBS", "Backend", "Protocol", "available",
    "get_protocol", "grammar", "load_protocol", "register", "request_protocols", "sampleable", "schema", "self_answering",
]
