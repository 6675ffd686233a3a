"""Elicitation: versioned prompt protocols, the reply parser and the readers of stored responses."""

from calibench.elicit.parser import Parsed, parse_logprobs, parse_reply
from calibench.elicit.protocols import PROTOCOLS, Protocol, get_protocol
from calibench.elicit.readers import Reading, answer_letter, read_response

__all__ = ["PROTOCOLS", "Parsed", "Protocol", "Reading", "answer_letter", "get_protocol", "parse_logprobs", "parse_reply", "read_response"]
