"""Coverage-guided fuzzing of what reads untrusted text: the reply parser, the letter-probability
reader and the dataset loaders (atheris, libFuzzer's engine for Python).

Usage: python scripts/fuzz.py {parser,letters,loader} [libFuzzer flags, e.g. -max_total_time=1800]

Needs ``pip install atheris`` (a prebuilt wheel). Each target checks the invariants the code
promises: the parser never raises and never yields a confidence outside [0, 1] or a letter
outside the question's options; the letter reader never raises and returns probabilities
that sum to 1; a loader either returns valid questions or raises DatasetError, never anything
else. Any violation is a crash, which libFuzzer saves as ``crash-*`` with the input.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile

import atheris

with atheris.instrument_imports():
    from calibench.data.loaders import DatasetError, load_file
    from calibench.data.question import LETTERS
    from calibench.elicit.parser import STATUSES, parse_reply
    from calibench.models.letters import letter_probabilities

_TMP = tempfile.mkdtemp(prefix="calibench-fuzz-")


def _split(data: bytes, head: int) -> tuple[bytes, str]:
    """The first ``head`` bytes choose options; the rest is the input, decoded as UTF-8 (lossily),
    so that a seed file is its header bytes followed by the text itself."""
    return data[:head].ljust(head, b"\0"), data[head:].decode("utf-8", "replace")


def parser(data: bytes) -> None:
    header, text = _split(data, 2)
    letters = tuple(LETTERS[: 2 + header[0] % 9])
    kind = ("text", "json", "number")[header[1] % 3]
    finish = "length" if header[1] & 4 else "stop"
    parsed = parse_reply(text, letters, kind=kind, finish_reason=finish, options=tuple(f"option {x}" for x in letters))
    assert parsed.status in STATUSES, parsed
    assert parsed.letter is None or parsed.letter in letters, parsed
    assert parsed.confidence is None or (0.0 <= parsed.confidence <= 1.0), parsed


def letters(data: bytes) -> None:
    header, text = _split(data, 1)
    options = tuple(LETTERS[: 2 + header[0] % 9])
    try:
        content = json.loads(text)
    except (ValueError, RecursionError):
        return
    if not isinstance(content, list):
        return
    result = letter_probabilities(content, options)
    if result is not None:
        assert math.isclose(sum(result.probs.values()), 1.0, rel_tol=1e-9), result
        assert all(0.0 <= v <= 1.0 for v in result.probs.values()), result


def loader(data: bytes) -> None:
    suffix = ".jsonl" if data[:1] in (b"", b"\1") else ".csv"  # raw bytes after the first go to the file
    path = os.path.join(_TMP, "fuzz" + suffix)
    with open(path, "wb") as fh:
        fh.write(data[1:])
    try:
        questions = load_file(path)
    except DatasetError:
        return
    assert questions and all(q.answer in q.letters and 2 <= len(q.choices) <= 10 for q in questions)
    assert len({q.id for q in questions}) == len(questions)


TARGETS = {"parser": parser, "letters": letters, "loader": loader}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        raise SystemExit(f"usage: python scripts/fuzz.py {{{','.join(TARGETS)}}} [libFuzzer flags]")
    target = TARGETS[sys.argv.pop(1)]
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
