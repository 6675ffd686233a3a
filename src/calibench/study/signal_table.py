"""Every confidence signal a run collected, scored on the answers they share.

A *signal* is a confidence for an answer: each protocol's own (``stated``, ``logprob``,
``p-true``, ``verbalized``, ...: its parsed items, complete-case), and the three that a
protocol's consistency samples give its headline answers (``verbalized~agreement``,
``~entropy``, ``~avg-conf``; :mod:`calibench.elicit.protocols.sampled`). Each is a mapping from
an answer's cell (question, repetition, option order) to (confidence, correct).

The table (:func:`signal_table`) scores every signal with at least ``MIN_N`` answers on the
cells all of them have: the headline ECE with its interval, Brier, AUROC, AURC and PRR, and
the paired bootstrap difference in Brier to the signal with the lowest Brier, with its
interval. Signals whose answers differ (``verbalized`` fixes its own letter; ``stated``
speaks of the answer read's) are still paired by question: each is scored on its own
answers' correctness, as :mod:`calibench.study.comparisons` pairs protocols.
"""

from __future__ import annotations

import numpy as np
from calibench import metrics
from calibench.elicit.parser import PARSED
from calibench.elicit.protocols.sampled import SUFFIX as SAMPLE_SUFFIX
from calibench.study.comparisons import MIN_N, finite
from calibench.study.validity import cell

SAMPLED = ("agreement", "entropy", "avg-conf")


def signal_values(items: list[dict], protocols: list[str], *, options: dict[str, int]) -> dict[str, dict[tuple, tuple[float, float]]]:
    """Every signal's (confidence, correct) per cell: the protocols' parsed items, then the
    sampled signals of the protocols that have samples (``options``: each question's number of
    options), defined as :mod:`calibench.elicit.protocols.sampled` says:

    - ``agreement``: samples with the headline letter / samples asked (a sample without a
      letter counts as not agreeing);
    - ``entropy``: 1 - H / log(min(samples, options)), H the entropy of the letters the samples
      gave, for answers where at least half the samples gave a letter (fewer would make one
      sample look certain);
    - ``avg-conf``: the stated confidences of the agreeing samples over those of every sample
      with a confidence, for answers where at least half the samples stated one.

    The headline answers are the protocol's items in the original option order and
    repetition 0 with a letter read (their confidence need not have been).
    """
    values: dict[str, dict[tuple, tuple[float, float]]] = {}
    for protocol in protocols:
        values[protocol] = {cell(i): (i["confidence"], float(i["correct"])) for i in items
                            if i["protocol"] == protocol and i["status"] in PARSED}
        samples: dict[str, list[dict]] = {}
        for i in items:
            if i["protocol"] == protocol + SAMPLE_SUFFIX:
                samples.setdefault(i["question_id"], []).append(i)
        if not samples:
            continue
        k = 1 + max(i["sample"] for drawn in samples.values() for i in drawn)
        sampled = {f"{protocol}~{name}": {} for name in SAMPLED}
        for i in items:
            if i["protocol"] != protocol or i["rotation"] or i["repetition"] or i["letter"] is None:
                continue
            drawn = samples.get(i["question_id"], [])
            letters = [s["letter"] for s in drawn if s["letter"] is not None]
            right = float(i["correct"])
            sampled[f"{protocol}~agreement"][cell(i)] = (letters.count(i["letter"]) / k, right)
            if len(letters) >= k / 2:
                shares = np.array([letters.count(x) for x in sorted(set(letters))]) / len(letters)
                most = np.log(min(k, options[i["question_id"]]))
                sampled[f"{protocol}~entropy"][cell(i)] = (1 - float(-(shares * np.log(shares)).sum()) / most, right)
            stated = [(s["letter"], s["confidence"]) for s in drawn if s["status"] in PARSED and s["confidence"] is not None]
            total = sum(c for _, c in stated)
            if len(stated) >= k / 2 and total > 0:
                sampled[f"{protocol}~avg-conf"][cell(i)] = (sum(c for letter, c in stated if letter == i["letter"]) / total, right)
        values.update(sampled)
    return values


def signal_table(values: dict[str, dict[tuple, tuple[float, float]]], cfg) -> dict:
    """Score every signal of ``values`` (:func:`signal_values`) with at least ``MIN_N`` answers on
    the cells they share (module docstring). Returns ``n`` (shared cells), ``best`` (lowest
    Brier, None when fewer than ``MIN_N`` cells are shared), ``rows`` (best first; ``ece`` is
    :func:`calibench.metrics.ece_interval`'s estimate, ``reliability`` the diagram's bins, ``brier_minus_best`` a
    :class:`calibench.metrics.paired.PairedDifference` or None for the best) and ``left_out``
    (the signals with fewer answers, and their n)."""
    kept = {name: v for name, v in values.items() if len(v) >= MIN_N}
    left_out = {name: len(v) for name, v in values.items() if len(v) < MIN_N}
    shared = sorted(set.intersection(*(set(v) for v in kept.values()))) if kept else []
    if len(shared) < MIN_N:
        return {"n": len(shared), "best": None, "rows": [], "left_out": left_out}
    arrays = {name: (np.array([v[c][0] for c in shared]), np.array([v[c][1] for c in shared])) for name, v in kept.items()}
    brier = {name: metrics.brier(p, y) for name, (p, y) in arrays.items()}
    best = min(brier, key=lambda name: (brier[name], name))
    groups = [c[0] for c in shared]  # a question's option orders and repetitions resampled together
    rows = []
    for name, (p, y) in arrays.items():
        estimate, _ = metrics.ece_interval(p, y, n_bins=cfg.n_bins, n_boot=cfg.n_boot, seed=cfg.seed)
        bp, by = arrays[best]
        rows.append({
            "signal": name, "ece": estimate, "brier": brier[name], "auroc": finite(metrics.auroc(p, y)),
            "reliability": metrics.reliability_bins(p, y, n_bins=cfg.n_bins),
            "aurc": finite(metrics.aurc(p, y)), "prr": finite(metrics.prr(p, y)),
            "brier_minus_best": None if name == best else
            metrics.paired_difference(p, y, bp, by, "brier", n_boot=cfg.n_boot, seed=cfg.seed, groups=groups),
        })
    return {"n": len(shared), "best": best, "rows": sorted(rows, key=lambda r: r["brier"]), "left_out": left_out}
