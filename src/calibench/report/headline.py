"""The headline and the caveats, written from the numbers: the wording follows the data.

A trend is called an improvement only when ECE falls at every step up in size; overlapping
CIs between the smallest and the largest model are said; each model's gap is called
overconfident or underconfident only when its CI excludes zero.
"""

from __future__ import annotations

from calibench.report.table import ordered_models
from calibench.study.results import Results

PREFERRED = ("stated", "verbalized-json", "verbalized", "logprob")


def overlap(a, b) -> bool:
    """Whether two estimates' confidence intervals overlap."""
    return a.low <= b.high and b.low <= a.high


def headline_protocol(results: Results) -> str | None:
    """The protocol the headline speaks of: the two-stage stated confidence when the study has it."""
    present = {p.protocol for m in results.models for p in m.protocols if p.panel is not None}
    for name in PREFERRED:
        if name in present:
            return name
    return next(iter(sorted(present)), None)


def headline(results: Results) -> list[str]:
    """Sentences for the top of the report."""
    protocol = headline_protocol(results)
    if protocol is None:
        return ["No model produced a parseable answer, so there is nothing to measure."]
    points = []
    for model in ordered_models(results):
        proto = next((p for p in model.protocols if p.protocol == protocol and p.panel is not None), None)
        if proto is not None:
            points.append((model, proto.panel.metrics))
    out = []
    labels = [m.label for m, _ in points]
    eces = [metrics["ece"] for _, metrics in points]
    if len(points) >= 2:
        chain = " → ".join(f"{e.value:.2f} ({label})" for e, label in zip(eces, labels))
        sized = all(m.parameters is not None for m, _ in points)
        falling = all(b.value < a.value for a, b in zip(eces, eces[1:]))
        rising = all(b.value > a.value for a, b in zip(eces, eces[1:]))
        first, last = eces[0], eces[-1]
        if sized and falling:
            sentence = f"Calibration improves with scale ({protocol}): ECE {chain}."
        elif sized and rising:
            sentence = f"Calibration worsens with scale ({protocol}): ECE {chain}."
        elif sized:
            sentence = f"Calibration does not change steadily with scale ({protocol}): ECE {chain}."
        else:
            sentence = f"ECE ({protocol}): {chain}."
        if overlap(first, last):
            sentence += f" The 95% CIs of {labels[0]} and {labels[-1]} overlap, so that difference is not established."
        out.append(sentence)
    elif points:
        e = eces[0]
        out.append(f"{labels[0]} ({protocol}): ECE {e.value:.2f} [{e.low:.2f}, {e.high:.2f}].")
    over = [label for (m, met), label in zip(points, labels) if met["overconfidence_gap"].low > 0]
    under = [label for (m, met), label in zip(points, labels) if met["overconfidence_gap"].high < 0]
    unclear = [label for label in labels if label not in over and label not in under]
    if points and len(over) == len(points):
        out.append("Every model is overconfident: its stated confidence exceeds its accuracy, CI excluding zero.")
    else:
        if over:
            out.append(f"Overconfident (CI of the gap above zero): {', '.join(over)}.")
        if under:
            out.append(f"Underconfident (CI of the gap below zero): {', '.join(under)}.")
        if unclear:
            out.append(f"Gap indistinguishable from zero: {', '.join(unclear)}.")
    return out


def caveats(results: Results) -> list[str]:
    """Honest caveats generated from the data: parse rates, n, single run, noise floor."""
    out = []
    for model in ordered_models(results):
        for proto in model.protocols:
            rate = proto.parse.parse_rate
            if proto.panel is None:
                out.append(f"{model.label} / {proto.protocol}: no answer parsed; nothing is measured.")
                continue
            v = proto.validity
            if v is not None and v.distorting:
                out.append(
                    f"{model.label} / {proto.protocol} changes the answers it measures: accuracy {v.accuracy:.0%} against "
                    f"{v.reference_accuracy:.0%} for the answer read on the same {v.n} questions (exact McNemar p = {v.mcnemar_p:.2g}; "
                    f"the same letter on {v.agreement:.0%}). Its calibration describes answers the model gives under this format only."
                )
            if rate < 0.95:
                out.append(
                    f"{model.label} / {proto.protocol}: only {rate:.0%} of answers parsed; the metrics cover those "
                    "(complete-case), which may not be a random subset. See the missing-data table for the other policies."
                )
            floor = proto.panel.noise_floor
            ece = proto.panel.metrics["ece"].value
            if ece <= floor.upper:
                out.append(
                    f"{model.label} / {proto.protocol}: ECE {ece:.3f} is within the noise floor at n={floor.n} "
                    f"(a perfectly calibrated model scores up to {floor.upper:.3f} 95% of the time): not distinguishable from calibrated."
                )
        out += _position_caveats(model)
    reps = results.provenance.sampling.get("repetitions", 1)
    if reps == 1:
        out.append("A single run per question: run-to-run variation is not measured (set repetitions > 1).")
    ns = sorted({p.panel.n for m in results.models for p in m.protocols if p.panel})
    if ns and ns[0] < 300:
        out.append(f"Small samples (n as low as {ns[0]}): HELM notes that a 10-bin ECE needs about 300 examples to be reliable.")
    return out


def _position_caveats(model) -> list[str]:
    """A caveat per distinct position bias of a model (total-variation distance 0.2 or more);
    protocols that share the answer read's letters share one sentence."""
    biased: dict[tuple, list[str]] = {}
    for proto in model.protocols:
        pos = proto.positions
        if pos is not None and pos.tv_distance is not None and pos.tv_distance >= 0.2:
            biased.setdefault((pos.n, tuple(sorted(pos.answers.items()))), []).append(proto.protocol)
    out = []
    for names in biased.values():
        pos = next(p.positions for p in model.protocols if p.protocol == names[0])
        top = max(pos.answers, key=pos.answers.get)
        out.append(f"{model.label} / {', '.join(names)}: position bias: {pos.answers[top]:.0%} of the answers are {top} "
                   f"(gold {pos.gold[top]:.0%}; total-variation distance {pos.tv_distance:.2f}).")
    return out
