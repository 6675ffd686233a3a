"""Prompt sensitivity: how far each metric moves across a protocol's templates, beside its interval.

A protocol asked in several templates (:mod:`calibench.elicit.protocols.templates`) has one
result per template, each on its own complete-case answers. For each metric of the panel,
the *spread* is the largest value minus the smallest over the templates, and it is set beside
the width of the plain template's interval (its high minus its low end): a spread as wide as
the interval means the wording moves the metric as much as the sampling of questions does.
The spread is descriptive; whether two templates differ is the paired comparisons' question
(:mod:`calibench.study.comparisons` compares every protocol pair within a model, templates
included).

The few-shot template's examples state three confidences; ``example_copies`` gives, for every
template, the share of its stated confidences equal to one of them, so that a few-shot share
far above the plain one shows the examples' numbers being copied.
"""

from __future__ import annotations

from calibench.elicit.parser import PARSED
from calibench.elicit.protocols.templates import example_confidences, split_name
from calibench.study.results import ProtocolResult, TemplateSpread

# the panel's metrics whose spread is reported, in the report's order
METRICS = ("accuracy", "mean_confidence", "overconfidence_gap", "ece_debiased_l1", "brier", "auroc")


def template_spreads(results: list[ProtocolResult], items: list[dict]) -> list[TemplateSpread]:
    """One row per protocol asked in two or more templates, from its templates' results and items."""
    by_plain: dict[str, list[ProtocolResult]] = {}
    for result in results:
        by_plain.setdefault(split_name(result.protocol)[0], []).append(result)
    rows = []
    for plain, group in by_plain.items():
        if len(group) < 2:
            continue
        reference = next((r for r in group if r.protocol == plain), None)
        spread, width = {}, {}
        for metric in METRICS:
            values = [r.panel.metrics[metric].value for r in group if r.panel and r.panel.metrics[metric].value is not None]
            spread[metric] = max(values) - min(values) if len(values) == len(group) else None
            estimate = reference.panel.metrics[metric] if reference and reference.panel else None
            width[metric] = estimate.high - estimate.low if estimate and estimate.low is not None and estimate.high is not None else None
        rows.append(TemplateSpread(
            protocol=plain,
            templates=[r.protocol for r in group],
            n={r.protocol: r.panel.n if r.panel else 0 for r in group},
            spread=spread,
            interval_width=width,
            example_copies={r.protocol: _copies(items, r.protocol) for r in group},
        ))
    return rows


def _copies(items: list[dict], protocol: str) -> float | None:
    """The share of ``protocol``'s stated confidences equal to one of the few-shot examples'."""
    stated = [float(i["confidence"]) for i in items if i["protocol"] == protocol and i["status"] in PARSED]
    if not stated:
        return None
    examples = example_confidences()
    return sum(any(abs(c - e) < 1e-9 for e in examples) for c in stated) / len(stated)
