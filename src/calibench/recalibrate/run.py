"""Recalibrating a finished run: per model and protocol, every method cross-fitted (folds
stratified by subject) and on a fixed held-out half, optionally a transfer from another run;
the results go into the run's results.json, which the report then shows."""

from __future__ import annotations

import warnings

from pathlib import Path


from calibench import metrics
from calibench.atomic import write_atomic
from calibench.elicit.parser import PARSED
from calibench.errors import CalibenchError
from calibench.recalibrate.crossfit import compare, cross_fit, holdout
from calibench.recalibrate.maps import METHODS, fit
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

COMPARED = ("ece", "brier", "brier_reliability", "brier_resolution", "auroc")


def _pairs(items: list[dict], model: str, protocol: str):
    """The complete-case (confidence, correct) pairs of one model and protocol, with their subjects."""
    chosen = [i for i in items if i["model"] == model and i["protocol"] == protocol]
    p, y = policy_arrays(chosen, "complete_case")
    return p, y, [i["subject"] for i in chosen if i["status"] in PARSED]


def _before_after(report: dict) -> dict[str, BeforeAfter]:
    return {name: BeforeAfter(**report[name]) for name in COMPARED}


def recalibrate_run(
    run_dir: str | Path,
    *,
    methods: tuple[str, ...] = METHODS,
    folds: int = 5,
    seed: int = 0,
    n_boot: int = 1000,
    transfer_from: str | Path | None = None,
) -> Results:
    """Recalibrate every (model, protocol) of a run with enough parsed answers; write results.json."""
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise CalibenchError(f"unknown recalibration method(s) {', '.join(unknown)}; known: {', '.join(METHODS)}")
    run = load_run(run_dir)
    source: Run | None = load_run(transfer_from) if transfer_from else None
    n_bins = run.results.config.get("metrics", {}).get("n_bins", 10)
    models = []
    for model in run.results.models:
        protocols = []
        for proto in model.protocols:
            p, y, subjects = _pairs(run.items, model.name, proto.protocol)
            if p.size < 2 * folds or len(set(y.tolist())) < 2:
                protocols.append(proto.model_copy(update={"recalibration": None}))
                continue
            entries, notes = [], set()
            for method in methods:
                with warnings.catch_warnings(record=True) as caught:  # said in results.json, not on stderr
                    warnings.simplefilter("always", UserWarning)
                    q = cross_fit(p, y, method=method, folds=folds, groups=subjects, seed=seed)
                notes.update(str(w.message) for w in caught)
                test, q_test = holdout(p, y, method=method, groups=subjects, seed=seed)
                bins = metrics.reliability_bins(q, y, n_bins=n_bins)
                entries.append(
                    RecalibrationMethod(
                        method=method,
                        cross_fit=_before_after(compare(p, y, q, n_boot=n_boot, seed=seed, n_bins=n_bins)),
                        holdout=_before_after(compare(p[test], y[test], q_test, n_boot=n_boot, seed=seed, n_bins=n_bins)),
                        reliability_after=Reliability(**bins.to_dict()),
                    )
                )
            transfers = []
            if source is not None:
                sp, sy, _ = _pairs(source.items, model.name, proto.protocol)
                if sp.size >= 2:
                    for method in methods:
                        q = fit(sp, sy, method=method, seed=seed).transform(p)
                        report = compare(p, y, q, n_boot=n_boot, seed=seed, n_bins=n_bins)
                        transfers.append(TransferResult(method=method, fitted_on=f"{source.results.study} ({sp.size} answers)",
                                                        ece=BeforeAfter(**report["ece"]), brier=BeforeAfter(**report["brier"])))
            stratified = "subject" + "".join(f" ({note})" for note in sorted(notes))
            recal = Recalibration(folds=folds, seed=seed, stratified_by=stratified, n=int(p.size), methods=entries, transfer=transfers)
            protocols.append(proto.model_copy(update={"recalibration": recal}))
        models.append(model.model_copy(update={"protocols": protocols}))
    results = Results.model_validate(run.results.model_copy(update={"models": models}).model_dump())
    write_atomic(Path(run_dir) / "results.json", results.model_dump_json(indent=1) + "\n")
    return results
