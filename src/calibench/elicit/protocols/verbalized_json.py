"""``verbalized-json``: answer and confidence in one reply constrained to a JSON object.

The reply is ``{"answer": <letter>, "confidence": <number>}``, forced by ``json-schema`` (the
OpenAI ``response_format`` any compatible backend takes; the embedded engine's default, since
it lets a model lay out JSON as it does unconstrained) or ``grammar`` (llama.cpp's GBNF, the
object without whitespace: fewer tokens, but it moved Qwen2.5-Coder-1.5B's answers, 100 of
101 changed letters becoming B in the published v1 study). It fixes its own letter, so the
study measures what it does to the answers against the answer read.
"""

from calibench.elicit.protocols.base import Protocol

VERBALIZED_JSON = Protocol(name="verbalized-json", version=3, reads="json", request="verbalized-json", max_tokens=40,
                           constrained="json",
                           instruction="Give the letter of your answer and your confidence (0-100%) that it is correct, in JSON.",
                           rephrasing="Which option is right, and how sure are you? Reply in JSON with the letter you choose "
                                      "and the probability (0-100%) that it is right.",
                           example='{{"answer": "{letter}", "confidence": {confidence}}}',
                           summary="one reply constrained to {\"answer\": <letter>, \"confidence\": <number>}")
