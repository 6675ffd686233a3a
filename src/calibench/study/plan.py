"""What a study asks: per model, one group of requests per (question, option order, repetition).

A group sends the answer read first, then the protocols that continue its conversation
(their request carries the answer read's letter, so it is built once that reply is known),
then the protocols that answer on their own: a question's requests go back to back and the
engine reuses their shared prefix. Protocols that read another's request (``logprob`` reads
the answer read) add none. Each request's store key covers everything that shapes it.

Option orders (``[data] permutations = k``): the question is also asked with its options
rotated by 1..k-1 places; every letter is mapped back to the original labelling in the
items, and the rotation is part of the store key.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, replace

from calibench.data.question import Question
from calibench.elicit.protocols import BACKENDS, PROTOCOLS, Protocol, request_protocols, sampleable
from calibench.elicit.protocols.sampled import samples_of
from calibench.elicit.protocols.templates import check_outside
from calibench.elicit.readers import answer_letter
from calibench.models.client import SamplingOptions
from calibench.data import load_dataset, sample_study
from calibench.data.sampler import StudySample
from calibench.study.config import DataConfig, ModelConfig, SamplingConfig, StudyConfig
from calibench.study.store import request_key


@dataclass(frozen=True)
class PlannedRequest:
    key: str
    protocol: Protocol
    question: Question  # as shown to the model (options rotated)
    repetition: int
    messages: list[dict]
    options: SamplingOptions

    @property
    def body(self) -> dict:
        return {"messages": self.messages, **self.options.body()}


@dataclass(frozen=True)
class Group:
    """One question in one option order and repetition, and how its requests are built."""

    model: str
    model_sha256: str | None
    original: Question
    question: Question  # the options rotated by ``rotation``
    rotation: int
    repetition: int
    senders: tuple[Protocol, ...]
    sampling: SamplingConfig
    constraint: str
    backend: str
    logprobs: bool
    only: tuple[str, ...] | None = None  # the protocols itemised for this group (None: every one of the study)

    @property
    def prefilled(self) -> bool:
        """Whether the answer read is a letter distribution after a prefilled "Answer:" (else a constrained letter)."""
        return BACKENDS[self.backend].prefill and self.logprobs

    def feeds(self, request: PlannedRequest) -> bool:
        """Whether a follow-up is built from this request's reply (so its response must be read)."""
        name = request.protocol.name
        return any(p.follows == name or name in p.builds_on for p in self.senders)

    def request(self, protocol: Protocol, answer: str | None = None, earlier: dict | None = None) -> PlannedRequest:
        messages = protocol.messages(self.question, answer=answer, backend=self.backend, logprobs=self.logprobs, earlier=earlier)
        options = protocol.options(self.question, temperature=self.sampling.temperature, seed=seed_for(self.sampling, self.repetition),
                                   top_p=self.sampling.top_p, constraint=self.constraint, backend=self.backend, logprobs=self.logprobs,
                                   max_tokens=self.sampling.max_tokens)
        key = request_key(
            model=self.model,
            model_sha256=self.model_sha256,
            body={"messages": messages, **options.body()},
            protocol_version=f"{protocol.name}@{protocol.version}:{protocol.sha256}",
            question_id=self.original.id + (f"#rotation{self.rotation}" if self.rotation else ""),
            repetition=self.repetition,
        )
        return PlannedRequest(key, protocol, self.question, self.repetition, messages, options)

    def every_request(self) -> list[PlannedRequest]:
        """Every request this group may send, each follow-up built as if the answer read gave the
        first option's letter: the most it sends (for planning, not for asking)."""
        return [self.request(p, self.question.letters[0] if p.follows else None) for p in self.senders]

    def requests(self) -> Generator[PlannedRequest, dict | None, None]:
        """Yield each request in order; send back its stored or received response (None if it failed).

        A follow-up is built from the answer read's letter; when the answer read failed or
        read no letter, the follow-up is not asked (its item says why). A protocol that builds
        on other requests gets their replies (None for one that failed), and is not asked
        unless it says it is ready (:meth:`Protocol.ready`).
        """
        replies: dict[str, dict | None] = {}
        for protocol in self.senders:
            letter = None
            if protocol.follows:
                letter = answer_letter(replies.get(protocol.follows), self.question, prefilled=self.prefilled)
                if letter is None:
                    continue
            earlier = {name: replies.get(name) for name in protocol.builds_on}
            if protocol.builds_on and not protocol.ready(self.question, earlier):
                continue
            replies[protocol.name] = yield self.request(protocol, letter, earlier)

    def walk(self, response_of) -> dict[str, tuple[PlannedRequest, object]]:
        """Drive :meth:`requests` with ``response_of(request)`` (returning ``(outcome, response)``,
        response None when there is none); return {request protocol: (request, outcome)}."""
        out = {}
        gen = self.requests()
        try:
            request = next(gen)
            while True:
                outcome, response = response_of(request)
                out[request.protocol.name] = (request, outcome)
                request = gen.send(response)
        except StopIteration:
            pass
        return out


def seed_for(sampling: SamplingConfig, repetition: int) -> int | None:
    """Each repetition's sampling seed: the study seed plus the repetition number."""
    return sampling.seed + repetition


def rotate(question: Question, rotation: int) -> Question:
    """The question with its options rotated left by ``rotation`` places (the answer letter moved with its option)."""
    n = len(question.choices)
    r = rotation % n
    if r == 0:
        return question
    choices = question.choices[r:] + question.choices[:r]
    return replace(question, choices=choices, answer=question.letters[(question.answer_index - r) % n])


def original_letter(letter: str | None, question: Question, rotation: int) -> str | None:
    """A letter of the rotated question mapped back to the original labelling."""
    if letter is None or letter not in question.letters:
        return letter
    return question.letters[(question.letters.index(letter) + rotation) % len(question.letters)]


def plan_requests(
    *,
    model: str,
    model_sha256: str | None,
    questions: list[Question],
    protocols: list[str],
    sampling: SamplingConfig,
    constraint: str = "json-schema",
    backend: str = "llama.cpp",
    logprobs: bool = True,
    permutations: int = 1,
    permuted: list[str] | None = None,
) -> list[Group]:
    """The groups of one model, in the study's fixed order (question, option order, repetition).

    With ``sampling.consistency = k``, the first group of each question (original option order,
    repetition 0) also sends k samples of each protocol in ``sampling.consistency_protocols``
    (unset: each that answers on its own, in its plain template;
    :mod:`calibench.elicit.protocols.sampled`). The other option orders ask only the
    ``permuted`` protocols (None: all of them). A few-shot template's examples may not
    be among ``questions`` (:func:`calibench.elicit.protocols.templates.check_outside`).
    """
    senders = tuple(request_protocols(protocols))
    rotated = tuple(request_protocols(permuted)) if permuted is not None else senders
    check_outside(questions, senders)
    sampled = sampling.consistency_protocols if sampling.consistency_protocols is not None else sampleable(protocols)
    samples = tuple(s for name in sampled for s in samples_of(PROTOCOLS[name], sampling.consistency, sampling.consistency_temperature))
    # few-shot templates last: their prompts share no prefix with the others'
    first, again, rotated = (tuple(sorted(s, key=lambda p: p.template == "few-shot")) for s in (senders + samples, senders, rotated))
    only_rotated = tuple(permuted) if permuted is not None else None
    groups = []
    for question in questions:
        for rotation in range(min(permutations, len(question.choices))):
            shown = rotate(question, rotation)
            for repetition in range(sampling.repetitions):
                sends = (first if repetition == 0 else again) if rotation == 0 else rotated
                groups.append(Group(model, model_sha256, question, shown, rotation, repetition, sends, sampling,
                                    constraint, backend, logprobs, only_rotated if rotation else None))
    return groups


def study_sample(data: DataConfig) -> StudySample:
    """The seeded study sample a study's ``[data]`` section draws (before its ``limit``)."""
    return sample_study(load_dataset(data.dataset), seed=data.seed, subjects=data.subjects, n_total=data.n_total,
                        n_per_subject=data.n_per_subject, strata=data.strata)


def plan_model(cfg: ModelConfig, config: StudyConfig, questions: list[Question], *, model_sha256: str | None = None) -> list[Group]:
    """The groups one model of a study asks for ``questions`` (see :func:`plan_requests`)."""
    return plan_requests(model=cfg.display, model_sha256=model_sha256, questions=questions, protocols=config.protocols,
                         sampling=config.sampling, constraint=cfg.json_constraint, backend=cfg.server,
                         logprobs=cfg.logprobs, permutations=config.data.permutations, permuted=config.data.permuted_protocols)
