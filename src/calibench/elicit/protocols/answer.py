"""The answer read: the question alone, answered with one letter, before any confidence is asked.

The question, then the assistant turn prefilled with ``Answer:``; one generated token with
the top 20 logprobs. The option letters' probability mass at that position, renormalised
over the options, is the letter distribution; its argmax is the model's answer. The raw
mass over the letters is kept. Without assistant prefill or logprobs (an OpenAI-style API),
the model's own single letter, constrained to the options by a grammar or a JSON schema;
items record which (``answer_source``). It is not a protocol a study names: ``logprob``
reads it, and ``stated`` and ``p-true`` continue its conversation.
"""

from calibench.elicit.protocols.base import Protocol

ANSWER = Protocol(name="answer", version=3, reads="letter-logprobs", request="answer",
                  summary="the answer alone: one letter, read from the letter distribution after a prefilled 'Answer:'")
