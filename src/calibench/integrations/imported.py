"""An evaluation another tool logged, as a calibench run directory: items.jsonl, results.json and the report.

An importer (:mod:`.lm_eval`) reads a tool's log into :class:`Imported`: one
:class:`ImportedAnswer` per answer and confidence, and the records it could not use, counted
by reason. :func:`write_imported` turns it into a normal run directory, with results.json
computed as a study's is (:mod:`calibench.study.assemble`), so that ``calibench report``,
``recalibrate`` and ``compare`` work on it unchanged. Its provenance names the tool, its
version and every file read with its sha256; the skipped records are counted there and in a note.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from calibench.atomic import write_atomic
from calibench.data.mmlu_subjects import SUBCATEGORY, category_of
from calibench.elicit.parser import PARSED
from calibench.study.assemble import ProtocolInfo, model_entry, study_results
from calibench.study.config import MetricsConfig


@dataclass(frozen=True)
class ImportedAnswer:
    protocol: str
    question_id: str
    subject: str
    answer: str  # the right letter
    letter: str | None  # the letter read (None: none)
    confidence: float | None
    letter_probs: dict[str, float] | None = None
    letter_mass: float | None = None  # the probability on the option letters before renormalising
    raw_text: str | None = None
    task: str = ""
    status: str = "ok"  # the reading's status, as calibench's parser names them (parser.STATUSES)
    repetition: int = 0  # an inspect epoch after the first: the same question asked again


@dataclass(frozen=True)
class Imported:
    tool: str
    tool_version: str | None
    model: str
    protocols: dict[str, str]  # name -> what its confidence is
    answers: list[ImportedAnswer]
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> records
    sources: list[dict] = field(default_factory=list)  # every file read: path and sha256


def skipped_text(skipped: dict[str, int]) -> str:
    """The records an import could not use, by reason: "2 record(s) skipped: 1 not JSON, 1 no output"."""
    if not skipped:
        return "no record skipped"
    return f"{sum(skipped.values())} record(s) skipped: " + ", ".join(f"{n} {why}" for why, n in skipped.items())


def items_of(imported: Imported) -> list[dict]:
    """The answers as items.jsonl rows (the fields a study's items have)."""
    rows = []
    for a in imported.answers:
        read = a.letter is not None and a.confidence is not None and a.status in PARSED
        rows.append({
            "question_id": a.question_id, "dataset": a.task or imported.tool, "subject": a.subject,
            "category": category_of(a.subject) if a.subject in SUBCATEGORY else a.subject,
            "model": imported.model, "protocol": a.protocol, "repetition": a.repetition, "rotation": 0, "sample": None,
            "answer": a.answer, "shown_answer": a.answer, "key": None, "status": a.status if read or a.status not in PARSED else "no_answer",
            "error": None,
            "letter": a.letter, "shown_letter": a.letter, "confidence": a.confidence, "alt_confidence": None,
            "scale": "probability" if read else None, "rule": f"imported:{imported.tool}", "correct": None if a.letter is None else a.letter == a.answer,
            "raw_text": a.raw_text, "raw_text_chars": None if a.raw_text is None else len(a.raw_text), "raw_text_cut": False,
            "finish_reason": None, "letter_probs": a.letter_probs, "letter_mass": a.letter_mass, "answer_source": imported.tool,
            "prompt_tokens": None, "completion_tokens": None, "cached_tokens": None, "latency_s": None, "endpoint": None,
            "concluded": False,
        })
    return rows


def write_imported(imported: Imported, out: Path, *, metrics: MetricsConfig | None = None) -> Path:
    """Write ``imported`` as a run directory at ``out`` (items.jsonl, results.json, the report); return it."""
    from calibench.report import write_report

    cfg = metrics or MetricsConfig()
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    items = items_of(imported)
    protocols = list(imported.protocols)
    described = {name: ProtocolInfo(hashlib.sha256(f"{imported.tool}:{name}:{text}".encode()).hexdigest()) for name, text in imported.protocols.items()}
    options = {a.question_id: len(a.letter_probs) if a.letter_probs else 4 for a in imported.answers}
    model = model_entry(name=imported.model, items=items, protocols=described, cfg=cfg, options=options,
                        repetitions=1 + max((a.repetition for a in imported.answers), default=0),
                        model_id=imported.model, sha256=None, source=imported.tool, local=False, parameters=None, engine=None)
    source = {"tool": imported.tool, "version": imported.tool_version, "files": imported.sources, "skipped": imported.skipped,
              "answers": len(imported.answers)}
    note = (f"Imported from {imported.tool} {imported.tool_version or ''} logs ({', '.join(s['path'] for s in imported.sources)}): "
            f"{len(imported.answers)} answers read; {skipped_text(imported.skipped)}")
    results = study_results(
        study=f"{imported.tool}: {imported.model}", config={"name": f"{imported.tool}-{imported.model}", "imported": source,
                                                            "metrics": cfg.model_dump()},
        models=[model], items_by_model={imported.model: items}, protocols=protocols, cfg=cfg, started=started,
        provenance={"git_commit": None, "dataset_manifest": source,
                    # the files' contents, not where they lie
                    "dataset_manifest_sha256": hashlib.sha256("".join(f["sha256"] for f in imported.sources).encode()).hexdigest(),
                    "prompts": {name: info.sha256 for name, info in described.items()}, "sampling": {}, "notes": [note]})
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "items.jsonl", "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items))
    write_atomic(out / "results.json", results.model_dump_json(indent=1) + "\n")
    write_report([results], out, items=[items])
    return out
