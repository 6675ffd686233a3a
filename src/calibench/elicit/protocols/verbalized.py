"""``verbalized`` (the reference study's): answer and confidence in one free-text reply.

One request; the reply must be ``Answer: <letter>`` then ``Confidence: <0-100>%``, read by
the parser (:mod:`calibench.elicit.parser`). It fixes its own letter, so the study measures
what it does to the answers against the answer read.
"""

from calibench.elicit.protocols.base import Protocol

VERBALIZED = Protocol(name="verbalized", version=3, reads="text", request="verbalized", max_tokens=32,
                      instruction="Give the letter of your answer and your confidence (0-100%) that it is correct. "
                                  "Reply with two lines:\nAnswer: <letter>\nConfidence: <0-100>%",
                      rephrasing="State the letter of the option you choose and the probability (0-100%) that it is right. "
                                 "Write only these two lines:\nAnswer: <letter>\nConfidence: <0-100>%",
                      example="Answer: {letter}\nConfidence: {confidence}%",
                      summary="one free-text reply 'Answer: <letter> / Confidence: <0-100>%' (the reference study's format)")
