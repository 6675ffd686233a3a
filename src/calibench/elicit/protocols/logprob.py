"""``logprob``: the answer read's letter probability as the confidence.

It sends nothing of its own: it reads the answer read (:mod:`.answer`), whose letter
distribution's argmax is the answer and its probability the confidence. It needs assistant
prefill and logprobs (llama.cpp and vLLM servers, the embedded engine); a study refuses it up
front where the model's backend has neither.
"""

from calibench.elicit.protocols.base import Protocol

LOGPROB = Protocol(name="logprob", version=3, reads="letter-logprobs", request="answer",
                   summary="the probability of the chosen letter in the answer read's letter distribution")
