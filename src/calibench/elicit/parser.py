"""Reading an answer letter and a confidence out of a model's reply. Never raises.

Each reading records a status and the rule that matched:

- ``ok``: the protocol's exact format (``Answer: B`` / ``Confidence: 85%`` on two lines; or
  a JSON object with an answer among the options and a numeric confidence);
- ``lenient``: both found, but by a looser rule (other phrasings, "85 %", "0.85", prose);
- ``no_answer``: no option letter found; ``no_confidence``: a letter but no confidence;
- ``out_of_range``: a confidence that is no number in [0, 100] (or [0, 1]), such as "150%",
  "-5", "NaN" or "1e309";
- ``empty``: no reply text at all.

Confidence scale, recorded as ``percent`` or ``probability``: a number followed by "%" is
a percentage; otherwise a number written with a decimal point and at most 1 ("0.85",
"1.0") is a probability; any other number is a percentage ("85", "1" = 1%). The result is
always in [0, 1] or None.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass

OK, LENIENT, NO_ANSWER, NO_CONFIDENCE, OUT_OF_RANGE, EMPTY = "ok", "lenient", "no_answer", "no_confidence", "out_of_range", "empty"
PARSED = (OK, LENIENT)
STATUSES = (OK, LENIENT, NO_ANSWER, NO_CONFIDENCE, OUT_OF_RANGE, EMPTY)
MAX_REPLY_CHARS = 20_000  # longer replies are read from their start only

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf(?:inity)?)"
_STRICT_TEXT = re.compile(
    rf"^\s*Answer:\s*\(?([A-J])\)?\s*\n\s*Confidence:\s*({_NUMBER})\s*%\s*$", re.IGNORECASE
)


@dataclass(frozen=True)
class Parsed:
    """What was read from one reply."""

    letter: str | None
    confidence: float | None
    scale: str | None
    status: str
    rule: str

    def to_dict(self) -> dict:
        return asdict(self)


def parse_reply(text, letters, *, kind: str = "text") -> Parsed:
    """Read a letter among ``letters`` and a confidence from ``text``; ``kind`` is "text" or "json"."""
    try:
        return _parse(text, tuple(letters), kind)
    except Exception:  # the parser must never raise, whatever a model wrote
        return Parsed(None, None, None, NO_ANSWER, "unreadable")


def _parse(text, letters: tuple[str, ...], kind: str) -> Parsed:
    if not isinstance(text, str) or not text.strip():
        return Parsed(None, None, None, EMPTY, "empty")
    text = text[:MAX_REPLY_CHARS]
    if kind == "json":
        strict = _strict_json(text, letters)
        if strict is not None:
            return strict
    else:
        m = _STRICT_TEXT.match(text)
        if m and m.group(1).upper() in letters:
            return _with_confidence(m.group(1).upper(), m.group(2), True, OK, "strict")
    return _lenient(text, letters)


def _strict_json(text: str, letters) -> Parsed | None:
    try:
        obj = json.loads(text)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    answer, conf = obj.get("answer"), obj.get("confidence")
    if not isinstance(answer, str) or answer.strip().upper() not in letters:
        return None
    letter = answer.strip().upper()
    if isinstance(conf, bool) or not isinstance(conf, (int, float)):
        if isinstance(conf, str):
            return _with_confidence(letter, conf.strip().rstrip("%").strip(), conf.strip().endswith("%"), LENIENT, "json-string-confidence")
        return Parsed(letter, None, None, NO_CONFIDENCE, "json")
    return _with_confidence(letter, repr(conf), False, OK, "json")


def _with_confidence(letter: str, number: str, percent_sign: bool, status: str, rule: str) -> Parsed:
    value, scale = read_confidence(number, percent_sign)
    if value is None:
        return Parsed(letter, None, None, OUT_OF_RANGE, rule)
    return Parsed(letter, value, scale, status, rule)


def read_confidence(number: str, percent_sign: bool) -> tuple[float | None, str | None]:
    """A confidence in [0, 1] and its scale from a number's text, or (None, None) if out of range."""
    try:
        x = float(number)
    except (TypeError, ValueError, OverflowError):
        return None, None
    if not math.isfinite(x) or x < 0:
        return None, None
    decimal = "." in number or "e" in number.lower()
    if not percent_sign and decimal and x <= 1.0:
        return x, "probability"
    if x > 100:
        return None, None
    return x / 100.0, "percent"


# Lenient letter rules, tried in order; each must name one of the question's letters.
_LETTER_RULES = (
    ("answer-label", re.compile(r"\banswer\s*(?:is|:|=|-)?\s*(?:option\s*)?[\(\[\"'*]*([A-J])\b(?![\w'])", re.IGNORECASE)),
    ("json-answer", re.compile(r"[\"']answer[\"']\s*:\s*[\"']\s*([A-J])\s*[\"']", re.IGNORECASE)),
    ("option-word", re.compile(r"\b(?:option|choice)\s*(?:is\s*)?[\(\[\"'*]*([A-J])\b(?![\w'])", re.IGNORECASE)),
    ("leading-letter", re.compile(r"^\s*[\(\[\"'*]*([A-J])[\)\]\"'*]*(?:[.:)\s]|$)")),
    ("bracketed-letter", re.compile(r"[\(\[]([A-J])[\)\]]")),
    ("bold-letter", re.compile(r"\*\*([A-J])\*\*")),
)
_CONFIDENCE_RULES = (
    ("confidence-label", re.compile(rf"confiden\w*\s*(?:level|score)?\s*(?:is|of|:|=|-)?\s*({_NUMBER})\s*(%|percent)?", re.IGNORECASE)),
    ("json-confidence", re.compile(rf"[\"']confidence[\"']\s*:\s*[\"']?\s*({_NUMBER})\s*(%)?", re.IGNORECASE)),
    ("percentage", re.compile(rf"({_NUMBER})\s*(%|percent)", re.IGNORECASE)),
    ("probability", re.compile(r"(?<![\w.])(0?\.\d+|1\.0+)(?![\w.%])")),
)


def _lenient(text: str, letters) -> Parsed:
    letter, letter_rule = None, ""
    for rule, pattern in _LETTER_RULES:
        for m in pattern.finditer(text):
            if m.group(1).upper() in letters and (rule != "leading-letter" or m.group(1).isupper()):
                letter, letter_rule = m.group(1).upper(), rule
                break
        if letter:
            break
    if letter is None:
        return Parsed(None, None, None, NO_ANSWER, "none")
    for rule, pattern in _CONFIDENCE_RULES:
        m = pattern.search(text)
        if m:
            sign = bool(m.group(2)) if m.lastindex and m.lastindex >= 2 else False
            return _with_confidence(letter, m.group(1), sign, LENIENT, f"{letter_rule}+{rule}")
    return Parsed(letter, None, None, NO_CONFIDENCE, letter_rule)


def parse_logprobs(letter_probs: dict[str, float] | None) -> Parsed:
    """The ``logprob`` protocol's reading: the most probable letter and its probability."""
    if not letter_probs:
        return Parsed(None, None, None, NO_ANSWER, "no-logprobs")
    letter = max(sorted(letter_probs), key=lambda k: letter_probs[k])
    value = min(max(float(letter_probs[letter]), 0.0), 1.0)
    return Parsed(letter, value, "probability", OK, "top-logprobs")
