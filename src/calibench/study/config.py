"""The study configuration: a TOML file (or command-line flags) validated into typed settings.

```toml
name = "offline-ladder"
protocols = ["stated", "logprob", "p-true", "verbalized", "verbalized-json"]

[data]
dataset = "mmlu"          # or arc-challenge, commonsenseqa, medqa, or a JSONL/CSV path
n_total = 300

[sampling]
temperature = 0.0
repetitions = 1

[elicit]
templates = ["plain", "few-shot", "rephrased"]   # optional: prompt-robustness variants

[[models]]
name = "smollm2-135m"      # a ladder name or a .gguf path: runs on the embedded engine

[[models]]
name = "meta/llama-3.1-8b-instruct"   # with endpoints: any OpenAI-compatible API
endpoints = [{ base_url = "https://integrate.api.nvidia.com/v1", api_key_env = "NVIDIA_API_KEY" }]
```

Keys never appear in a config: an endpoint names the environment variable that holds one.
"""

from __future__ import annotations

import difflib
import os
import tomllib
import typing
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from calibench.elicit.protocols import (BACKENDS, DEFAULT_PROTOCOLS, PROTOCOLS, TEMPLATES, available, get_protocol, load_protocol,
                                        sampleable)
from calibench.elicit.protocols.templates import SEPARATOR, split_name
from calibench.errors import CalibenchError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EndpointConfig(_Strict):
    base_url: str
    api_key_env: str | None = None
    max_concurrency: int = Field(4, ge=1, le=1024)
    # the longest a request may take; shorter when the endpoint's observed latency says so
    # (calibench.models.deadline), unless adaptive_timeout is false
    timeout_s: float = Field(300.0, gt=0)
    adaptive_timeout: bool = True
    # the endpoint's published limits (NVIDIA NIM's free tier: about 40 requests a minute)
    requests_per_minute: float | None = Field(None, gt=0)
    tokens_per_minute: float | None = Field(None, gt=0)

    @field_validator("base_url")
    @classmethod
    def _http(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v


class EngineConfig(_Strict):
    """The embedded llama.cpp engine: ``instances`` servers per model, each with ``threads``
    threads (default: the cores shared out) and ``parallel`` slots.

    Unset, ``instances`` is 2 on a machine with at least 2 cores: two 1-thread servers answered
    1.21x as many questions per second as one 2-thread server on 2 cores
    (``benchmarks/bench_scaling.py``, docs/scaling.md).
    """

    instances: int | None = Field(None, ge=1, le=64)
    threads: int | None = Field(None, ge=1)
    parallel: int = Field(1, ge=1, le=64)
    context: int = Field(2048, ge=256)
    prompt_cache: bool = True

    @property
    def servers(self) -> int:
        return self.instances or (2 if (os.cpu_count() or 1) >= 2 else 1)

    @property
    def threads_each(self) -> int:
        return self.threads or max(1, (os.cpu_count() or 1) // self.servers)


class RetryConfig(_Strict):
    """How failed requests are retried (see calibench.models.client.RetryPolicy)."""

    max_attempts: int = Field(6, ge=1, le=100)
    backoff_base_s: float = Field(0.5, ge=0)
    backoff_max_s: float = Field(30.0, ge=0)
    retry_after_max_s: float = Field(120.0, ge=0)


class ModelConfig(_Strict):
    name: str = Field(min_length=1)
    label: str | None = None
    endpoints: list[EndpointConfig] = Field(default_factory=list)
    engine: EngineConfig = Field(default_factory=EngineConfig)
    retry: RetryConfig = Field(default_factory=RetryConfig)
    # How verbalized-json's replies are forced (see calibench.elicit.protocols): the portable
    # JSON schema unless set; llama.cpp's compact grammar moved a model's answers (the schema
    # lets a model lay out JSON as it does unconstrained).
    constraint: Literal["json-schema", "grammar"] | None = None
    # The server family behind the endpoints: what it accepts beyond the OpenAI API (assistant
    # prefill, GBNF grammars). Unset: llama.cpp for the embedded engine, "openai" otherwise.
    backend: Literal["llama.cpp", "vllm", "openai"] | None = None
    # Whether the endpoints return logprobs (top_logprobs); the answer read and P(True) use them.
    logprobs: bool = True
    # The model family ("Llama 3", ...) and its parameter count, for the trends and the scale
    # claims: sizes are compared only within one family. The ladder's models know theirs.
    family: str | None = Field(default=None, min_length=1)
    parameters: float | None = Field(default=None, gt=0)

    @property
    def json_constraint(self) -> str:
        return self.constraint or "json-schema"

    @property
    def server(self) -> str:
        return self.backend or ("llama.cpp" if self.local else "openai")

    def refusal(self, protocol: str) -> str | None:
        """Why this model cannot run ``protocol`` (one line), or None."""
        if PROTOCOLS[protocol].needs_letter_distribution and not (BACKENDS[self.server].prefill and self.logprobs):
            missing = "returns no logprobs (logprobs = false)" if not self.logprobs else f"takes no assistant prefill (backend {self.server!r})"
            return (f"model {self.display}: protocol {protocol} reads the letter distribution after a prefilled 'Answer:', but the "
                    f"endpoint {missing}; set backend = \"llama.cpp\" or \"vllm\" if the server is one, or leave {protocol} out")
        return None

    @property
    def display(self) -> str:
        return self.label or self.name

    @property
    def local(self) -> bool:
        return not self.endpoints


class DataConfig(_Strict):
    dataset: str = "mmlu"
    seed: int = 0
    subjects: list[str] | Literal["all"] | None = None
    n_total: int | Literal["all"] | None = Field(None)
    n_per_subject: int | None = Field(None, ge=1)
    strata: Literal["category", "subject", "proportional"] = "category"
    limit: int | None = Field(None, ge=1)
    # ask each question in k option orders (cyclic rotations; 1: as written)
    permutations: int = Field(1, ge=1, le=10)
    # the protocols asked in the other orders too; unset: every protocol of the study
    permuted_protocols: list[str] | None = Field(None, min_length=1)

    @field_validator("n_total")
    @classmethod
    def _positive(cls, v):
        if isinstance(v, int) and v < 1:
            raise ValueError("must be a positive integer or 'all'")
        return v


class SamplingConfig(_Strict):
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    repetitions: int = Field(1, ge=1, le=100)
    seed: int = 0
    # the most tokens a generated reply may take (stated, verbalized, verbalized-json); unset:
    # each protocol's own budget. The one-token reads (the answer read, P(True)) keep theirs.
    max_tokens: int | None = Field(None, ge=1, le=32768)
    # sampling consistency: k more samples of each protocol that answers on its own, at
    # consistency_temperature (calibench.elicit.protocols.sampled); 0: none
    consistency: int = Field(0, ge=0, le=100)
    consistency_temperature: float = Field(0.7, gt=0.0, le=2.0)
    # the protocols sampled; unset: every protocol of the study that answers on its own, plain
    consistency_protocols: list[str] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _samples_named_and_taken(self) -> SamplingConfig:
        if self.consistency_protocols is not None and not self.consistency:
            raise ValueError("consistency_protocols names protocols to sample, but consistency (the number of samples) is 0")
        return self

    @field_validator("consistency")
    @classmethod
    def _enough_samples(cls, v: int) -> int:
        if 0 < v < 5:
            raise ValueError(f"consistency takes 5 samples or more (fewer give an agreement of a few coarse values), got {v}")
        return v


class ElicitConfig(_Strict):
    # prompt templates (calibench.elicit.protocols.templates): each protocol that comes in them is
    # also asked in every template named here beside "plain" (as "<protocol>@<template>"); the
    # others are asked plain
    templates: list[str] = Field(default_factory=lambda: ["plain"])

    @field_validator("templates")
    @classmethod
    def _known_templates(cls, v: list[str]) -> list[str]:
        unknown = [t for t in v if t not in TEMPLATES]
        if unknown:
            raise ValueError(f"unknown template(s) {', '.join(unknown)}; known: {', '.join(TEMPLATES)}")
        if not v:
            raise ValueError("at least one template is needed (\"plain\": the protocols as they are)")
        return list(dict.fromkeys(v))


class MetricsConfig(_Strict):
    n_boot: int = Field(1000, ge=10)
    n_bins: int = Field(10, ge=1)
    seed: int = 0


class StudyConfig(_Strict):
    name: str = Field("study", min_length=1)
    out: str | None = None
    # protocols of one's own, "package.module:NAME" each (calibench.elicit.protocols), imported
    # and registered before the protocols are looked up; a "module:NAME" entry in protocols
    # lands here, its protocol's name in its place
    plugins: list[str] = Field(default_factory=list)
    # unset: every default protocol the models can run (logprob needs prefill and logprobs)
    protocols: list[str] | None = None
    models: list[ModelConfig] = Field(min_length=1)
    data: DataConfig = Field(default_factory=DataConfig)
    sampling: SamplingConfig = Field(default_factory=SamplingConfig)
    elicit: ElicitConfig = Field(default_factory=ElicitConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    # failed requests a model may have in one sitting before the run stops (what was stored
    # stays; a rerun asks the failed ones again): a count when 1 or more, else a share of the
    # requests it has to ask
    max_failed: float = Field(0.05, gt=0)

    @field_validator("max_failed")
    @classmethod
    def _count_or_share(cls, v: float) -> float:
        if v >= 1 and v != int(v):
            raise ValueError(f"max_failed is a whole count (1 or more) or a share below 1, got {v}")
        return v

    @model_validator(mode="before")
    @classmethod
    def _plugins_named_in_protocols(cls, data):
        if isinstance(data, dict) and isinstance(data.get("protocols"), list):
            specs = [p for p in data["protocols"] if isinstance(p, str) and ":" in p]
            if specs:
                data = {**data, "plugins": list(dict.fromkeys([*data.get("plugins", []), *specs])),
                        "protocols": [load_protocol(p).name if p in specs else p for p in data["protocols"]]}
        return data

    @field_validator("plugins")
    @classmethod
    def _load_plugins(cls, v: list[str]) -> list[str]:
        for spec in v:
            load_protocol(spec)
        return v

    @field_validator("protocols")
    @classmethod
    def _known_protocols(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        known = available()
        unknown = []
        for name in v:
            try:
                get_protocol(name)  # registers a template of a known protocol ("stated@few-shot")
            except CalibenchError as exc:
                if SEPARATOR in name and split_name(name)[0] in known:
                    raise ValueError(str(exc)) from None
                unknown.append(name)
        if unknown:
            close = [m for p in unknown for m in difflib.get_close_matches(p, known, n=1)]
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ValueError(f"unknown protocol(s) {', '.join(unknown)}{hint}; known: {', '.join(known)}")
        if not v:
            raise ValueError("at least one protocol is needed")
        return list(dict.fromkeys(v))

    @model_validator(mode="after")
    def _distinct_models(self) -> StudyConfig:
        names = [m.display for m in self.models]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"model names must be distinct (give each a label): {', '.join(repeated)}")
        return self

    @model_validator(mode="after")
    def _supported_protocols(self) -> StudyConfig:
        if self.protocols is None:
            self.protocols = [p for p in DEFAULT_PROTOCOLS if not any(m.refusal(p) for m in self.models)]
        self.protocols = self._in_templates(self.protocols)
        sampled = self.sampling.consistency_protocols
        if sampled is not None:
            can = sampleable(self.protocols)
            wrong = [p for p in sampled if p not in can]
            if wrong:
                raise ValueError(f"sampling.consistency_protocols: {', '.join(wrong)} is not one of the study's protocols that answer "
                                 f"on their own ({', '.join(can) or 'none'})")
        permuted = self.data.permuted_protocols
        if permuted is not None and [p for p in permuted if p not in self.protocols]:
            raise ValueError(f"data.permuted_protocols: {', '.join(p for p in permuted if p not in self.protocols)} is not among "
                             f"the study's protocols ({', '.join(self.protocols)})")
        for model in self.models:
            for protocol in self.protocols:
                refusal = model.refusal(protocol)
                if refusal:
                    raise ValueError(refusal)
        return self

    def _in_templates(self, names: list[str]) -> list[str]:
        """Each protocol in every template of ``[elicit] templates`` it comes in (a protocol named in a
        template already is kept as named; one that comes in none of them, plain)."""
        templates = self.elicit.templates
        if templates == ["plain"]:
            return names
        wanted = set(templates) - {"plain"}
        offered = [n for n in names if SEPARATOR in n or set(PROTOCOLS[n].templates) & wanted]
        if not offered:
            with_templates = [n for n, p in PROTOCOLS.items() if len(p.templates) > 1 and SEPARATOR not in n]
            raise ValueError(f"templates {', '.join(t for t in templates if t != 'plain')}: none of the protocols comes in "
                             f"them (those that do: {', '.join(with_templates)})")
        expanded = []
        for name in names:
            p = PROTOCOLS[name]
            if SEPARATOR in name or len(p.templates) == 1:
                expanded.append(name)
                continue
            for template in templates:
                if template in p.templates:
                    expanded.append(get_protocol(f"{name}@{template}" if template != "plain" else name).name)
        return list(dict.fromkeys(expanded))

    @property
    def out_dir(self) -> Path:
        return Path(self.out) if self.out else Path("runs") / self.name


def validation_message(exc: ValidationError, source: str) -> str:
    """One line naming every problem (the first ``SHOWN``, then how many more), an unknown
    setting with the closest known one at its place ("did you mean n_total?")."""
    errors = exc.errors()
    problems = []
    for error in errors[:SHOWN]:
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        if error["type"] == "extra_forbidden":
            close = difflib.get_close_matches(str(error["loc"][-1]), _settings_at(error["loc"][:-1]), n=1)
            problems.append(f"{where}: unknown setting" + (f" (did you mean {close[0]}?)" if close else ""))
        else:
            problems.append(f"{where}: {error['msg'].removeprefix('Value error, ')}")
    more = f"; and {len(errors) - SHOWN} more" if len(errors) > SHOWN else ""
    count = f"{len(errors)} problems: " if len(errors) > 1 else ""
    return f"{source}: {count}{'; '.join(problems)}{more}"


SHOWN = 5


def _settings_at(loc: tuple) -> list[str]:
    """The settings a config section at ``loc`` (a pydantic error location) takes."""
    model: type[BaseModel] | None = StudyConfig
    for part in loc:
        if isinstance(part, int) or model is None:
            continue  # an item of a list: the same model
        field = model.model_fields.get(part)
        model = _model_in(field.annotation) if field else None
    return list(model.model_fields) if model else []


def _model_in(annotation) -> type[BaseModel] | None:
    """The config model an annotation holds (``X``, ``list[X]``, ``X | None``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((m for m in map(_model_in, typing.get_args(annotation)) if m), None)


def parse_config(data: dict, *, source: str = "config") -> StudyConfig:
    """Validate a config dict; raise CalibenchError with one line on any problem."""
    try:
        return StudyConfig.model_validate(data)
    except ValidationError as exc:
        raise CalibenchError(validation_message(exc, source)) from None


def load_config(path: str | Path) -> dict:
    """Read a study TOML file into a dict (validated later, after command-line overrides)."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CalibenchError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CalibenchError(f"{path}: is a directory, not a study file") from None
    except UnicodeDecodeError as exc:
        raise CalibenchError(f"{path}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise CalibenchError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise CalibenchError(f"{path}: cannot be read ({exc.strerror})") from None


IDENTITY_MODEL_FIELDS = ("name", "label", "constraint", "backend", "logprobs")


def study_identity(config: dict) -> dict:
    """What makes a study the study it is (a config as stored in config.json): its name, protocols,
    models (not their endpoints, engine or retry settings), data (not ``limit``: asking more of
    the same sample continues it) and sampling. Metrics and ``max_failed`` may change on a resume."""
    return {
        "name": config.get("name"),
        "protocols": config.get("protocols"),
        "models": [{**{k: m.get(k) for k in IDENTITY_MODEL_FIELDS}, "local": not m.get("endpoints")} for m in config.get("models", [])],
        "data": {k: v for k, v in config.get("data", {}).items() if k != "limit"},
        "sampling": config.get("sampling"),
    }

