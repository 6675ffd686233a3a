"""``p-true``: the probability the model gives to "True" when asked whether its answer is correct.

Kadavath et al. 2022, "Language Models (Mostly) Know What They Know". The answer read's
conversation, then "Is your answer correct? Reply True or False."; the probability of True
renormalised over True and False at the first generated token (the raw mass kept); without
logprobs, the word the model writes (True 1.0, False 0.0).
"""

from calibench.elicit.protocols.base import Protocol

P_TRUE_QUESTION = "Is your answer correct? Reply True or False."

P_TRUE = Protocol(name="p-true", version=3, reads="p-true", request="p-true", follows="answer", follow_up=P_TRUE_QUESTION,
                  summary="after the answer read's letter, P(True) to 'is your answer correct?', renormalised over True/False",
                  cites="Kadavath et al. 2022, Language Models (Mostly) Know What They Know")
