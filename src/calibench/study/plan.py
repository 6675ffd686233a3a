"""What a study asks: one request per (model, question, repetition, request protocol), with its store key.

Protocols that read another protocol's request (``logprob`` reads ``verbalized``) add no
request. A question's requests are listed together, so that the runner can send them back
to back and the engine reuses their shared prefix.
"""

from __future__ import annotations

from dataclasses import dataclass

from calibench.data.question import Question
from calibench.elicit.protocols import PROTOCOLS, Protocol
from calibench.models.client import SamplingOptions
from calibench.study.config import SamplingConfig
from calibench.study.store import request_key


@dataclass(frozen=True)
class PlannedRequest:
    key: str
    protocol: Protocol
    question: Question
    repetition: int
    messages: list[dict]
    options: SamplingOptions

    @property
    def body(self) -> dict:
        return {"messages": self.messages, **self.options.body()}


def seed_for(sampling: SamplingConfig, repetition: int) -> int | None:
    """Each repetition's sampling seed: the study seed plus the repetition number."""
    return sampling.seed + repetition


def request_protocols(protocols: list[str]) -> list[Protocol]:
    """The protocols that send requests, in a fixed order, each once."""
    names = dict.fromkeys(PROTOCOLS[p].request_protocol for p in protocols)
    return [PROTOCOLS[n] for n in names]


def plan_requests(
    *,
    model: str,
    model_sha256: str | None,
    questions: list[Question],
    protocols: list[str],
    sampling: SamplingConfig,
    constraint: str = "json-schema",
) -> list[list[PlannedRequest]]:
    """Groups of requests, one group per (question, repetition), in the study's fixed order.

    ``constraint`` is how JSON protocols force their format (``"json-schema"`` or llama.cpp's
    ``"grammar"``); it shapes the request, so it is part of each store key.
    """
    senders = request_protocols(protocols)
    groups = []
    for question in questions:
        for repetition in range(sampling.repetitions):
            group = []
            for protocol in senders:
                messages = protocol.messages(question)
                options = protocol.options(
                    question, temperature=sampling.temperature, seed=seed_for(sampling, repetition), top_p=sampling.top_p, constraint=constraint
                )
                body = {"messages": messages, **options.body()}
                key = request_key(
                    model=model,
                    model_sha256=model_sha256,
                    body=body,
                    protocol_version=f"{protocol.name}@{protocol.version}:{protocol.sha256}",
                    question_id=question.id,
                    repetition=repetition,
                )
                group.append(PlannedRequest(key, protocol, question, repetition, messages, options))
            groups.append(group)
    return groups
