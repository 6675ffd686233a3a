"""Models: one OpenAI-compatible async client, the embedded llama.cpp engine, and the offline ladder."""

from calibench.models.client import ChatClient, ChatResponse, Endpoint, ModelRequestError, RetryPolicy, SamplingOptions
from calibench.models.engine import LocalEngine
from calibench.models.ladder import LADDER, LadderModel, ResolvedModel, resolve
from calibench.models.letters import LetterProbabilities, letter_probabilities

__all__ = [
    "LADDER",
    "ChatClient",
    "ChatResponse",
    "Endpoint",
    "LadderModel",
    "LetterProbabilities",
    "LocalEngine",
    "ModelRequestError",
    "ResolvedModel",
    "RetryPolicy",
    "SamplingOptions",
    "letter_probabilities",
    "resolve",
]
