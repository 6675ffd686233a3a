"""results.json: the schema (pydantic, exported as a JSON Schema in the package) and its computation.

Everything a report shows comes from here: per model and protocol the metrics panel with
CIs and reliability bins (complete-case: unparsed answers dropped, as the reference study
did, and said so), the parse statistics, the missing-data table under every policy, the
per-run metrics and their spread, the comparison on the questions every model parsed, the
paired comparisons between models and between protocols, and the provenance. The runner computes no metric; this module does, from items alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from calibench import metrics
from calibench.elicit.parser import OK, PARSED, SCALE_AMBIGUOUS, STATUSES
from calibench.metrics.ece_interval import CalibrationTest
from calibench.metrics.noise_floor import NoiseFloor
from calibench.study.comparisons import Comparison, PairedTest, finite
from calibench.study.signal_table import SAMPLED, signal_table
from calibench.study.items import FAILED
from calibench.study.validity import (
    ConfidenceValues,
    Permutations,
    Positions,
    Validity,
    cell,
    confidence_values,
    permutation_summary,
    positions,
    validity,
)

SCHEMA_VERSION = 1
SCHEMA_FILE = Path(__file__).with_name("results.schema.json")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Estimate(_Model):
    value: float | None
    low: float | None
    high: float | None
    level: float
    method: str
    n_boot: int


class Reliability(_Model):
    strategy: str
    n_bins: int
    interval: float
    count: list[int]
    mean_confidence: list[float]
    accuracy: list[float]
    accuracy_low: list[float]
    accuracy_high: list[float]
    confidence_min: list[float]
    confidence_max: list[float]


class Panel(_Model):
    panel_version: int
    n: int
    options: dict[str, Any]
    metrics: dict[str, Estimate]
    reliability: Reliability
    reliability_distinct: Reliability
    noise_floor: NoiseFloor
    calibration_test: CalibrationTest | None = None  # panel_version 2 on
    smece_sigma: float
    ece_sweep_bins: int


class ParseStats(_Model):
    """How the replies read: ``n`` replies received (failed requests are not replies: they are
    ``failed``, and no rate or missing-data policy counts them), ``parsed`` of them read."""

    n: int
    parsed: int
    parse_rate: float
    strict_rate: float
    counts: dict[str, int]
    failed: int = 0
    concluded: int = 0  # replies the budget cut that a second request concluded (cot), among the n


class PolicyRow(_Model):
    policy: str
    description: str
    n: int
    accuracy: float | None
    mean_confidence: float | None
    overconfidence_gap: float | None
    ece: Estimate | None  # the headline: bin-debiased, with its interval (metrics.ece_interval)
    ece_plug_in: float | None = None
    brier: float | None


class Summary(_Model):
    """Complete-case summary of a subset of answers (a run, a category, a subject)."""

    n: int
    parse_rate: float
    accuracy: float | None
    mean_confidence: float | None
    overconfidence_gap: float | None
    ece: float | None
    brier: float | None


class RunRow(Summary):
    repetition: int


class Spread(_Model):
    mean: float
    sd: float
    min: float
    max: float


class BeforeAfter(_Model):
    before: Estimate
    after: Estimate


class TransferResult(_Model):
    method: str
    fitted_on: str
    ece: BeforeAfter
    brier: BeforeAfter


class RecalibrationMethod(_Model):
    """One recalibration, out of fold, against the same answers before it.

    ``brier_skill`` is 1 - Brier(after) / Brier(base rate), both out of fold: 0 means no better
    than mapping every answer to the base rate. ``vs_base_rate`` is the paired test of
    Brier(after) - Brier(base rate). ``chosen`` (nested selection only) is the method picked
    in each outer fold."""

    method: str
    cross_fit: dict[str, BeforeAfter]
    holdout: dict[str, BeforeAfter] | None
    reliability_after: Reliability
    brier_skill: float | None = None
    vs_base_rate: PairedTest | None = None
    chosen: list[str] | None = None


class Recalibration(_Model):
    """Every method out of fold (``methods``, each reported, none picked by its result), the
    method chosen by nested cross-validation (``selected``: the headline "after"), and the
    out-of-fold base rate (``base_rate``), the no-information baseline."""

    folds: int
    seed: int
    stratified_by: str
    n: int
    methods: list[RecalibrationMethod]
    selected: RecalibrationMethod | None = None
    base_rate: RecalibrationMethod | None = None
    transfer: list[TransferResult] = []


class Selective(_Model):
    """The risk-coverage curve with pointwise intervals, and the prediction-rejection ratio
    (:func:`calibench.metrics.risk_coverage`)."""

    coverage: list[float]
    risk: list[float]
    low: list[float]
    high: list[float]
    prr: Estimate
    level: float
    n_boot: int


class ProtocolResult(_Model):
    protocol: str
    protocol_sha256: str
    constraint: str | None = None  # what forced the format on this model (see Protocol.constraint_used)
    headline_policy: Literal["complete_case"] = "complete_case"
    parse: ParseStats
    panel: Panel | None
    missing_data: list[PolicyRow]
    runs: list[RunRow]
    spread: dict[str, Spread]
    by_category: dict[str, Summary]
    by_subject: dict[str, Summary]
    validity: Validity | None = None  # a self-answering protocol against the answer read
    positions: Positions | None = None
    confidence_values: ConfidenceValues | None = None
    scale_readings: dict[str, Summary] | None = None  # scale-ambiguous answers read as percent / probability
    permutations: Permutations | None = None
    selective: Selective | None = None
    recalibration: Recalibration | None = None


class SignalComparison(_Model):
    stated_protocol: str
    n: int
    stated_ece: float | None
    letter_ece: float | None
    stated_auroc: float | None
    letter_auroc: float | None
    pearson: float | None
    spearman: float | None


class Consistency(_Model):
    protocol: str
    repetitions: int
    n_questions: int
    accuracy: float | None
    mean_confidence: float | None
    ece: float | None
    auroc: float | None


class SampledSignal(_Model):
    """A confidence from a protocol's samples, for its headline answers (see
    :mod:`calibench.elicit.protocols.sampled`): ``agreement``, ``entropy`` or ``avg-conf``."""

    protocol: str
    signal: Literal["agreement", "entropy", "avg-conf"]
    samples: int
    temperature: float
    n: int  # headline answers with a letter, and the samples this signal needs
    accuracy: float | None
    mean_confidence: float | None
    ece: Estimate | None
    brier: float | None
    auroc: float | None


class Signals(_Model):
    comparisons: list[SignalComparison]
    consistency: list[Consistency]
    sampled: list[SampledSignal] = []


class Timing(_Model):
    """Time spent asking one model, over every sitting of the run, beside the engine's own account.

    ``floor_s`` is what the engine reports computing (prompt plus generation time, summed over
    requests, and divided by the number of servers when several serve in parallel);
    ``wall_s / floor_s`` is the overhead on top of it (with several servers, their imbalance
    too), meaningful with one slot per server.
    Remote endpoints report no timings, so their floor is None.
    """

    sessions: int
    requests: int
    wall_s: float
    floor_s: float | None
    wall_over_floor: float | None
    prompt_tokens: int
    cached_tokens: int
    generated_tokens: int


class SignalRow(_Model):
    """One signal on the shared answers (see :mod:`calibench.study.signal_table`)."""

    signal: str
    ece: Estimate  # the headline: bin-debiased, with its interval
    brier: float
    auroc: float | None
    aurc: float | None
    prr: float | None
    brier_minus_best: Estimate | None  # paired bootstrap, this signal's Brier minus the best's; None for the best
    reliability: Reliability  # on the shared answers, the panel's uniform bins


class SignalTable(_Model):
    """Every signal with at least MIN_N answers, on the ``n`` answers they share; ``best``: the lowest Brier."""

    n: int
    best: str | None
    rows: list[SignalRow]
    left_out: dict[str, int]  # signals with fewer answers than MIN_N, and their n


class TemplateSpread(_Model):
    """A protocol asked in several templates (see :mod:`calibench.study.template_spread`)."""

    protocol: str  # the plain protocol
    templates: list[str]  # the protocols it was asked as, the plain one first
    n: dict[str, int]  # complete-case answers per template
    spread: dict[str, float | None]  # metric -> largest minus smallest value over the templates
    interval_width: dict[str, float | None]  # metric -> the plain template's interval, high minus low
    example_copies: dict[str, float | None]  # template -> share of stated confidences equal to a few-shot example's


class ModelResult(_Model):
    name: str
    label: str
    model_id: str
    sha256: str | None
    source: str
    local: bool
    parameters: float | None
    family: str | None = None  # the model family (SmolLM2, Qwen2.5-Coder, ...): scale is compared only within one
    engine: dict[str, Any] | None
    constraint: Literal["json-schema", "grammar"] | None = None  # how JSON replies were forced
    protocols: list[ProtocolResult]
    signals: Signals | None = None
    signal_table: SignalTable | None = None
    templates: list[TemplateSpread] = []
    timing: Timing | None = None


class SubsetRow(_Model):
    n: int
    accuracy: float
    mean_confidence: float
    overconfidence_gap: float
    ece: Estimate  # the headline: bin-debiased, with its interval (metrics.ece_interval)
    ece_plug_in: float | None = None


class CommonSubset(_Model):
    protocol: str
    n_questions: int
    models: dict[str, SubsetRow]


class Provenance(_Model):
    calibench_version: str
    git_commit: str | None
    python: str
    platform: str
    numpy: str
    started_at: str
    finished_at: str
    dataset_manifest: dict[str, Any]
    dataset_manifest_sha256: str
    prompts: dict[str, str]
    sampling: dict[str, Any]
    notes: list[str]


class Results(_Model):
    schema_version: Literal[1] = SCHEMA_VERSION
    study: str
    config: dict[str, Any]
    models: list[ModelResult]
    common_subset: list[CommonSubset]
    comparisons: list[Comparison] = []  # paired, Holm-adjusted (study/comparisons.py)
    provenance: Provenance


def size_order(parameters: list[float | None]) -> list[int]:
    """Indices of models by size, smallest first; models of unknown size after, in study order."""
    return sorted(range(len(parameters)), key=lambda i: (parameters[i] is None, parameters[i] or 0, i))


def json_schema() -> dict:
    """The JSON Schema of results.json (shipped as ``results.schema.json``)."""
    return Results.model_json_schema()


POLICIES = {
    "complete_case": "unparsed answers dropped (the reference study's choice; the headline)",
    "hle": "unparsed counted at confidence 1.0, right only if a letter was read and is right (HLE)",
    "zero": "unparsed counted at confidence 0, right only if a letter was read and is right",
    "best_case": "unparsed counted as perfectly calibrated: right at 1.0 (or wrong at 0 when a wrong letter was read)",
    "worst_case": "unparsed counted as maximally miscalibrated: wrong at 1.0 (or right at 0 when a right letter was read)",
}


def _imputed(item: dict, policy: str) -> tuple[float, float] | None:
    """An unparsed item's (confidence, correct) under a missing-data policy; None drops it."""
    known = item["correct"]  # None when no letter was read
    if policy == "complete_case":
        return None
    if policy == "hle":
        return 1.0, float(bool(known))
    if policy == "zero":
        return 0.0, float(bool(known))
    if policy == "best_case":
        right = known is not False
        return (1.0, 1.0) if right else (0.0, 0.0)
    right = known is True  # worst_case
    return (0.0, 1.0) if right else (1.0, 0.0)


def policy_arrays(items: list[dict], policy: str) -> tuple[np.ndarray, np.ndarray]:
    """Confidences and outcomes of ``items`` under a missing-data policy (see ``POLICIES``)."""
    pairs = []
    for item in items:
        if item["status"] == FAILED:  # no reply came back: nothing to count as parsed or unparsed
            continue
        if item["status"] in PARSED:
            pairs.append((item["confidence"], float(item["correct"])))
        else:
            imputed = _imputed(item, policy)
            if imputed is not None:
                pairs.append(imputed)
    arr = np.array(pairs, dtype=float).reshape(-1, 2)
    return arr[:, 0], arr[:, 1]


def _estimate(est) -> Estimate:
    return Estimate(**est.to_dict())


def _policy_row(items: list[dict], policy: str, cfg) -> PolicyRow:
    p, y = policy_arrays(items, policy)
    if p.size == 0:
        return PolicyRow(policy=policy, description=POLICIES[policy], n=0, accuracy=None, mean_confidence=None,
                         overconfidence_gap=None, ece=None, brier=None)
    return PolicyRow(
        policy=policy,
        description=POLICIES[policy],
        n=int(p.size),
        accuracy=float(y.mean()),
        mean_confidence=float(p.mean()),
        overconfidence_gap=float(p.mean() - y.mean()),
        ece=_headline_ece(p, y, cfg),
        ece_plug_in=metrics.ece(p, y, n_bins=cfg.n_bins),
        brier=metrics.brier(p, y),
    )


def _headline_ece(p: np.ndarray, y: np.ndarray, cfg) -> Estimate:
    est, _ = metrics.ece_interval(p, y, n_bins=cfg.n_bins, n_boot=cfg.n_boot, seed=cfg.seed)
    return _estimate(est)


def _summary(items: list[dict], cfg) -> dict:
    p, y = policy_arrays(items, "complete_case")
    have = p.size > 0
    return {
        "n": len(items),
        "parse_rate": _parse_rate(items),
        "accuracy": float(y.mean()) if have else None,
        "mean_confidence": float(p.mean()) if have else None,
        "overconfidence_gap": float(p.mean() - y.mean()) if have else None,
        "ece": metrics.ece(p, y, n_bins=cfg.n_bins) if have else None,
        "brier": metrics.brier(p, y) if have else None,
    }


def _parse_rate(items: list[dict]) -> float:
    """The share of replies read; failed requests (no reply) are left out."""
    replies = [i for i in items if i["status"] != FAILED]
    return float(np.mean([i["status"] in PARSED for i in replies])) if replies else 0.0


def _run_rows(items: list[dict], repetitions: int, cfg) -> list[RunRow]:
    return [RunRow(repetition=r, **_summary([i for i in items if i["repetition"] == r], cfg)) for r in range(repetitions)]


def _spread(rows: list[RunRow]) -> dict[str, Spread]:
    out = {}
    for field in ("accuracy", "mean_confidence", "overconfidence_gap", "ece", "brier", "parse_rate"):
        values = np.array([getattr(r, field) for r in rows if getattr(r, field) is not None], dtype=float)
        if values.size:
            out[field] = Spread(mean=float(values.mean()), sd=float(values.std(ddof=1)) if values.size > 1 else 0.0,
                                min=float(values.min()), max=float(values.max()))
    return out


def _groups(items: list[dict], field: str, cfg) -> dict[str, Summary]:
    return {name: Summary(**_summary([i for i in items if i[field] == name], cfg)) for name in sorted({i[field] for i in items})}


def protocol_result(protocol: str, protocol_sha256: str, items: list[dict], *, repetitions: int, cfg,
                    constraint: str | None = None, reference: tuple[str, list[dict]] | None = None) -> ProtocolResult:
    """Everything for one model and protocol, from its items; ``reference`` (a protocol name and
    its items) is the answer read that a self-answering protocol's letters are measured against."""
    counts = {s: 0 for s in (*STATUSES, FAILED)}
    for item in items:
        counts[item["status"]] += 1
    n = len(items) - counts[FAILED]
    parsed = counts["ok"] + counts["lenient"]
    p, y = policy_arrays(items, "complete_case")
    panel = selective = None
    if p.size:
        clustered = repetitions > 1 or any(i.get("rotation") for i in items)  # several answers per question
        groups = [i["question_id"] for i in items if i["status"] in PARSED] if clustered else None
        if groups is not None and len(set(groups)) < 2:
            groups = None
        computed = metrics.panel(p, y, n_boot=cfg.n_boot, seed=cfg.seed, n_bins=cfg.n_bins, groups=groups)
        panel = Panel.model_validate(computed.to_dict())
        if p.size >= 2:
            selective = Selective.model_validate(metrics.risk_coverage(p, y, n_boot=cfg.n_boot, seed=cfg.seed, groups=groups).to_dict())
    runs = _run_rows(items, repetitions, cfg)
    return ProtocolResult(
        protocol=protocol,
        protocol_sha256=protocol_sha256,
        parse=ParseStats(n=n, parsed=parsed, parse_rate=parsed / n if n else 0.0, strict_rate=counts[OK] / n if n else 0.0, counts=counts,
                         failed=counts[FAILED], concluded=sum(bool(i.get("concluded")) for i in items)),
        panel=panel,
        missing_data=[_policy_row(items, policy, cfg) for policy in POLICIES],
        runs=runs,
        spread=_spread(runs),
        by_category=_groups(items, "category", cfg),
        by_subject=_groups(items, "subject", cfg),
        constraint=constraint,
        validity=validity(items, reference[1], reference[0]) if reference else None,
        positions=positions(items, sorted({i["shown_answer"] for i in items} | {i["shown_letter"] for i in items if i["shown_letter"]})),
        confidence_values=confidence_values(items),
        scale_readings=scale_readings(items, cfg),
        permutations=permutation_summary(items),
        selective=selective,
    )


def scale_readings(items: list[dict], cfg) -> dict[str, Summary] | None:
    """Complete-case summaries with the scale-ambiguous answers added, read as percentages
    (``confidence``) and as probabilities (``alt_confidence``); None when there are none.
    ``n`` counts the answers summarised, ``parse_rate`` their share of the replies."""
    ambiguous = [i for i in items if i["status"] == SCALE_AMBIGUOUS]
    if not ambiguous:
        return None
    parsed = [i for i in items if i["status"] in PARSED]
    out = {}
    for reading, field in (("percent", "confidence"), ("probability", "alt_confidence")):
        read = parsed + [{**i, "status": OK, "confidence": i[field]} for i in ambiguous]
        summary = _summary(read, cfg)
        out[reading] = Summary(**{**summary, "parse_rate": len(read) / sum(i["status"] != FAILED for i in items)})
    return out


def signals(items: list[dict], protocols: list[str], *, repetitions: int, temperature: float, cfg,
            values: dict | None = None, samples: int = 0, consistency_temperature: float = 0.7) -> Signals:
    """Stated confidence against the answer-letter probability on the same answers; with
    repeated sampling at temperature > 0, sampling consistency (the share of a question's asks,
    every repetition and option order, agreeing with the most common answer) as a third
    confidence signal; and the signals of the ``samples`` consistency samples per answer
    (:func:`sampled_signals`, from ``values``: :func:`calibench.study.signal_table.signal_values`)."""
    from scipy.stats import pearsonr, spearmanr

    comparisons = []
    letter = {cell(i): i for i in items if i["protocol"] == "logprob" and i["status"] in PARSED}
    for stated in (p for p in protocols if p != "logprob"):
        pairs = [(i, letter[cell(i)]) for i in items if i["protocol"] == stated and i["status"] in PARSED and cell(i) in letter]
        if not letter or not pairs:
            continue
        ps = np.array([a["confidence"] for a, _ in pairs])
        ys = np.array([float(a["correct"]) for a, _ in pairs])
        pl = np.array([b["confidence"] for _, b in pairs])
        yl = np.array([float(b["correct"]) for _, b in pairs])
        varied = np.ptp(ps) > 0 and np.ptp(pl) > 0 and len(pairs) > 2  # std() of equal values can come out above 0
        comparisons.append(SignalComparison(
            stated_protocol=stated,
            n=len(pairs),
            stated_ece=metrics.ece(ps, ys, n_bins=cfg.n_bins),
            letter_ece=metrics.ece(pl, yl, n_bins=cfg.n_bins),
            stated_auroc=finite(metrics.auroc(ps, ys)),
            letter_auroc=finite(metrics.auroc(pl, yl)),
            pearson=finite(pearsonr(ps, pl).statistic) if varied else None,
            spearman=finite(spearmanr(ps, pl).statistic) if varied else None,
        ))
    consistency = []
    if repetitions > 1 and temperature > 0:
        for protocol in protocols:
            by_question: dict[str, list[dict]] = {}  # every ask of a question: its repetitions and option orders
            for i in items:
                if i["protocol"] == protocol:
                    by_question.setdefault(i["question_id"], []).append(i)
            conf, right = [], []
            for answers in by_question.values():
                letters = [a["letter"] for a in answers if a["letter"] is not None]  # in the original labelling
                if not letters:
                    continue
                modal = max(sorted(set(letters)), key=letters.count)
                conf.append(letters.count(modal) / len(answers))  # an ask with no letter counts as not agreeing
                right.append(float(modal == answers[0]["answer"]))
            if conf:
                c, r = np.array(conf), np.array(right)
                consistency.append(Consistency(protocol=protocol, repetitions=repetitions, n_questions=len(conf),
                                               accuracy=float(r.mean()), mean_confidence=float(c.mean()),
                                               ece=metrics.ece(c, r, n_bins=cfg.n_bins), auroc=finite(metrics.auroc(c, r))))
    return Signals(comparisons=comparisons, consistency=consistency,
                   sampled=sampled_signals(values or {}, protocols, samples=samples, temperature=consistency_temperature, cfg=cfg))


def sampled_signals(values: dict, protocols: list[str], *, samples: int, temperature: float, cfg) -> list[SampledSignal]:
    """The confidences a protocol's ``samples`` consistency samples give its headline answers
    (original option order, repetition 0, a letter read): ``agreement``, ``entropy`` and
    ``avg-conf`` as :func:`calibench.study.signal_table.signal_values` defines them (``values``),
    each scored against those answers' correctness."""
    out = []
    for protocol in protocols:
        if f"{protocol}~{SAMPLED[0]}" not in values:
            continue  # no samples of this protocol
        for signal in SAMPLED:
            pairs = list(values[f"{protocol}~{signal}"].values())
            p, y = np.array([c for c, _ in pairs]), np.array([r for _, r in pairs])
            have = p.size > 0
            out.append(SampledSignal(
                protocol=protocol, signal=signal, samples=samples, temperature=temperature, n=int(p.size),
                accuracy=float(y.mean()) if have else None, mean_confidence=float(p.mean()) if have else None,
                ece=_headline_ece(p, y, cfg) if have else None, brier=metrics.brier(p, y) if have else None,
                auroc=finite(metrics.auroc(p, y)) if have else None))
    return out


def signals_scored(values: dict, cfg) -> SignalTable:
    """The signal table of one model from its ``values`` (:func:`calibench.study.signal_table.signal_table`)."""
    table = signal_table(values, cfg)
    rows = [SignalRow(signal=r["signal"], ece=_estimate(r["ece"]), brier=r["brier"], auroc=r["auroc"], aurc=r["aurc"], prr=r["prr"],
                      reliability=Reliability(**r["reliability"].to_dict()),
                      brier_minus_best=None if r["brier_minus_best"] is None else _estimate(r["brier_minus_best"].difference))
            for r in table["rows"]]
    return SignalTable(n=table["n"], best=table["best"], rows=rows, left_out=table["left_out"])


def timing(sessions: list[dict]) -> Timing | None:
    """Sum a model's asking sessions (see :class:`Timing`); None if it was never asked anything."""
    if not sessions:
        return None
    wall = sum(x["wall_s"] for x in sessions)
    floor = sum(x["prompt_s"] + x["generation_s"] for x in sessions)
    return Timing(
        sessions=len(sessions),
        requests=sum(x["requests"] for x in sessions),
        wall_s=wall,
        floor_s=floor or None,
        wall_over_floor=wall / floor if floor else None,
        prompt_tokens=sum(x["prompt_tokens"] for x in sessions),
        cached_tokens=sum(x["cached_tokens"] for x in sessions),
        generated_tokens=sum(x["generated_tokens"] for x in sessions),
    )


def common_subsets(items_by_model: dict[str, list[dict]], protocols: list[str], cfg) -> list[CommonSubset]:
    """Per protocol, the models compared on the (question, repetition) pairs every model parsed."""
    out = []
    for protocol in protocols:
        parsed_sets = []
        for items in items_by_model.values():
            parsed_sets.append({(i["question_id"], i["repetition"]) for i in items if i["protocol"] == protocol and i["status"] in PARSED})
        common = set.intersection(*parsed_sets) if parsed_sets else set()
        rows = {}
        if common:
            for model, items in items_by_model.items():
                chosen = [i for i in items if i["protocol"] == protocol and (i["question_id"], i["repetition"]) in common]
                p, y = policy_arrays(chosen, "complete_case")
                rows[model] = SubsetRow(n=int(p.size), accuracy=float(y.mean()), mean_confidence=float(p.mean()),
                                        overconfidence_gap=float(p.mean() - y.mean()), ece=_headline_ece(p, y, cfg),
                                        ece_plug_in=metrics.ece(p, y, n_bins=cfg.n_bins))
        out.append(CommonSubset(protocol=protocol, n_questions=len({q for q, _ in common}), models=rows))
    return out


def write_schema(path: Path = SCHEMA_FILE) -> None:
    """Regenerate the shipped JSON Schema (a test keeps it in sync)."""
    path.write_text(json.dumps(json_schema(), indent=1, sort_keys=True) + "\n")
