"""The canonical on-disk form of a vendored dataset, shared by the build scripts and the loader.

A vendored dataset is one JSON object per line, keys sorted, UTF-8 without ASCII escaping,
"\\n" line ends, gzipped with a zero timestamp so that the same rows always give the same
bytes. Each row holds ``id``, ``subject``, ``subcategory``, ``category``, ``question``,
``choices`` (a list of option texts) and ``answer`` (the correct option's letter). The sha256
that the registry pins is that of the uncompressed JSONL, which for MMLU is the hash the
benchmark-data notes publish.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from calibench.atomic import write_atomic

FIELDS = ("answer", "category", "choices", "id", "question", "subcategory", "subject")


def canonical_jsonl(rows: Iterable[dict]) -> bytes:
    """Serialise rows to the canonical JSONL bytes (sorted keys, no ASCII escaping)."""
    out = []
    for row in rows:
        if tuple(sorted(row)) != FIELDS:
            raise ValueError(f"canonical row must have exactly the fields {FIELDS}, got {sorted(row)}")
        out.append(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    return "".join(out).encode("utf-8")


def write_vendored(rows: Iterable[dict], path: Path) -> str:
    """Write rows as a reproducible gzipped canonical JSONL file; return the JSONL's sha256."""
    raw = canonical_jsonl(rows)
    write_atomic(path, gzip.compress(raw, compresslevel=9, mtime=0))
    return hashlib.sha256(raw).hexdigest()
