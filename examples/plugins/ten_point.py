"""An example protocol written outside calibench: confidence on a ten-point scale.

After the answer read's letter (``follows = "answer"``), the model is asked how sure it is on
a scale from 1 to 10; a reply that is one whole number in that range is read as that number
over 10, anything else as no confidence. The fields say what is sent; ``read`` says how the
reply is read, since no built-in reading takes a ten-point scale.

Use it from a study file::

    plugins = ["examples/plugins/ten_point.py:TEN_POINT"]
    protocols = ["stated", "ten-point"]

or list it with ``calibench protocols --plugin examples/plugins/ten_point.py:TEN_POINT``.
"""

import re
from dataclasses import dataclass

from calibench.elicit.parser import NO_CONFIDENCE, OK, Parsed
from calibench.elicit.protocols import Protocol
from calibench.elicit.readers import read_text

WHOLE = re.compile(r"\s*(10|[1-9])\s*\.?\s*")


@dataclass(frozen=True)
class TenPointScale(Protocol):
    def read(self, response, question, *, prefilled=True):
        return read_text(response, lambda text, finish: ten_point(text))


def ten_point(text):
    """A whole number from 1 to 10 alone, as that number over 10; anything else, no confidence."""
    match = WHOLE.fullmatch(text or "")
    if match is None:
        return Parsed(None, None, None, NO_CONFIDENCE, "ten-point")
    return Parsed(None, int(match.group(1)) / 10, "ten-point", OK, "ten-point")


TEN_POINT = TenPointScale(
    name="ten-point",
    version=1,
    reads="ten-point",
    request="ten-point",
    follows="answer",
    follow_up="How sure are you that your answer is correct, on a scale from 1 (a guess) to 10 (certain)? Reply with the number only.",
    max_tokens=4,
    summary="after the answer read's letter, how sure the model is on a scale from 1 to 10 (an example plugin)",
)
