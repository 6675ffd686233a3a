"""``stated`` (two-stage, the headline): the model's stated probability that its fixed answer is right.

The answer read's letter is placed in the conversation as the model's reply (``Answer: B``);
a second turn asks how likely that answer is to be correct, 0-100%, and only the number is
constrained: on llama.cpp the assistant turn is prefilled with ``Confidence:`` and a grammar
admits a number in either scale (``85%``, ``85``, ``0.85``), so a model that wants to write
a probability is not cut off (under an integer-only schema SmolLM2-135M wrote "0" on 111 of
120 questions while it was starting "0.8"); elsewhere a JSON schema ``{"confidence": number}``.
"""

from calibench.elicit.protocols.base import CONFIDENCE_PREFILL, Protocol

STATED_QUESTION = "How likely is it that your answer is correct? Give a probability from 0 to 100%."

STATED = Protocol(name="stated", version=3, reads="number", request="stated", follows="answer", follow_up=STATED_QUESTION,
                  max_tokens=12, constrained="number",
                  rephrasing="What is the probability, from 0 to 100%, that the answer you just gave is right?",
                  example=CONFIDENCE_PREFILL + " {confidence}%",
                  summary="after the answer read's letter, 'how likely is it that your answer is correct?'; only the number constrained")
