"""The headline and the caveats, written from the numbers: the wording follows the data.

Every sentence names the protocol and the missing-data policy it holds for (the headline
protocol, complete-case). Rows with fewer than ``MIN_N`` answers are left out of every claim,
and the sentence says so. A change between models is claimed only from the paired
comparisons in results.json (same questions, Holm-adjusted across the study), never from
overlapping intervals, and a change with scale only between models of one family (``family``
in results.json); a model is called overconfident or underconfident only when the CI of its
gap excludes zero.
"""

from __future__ import annotations

from calibench.report.table import calibration_error, ordered_models
from calibench.study.comparisons import ALPHA, MIN_N, difference
from calibench.study.results import Results

PREFERRED = ("stated", "verbalized-json", "verbalized", "logprob")


def headline_protocol(results: Results) -> str | None:
    """The protocol the headline speaks of: the two-stage stated confidence when the study has it."""
    present = {p.protocol for m in results.models for p in m.protocols if p.panel is not None}
    for name in PREFERRED:
        if name in present:
            return name
    return next(iter(sorted(present)), None)


def _p(p: float | None) -> str:
    return "n/a" if p is None else ("< 0.001" if p < 0.001 else f"= {p:.3f}")


def _step(results: Results, protocol: str, a: str, b: str) -> tuple[str, bool | None]:
    """The paired ECE change from model a to model b as text, and whether it is a significant fall
    (True), rise (False) or neither (None)."""
    d = difference(results.comparisons, kind="models", within=protocol, a=a, b=b, metric="ece_debiased_l1")
    if d is None or d.value is None:
        return f"{a} → {b}: no paired comparison", None
    interval = "" if d.low is None or d.high is None else f" [{d.low:+.3f}, {d.high:+.3f}]"
    text = f"{a} → {b} {d.value:+.3f}{interval}, Holm p {_p(d.p_holm)}"
    significant = d.p_holm is not None and d.p_holm < ALPHA
    return text, (d.value < 0) if significant else None


def headline(results: Results) -> list[str]:
    """Sentences for the top of the report."""
    protocol = headline_protocol(results)
    if protocol is None:
        failed = sum(p.parse.failed for m in results.models for p in m.protocols)
        if failed:
            return [f"Nothing is measured: {failed} answer(s) got no reply because requests failed, and no reply that came "
                    "back was readable (the caveats say where; a rerun asks the failed ones again)."]
        return ["No model produced a parseable answer, so there is nothing to measure."]
    scope = f"{protocol}, complete-case"
    points, small = [], []
    for model in ordered_models(results):
        proto = next((p for p in model.protocols if p.protocol == protocol and p.panel is not None), None)
        if proto is not None:
            (points if proto.panel.n >= MIN_N else small).append((model, proto.panel))
    out = []
    if small:
        out.append(f"Left out of these claims, with fewer than {MIN_N} answers ({scope}): "
                   + ", ".join(f"{m.label} (n={panel.n})" for m, panel in small) + ".")
    if not points:
        return out + [f"No model has {MIN_N} or more answers ({scope}): too few for any claim."]
    labels = [m.label for m, _ in points]
    eces = [calibration_error(panel.metrics) for _, panel in points]
    if len(points) >= 2:
        out.append(f"ECE by model ({scope}): " + ", ".join(f"{e.value:.3f} ({label})" for e, label in zip(eces, labels)) + ".")
        out += _scale(results, protocol, scope, [m for m, _ in points])
    else:
        e = eces[0]
        out.append(f"{labels[0]} ({scope}): ECE {e.value:.3f} [{e.low:.3f}, {e.high:.3f}].")
    gaps = [panel.metrics["overconfidence_gap"] for _, panel in points]
    over = [label for g, label in zip(gaps, labels) if g.low > 0]
    under = [label for g, label in zip(gaps, labels) if g.high < 0]
    unclear = [label for label in labels if label not in over and label not in under]
    if len(over) == len(points):
        who = (f"Every one of the {len(points)} models with {MIN_N} or more answers is" if len(points) > 1
               else f"{labels[0]}, the only model with {MIN_N} or more answers, is")
        out.append(f"{who} overconfident ({scope}): confidence exceeds accuracy, the gap's 95% CI above zero.")
    else:
        if over:
            out.append(f"Overconfident ({scope}; CI of the gap above zero): {', '.join(over)}.")
        if under:
            out.append(f"Underconfident ({scope}; CI of the gap below zero): {', '.join(under)}.")
        if unclear:
            out.append(f"Gap indistinguishable from zero ({scope}): {', '.join(unclear)}.")
    return out


def _not_comparable(a, b) -> str | None:
    """Why a step from model a to model b says nothing about scale, or None when it may."""
    if a.family is None or b.family is None:
        return "family not recorded"
    if a.family != b.family:
        return f"{a.family} vs {b.family}"
    if a.parameters is None or b.parameters is None:
        return "size not recorded"
    return None


def scale_steps(models: list) -> dict[str, list[tuple]]:
    """Each family's steps in size: consecutive pairs (smaller, larger) of its models whose family and
    parameter count are recorded, for every family with two or more such models. Scale claims are
    made along these steps only."""
    families: dict[str, list] = {}
    for m in models:
        if m.parameters is not None and m.family is not None:
            families.setdefault(m.family, []).append(m)
    by_size = {family: sorted(members, key=lambda m: m.parameters) for family, members in families.items()}
    return {family: list(zip(members, members[1:])) for family, members in by_size.items() if len(members) >= 2}


def _scale(results: Results, protocol: str, scope: str, models: list) -> list[str]:
    """What the paired tests say of scale: within each family of two or more sized models only,
    since models of different families differ in more than size (data, tokenizer, training);
    the other steps are given as paired differences, with why they make no scale claim."""
    out = []
    for family, pairs in scale_steps(models).items():
        steps = [_step(results, protocol, a.label, b.label) for a, b in pairs]
        falls = [fall for _, fall in steps]
        if all(f is True for f in falls):
            verdict = "calibration improves with scale: ECE falls at every step in size, each fall significant in a paired test"
        elif all(f is False for f in falls):
            verdict = "calibration worsens with scale: ECE rises at every step in size, each rise significant in a paired test"
        else:
            verdict = ("no steady change with scale is established: ECE neither falls nor rises significantly at every "
                       "step in size in a paired test")
        out.append(f"Within {family}, {verdict} ({scope}; same questions, 95% CI, Holm-adjusted over the study's "
                   f"{holm_family_size(results)} tests): " + "; ".join(text for text, _ in steps) + ".")
    across = [(a, b, why) for a, b in zip(models, models[1:]) if (why := _not_comparable(a, b)) is not None]
    if across:
        out.append("No claim about scale is made from a step between families (they differ in more than size) or between "
                   f"models whose family or size is not recorded (set family and parameters in [[models]]); paired differences "
                   f"({scope}, Holm-adjusted): " + "; ".join(f"{_step(results, protocol, a.label, b.label)[0]} ({why})"
                                                            for a, b, why in across) + ".")
    return out


def holm_family_size(results: Results) -> int:
    """How many p-values the study's Holm family holds."""
    return sum(1 for c in results.comparisons for t in c.tests if t.p_value is not None)


def caveats(results: Results) -> list[str]:
    """Honest caveats generated from the data: parse rates, n, single run, noise floor."""
    out = []
    for model in ordered_models(results):
        for proto in model.protocols:
            rate = proto.parse.parse_rate
            if proto.parse.failed:
                out.append(f"{model.label} / {proto.protocol}: {proto.parse.failed} answer(s) got no reply (the request, or the "
                           "answer read it follows, failed); they are left out of every rate and missing-data policy, and a "
                           "rerun asks them again.")
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
            floor, test = proto.panel.noise_floor, proto.panel.calibration_test
            ece = proto.panel.metrics["ece"].value
            if test is not None and not test.rejected:
                out.append(
                    f"{model.label} / {proto.protocol} (complete-case): plug-in ECE {ece:.3f} is within what a perfectly "
                    f"calibrated model scores at n={floor.n} (consistency test p = {test.p_value:.2f}): not distinguishable "
                    "from calibrated, so the ECE interval starts at 0."
                )
            elif test is None and ece <= floor.upper:
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
