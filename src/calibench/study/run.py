"""Reading a finished run back, for notebooks and for the report: no model is asked again."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from calibench.errors import CalibenchError
from calibench.study.results import Results


@dataclass(frozen=True)
class Run:
    """A run directory's results (validated against the schema) and its items as rows."""

    path: Path
    results: Results
    items: list[dict]

    def items_frame(self):
        """The items as a pandas DataFrame (needs pandas)."""
        try:
            import pandas as pd
        except ImportError:
            raise CalibenchError("items_frame() needs pandas: pip install pandas") from None
        return pd.DataFrame(self.items)


def load_results(path: str | Path) -> Results:
    """Load and validate ``results.json`` from a run directory (or the file itself)."""
    path = Path(path)
    if not path.exists():
        raise CalibenchError(f"{path}: no such directory")
    results_file = path if path.is_file() else path / "results.json"
    if not results_file.is_file():
        raise CalibenchError(f"{path}: not a finished run (results.json is missing)")
    try:
        text = results_file.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CalibenchError(f"{results_file}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        return Results.model_validate_json(text)
    except ValueError as exc:
        first = str(exc).splitlines()[0]
        raise CalibenchError(f"{results_file}: does not match the results schema ({first})") from None


def load_run(path: str | Path) -> Run:
    """Load ``results.json`` and ``items.jsonl`` from a run directory."""
    path = Path(path)
    results = load_results(path)
    items_file = path / "items.jsonl"
    if not items_file.is_file():
        raise CalibenchError(f"{path}: not a finished run (items.jsonl is missing)")
    try:
        text = items_file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CalibenchError(f"{items_file}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    items = []
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            try:
                items.append(json.loads(line))
            except ValueError:
                raise CalibenchError(f"{items_file}, line {number}: not valid JSON") from None
    return Run(path, results, items)


def load_items(path: str | Path) -> list[dict] | None:
    """A run directory's items (see :func:`load_run`), or None where it has no items.jsonl (a
    results.json given alone): the report then has no item explorer."""
    path = Path(path)
    return load_run(path).items if path.is_dir() and (path / "items.jsonl").is_file() else None
