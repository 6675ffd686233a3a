"""Reading inspect_ai eval logs (``.eval`` or ``.json``): the answers, their stated confidences and letter probabilities.

Each sample gives up to two confidences, each an imported protocol:

- calibench's own scorer (:mod:`calibench.integrations.inspect`) left the letter and the
  stated confidence it read in the score's metadata: the protocol it names (``verbalized``);
  a sample from another scorer whose reply states a confidence is read by calibench's parser
  (``stated-text``);
- where the log kept the generated tokens' top log-probabilities (``logprobs``), the
  probability of the letter the model gave as its answer, renormalised over the option letters
  at that token (``letter-prob``): the first option letter written right after an ``Answer:``
  (or ``ANSWER:``, inspect's multiple-choice format), and only where it is the letter the
  scorer read; the probability on the letters before renormalising is kept (``letter_mass``).

An epoch after the first is the same question asked again (a repetition).

Samples without a target letter, without output, or without any confidence are counted by
reason and reported; a file that is not an inspect log is one clear error. Both formats are
read without inspect_ai: ``.json`` as it is, ``.eval`` (a zip of zstd-compressed JSON entries)
with ``zstandard``.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from calibench.data.question import LETTERS
from calibench.elicit.parser import PARSED, parse_reply
from calibench.errors import CalibenchError
from calibench.integrations.imported import Imported, ImportedAnswer, skipped_text
from calibench.models.letters import letter_probabilities_at

SCORER = "calibench_confidence"  # the name of calibench.integrations.inspect's scorer
DESCRIBED = {
    "letter-prob": "the probability of the letter the model wrote, renormalised over the option letters at that token",
    "stated-text": "a confidence stated in the reply, read by calibench's parser",
}


def read_inspect(path: str | Path) -> Imported:
    """Every sample of an inspect_ai log with a confidence calibench can read."""
    path = Path(path)
    log = _load(path)
    header = log.get("eval") if isinstance(log, dict) else None
    if not isinstance(header, dict) or not isinstance(log.get("samples"), list):
        raise CalibenchError(f"{path}: not an inspect_ai eval log with samples (no 'eval' header or 'samples' list)")
    answers, skipped, protocols = [], {}, {}
    for sample in log["samples"]:
        found, reason = _answers(sample if isinstance(sample, dict) else {})
        if reason:
            skipped[reason] = skipped.get(reason, 0) + 1
        for answer, description in found:
            answers.append(answer)
            protocols.setdefault(answer.protocol, description)
    if not answers:
        raise CalibenchError(f"{path}: no sample with an answer letter and a confidence ({skipped_text(skipped)})")
    model = str(header.get("model") or "inspect model").split("/")[-1]
    return Imported(tool="inspect_ai", tool_version=(header.get("packages") or {}).get("inspect_ai"), model=model,
                    protocols=protocols, answers=answers, skipped=skipped,
                    sources=[{"path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "task": header.get("task")}])


def _load(path: Path) -> dict:
    """The log as inspect's JSON format has it (``eval``, ``results``, ``samples``), from either file format."""
    if path.is_dir():
        raise CalibenchError(f"{path}: is a directory; give one .eval or .json log")
    if not path.is_file():
        raise CalibenchError(f"{path}: no such file")
    if path.suffix == ".eval":
        return _read_eval(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CalibenchError(f"{path}: not an inspect_ai log (not JSON: {str(exc)[:120]})") from None


def _read_eval(path: Path) -> dict:
    """An ``.eval`` log: a zip of JSON entries (``header.json``, ``samples/<id>_epoch_<n>.json``),
    stored or compressed with zstd (method 93), which Python's zipfile cannot inflate before 3.14."""
    import zipfile

    import zstandard

    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise CalibenchError(f"{path}: not an inspect_ai log (an .eval log is a zip archive)") from None

    def entry(name: str):
        info = archive.getinfo(name)
        if info.compress_type != ZSTD:
            return json.loads(archive.read(name))
        with path.open("rb") as f:  # the raw bytes after the entry's local header (30 bytes, its name, its extra field)
            f.seek(info.header_offset + 26)
            skip = int.from_bytes(f.read(2), "little") + int.from_bytes(f.read(2), "little")
            f.seek(skip, 1)
            raw = f.read(info.compress_size)
        return json.loads(zstandard.ZstdDecompressor().decompress(raw, max_output_size=info.file_size))

    with archive:
        names = archive.namelist()
        if "header.json" not in names:
            raise CalibenchError(f"{path}: not a finished inspect_ai log (no header.json: the eval may still be running)")
        try:
            log = entry("header.json")
            samples = [entry(n) for n in sorted(names) if n.startswith("samples/") and n.endswith(".json")]
        except (ValueError, zstandard.ZstdError, zipfile.BadZipFile, OSError) as exc:
            raise CalibenchError(f"{path}: an entry of the log cannot be read ({str(exc)[:120]})") from None
    if not isinstance(log, dict):
        raise CalibenchError(f"{path}: not an inspect_ai log (its header is not a JSON object)")
    return {**log, "samples": samples}


ZSTD = 93  # the zip compression method number of zstd


def _answers(sample: dict) -> tuple[list[tuple[ImportedAnswer, str]], str | None]:
    """A sample's answers with what each protocol is, or none and why."""
    metadata = sample.get("metadata") if isinstance(sample.get("metadata"), dict) else {}
    n = len(metadata["choices"]) if isinstance(metadata.get("choices"), list) and 2 <= len(metadata["choices"]) <= len(LETTERS) else 4
    letters = LETTERS[:n]
    target = sample.get("target")
    target = target[0] if isinstance(target, list) and target else target
    if not isinstance(target, str) or target.strip() not in letters:
        return [], "no target letter among the options"
    output = sample.get("output") if isinstance(sample.get("output"), dict) else {}
    choices = output.get("choices") if isinstance(output.get("choices"), list) else []
    if not choices:
        return [], "no output"
    epoch = sample.get("epoch") if isinstance(sample.get("epoch"), int) and sample.get("epoch") >= 1 else 1
    common = {"question_id": str(sample.get("id")), "subject": str(metadata.get("subject") or "inspect"), "answer": target.strip(),
              "task": "inspect", "repetition": epoch - 1}
    text = _resolved(output.get("completion"), sample)
    found = []
    answered = None  # the letter the scorer read, which letter-prob must speak of
    scores = sample.get("scores") if isinstance(sample.get("scores"), dict) else {}
    score = scores.get(SCORER)
    if isinstance(score, dict) and isinstance(score.get("metadata"), dict):
        meta = score["metadata"]
        read = meta.get("status") in PARSED and meta.get("confidence") is not None and score.get("answer") in letters
        answered = score.get("answer") if read else None
        found.append((ImportedAnswer(protocol=str(meta.get("protocol") or "calibench"), letter=answered,
                                     confidence=meta.get("confidence") if read else None, raw_text=text,
                                     status=str(meta.get("status") or "no_answer"), **common),
                      f"calibench's {meta.get('protocol')} protocol, read by calibench's scorer inside inspect"))
    else:
        answered = next((str(x.get("answer")).strip() for x in scores.values() if isinstance(x, dict) and str(x.get("answer")).strip() in letters), None)
        parsed = parse_reply(text, letters, kind="text") if text else None
        if parsed is not None and parsed.status in PARSED and parsed.confidence is not None:
            found.append((ImportedAnswer(protocol="stated-text", letter=parsed.letter, confidence=parsed.confidence, raw_text=text,
                                         status=parsed.status, **common), DESCRIBED["stated-text"]))
    letter_prob = _letter_probability(choices[0], letters)
    if letter_prob is not None and letter_prob[0] == answered:
        letter, probs, mass = letter_prob
        found.append((ImportedAnswer(protocol="letter-prob", letter=letter, confidence=probs[letter], letter_probs=probs, letter_mass=mass,
                                     raw_text=text, **common), DESCRIBED["letter-prob"]))
    return found, None if found else "no confidence in the log (no calibench score, stated confidence, or logprobs at the answer)"


def _resolved(text, sample: dict) -> str | None:
    """A text field, with inspect's ``attachment://<id>`` reference (a log stores repeated text once) replaced by the text."""
    if not isinstance(text, str):
        return None
    attachments = sample.get("attachments") if isinstance(sample.get("attachments"), dict) else {}
    if text.startswith("attachment://"):
        return attachments.get(text.removeprefix("attachment://"), text)
    return text


def _letter_probability(choice: dict, letters) -> tuple[str, dict[str, float], float] | None:
    """The answer letter the model wrote (the first option letter, alone, right after an
    ``Answer:``), the option letters' probabilities at that token and their mass before renormalising."""
    logprobs = choice.get("logprobs") if isinstance(choice, dict) else None
    content = logprobs.get("content") if isinstance(logprobs, dict) else None
    content = [e for e in content or [] if isinstance(e, dict)]
    written = ""
    for position, entry in enumerate(content):
        token = str(entry.get("token", ""))
        following = str(content[position + 1].get("token", "")) if position + 1 < len(content) else ""
        if token.strip() in letters and not following[:1].isalnum() and ANSWER_MARK.search(written):
            probs = letter_probabilities_at(entry, letters, position=position)
            return (token.strip(), probs.probs, probs.mass) if probs is not None and token.strip() in probs.probs else None
        written += token
    return None


ANSWER_MARK = re.compile(r"answer\s*:\s*$", re.IGNORECASE)  # the text written so far ends with "Answer:"
