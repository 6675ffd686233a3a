import os

import pytest

from calibench.atomic import write_atomic
from calibench.errors import CalibenchError


def test_writes_and_replaces_leaving_no_temporary(tmp_path):
    path = tmp_path / "out.txt"
    write_atomic(path, "first")
    os.chmod(path, 0o640)
    write_atomic(path, b"second")
    assert path.read_text() == "second"
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_new_file_is_readable_like_an_ordinary_file(tmp_path):
    write_atomic(tmp_path / "new.txt", "x")
    assert (tmp_path / "new.txt").stat().st_mode & 0o777 == 0o644


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "keep.txt"
    path.write_text("old")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(CalibenchError, match="keep.txt: cannot be written: No space left"):
        write_atomic(path, "new")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(CalibenchError, match="cannot be written"):
        write_atomic(tmp_path / "nope" / "x.txt", "x")


def test_a_writer_killed_before_the_rename_leaves_the_old_file_and_a_temporary_that_is_removed(tmp_path):
    import subprocess
    import sys

    from calibench.atomic import remove_stale_temporaries

    path = tmp_path / "results.json"
    path.write_text('{"old": true}')
    script = (
        "import os, signal, sys\n"
        "from calibench import atomic\n"
        "atomic.os.replace = lambda src, dst: os.kill(os.getpid(), signal.SIGKILL)\n"
        "atomic.write_atomic(sys.argv[1], '{\"new\": true}')\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True)
    assert proc.returncode == -9  # killed after writing the temporary, before renaming it
    assert path.read_text() == '{"old": true}'
    stale = list(tmp_path.glob(".*.tmp"))
    assert len(stale) == 1 and stale[0].read_text() == '{"new": true}'
    assert remove_stale_temporaries(tmp_path) == stale
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]
