"""Recalibrating a finished run: per model and protocol, every method cross-fitted (folds
stratified by subject) and on a fixed held-out half, the method chosen by nested
cross-validation, the out-of-fold base rate as the no-information baseline, for a protocol
of verbal expressions (``linguistic``) each expression's own accuracy out of fold
(:func:`calibench.recalibrate.crossfit.cross_fit_categories`), optionally a transfer from
another run; the results go into the run's results.json, which the report shows."""

from __future__ import annotations

import warnings
from pathlib import Path

from calibench import metrics
from calibench.atomic import write_atomic
from calibench.elicit.parser import PARSED
from calibench.errors import CalibenchError
from calibench.elicit.protocols import PROTOCOLS
from calibench.recalibrate.crossfit import compare, cross_fit, cross_fit_categories, cross_fit_selected, holdout
from calibench.recalibrate.maps import BASE_RATE, METHODS, fit
from calibench.study.comparisons import PAIRED_BOOTSTRAP, PairedTest
from calibench.study.results import (
    BeforeAfter,
    Recalibration,
    RecalibrationMethod,
    Reliability,
    Results,
    TransferResult,
    policy_arrays,
)
from calibench.study.run import Run, load_run

CATEGORY_MAP = "expression map"  # a categorical protocol's expressions, each mapped to its accuracy out of fold


def _pairs(items: list[dict], model: str, protocol: str):
    """The complete-case (confidence, correct) pairs of one model and protocol, with their subjects
    and their rules (a categorical protocol's rule names the expression chosen)."""
    chosen = [i for i in items if i["model"] == model and i["protocol"] == protocol]
    p, y = policy_arrays(chosen, "complete_case")
    parsed = [i for i in chosen if i["status"] in PARSED]
    return p, y, [i["subject"] for i in parsed], [i["rule"] for i in parsed]


def _before_after(report: dict) -> dict[str, BeforeAfter]:
    return {name: BeforeAfter(**sides) for name, sides in report.items()}


def _entry(method: str, p, y, q, base, *, holdout_report: dict | None, chosen=None, n_boot: int, seed: int, n_bins: int) -> RecalibrationMethod:
    """One out-of-fold recalibration ``q`` of (p, y) against the out-of-fold base rate ``base``."""
    vs = metrics.paired_difference(q, y, base, y, "brier", n_boot=n_boot, seed=seed)
    brier_base = vs.b
    return RecalibrationMethod(
        method=method,
        cross_fit=_before_after(compare(p, y, q, n_boot=n_boot, seed=seed, n_bins=n_bins)),
        holdout=None if holdout_report is None else _before_after(holdout_report),
        reliability_after=Reliability(**metrics.reliability_bins(q, y, n_bins=n_bins).to_dict()),
        brier_skill=1 - vs.a / brier_base if brier_base > 0 else None,
        vs_base_rate=PairedTest(metric="brier", a=brier_base, b=vs.a, difference=vs.difference.value, low=vs.difference.low,
                                high=vs.difference.high, p_value=vs.p_value, method=PAIRED_BOOTSTRAP),
        chosen=chosen,
    )


def recalibrate_run(
    run_dir: str | Path,
    *,
    methods: tuple[str, ...] = METHODS,
    folds: int = 5,
    seed: int = 0,
    n_boot: int = 1000,
    transfer_from: str | Path | None = None,
) -> Results:
    """Recalibrate every (model, protocol) of a run with enough parsed answers; write results.json.

    Per row: each of ``methods`` cross-fitted (and on a held-out half), the method chosen by
    nested cross-validation (the headline "after"), and the out-of-fold base rate.
    """
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise CalibenchError(f"unknown recalibration method(s) {', '.join(unknown)}; known: {', '.join(METHODS)}")
    run = load_run(run_dir)
    source: Run | None = load_run(transfer_from) if transfer_from else None
    n_bins = run.results.config.get("metrics", {}).get("n_bins", 10)
    options = {"n_boot": n_boot, "seed": seed, "n_bins": n_bins}
    models = []
    for model in run.results.models:
        protocols = []
        for proto in model.protocols:
            p, y, subjects, rules = _pairs(run.items, model.name, proto.protocol)
            if p.size < 2 * folds or len(set(y.tolist())) < 2:
                protocols.append(proto.model_copy(update={"recalibration": None}))
                continue
            notes = set()
            with warnings.catch_warnings(record=True) as caught:  # said in results.json, not on stderr
                warnings.simplefilter("always", UserWarning)
                base = cross_fit(p, y, method=BASE_RATE, folds=folds, groups=subjects, seed=seed)
                fitted = {m: cross_fit(p, y, method=m, folds=folds, groups=subjects, seed=seed) for m in methods}
                selected, chosen = cross_fit_selected(p, y, methods=methods, folds=folds, groups=subjects, seed=seed)
            notes.update(str(w.message) for w in caught)

            def held_out(method: str) -> dict:
                test, q_test = holdout(p, y, method=method, groups=subjects, seed=seed)
                return compare(p[test], y[test], q_test, **options)

            entries = [_entry(m, p, y, q, base, holdout_report=held_out(m), **options) for m, q in fitted.items()]
            if getattr(PROTOCOLS.get(proto.protocol), "categories", None):  # verbal expressions: each one's own accuracy
                phrases = [rule.partition(":")[2] for rule in rules]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)  # the pooling note is already said for the other maps
                    learned = cross_fit_categories(phrases, p, y, folds=folds, groups=subjects, seed=seed)
                entries.append(_entry(CATEGORY_MAP, p, y, learned, base, holdout_report=None, **options))
            transfers = []
            if source is not None:
                sp, sy, _, _ = _pairs(source.items, model.name, proto.protocol)
                if sp.size >= 2:
                    for method in methods:
                        q = fit(sp, sy, method=method, seed=seed).transform(p)
                        report = compare(p, y, q, **options)
                        transfers.append(TransferResult(method=method, fitted_on=f"{source.results.study} ({sp.size} answers)",
                                                        ece=BeforeAfter(**report["ece_debiased_l1"]), brier=BeforeAfter(**report["brier"])))
            stratified = "subject" + "".join(f" ({note})" for note in sorted(notes))
            recal = Recalibration(
                folds=folds, seed=seed, stratified_by=stratified, n=int(p.size), methods=entries,
                selected=_entry("nested selection", p, y, selected, base, holdout_report=None, chosen=chosen, **options),
                base_rate=_entry(BASE_RATE, p, y, base, base, holdout_report=held_out(BASE_RATE), **options),
                transfer=transfers,
            )
            protocols.append(proto.model_copy(update={"recalibration": recal}))
        models.append(model.model_copy(update={"protocols": protocols}))
    results = Results.model_validate(run.results.model_copy(update={"models": models}).model_dump())
    write_atomic(Path(run_dir) / "results.json", results.model_dump_json(indent=1) + "\n")
    return results
