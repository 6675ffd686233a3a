"""From items to results.json: the one place a run's results are computed, for studies and imported logs alike.

:func:`model_entry` computes everything for one model from its items (every protocol's
result, the signals, the signal table, the template spreads); :func:`study_results` puts the
models together with the common-subset and paired comparisons and the provenance. The runner
calls them on what it asked; :mod:`calibench.integrations` on what another tool logged.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from calibench import __version__
from calibench.study.comparisons import comparisons
from calibench.study.results import Provenance, Results, common_subsets, protocol_result, signals, signals_scored, size_order
from calibench.study.signal_table import signal_values
from calibench.study.template_spread import template_spreads


@dataclass(frozen=True)
class ProtocolInfo:
    """What results cite of a protocol: its content hash, whether it fixes its own letter (then
    measured against ``reference``, the protocol whose items carry the answer read), and the
    constraint that forced its format."""

    sha256: str
    self_answering: bool = False
    constraint: str | None = None
    reference: str | None = None


def model_entry(*, name: str, items: list[dict], protocols: dict[str, ProtocolInfo], cfg, options: dict[str, int],
                repetitions: int = 1, temperature: float = 0.0, samples: int = 0, consistency_temperature: float = 0.7,
                **meta) -> dict:
    """One model's entry of results.json from its items; ``options``: each question's number of
    options; ``meta``: the model's own fields (model_id, sha256, source, local, parameters, ...)."""
    values = signal_values(items, list(protocols), options=options)  # every signal's (confidence, correct) per answer, once
    results = []
    for protocol, info in protocols.items():
        reference = (info.reference, [i for i in items if i["protocol"] == info.reference]) if info.self_answering and info.reference else None
        results.append(protocol_result(protocol, info.sha256, [i for i in items if i["protocol"] == protocol], repetitions=repetitions,
                                       cfg=cfg, constraint=info.constraint, reference=reference))
    return {
        "name": name,
        "label": name,
        **meta,
        "protocols": results,
        "signals": signals(items, list(protocols), repetitions=repetitions, temperature=temperature, cfg=cfg, values=values,
                           samples=samples, consistency_temperature=consistency_temperature),
        "signal_table": signals_scored(values, cfg),
        "templates": template_spreads(results, items),
    }


def study_results(*, study: str, config: dict, models: list[dict], items_by_model: dict[str, list[dict]], protocols: list[str], cfg,
                  started: str, provenance: dict) -> Results:
    """results.json: the models (smaller first in the comparisons, so that differences read larger
    minus smaller), the common subsets and paired comparisons, and the provenance (``provenance``:
    the fields that depend on where the answers came from)."""
    by_size = [models[i]["name"] for i in size_order([m.get("parameters") for m in models])]
    return Results(
        study=study,
        config=config,
        models=models,
        common_subset=common_subsets(items_by_model, protocols, cfg),
        comparisons=comparisons(items_by_model, protocols, cfg, order=by_size),
        provenance=Provenance(calibench_version=__version__, python=platform.python_version(), platform=platform.platform(),
                              numpy=np.__version__, started_at=started,
                              finished_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), **provenance),
    )
