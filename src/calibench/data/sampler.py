"""The study sampler: a seeded, stratified, deduplicated subset of a dataset, with a manifest.

The default draws the reference design: 300 MMLU questions from 16 subjects, the 4 official
categories x 4 subjects, 75 per category split 19/19/19/18.

How a sample is drawn, step by step:

1. Keep the chosen subjects' questions; unless ``dedupe=False``, keep one copy of each
   (question, choices) pair, the first by (dataset, subject, id) (MMLU's test set has 27
   exact duplicate rows, and 78 more questions that stand in two subjects).
2. Allocate the total to strata as evenly as possible: with ``strata="category"`` first
   across categories, then across each category's subjects; with ``"subject"`` across
   subjects; with ``"proportional"`` in proportion to subject size (largest remainders).
   Left-over units go to the strata listed first, and a stratum never gets more than it
   holds (its share passes to the others).
3. Within a subject, order the questions by ``sha256(f"{seed}:{id}")`` and take the first
   n. This depends only on the seed and the ids, so the same seed gives the same ids on
   every machine and Python version, and one subject's draw does not change when another
   subject is added.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

from calibench.data.mmlu_subjects import DEFAULT_STUDY_SUBJECTS
from calibench.data.question import Question
from calibench.errors import CalibenchError

Strata = Literal["category", "subject", "proportional"]
STRATA = ("category", "subject", "proportional")
DEFAULT_N_TOTAL = 300


@dataclass(frozen=True)
class Manifest:
    """What a sample is: enough to cite it in results and to draw it again exactly.

    ``content_sha256`` hashes the sampled questions themselves (id, question, choices and
    answer, in sample order), so two manifests with the same hash name the same test.
    """

    dataset: str
    seed: int
    subjects: tuple[str, ...]
    strata: str
    n_total: int | Literal["all"] | None
    n_per_subject: int | None
    dedupe: bool
    counts: dict[str, int]
    ids: tuple[str, ...]
    duplicates_dropped: int
    content_sha256: str
    sampler_version: int = 1

    def to_dict(self) -> dict:
        """A JSON-serialisable dict of the manifest."""
        d = asdict(self)
        d["subjects"] = list(self.subjects)
        d["ids"] = list(self.ids)
        return d


@dataclass(frozen=True)
class StudySample:
    """The sampled questions, in a stable order (by subject as listed, then draw order), and their manifest."""

    questions: list[Question] = field(repr=False)
    manifest: Manifest


def sample_study(
    questions: Sequence[Question],
    *,
    seed: int = 0,
    subjects: Sequence[str] | Literal["all"] | None = None,
    n_total: int | Literal["all"] | None = None,
    n_per_subject: int | None = None,
    strata: Strata = "category",
    dedupe: bool = True,
) -> StudySample:
    """Draw a seeded, stratified study sample from ``questions``.

    ``subjects`` is a list of subject names, ``"all"`` (every subject present, sorted), or
    None: MMLU's 16 default study subjects when the questions are MMLU, else every subject.
    Give ``n_total`` (allocated across strata, see the module docstring; default 300, or every
    question when the chosen subjects hold fewer) or ``n_per_subject`` (that many from each subject). ``n_total="all"`` takes every
    (deduplicated) question of the chosen subjects, so ``subjects="all", n_total="all",
    dedupe=False`` is the whole test set as published; ``dedupe=False`` keeps repeated
    (question, choices) pairs. Raises :class:`CalibenchError` on invalid options, including a
    request for more questions than the chosen subjects hold.
    """
    if not questions:
        raise CalibenchError("cannot sample from an empty question list")
    if strata not in STRATA:
        raise CalibenchError(f"strata must be one of {', '.join(STRATA)}, got {strata!r}")
    if n_total is not None and n_per_subject is not None:
        raise CalibenchError("give n_total or n_per_subject, not both")
    defaulted = n_total is None and n_per_subject is None
    if defaulted:
        n_total = DEFAULT_N_TOTAL
    for name, value in (("n_total", n_total), ("n_per_subject", n_per_subject)):
        if value is None or (name == "n_total" and value == "all"):
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise CalibenchError(f"{name} must be a positive integer{' or all' if name == 'n_total' else ''}, got {value!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise CalibenchError(f"seed must be an integer, got {seed!r}")

    datasets = sorted({q.dataset for q in questions})
    chosen = _choose_subjects(questions, subjects, datasets)
    pools, dropped = _pools(questions, chosen, dedupe=dedupe)
    if defaulted and sum(len(pools[s]) for s in chosen) < DEFAULT_N_TOTAL:
        n_total = "all"  # a dataset smaller than the default sample is asked whole
    quotas = _quotas(pools, chosen, n_total=n_total, n_per_subject=n_per_subject, strata=strata)

    sample: list[Question] = []
    for subject in chosen:
        ranked = sorted(pools[subject], key=lambda q: _rank_key(seed, q.id))
        sample.extend(ranked[: quotas[subject]])
    manifest = Manifest(
        dataset="+".join(datasets),
        seed=seed,
        subjects=tuple(chosen),
        strata=strata,
        n_total=n_total,
        n_per_subject=n_per_subject,
        dedupe=dedupe,
        counts={s: quotas[s] for s in chosen},
        ids=tuple(q.id for q in sample),
        duplicates_dropped=dropped,
        content_sha256=content_hash(sample),
    )
    return StudySample(questions=sample, manifest=manifest)


def content_hash(questions: Sequence[Question]) -> str:
    """sha256 of the questions' id, text, choices and answer, in order, as canonical JSON."""
    payload = [[q.dataset, q.id, q.question, list(q.choices), q.answer] for q in questions]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")).hexdigest()


def _rank_key(seed: int, qid: str) -> str:
    return hashlib.sha256(f"{seed}:{qid}".encode("utf-8")).hexdigest()


def _choose_subjects(questions: Sequence[Question], subjects, datasets: list[str]) -> list[str]:
    present: dict[str, None] = dict.fromkeys(q.subject for q in questions)
    if subjects is None:
        subjects = DEFAULT_STUDY_SUBJECTS if datasets == ["mmlu"] else "all"
    if isinstance(subjects, str):
        if subjects != "all":
            raise CalibenchError(f"subjects must be a list of subject names or 'all', got {subjects!r}")
        return sorted(present)
    chosen = list(dict.fromkeys(subjects))
    if not chosen:
        raise CalibenchError("subjects is empty")
    missing = [s for s in chosen if s not in present]
    if missing:
        raise CalibenchError(f"unknown subject(s) for this dataset: {', '.join(missing)}")
    return chosen


def _pools(questions: Sequence[Question], chosen: list[str], *, dedupe: bool) -> tuple[dict[str, list[Question]], int]:
    wanted = set(chosen)
    pools: dict[str, list[Question]] = {s: [] for s in chosen}
    seen: set[tuple[str, tuple[str, ...]]] = set()
    dropped = 0
    # A fixed order decides which copy of a repeat is kept, whatever the input order.
    for q in sorted(questions, key=lambda q: (q.dataset, q.subject, q.id)):
        if q.subject not in wanted:
            continue
        key = (q.question, q.choices)
        if dedupe and key in seen:
            dropped += 1
            continue
        seen.add(key)
        pools[q.subject].append(q)
    return pools, dropped


def _quotas(pools, chosen, *, n_total, n_per_subject, strata) -> dict[str, int]:
    sizes = {s: len(pools[s]) for s in chosen}
    if n_per_subject is not None:
        short = [f"{s} ({sizes[s]})" for s in chosen if sizes[s] < n_per_subject]
        if short:
            raise CalibenchError(f"n_per_subject={n_per_subject} exceeds what these subjects hold: {', '.join(short)}")
        return {s: n_per_subject for s in chosen}
    if n_total == "all":
        return sizes
    available = sum(sizes.values())
    if n_total > available:
        raise CalibenchError(f"n_total={n_total} exceeds the {available} distinct questions in the chosen subjects")
    if strata == "subject":
        return dict(zip(chosen, allocate(n_total, [sizes[s] for s in chosen])))
    if strata == "proportional":
        return dict(zip(chosen, _proportional(n_total, [sizes[s] for s in chosen])))
    category_of = {q.subject: q.category for s in chosen for q in pools[s][:1]}
    groups: dict[str, list[str]] = {}
    for s in chosen:
        groups.setdefault(category_of.get(s, ""), []).append(s)
    per_group = allocate(n_total, [sum(sizes[s] for s in members) for members in groups.values()])
    quotas: dict[str, int] = {}
    for members, n in zip(groups.values(), per_group):
        quotas.update(zip(members, allocate(n, [sizes[s] for s in members])))
    return quotas


def allocate(total: int, capacities: Sequence[int]) -> list[int]:
    """Split ``total`` as evenly as possible over slots of the given capacities.

    Water-filling: every slot is filled to a common level, capped at its capacity, and the
    units that remain (fewer than the slots above the level) go one each to the slots
    listed first. ``allocate(75, [99] * 4) == [19, 19, 19, 18]``.
    """
    if total > sum(capacities):
        raise CalibenchError(f"cannot allocate {total} over capacities totalling {sum(capacities)}")
    lo, hi = 0, max(capacities, default=0)
    while lo < hi:  # the highest level whose capped fill does not exceed the total
        mid = (lo + hi + 1) // 2
        if sum(min(c, mid) for c in capacities) <= total:
            lo = mid
        else:
            hi = mid - 1
    out = [min(c, lo) for c in capacities]
    left = total - sum(out)
    for i, c in enumerate(capacities):
        if left and c > lo:
            out[i] += 1
            left -= 1
    return out


def _proportional(total: int, sizes: Sequence[int]) -> list[int]:
    whole = sum(sizes)
    exact = [total * s / whole for s in sizes]
    out = [int(x) for x in exact]
    order = sorted(range(len(sizes)), key=lambda i: (-(exact[i] - out[i]), i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out
