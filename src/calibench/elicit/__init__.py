"""Elicitation: versioned prompt protocols and the reply parser."""

from calibench.elicit.parser import Parsed, parse_logprobs, parse_reply
from calibench.elicit.protocols import PROTOCOLS, Protocol, get_protocol

__all__ = ["PROTOCOLS", "Parsed", "Protocol", "get_protocol", "parse_logprobs", "parse_reply"]
