"""Load questions from a vendored dataset or from a user's JSONL or CSV file.

A user file holds one question per JSONL line or CSV row with the fields of
:class:`~calibench.data.question.Question`:

- ``question`` (required): the question text;
- the options (required, 2 to 10): in JSONL a ``choices`` list; in CSV either a
  ``choices`` column holding a JSON list, or one column per option named ``A``, ``B``, ...
  (trailing empty cells are allowed, so rows may have different numbers of options);
- ``answer`` (required): the correct option's letter (case and surrounding spaces ignored);
- ``id`` (optional, unique; defaults to the row's 0-based index), ``subject`` and
  ``category`` (optional; default ``"general"``).

Any problem is raised as a :class:`DatasetError` naming the file, the line and the field.
"""

from __future__ import annotations

import csv
import functools
import gzip
import hashlib
import io
import json
from importlib import resources
from pathlib import Path

from calibench.data.question import LETTERS, MAX_CHOICES, MIN_CHOICES, Question
from calibench.data.registry import DATASETS, DatasetSpec
from calibench.errors import CalibenchError

DEFAULT_STRATUM = "general"


class DatasetError(CalibenchError):
    """A dataset that cannot be loaded: unknown name, unreadable file or a bad row."""


def load_dataset(name_or_path: str | Path) -> list[Question]:
    """Load a vendored dataset by name (see ``calibench datasets``) or a JSONL/CSV file by path.

    Vendored names are matched case-insensitively, with ``_`` and ``-`` treated alike
    (``arc_challenge`` is ``arc-challenge``). A vendored file is checked against its pinned
    sha256 before any row is read. Returns a new list on every call.
    """
    key = str(name_or_path).strip().lower().replace("_", "-")
    if key in DATASETS:
        return list(_load_vendored(key))
    path = Path(name_or_path)
    if path.is_file():
        return load_file(path)
    if path.exists():
        raise DatasetError(f"{path}: is not a regular file")
    raise DatasetError(
        f"unknown dataset {str(name_or_path)!r}: neither a vendored dataset "
        f"({', '.join(DATASETS)}) nor an existing file"
    )


def vendored_path(spec: DatasetSpec) -> Path:
    """Where a vendored dataset's gzipped JSONL lies inside the installed package."""
    return Path(str(resources.files("calibench.data") / "vendored" / spec.filename))


@functools.lru_cache(maxsize=None)
def _load_vendored(name: str) -> tuple[Question, ...]:
    spec = DATASETS[name]
    path = vendored_path(spec)
    try:
        raw = gzip.decompress(path.read_bytes())
    except (OSError, EOFError) as exc:
        raise DatasetError(f"vendored dataset {name} cannot be read ({path}: {exc}); reinstall calibench") from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != spec.sha256:
        raise DatasetError(f"vendored dataset {name} is damaged: sha256 {digest}, expected {spec.sha256}; reinstall calibench")
    # split on "\n" only: str.splitlines() would also split on U+2028 inside question texts
    rows = [json.loads(line) for line in raw.decode("utf-8").split("\n") if line]
    return tuple(
        Question(
            id=r["id"],
            dataset=name,
            subject=r["subject"],
            category=r["category"],
            question=r["question"],
            choices=tuple(r["choices"]),
            answer=r["answer"],
        )
        for r in rows
    )


def load_file(path: str | Path) -> list[Question]:
    """Load a user's questions from ``.jsonl``, ``.jsonl.gz``, ``.csv`` or ``.csv.gz``.

    The dataset name recorded in each Question is the file name without those suffixes.
    """
    path = Path(path)
    suffixes = [s.lower() for s in path.suffixes[-2:]]
    gzipped = suffixes[-1:] == [".gz"]
    kind = (suffixes[-2] if gzipped and len(suffixes) == 2 else suffixes[-1]) if suffixes else ""
    if kind not in (".jsonl", ".csv"):
        raise DatasetError(f"{path}: unsupported file type; use .jsonl or .csv (optionally .gz)")
    try:
        data = path.read_bytes()
        if gzipped:
            data = gzip.decompress(data)
    except (OSError, EOFError) as exc:
        raise DatasetError(f"{path}: cannot be read: {exc}") from None
    dataset = path.name[: len(path.name) - len("".join(path.suffixes[-2 if gzipped else -1 :]))]
    records = _jsonl_records(path, data) if kind == ".jsonl" else _csv_records(path, data)
    questions: list[Question] = []
    first_line: dict[str, int] = {}
    for index, (line, record) in enumerate(records):
        q = _question(path, line, index, dataset, record)
        if q.id in first_line:
            raise DatasetError(f"{path}, line {line}, field 'id': duplicate id {q.id!r} (first on line {first_line[q.id]})")
        first_line[q.id] = line
        questions.append(q)
    if not questions:
        raise DatasetError(f"{path}: holds no questions")
    return questions


def _decode_lines(path: Path, data: bytes) -> list[str]:
    lines = data.split(b"\n")
    out = []
    for number, line in enumerate(lines, start=1):
        try:
            out.append(line.decode("utf-8-sig" if number == 1 else "utf-8"))
        except UnicodeDecodeError as exc:
            raise DatasetError(f"{path}, line {number}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    return out


def _jsonl_records(path: Path, data: bytes):
    for number, line in enumerate(_decode_lines(path, data), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path}, line {number}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(record, dict):
            raise DatasetError(f"{path}, line {number}: expected a JSON object, got {type(record).__name__}")
        yield number, record


def _csv_records(path: Path, data: bytes):
    text = "\n".join(_decode_lines(path, data))
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    letter_columns = [c for c in header if c.strip().upper() in LETTERS and len(c.strip()) == 1]
    try:
        for row in reader:
            number = reader.line_num
            if None in row:
                raise DatasetError(f"{path}, line {number}: more cells than the header has columns")
            if not any((v or "").strip() for v in row.values()):
                continue
            record = {k.strip(): v for k, v in row.items() if k not in letter_columns}
            if "choices" not in record and letter_columns:
                record["choices"] = _choice_columns(path, number, row, letter_columns)
            elif isinstance(record.get("choices"), str):
                try:
                    record["choices"] = json.loads(record["choices"])
                except json.JSONDecodeError:
                    raise DatasetError(f"{path}, line {number}, field 'choices': not a JSON list of option texts") from None
            yield number, record
    except csv.Error as exc:
        raise DatasetError(f"{path}, line {reader.line_num}: malformed CSV ({exc})") from None


def _choice_columns(path: Path, line: int, row: dict, columns: list[str]) -> list[str]:
    by_letter = {c.strip().upper(): row[c] or "" for c in columns}
    present = [letter for letter in LETTERS if letter in by_letter]
    if present != list(LETTERS[: len(present)]):
        raise DatasetError(f"{path}: option columns must run A, B, C, ... without gaps; got {', '.join(present)}")
    values = [by_letter[letter] for letter in present]
    while values and not values[-1].strip():
        values.pop()
    for letter, value in zip(LETTERS, values):
        if not value.strip():
            raise DatasetError(f"{path}, line {line}, field '{letter}': empty option before a later non-empty one")
    return values


def _question(path: Path, line: int, index: int, dataset: str, record: dict) -> Question:
    def fail(field: str, problem: str) -> DatasetError:
        return DatasetError(f"{path}, line {line}, field '{field}': {problem}")

    def text(field: str, default: str | None = None) -> str:
        value = record.get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            if default is not None:
                return default
            raise fail(field, "missing")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise fail(field, f"expected text, got {type(value).__name__}")
        return str(value).strip()

    question = text("question")
    choices = record.get("choices")
    if choices is None:
        raise fail("choices", "missing")
    if not isinstance(choices, list):
        raise fail("choices", f"expected a list of option texts, got {type(choices).__name__}")
    if not MIN_CHOICES <= len(choices) <= MAX_CHOICES:
        raise fail("choices", f"needs {MIN_CHOICES} to {MAX_CHOICES} options, got {len(choices)}")
    for i, choice in enumerate(choices):
        if isinstance(choice, bool) or not isinstance(choice, (str, int, float)):
            raise fail("choices", f"option {LETTERS[i]} is {type(choice).__name__}, expected text")
    letters = tuple(LETTERS[: len(choices)])  # a tuple: "AB" must not pass as a substring of "ABCD"
    answer = text("answer").upper()
    if answer not in letters:
        raise fail("answer", f"{answer!r} is not one of the option letters {', '.join(letters)}")
    return Question(
        id=text("id", default=str(index)),
        dataset=dataset,
        subject=text("subject", default=DEFAULT_STRATUM),
        category=text("category", default=DEFAULT_STRATUM),
        question=question,
        choices=tuple(str(c) for c in choices),
        answer=answer,
    )
