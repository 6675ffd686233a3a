"""``calibench run --dry-run``: what a study would ask, without asking or storing anything.

Per model: the questions (with their option orders and repetitions), the requests each
protocol sends (a follow-up counted as if its answer read gave a letter: the most it sends),
an estimate of the prompt tokens (request bytes / 4, as the rate limiter counts them) and the
most tokens it may generate, and how long it takes at the endpoints' published limits, or at
the rate an earlier sitting of the same run measured. Nothing is preflighted, started or
written.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass

from calibench.models.rate_limit import estimated_tokens
from calibench.elicit.protocols import available
from calibench.study.config import ModelConfig, SamplingConfig, StudyConfig
from calibench.study.plan import plan_model, plan_requests, study_sample
from calibench.study.store import Store


@dataclass(frozen=True)
class ModelPlan:
    model: str
    questions: int
    asks: int  # groups: a question in one option order and repetition
    requests: dict[str, int]  # by the protocol that sends them
    prompt_tokens: int
    max_generated_tokens: int
    minutes: float | None  # None: no limit set and no earlier sitting to measure
    basis: str  # what ``minutes`` rests on

    def line(self) -> str:
        sent = sum(self.requests.values())
        by = ", ".join(f"{name} {n}" for name, n in self.requests.items())
        time = "time not estimated (no rate limit set and no earlier sitting)" if self.minutes is None else \
            f"about {self.minutes:.0f} min at {self.basis}"
        asks = f" ({self.asks} asks in all orders and repetitions)" if self.asks != self.questions else ""
        return (f"{self.model}: {self.questions} questions{asks}, {sent} requests ({by}), ~{self.prompt_tokens:,} prompt tokens, "
                f"at most {self.max_generated_tokens:,} generated; {time}")


def _minutes(cfg: ModelConfig, requests: int, tokens: int, config: StudyConfig) -> tuple[float | None, str]:
    rpm = sum(e.requests_per_minute for e in cfg.endpoints if e.requests_per_minute) if cfg.endpoints else 0
    tpm = sum(e.tokens_per_minute for e in cfg.endpoints if e.tokens_per_minute) if cfg.endpoints else 0
    limited = [m for m in (requests / rpm if rpm else None, tokens / tpm if tpm else None) if m is not None]
    if limited:
        return max(limited), "the endpoints' limits" + (f" ({rpm:g} requests/min)" if rpm else "")
    store_path = config.out_dir / "responses.sqlite"
    if store_path.exists():
        with Store(store_path) as store:
            sessions = store.sessions(cfg.display)
        asked, wall = sum(s["requests"] for s in sessions), sum(s["wall_s"] for s in sessions)
        if asked and wall > 0:
            return requests / (asked / wall) / 60, f"the {asked / wall * 60:.0f} requests/min an earlier sitting measured"
    return None, ""


def dry_run(config: StudyConfig) -> list[ModelPlan]:
    """The plan of every model of ``config`` (see the module docstring)."""
    data = config.data
    sample = study_sample(data)
    questions = sample.questions[: data.limit] if data.limit else sample.questions
    return [model_plan(cfg, config, plan_model(cfg, config, questions)) for cfg in config.models]


def model_plan(cfg: ModelConfig, config: StudyConfig, groups: list) -> ModelPlan:
    """What asking ``groups`` (a model's planned questions) costs, as :func:`dry_run` says it."""
    requests: dict[str, int] = {}
    prompt = generated = 0
    for group in groups:
        for request in group.every_request():
            requests[request.protocol.label] = requests.get(request.protocol.label, 0) + 1
            tokens = request_tokens(request)
            prompt += tokens[0]
            generated += tokens[1]
    minutes, basis = _minutes(cfg, sum(requests.values()), prompt + generated, config)
    return ModelPlan(cfg.display, len({g.original.id for g in groups}), len(groups), requests, prompt, generated, minutes, basis)


def request_tokens(request) -> tuple[int, int]:
    """A planned request's estimated prompt tokens (its body's bytes / 4, as the rate limiter
    counts them) and the most tokens it may generate."""
    body = json.dumps({"messages": request.messages, **request.options.body()}).encode()
    return estimated_tokens(body, None), request.options.max_tokens or 0


@dataclass(frozen=True)
class ProtocolCost:
    name: str
    requests: dict[str, int]  # per question, by the protocol that sends them ("answer": the answer read)
    prompt_tokens: float  # per question, the median over the questions
    max_generated_tokens: int  # per question


def protocol_costs(questions: list, *, backend: str = "llama.cpp") -> list[ProtocolCost]:
    """What each available protocol costs per question when it runs alone, on ``questions``
    (the requests it sends, the answer read included when it builds on it; tokens as
    :func:`request_tokens` estimates them, on a ``backend`` server)."""
    costs = []
    for name in available():
        groups = plan_requests(model="-", model_sha256=None, questions=questions, protocols=[name], sampling=SamplingConfig(),
                               backend=backend)
        requests: dict[str, int] = {}
        prompts, generated = [], 0
        for group in groups:
            sent = group.every_request()
            tokens = [request_tokens(r) for r in sent]
            prompts.append(sum(t[0] for t in tokens))
            generated = max(generated, sum(t[1] for t in tokens))
            for r in sent:
                requests[r.protocol.label] = requests.get(r.protocol.label, 0) + 1
        per_question = {k: v // len(groups) for k, v in requests.items()}
        costs.append(ProtocolCost(name, per_question, statistics.median(prompts), generated))
    return costs
