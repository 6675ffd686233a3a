"""Sampling consistency: a protocol that answers on its own, asked ``k`` more times at a set temperature.

Xiong et al. 2024 ("Can LLMs Express Their Uncertainty?", sampling strategies and their
Avg-Conf aggregation), after Wang et al. 2023's self-consistency. The study's headline request
of such a protocol (``verbalized``, ``verbalized-json``, ``top-k``, ``cot``) stays as it is;
``[sampling] consistency = k`` adds ``k`` samples of it at ``consistency_temperature``, each
with its own seed, stored and itemised as ``<protocol>~sample`` (``sample`` = its index). The signals computed from them speak of the headline answer, so they pair with every
other signal on the same answers (:func:`calibench.study.results.sampled_signals`):

- ``agreement``: the share of the k samples that gave the headline answer's letter (a sample
  with no letter read counts as not agreeing);
- ``entropy``: 1 - H / log(min(k, options)), H the entropy of the letters the samples gave
  (where at least half of them gave one);
- ``avg-conf`` (Xiong et al.'s hybrid): the samples' stated confidences, summed over those that
  agree with the headline answer, over their sum over all samples with a confidence (where at
  least half of them stated one).

A sample's seed is drawn from a hash of the study seed, the repetition, the protocol and the
sample's index, so that no two requests of a study share one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields, replace

from calibench.elicit.protocols.base import Protocol, code_sha256

SUFFIX = "~sample"


@dataclass(frozen=True)
class Sampled(Protocol):
    """Sample ``index`` of ``base`` at ``temperature``: the same messages and reading, its own
    sampling, itemised as ``base.name + suffix``. With ``own_letter``, the answer read's letter
    is the model's own, constrained to the options (no prefill, no logprobs): the sampled letter
    itself, not the argmax of its distribution."""

    base: Protocol | None = None
    index: int = 0
    temperature: float = 0.7
    suffix: str = SUFFIX
    own_letter: bool = False

    @property
    def label(self) -> str:
        return self.base.name + self.suffix

    def _asked(self, kwargs: dict) -> dict:
        return {**kwargs, "logprobs": False} if self.own_letter else kwargs

    def messages(self, question, **kwargs):
        return self.base.messages(question, **self._asked(kwargs))

    def options(self, question, **kwargs):
        options = self.base.options(question, **self._asked(kwargs))
        return replace(options, temperature=self.temperature, seed=sample_seed(options.seed, self.label, self.index))

    def read(self, response, question, *, prefilled=True):
        return self.base.read(response, question, prefilled=prefilled and not self.own_letter)

    def constraint_used(self, **kwargs):
        return self.base.constraint_used(**kwargs)

    @property
    def sha256(self) -> str:
        spec = {"base": self.base.sha256, "index": self.index, "temperature": self.temperature, "suffix": self.suffix,
                "own_letter": self.own_letter, "version": 3, "code": code_sha256(type(self))}
        return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def sample_seed(seed: int | None, label: str, index: int) -> int:
    """A sample's own seed: a hash of the request's seed (study seed + repetition), the label and the index."""
    digest = hashlib.sha256(f"{seed}|{label}|{index}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def samples_of(base: Protocol, k: int, temperature: float, *, suffix: str = SUFFIX, own_letter: bool = False) -> list[Sampled]:
    """The ``k`` sampled requests of ``base`` (each sends its own request, named ``base.name + suffix + index``)."""
    shared = {f.name: getattr(base, f.name) for f in fields(Protocol)}
    # a sample is read as it came back: no conclusion is asked for it
    return [Sampled(**{**shared, "name": f"{base.name}{suffix}{j}", "request": f"{base.name}{suffix}{j}", "follows": None, "conclusion": None},
                    base=base, index=j, temperature=temperature, suffix=suffix, own_letter=own_letter) for j in range(k)]
