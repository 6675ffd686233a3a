"""Reading an answer letter and a confidence out of a model's reply: only what it asserted.

The parser never raises and reads a number only from the reply's own statement of its
confidence ("Confidence: 80%", "I am 80% sure", a JSON ``confidence`` field, or a reply that
is the number alone), never from other text: a model that copies the options writes their
numbers too ("A. 0.048 m"). Each reading records a status and the rule that matched:

- ``ok``: the protocol's exact format (``Answer: B`` / ``Confidence: 85%``; a JSON object
  with an answer among the options and a numeric confidence; a number alone);
- ``lenient``: both found by a looser rule (other phrasings, "85 %", prose, JSON in text);
- ``no_answer``: no option letter asserted; ``no_confidence``: a letter but no confidence;
- ``option_echo``: the reply lists the options (two or more lines opening with an option
  letter) and asserts none of them;
- ``ambiguous``: several different letters asserted ("Answer: A, C", "A or B");
- ``template_echo``: the format template copied ("Answer: <letter>", "Confidence: 0-100%");
- ``truncated``: the reply was cut by the token limit (``finish_reason`` "length", or a JSON
  object left open) before the reading was complete: a confidence number at the very end
  of a cut reply may have lost digits ("Confidence: 8" of "85"), so it is not read;
- ``out_of_range``: a stated confidence that is no number in [0, 100] (or [0, 1]);
- ``empty``: no reply text at all.

The article "A" ("Answer: A barrel-shaped chest") is not read as option A unless the
words after it are option A's own text.

Confidence scale, recorded as ``percent`` or ``probability``: a number followed by "%" is a
percentage; otherwise a number written with a decimal point and at most 1 ("0.85", "1.0")
is a probability; any other number is a percentage ("85"). Two forms could be either: a bare ``1``, and a decimal at most 1
with a "%" ("0.99%": SmolLM2-135M wrote it after writing "0.99" elsewhere); zero ("0",
"0.0000%") is zero on either scale. The two are read as percentages and ``alt_confidence``
carries the probability reading, so that a study can mark them ``scale_ambiguous`` where the same model
writes probabilities elsewhere (:func:`mark_scale_ambiguous`).

Every rule is linear in the reply's length by construction: every repeat in every pattern
is bounded (``{0,8}``, never ``*`` or ``+``), so a match attempt costs a bounded number of
steps wherever it starts, and replies are read from their first ``MAX_REPLY_CHARS``
characters only. ``tests/elicit/test_parser_time.py`` times adversarial replies at the cap.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, replace
from itertools import islice

OK, LENIENT, NO_ANSWER, NO_CONFIDENCE, OUT_OF_RANGE, EMPTY = "ok", "lenient", "no_answer", "no_confidence", "out_of_range", "empty"
OPTION_ECHO, AMBIGUOUS, TEMPLATE_ECHO, TRUNCATED, SCALE_AMBIGUOUS = "option_echo", "ambiguous", "template_echo", "truncated", "scale_ambiguous"
PARSED = (OK, LENIENT)
STATUSES = (OK, LENIENT, NO_ANSWER, NO_CONFIDENCE, OPTION_ECHO, AMBIGUOUS, TEMPLATE_ECHO, TRUNCATED, OUT_OF_RANGE,
            SCALE_AMBIGUOUS, EMPTY)
MAX_REPLY_CHARS = 20_000  # longer replies are read from their start only (and count as cut)


@dataclass(frozen=True)
class Parsed:
    """What was read from one reply. ``alt_confidence`` is the probability reading of a bare 1 or a decimal percentage at most 1%."""

    letter: str | None
    confidence: float | None
    scale: str | None
    status: str
    rule: str
    alt_confidence: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


# a number as models write it; every repeat bounded (see the module docstring)
_NUM = r"[-+]?(?:\d{1,12}(?:\.\d{1,12}|,\d{1,2}(?!\d))?|\.\d{1,12})(?:[eE][-+]?\d{1,4})?|(?i:nan|inf(?:inity)?)"
_S = r"[ \t]{0,4}"  # spaces within a line
_WS = r"\s{0,8}"  # spaces, possibly across lines
_OPEN = r"[(\[\"'*`]{0,3}"
_LETTER_END = r"(?![A-Za-z0-9'’])"  # the letter is a word of its own ("B", "B.", "(B)"), not "Bob" or "B's"

_STRICT_TEXT = re.compile(
    rf"{_WS}(?i:answer):{_S}\(?([A-Ja-j])\)?{_S}\n{_WS}(?i:confidence):{_S}({_NUM}){_S}%{_WS}", re.ASCII
)
_STRICT_NUMBER = re.compile(rf"{_WS}(?:(?i:confidence):)?{_S}({_NUM}){_S}(%?){_WS}", re.ASCII)

# letter rules, tried in order; the first that names a letter of the question decides
_ANSWER_LABEL = re.compile(
    rf"\b(?i:answer)(?:{_S}(?i:is|would be|will be|:|=|-)){{0,2}}{_S}(?i:option{_S}|choice{_S})?{_OPEN}([A-J]){_LETTER_END}"
)
_JSON_ANSWER = re.compile(rf"[\"']answer[\"']{_S}:{_S}[\"']{_S}([A-J]){_S}[\"']", re.IGNORECASE)
_CHOICE_WORD = re.compile(
    rf"\b(?:(?i:option|choice){_S}(?i:is)|(?i:go with|going with|choose|chose|select|pick)(?:{_S}(?i:option|choice))?){_S}{_OPEN}([A-J]){_LETTER_END}"
)
_NEGATED = re.compile(r"(?i:\bnot|n't|\bnever)\W{0,3}\w{0,12}\W{0,3}$")  # "would not choose A", "isn't option A"
_LEADING = re.compile(rf"{_WS}{_OPEN}([A-J])[)\]\"'*`]{{0,3}}(?:[.:)]|\s|$)")
_BRACKETED = re.compile(r"[(\[]([A-J])[)\]]")
_BOLD = re.compile(r"\*\*([A-J])\*\*")
_OPTION_LINE = re.compile(r"^[ \t]{0,4}[(\[]?([A-J])[.):\]]", re.MULTILINE)
_MORE_LETTERS = re.compile(rf"{_S}(?:,|/|&|(?i:or|and)\b){_S}(?i:option{_S})?{_OPEN}([A-J]){_LETTER_END}")
_LETTER_TEMPLATE = re.compile(r"<\s{0,2}(?i:letter|answer)\s{0,2}>")

# confidence rules: only the reply's statement of its own confidence
_CONFIDENCE_RULES = (
    ("confidence-label", re.compile(
        rf"\b(?i:confiden(?:ce|t))(?:{_S}(?i:level|score|rating))?(?:{_S}(?i:is|of|:|=|-|at|about|around)){{0,2}}"
        rf"{_S}[*\"'`<]{{0,2}}{_S}({_NUM}){_S}(%|(?i:percent)\b)?")),
    ("json-confidence", re.compile(rf"[\"']confidence[\"']{_S}:{_S}[\"']?{_S}({_NUM}){_S}(%)?", re.IGNORECASE)),
    ("percent-sure", re.compile(
        rf"(?<![\w.])({_NUM}){_S}(%|(?i:percent)\b){_S}(?i:confident|sure|certain|confidence)\b")),
)
_STRING_NUMBER = re.compile(rf"({_NUM}){_S}(%?)")  # a JSON confidence written as a string: "80%"
_RANGE_AFTER = re.compile(rf"{_S}(?:-|–|to){_S}100")
_FRACTION = re.compile(rf"{_S}(?:/|(?i:out of)){_S}(\d{{1,6}})(?![\d.])")


def parse_reply(text, letters, *, kind: str = "text", finish_reason: str | None = None, options=None) -> Parsed:
    """Read a letter among ``letters`` and a confidence from ``text``.

    ``kind``: "text" (free text), "json" (a JSON object) or "number" (a reply that states a
    confidence only, such as the second turn of the ``stated`` protocol: no letter is read).
    ``finish_reason`` is the endpoint's; "length" means the reply was cut by the token limit.
    ``options`` (the option texts, in letter order) tells the article "A" from option A.
    """
    try:
        return _parse(text, tuple(letters), kind, finish_reason == "length", tuple(normal_text(o) for o in options or ()))
    except Exception:  # the parser must never raise, whatever a model wrote
        return Parsed(None, None, None, NO_ANSWER, "unreadable")


def _parse(text, letters: tuple[str, ...], kind: str, cut: bool, options: tuple[str, ...]) -> Parsed:
    """``options``: the option texts, normalised (:func:`normal_text`)."""
    if not isinstance(text, str) or not text.strip():
        return Parsed(None, None, None, TRUNCATED if cut else EMPTY, "empty")
    if len(text) > MAX_REPLY_CHARS:
        text, cut = text[:MAX_REPLY_CHARS], True
    if kind == "number":
        return _number(text, cut)
    if kind == "json":
        reading = _json(text, letters, cut)
        if reading is not None:
            return reading
    else:
        m = _STRICT_TEXT.fullmatch(text)
        if m and m.group(1).upper() in letters:  # a lone lowercase letter on the answer line is the letter too
            return _with_confidence(m.group(1).upper(), m.group(2), True, OK, "strict")
    return _lenient(text, letters, cut, options)


def read_confidence(number: str, percent_sign: bool) -> tuple[float | None, str | None]:
    """A confidence in [0, 1] and its scale from a number's text, or (None, None) if out of range."""
    number = number.strip().replace(",", ".")
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


def _with_confidence(letter: str | None, number: str, percent_sign: bool, status: str, rule: str) -> Parsed:
    value, scale = read_confidence(number, percent_sign)
    if value is None:
        return Parsed(letter, None, None, OUT_OF_RANGE, rule)
    text = number.strip().lstrip("+")
    alt = None
    if not percent_sign and text in ("0", "1"):
        alt = value * 100  # "1": 1%, or 1.0 from a model that writes probabilities
    elif percent_sign and "." in text and value <= 0.01:
        alt = value * 100  # "0.99%": 0.99%, or a probability with a stray "%"
    if alt == value:
        alt = None  # "0" and "0.0000%" are zero on either scale: nothing to choose between
    return Parsed(letter, value, scale, status, rule, alt_confidence=alt)


def _number(text: str, cut: bool) -> Parsed:
    """A reply that should be a confidence and nothing else ("85%", "0.85", "Confidence: 85%")."""
    m = _STRICT_NUMBER.fullmatch(text)
    if m:
        if cut and not m.group(2):
            return Parsed(None, None, None, TRUNCATED, "number")
        return _with_confidence(None, m.group(1), bool(m.group(2)), OK, "number")
    obj = _first_json_object(text)
    if isinstance(obj, dict) and "confidence" in obj:
        return _json_confidence(None, obj.get("confidence"), "json")
    return _confidence(text, None, cut, "")


def _first_json_object(text: str):
    """The JSON value starting at the reply's first "{", or None (raw_decode reads it in linear time)."""
    start = text.find("{")
    if start < 0:
        return None
    try:
        return json.JSONDecoder().raw_decode(text, start)[0]
    except ValueError:
        return None


def _json(text: str, letters, cut: bool) -> Parsed | None:
    """The JSON protocol's reading; None falls back to the text rules (JSON inside prose, broken JSON)."""
    strict = True
    try:
        obj = json.loads(text)
    except ValueError:
        obj, strict = _first_json_object(text), False
    if not isinstance(obj, dict):
        # an object left open was cut, whatever finish_reason says
        if text.lstrip().startswith("{") and not text.rstrip().endswith("}"):
            cut = True
        return _lenient(text, letters, cut, ()) if cut else None
    answer, conf = obj.get("answer"), obj.get("confidence")
    if not isinstance(answer, str) or answer.strip() not in letters:
        if isinstance(answer, str) and _LETTER_TEMPLATE.search(answer):
            return Parsed(None, None, None, TEMPLATE_ECHO, "json")
        return Parsed(None, None, None, NO_ANSWER, "json")
    reading = _json_confidence(answer.strip(), conf, "json" if strict else "json-in-text")
    return reading if strict or reading.status != OK else replace(reading, status=LENIENT)


def _json_confidence(letter: str | None, conf, rule: str) -> Parsed:
    if isinstance(conf, bool) or not isinstance(conf, (int, float, str)):
        return Parsed(letter, None, None, NO_CONFIDENCE, rule)
    if isinstance(conf, str):
        text = conf.strip()
        m = _STRING_NUMBER.fullmatch(text)
        if not m:
            return Parsed(letter, None, None, TEMPLATE_ECHO if _RANGE_AFTER.search(text) else NO_CONFIDENCE, rule)
        return _with_confidence(letter, m.group(1), bool(m.group(2)), LENIENT, f"{rule}-string-confidence")
    return _with_confidence(letter, repr(conf) if isinstance(conf, float) else str(conf), False, OK, rule)


_NOT_A_NOUN = frozenset({"or", "and", "is", "was", "because", "since", "as", "with", "but", "nor", "to"})
_NEXT_WORD = re.compile(r"[ \t]{1,4}([A-Za-z][\w-]{0,40})")


def normal_text(text: str) -> str:
    """Lower case, punctuation as spaces, spaces folded: option texts and replies compared alike."""
    return " ".join(re.sub(r"[^\w%]", " ", text.lower()).split())


def _is_article(text: str, end: int, letter: str, options: tuple[str, ...]) -> bool:
    """Whether the "A" (or "I") that ends at ``end`` is the article (or the pronoun): followed by
    a word that is not that option's text ("A barrel-shaped chest", "I think B"). ``options``
    are normalised; the option's text may follow the letter or begin with it ("A barrel-shaped
    chest" as option A's text)."""
    if letter not in ("A", "I"):
        return False
    m = _NEXT_WORD.match(text, end, end + 48)
    if not m or m.group(1) in _NOT_A_NOUN or (letter == "I" and not m.group(1)[0].islower()):
        return False  # "I" is the pronoun only before a lower-case word ("I think"), as it was
    index = ord(letter) - ord("A")
    if index < len(options) and options[index]:
        option = options[index][:30]
        return not (normal_text(text[end:end + 300]).startswith(option) or normal_text(text[end - 1:end + 300]).startswith(option))
    return m.group(1)[0].islower()


def _names_another_option(text: str, end: int, letter: str, letters, options: tuple[str, ...]) -> bool:
    """Whether the words after the letter are another option's text and not its own ("A. 40 m/s"
    when B is "40 m/s"); ``options`` are normalised."""
    if len(options) != len(letters):
        return False
    line = normal_text(text[end:end + 300].split("\n", 1)[0])
    if not line:
        return False
    own = options[letters.index(letter)]
    if own and line.startswith(own):
        return False
    return any(t and line.startswith(t) for i, t in enumerate(options) if letters[i] != letter)


def _echoes_options(text: str, letters) -> bool:
    """Two or more lines that open with different option letters: the reply lists the options."""
    seen = set()
    for m in _OPTION_LINE.finditer(text):
        if m.group(1) in letters:
            seen.add(m.group(1))
            if len(seen) >= 2:
                return True
    return False


def _letter(text: str, letters, options) -> tuple[str | None, str, str]:
    """(letter, rule, why-not): the asserted letter, or None with the reason (a status) it is not read."""
    echo = _echoes_options(text, letters)
    rules = [("answer-label", _ANSWER_LABEL), ("json-answer", _JSON_ANSWER), ("choice-word", _CHOICE_WORD)]
    if not echo:  # in a copied option list, a line's leading letter asserts nothing
        rules += [("leading-letter", None), ("bracketed-letter", _BRACKETED), ("bold-letter", _BOLD)]
    why = OPTION_ECHO if echo else NO_ANSWER
    for rule, pattern in rules:
        if pattern is None:
            m = _LEADING.match(text)
            matches = [m] if m else []
        else:
            matches = islice(pattern.finditer(text), 64)
        found = []
        for m in matches:
            letter = m.group(1)
            if letter not in letters:
                continue
            if _is_article(text, m.end(1), letter, options):
                continue
            if rule == "choice-word" and _NEGATED.search(text, max(0, m.start() - 24), m.start()):
                continue  # a rejected option is not the answer
            if _names_another_option(text, m.end(), letter, letters, options):
                return None, rule, AMBIGUOUS  # "A. <option C's text>": letter and text disagree
            found.append(letter)
            if rule in ("answer-label", "choice-word"):
                more = _MORE_LETTERS.match(text, m.end(1))
                if more and more.group(1) in letters and more.group(1) != letter:
                    return None, rule, AMBIGUOUS
        if found:
            if len(set(found)) > 1:
                return None, rule, AMBIGUOUS
            return found[0], rule, ""
    if _LETTER_TEMPLATE.search(text):
        why = TEMPLATE_ECHO
    return None, "none", why


def _confidence(text: str, letter: str | None, cut: bool, letter_rule: str) -> Parsed:
    for rule, pattern in _CONFIDENCE_RULES:
        m = pattern.search(text)
        if not m:
            continue
        name = f"{letter_rule}+{rule}" if letter_rule else rule
        number, unit = m.group(1), m.group(2)
        if text[m.start(1) - 1:m.start(1)] == "<" or _RANGE_AFTER.match(text, m.end(1)):
            return Parsed(letter, None, None, TEMPLATE_ECHO, name)  # "0-100%", "<0-100>"
        fraction = _FRACTION.match(text, m.end(1))
        if fraction:  # "8/10", "3 out of 5": the fraction itself
            return _fraction(letter, number, fraction.group(1), name)
        if cut and not unit and m.end(1) >= len(text.rstrip()):
            return Parsed(letter, None, None, TRUNCATED, name)  # the number may have lost digits
        return _with_confidence(letter, number, bool(unit), LENIENT, name)
    return Parsed(letter, None, None, TRUNCATED if cut else NO_CONFIDENCE, letter_rule or "none")


def _fraction(letter: str | None, numerator: str, denominator: str, rule: str) -> Parsed:
    try:
        value = float(numerator) / float(denominator)
    except (ValueError, ZeroDivisionError, OverflowError):
        return Parsed(letter, None, None, OUT_OF_RANGE, rule)
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        return Parsed(letter, None, None, OUT_OF_RANGE, rule)
    return Parsed(letter, value, "fraction", LENIENT, rule)


def _lenient(text: str, letters, cut: bool, options) -> Parsed:
    letter, letter_rule, why = _letter(text, letters, options)
    if letter is None:
        if cut and why == NO_ANSWER:
            why = TRUNCATED
        return Parsed(None, None, None, why, letter_rule)
    return _confidence(text, letter, cut, letter_rule)


def mark_scale_ambiguous(readings: list[Parsed]) -> list[Parsed]:
    """Readings with a second scale reading (a bare 1, or "0.99%") become ``scale_ambiguous``
    where the same model and protocol also wrote a probability (a decimal at most 1, no "%")
    elsewhere: then "1" may mean 100%, not 1%, and "0.99%" may mean 99%."""
    if not any(r.scale == "probability" and r.status in PARSED for r in readings):
        return readings
    return [replace(r, status=SCALE_AMBIGUOUS) if r.alt_confidence is not None and r.status in PARSED else r for r in readings]


def parse_logprobs(letter_probs: dict[str, float] | None) -> Parsed:
    """The ``logprob`` protocol's reading: the most probable letter and its probability."""
    if not letter_probs:
        return Parsed(None, None, None, NO_ANSWER, "no-logprobs")
    letter = max(sorted(letter_probs), key=lambda k: letter_probs[k])
    value = min(max(float(letter_probs[letter]), 0.0), 1.0)
    return Parsed(letter, value, "probability", OK, "top-logprobs")
