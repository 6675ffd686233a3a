"""The study runner: ask every model every question, store each response, then write the run.

Per model, one client serves the whole run, over the model's endpoints (remote models) or
over the embedded llama.cpp servers started for it (local models; two 1-thread servers on a
2-core machine, see :class:`calibench.study.config.EngineConfig`). Requests go out in the plan's fixed order, a question's protocols back to
back, so that the engine reuses their shared prefix; anything the store already holds is
not asked again. The runner computes no metric: after asking, it builds items from the
store and hands them to :mod:`calibench.study.results`.

Run directory: ``responses.sqlite`` (the store), ``config.json`` (the validated study),
``items.jsonl`` and ``results.json``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console

from calibench.atomic import remove_stale_temporaries, write_atomic
from calibench.errors import CalibenchError
from calibench.data.sampler import DEFAULT_N_TOTAL
from calibench.elicit.parser import PARSED
from calibench.elicit.protocols import PROTOCOLS
from calibench.models.client import ChatClient, Endpoint, ModelRequestError, RetryPolicy
from calibench.models.engine import LocalEngine
from calibench.models.ladder import resolve
from calibench.models.preflight import preflight, probes
from calibench.study.dry_run import model_plan
from calibench.study.config import ModelConfig, StudyConfig, study_identity
from calibench.study.failures import FailureGuard, failure_limit
from calibench.study.items import build_items
from calibench.study.plan import plan_model, study_sample
from calibench.study.progress import parse_text, progress_for
from calibench.study.assemble import ProtocolInfo, model_entry, study_results
from calibench.study.results import timing
from calibench.study.store import Store

ENGINE_NOTE = (
    "Requests are asked in a fixed order, a question's protocols back to back; the engine "
    "settings are recorded per model. At temperature 0 the engine is close to, not exactly, "
    "reproducible: two fresh-clone runs of the default study (3 models x 300 questions, stated "
    "and logprob, one 2-core machine, 2026-12-01) stored 1,799 of 1,800 replies byte-identical "
    "with every letter the same, read the letter probability identically on 881 of 900 answers, "
    "and moved no metric by more than 0.0034 (docs/study/reproducibility.json). Other machines, "
    "thread counts and engine builds were not measured."
)


@dataclass
class ModelRun:
    config: ModelConfig
    model_id: str
    sha256: str | None
    source: str
    parameters: float | None
    family: str | None
    engine: dict | None
    groups: list


async def _ask_all(run: ModelRun, todo: list, done: set[str], endpoints: list[Endpoint], store: Store,
                   progress, concurrency: int, guard: FailureGuard) -> None:
    """Ask the question groups in ``todo``, reading what the store holds (keys in ``done``) instead of asking."""
    read: dict[str, list[int]] = {}  # per protocol: replies read, replies received
    finished = 0
    engine = {"prompt_s": 0.0, "generation_s": 0.0, "prompt_tokens": 0, "cached_tokens": 0, "generated_tokens": 0}
    started = time.perf_counter()
    started_at = time.time()
    task = None
    if progress is not None:
        task = progress.add_task(run.config.display, total=len(run.groups), completed=len(run.groups) - len(todo), parse="", speed="",
                                 failed=0)
    gate = asyncio.Semaphore(concurrency)

    def record(request, **outcome) -> None:
        store.put(key=request.key, model=run.config.display, protocol=request.protocol.name, question_id=request.question.id,
                  repetition=request.repetition, request=request.body, **outcome)

    async with ChatClient(run.model_id, endpoints, retry=RetryPolicy(**run.config.retry.model_dump()),
                          on_down=guard.endpoint_down) as client:

        async def ask_group(group) -> None:
            nonlocal finished
            async with gate:  # one question's requests back to back, on one endpoint: they share a cached prefix
                endpoint = None
                requests = group.requests()
                response = None
                try:
                    request = next(requests)
                    while True:
                        held, response = _stored(store, done, group, request)
                        if not held:
                            guard.check()
                            try:
                                reply = await client.chat(request.messages, request.options, prefer=endpoint)
                            except ModelRequestError as exc:
                                record(request, error=str(exc), attempts=exc.attempts)
                                guard.fail(exc)
                                response = None
                            else:
                                record(request, response=reply.raw, attempts=reply.attempts, latency_s=reply.latency_s, endpoint=reply.endpoint)
                                guard.ok()
                                response, endpoint = reply.raw, reply.endpoint
                                counts = read.setdefault(request.protocol.label, [0, 0])
                                counts[1] += 1
                                counts[0] += request.protocol.read(reply.raw, request.question,
                                                                   prefilled=group.prefilled).parsed.status in PARSED
                                _add_timings(engine, reply.timings or {}, len(endpoints))
                        request = requests.send(response)
                except StopIteration:
                    pass
            finished += 1
            if task is not None:
                rate = finished / max(time.perf_counter() - started, 1e-9)
                progress.update(task, advance=1, parse=parse_text(read), speed=f"{rate:.2f} q/s", failed=guard.failed)

        tasks = [asyncio.ensure_future(ask_group(g)) for g in todo]
        try:
            await asyncio.gather(*tasks)
        except BaseException:  # a stop (or Ctrl-C): end the requests in flight before the client closes
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
    received = sum(tried for _, tried in read.values())
    if received:
        store.add_session(run.config.display, started_at=started_at, wall_s=time.perf_counter() - started, requests=received, **engine)


def _add_timings(engine: dict, t: dict, servers: int) -> None:
    """Add one reply's engine timings; compute per server: with several serving in parallel, their sum shared out."""
    engine["prompt_s"] += t.get("prompt_ms", 0.0) / 1e3 / servers
    engine["generation_s"] += t.get("predicted_ms", 0.0) / 1e3 / servers
    engine["prompt_tokens"] += int(t.get("prompt_n", 0))
    engine["cached_tokens"] += int(t.get("cache_n", 0))
    engine["generated_tokens"] += int(t.get("predicted_n", 0))


def _stored(store: Store, done: set[str], group, request) -> tuple[bool, dict | None]:
    """Whether the store holds ``request``'s answer (its key is in ``done``), and the response when
    a follow-up is built from it: only those replies are read back, the rest are known by key."""
    if request.key not in done:
        return False, None
    return True, store.get(request.key).response if group.feeds(request) else None


def _pending(group, done: set[str], store: Store) -> bool:
    """Whether any request of ``group`` still has to be asked (follow-ups are built from the stored answer read)."""
    sent = group.walk(lambda request: _stored(store, done, group, request))
    return not all(held for _, held in sent.values())


def _resolve_model(cfg: ModelConfig):
    if cfg.local:
        resolved = resolve(cfg.name)
        params = cfg.parameters or (resolved.ladder.parameters if resolved.ladder else None)
        family = cfg.family or (resolved.ladder.family if resolved.ladder else None)
        return resolved, resolved.name, resolved.sha256, resolved.source, params, family
    return None, cfg.name, None, ", ".join(e.base_url for e in cfg.endpoints), cfg.parameters, cfg.family


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, cwd=Path(__file__).parent)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def run_study(config: StudyConfig, *, console: Console | None = None, show_progress: bool = True) -> Path:
    """Run (or resume) a study and write its run directory; return the directory."""
    console = console or Console(stderr=True)
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    data = config.data
    sample = study_sample(data)
    if data.n_total is None and data.n_per_subject is None and sample.manifest.n_total == "all":
        console.print(f"note: {data.dataset} holds {len(sample.questions)} question(s) in the chosen subjects, fewer than "
                      f"the default sample of {DEFAULT_N_TOTAL}: all of them are asked", highlight=False, soft_wrap=True)
    questions = sample.questions[: data.limit] if data.limit else sample.questions
    # whatever can refuse the study (a missing model file, an unset key) does so before the
    # run directory is touched: a bad command leaves a stored run as it was
    resolved_models = [_resolve_model(cfg) for cfg in config.models]
    for cfg in config.models:
        for e in cfg.endpoints:
            Endpoint(**e.model_dump()).api_key()
    out = config.out_dir
    _refuse_another_study(out, config)
    checked = set()
    if not (out / "responses.sqlite").exists():  # a new run asks everything: check every endpoint before storing
        for cfg in config.models:
            _preflight(cfg, plan_model(cfg, config, questions[:1])[0])
            checked.add(cfg.display)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out)  # left by a run killed mid-write
    write_atomic(out / "config.json", json.dumps(config.model_dump(mode="json"), indent=2))
    runs: list[ModelRun] = []
    with Store(out / "responses.sqlite") as store:
        done = store.done_keys()
        todos = []
        for cfg, (_, model_id, sha, source, params, family) in zip(config.models, resolved_models):
            groups = plan_model(cfg, config, questions, model_sha256=sha)
            runs.append(ModelRun(cfg, model_id, sha, source, params, family, None, groups))
            todos.append([g for g in groups if _pending(g, done, store)])
        for i, (run, todo, (resolved, *_)) in enumerate(zip(runs, todos, resolved_models)):
            cfg, e = run.config, run.config.engine
            engines = [LocalEngine(resolved, threads=e.threads_each, parallel=e.parallel, context=e.context,
                                   prompt_cache=e.prompt_cache) for _ in range(e.servers)] if cfg.local else []
            run.engine = {**engines[0].settings, "instances": len(engines)} if engines else None
            if not todo:
                continue  # everything this model is asked is stored: no engine to start
            # what the later models have left, for the overall ETA: questions, and minutes where known
            later = [(len(t), model_plan(r.config, config, t).minutes) for r, t in zip(runs[i + 1:], todos[i + 1:]) if t]
            progress = progress_for(console, later=later) if show_progress else None
            if engines:
                with contextlib.ExitStack() as stack:
                    # our own engine does not stall, and its latency grows with the prompt (CPU): a
                    # deadline learned on short questions must not cut the long ones
                    endpoints = [Endpoint(stack.enter_context(engine).base_url, max_concurrency=e.parallel, adaptive_timeout=False)
                                 for engine in engines]
                    _drive(run, todo, done, endpoints, store, progress, e.parallel * len(engines), config.max_failed, out, console)
            else:
                if cfg.display not in checked:  # a resume: checked once there is something left to ask
                    _preflight(cfg, todo[0])
                endpoints = [Endpoint(**e.model_dump()) for e in cfg.endpoints]
                _drive(run, todo, done, endpoints, store, progress, sum(e.max_concurrency for e in cfg.endpoints), config.max_failed,
                       out, console)
        items_by_model = {run.config.display: build_items(store, run.config.display, run.groups, config.protocols) for run in runs}
        timings = {run.config.display: timing(store.sessions(run.config.display)) for run in runs}
    _write_outputs(config, sample, runs, items_by_model, timings, started, out)
    return out


def _refuse_another_study(out: Path, config: StudyConfig) -> None:
    """A run directory holds one study: resuming it is fine, writing another study over it is not."""
    stored = out / "config.json"
    if not stored.exists():
        return
    try:
        previous = json.loads(stored.read_text(encoding="utf-8"))
        with contextlib.suppress(ValueError):  # read through today's schema, so that new fields take their defaults
            previous = StudyConfig.model_validate(previous).model_dump(mode="json")
        before = study_identity(previous)
    except (ValueError, AttributeError):
        raise CalibenchError(f"{out} holds a config.json that is not a calibench study; choose another directory with --out") from None
    now = study_identity(config.model_dump(mode="json"))
    differs = [field for field in now if now[field] != before.get(field)]
    if differs:
        raise CalibenchError(f"{out} holds another study (it differs in {', '.join(differs)}); resume that one with its own "
                             "command, or choose another directory with --out")


def _preflight(cfg: ModelConfig, group) -> None:
    """Minimal requests to each endpoint of a remote model (see :mod:`calibench.models.preflight`),
    one per kind of request ``group`` (one question's, as planned) sends."""
    if cfg.local:
        return
    kinds = probes([(request.protocol.name, request.messages, request.options) for request in group.every_request()])
    preflight(cfg.name, [Endpoint(**e.model_dump()) for e in cfg.endpoints], kinds)


def _drive(run: ModelRun, todo, done, endpoints, store, progress, concurrency, max_failed: float, out: Path, console: Console) -> None:
    say = (lambda line: console.print(line, highlight=False, soft_wrap=True))
    guard = FailureGuard(run.config.display, failure_limit(max_failed, sum(len(g.senders) for g in todo)), out, say=say)
    with progress or contextlib.nullcontext():
        asyncio.run(_ask_all(run, todo, done, endpoints, store, progress, concurrency, guard))


def _answer_read(protocols: list[str]) -> str | None:
    """The protocol whose items carry the answer read's letter (logprob, else a follow-up), or None."""
    carriers = sorted((name for name in protocols if PROTOCOLS[name].carries_answer_read), key=lambda n: PROTOCOLS[n].request != "answer")
    return carriers[0] if carriers else None


def _write_outputs(config: StudyConfig, sample, runs: list[ModelRun], items_by_model: dict, timings: dict, started: str, out: Path) -> None:
    lines = [json.dumps(item, ensure_ascii=False) for items in items_by_model.values() for item in items]
    write_atomic(out / "items.jsonl", "\n".join(lines) + ("\n" if lines else ""))
    models = []
    for run in runs:
        items = items_by_model[run.config.display]
        reference = _answer_read(config.protocols)
        described = {name: ProtocolInfo(PROTOCOLS[name].sha256, PROTOCOLS[name].self_answering,
                                        PROTOCOLS[name].constraint_used(constraint=run.config.json_constraint, backend=run.config.server,
                                                                        logprobs=run.config.logprobs),
                                        reference)
                     for name in config.protocols}
        models.append(model_entry(
            name=run.config.display, items=items, protocols=described, cfg=config.metrics,
            options={g.original.id: len(g.original.choices) for g in run.groups}, repetitions=config.sampling.repetitions,
            temperature=config.sampling.temperature, samples=config.sampling.consistency,
            consistency_temperature=config.sampling.consistency_temperature,
            model_id=run.model_id, sha256=run.sha256, source=run.source, local=run.config.local, parameters=run.parameters,
            family=run.family, engine=run.engine, constraint=run.config.json_constraint, timing=timings[run.config.display]))
    results = study_results(
        study=config.name, config=config.model_dump(mode="json"), models=models, items_by_model=items_by_model,
        protocols=config.protocols, cfg=config.metrics, started=started,
        provenance={"git_commit": _git_commit(), "dataset_manifest": sample.manifest.to_dict(),
                    "dataset_manifest_sha256": sample.manifest.content_sha256,
                    "prompts": {name: PROTOCOLS[name].sha256 for name in config.protocols}, "sampling": config.sampling.model_dump(),
                    "notes": [ENGINE_NOTE] if any(r.config.local for r in runs) else []})
    write_atomic(out / "results.json", results.model_dump_json(indent=1) + "\n")  # validated on construction
