"""Prompt templates: the same protocol asked in other words, to measure how much the wording moves a metric.

A protocol that asks for a stated confidence (``stated``, ``verbalized``,
``verbalized-json``) comes in three templates, each a protocol of its own named
``<protocol>@<template>`` (the plain one keeps the protocol's name):

- ``plain``: the protocol as it is;
- ``rephrased``: its own request (the follow-up question, or the instruction of one that
  answers on its own) in other words, asking for the same thing in the same format
  (:attr:`Protocol.rephrasing`);
- ``few-shot``: three worked examples before the question, each a whole conversation in the
  protocol's own format (:attr:`Protocol.example`): the question, its answer and a confidence.

The examples (:data:`EXAMPLES`) are MMLU test questions from three subjects outside the default
study's sixteen (:data:`calibench.data.mmlu_subjects.DEFAULT_STUDY_SUBJECTS`), so no default
sample holds them; a study whose sample does is refused (:func:`check_outside`). Each is
answered with its correct letter (three different letters, none of them repeated as a
pattern), and its confidence is illustrative, set by hand to span the scale (95% for a question
most readers know, 70% and 40% for harder ones): they are not measured, and a model may copy
them, which the study measures (the share of stated confidences equal to one of the examples').

A follow-up's answer stays the answer read's letter under every template: templates move only
the confidence. A template of a protocol that answers on its own may also move its letter,
which the study measures against the answer read like any such protocol.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from functools import lru_cache

from calibench.data.question import Question
from calibench.errors import CalibenchError

TEMPLATES = ("plain", "few-shot", "rephrased")
SEPARATOR = "@"

# (MMLU test question id, the letter the example answers, its illustrative confidence in %)
EXAMPLES: tuple[tuple[str, str, int], ...] = (
    ("astronomy/140", "A", 40),       # the age of Venus's surface: hard
    ("world_religions/49", "D", 95),  # how Hathor was depicted: widely known
    ("global_facts/72", "B", 70),     # the global fertility rate in 2015
)


@lru_cache(maxsize=1)
def example_questions() -> tuple[Question, ...]:
    """The worked examples' questions, from the vendored MMLU test set."""
    from calibench.data import load_dataset

    by_id = {q.id: q for q in load_dataset("mmlu") if q.id in {qid for qid, _, _ in EXAMPLES}}
    questions = tuple(by_id[qid] for qid, _, _ in EXAMPLES)
    for question, (qid, letter, _) in zip(questions, EXAMPLES):
        if question.answer != letter:  # the examples answer correctly; a changed dataset would break that
            raise CalibenchError(f"few-shot example {qid}: its answer key is {question.answer}, the example says {letter}")
    return questions


def examples_spec() -> list[dict]:
    """What the few-shot examples are, for a protocol's hash: ids, letters, confidences and the questions' text."""
    return [{"id": q.id, "letter": letter, "confidence": confidence,
             "question_sha256": hashlib.sha256(repr((q.question, q.choices)).encode()).hexdigest()}
            for q, (_, letter, confidence) in zip(example_questions(), EXAMPLES)]


def example_confidences() -> tuple[float, ...]:
    """The examples' confidences as probabilities (a stated confidence equal to one may be copied)."""
    return tuple(confidence / 100 for _, _, confidence in EXAMPLES)


def split_name(name: str) -> tuple[str, str]:
    """``"stated@few-shot"`` -> ``("stated", "few-shot")``; a plain name -> ``(name, "plain")``."""
    base, _, template = name.partition(SEPARATOR)
    return base, template or "plain"


def with_template(protocol, template: str):
    """``protocol`` in ``template``: itself for ``plain``, else a protocol named ``<name>@<template>``."""
    if template not in TEMPLATES:
        raise CalibenchError(f"unknown template {template!r}; known: {', '.join(TEMPLATES)}")
    if template == "plain":
        return protocol
    if template not in protocol.templates:
        offered = ", ".join(protocol.templates)
        raise CalibenchError(f"protocol {protocol.name!r} has no {template} template (it has: {offered})")
    name = f"{protocol.name}{SEPARATOR}{template}"
    changes = {"name": name, "request": name, "template": template}
    if template == "rephrased":
        changes["follow_up" if protocol.follows else "instruction"] = protocol.rephrasing
    return replace(protocol, **changes)


def check_outside(questions, protocols) -> None:
    """Refuse a study whose questions include a few-shot example asked with a few-shot template."""
    if not any(p.template == "few-shot" for p in protocols):
        return
    ids = {q.id for q in example_questions()}
    inside = sorted(q.id for q in questions if q.dataset == "mmlu" and q.id in ids)
    if inside:
        raise CalibenchError(f"the study's questions include the few-shot examples {', '.join(inside)}: "
                             "leave their subjects out, or leave the few-shot template out")
