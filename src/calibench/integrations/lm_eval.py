"""Reading lm-evaluation-harness's ``--log_samples`` output: every option's log-likelihood, as letter probabilities.

A multiple-choice task logs, for each document, the log-likelihood of every option's
continuation after the prompt (``filtered_resps``: one ``[loglik, is_greedy]`` per option) and
the index of the right one (``target``). Two confidences come from them, each an imported
protocol of its own:

- ``loglik``: the options' probabilities renormalised over the options, softmax(ll_i); the
  answer is the most probable option (lm-eval's ``acc``), its probability the confidence;
- ``loglik-norm``: the same after dividing each log-likelihood by its option's length in
  characters (lm-eval's ``acc_norm``), softmax(ll_i / len_i); a ranking score made into a
  probability, not one the model assigns.

With several tasks in one output directory, each task's answers are their own protocols
(``<task>/loglik``, ``<task>/loglik-norm``). Records that are not multiple choice, or whose
target or log-likelihoods cannot be read, are counted by reason and reported (never dropped silently); a file with no usable record is one
clear error.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import replace
from pathlib import Path

from calibench.data.question import LETTERS
from calibench.errors import CalibenchError
from calibench.integrations.imported import Imported, ImportedAnswer, skipped_text

PROTOCOLS = {
    "loglik": "lm-eval option log-likelihoods, softmax over the options (acc)",
    "loglik-norm": "lm-eval option log-likelihoods divided by the option's length in characters, softmax over the options (acc_norm)",
}
SAMPLES = re.compile(r"^samples_(?P<task>.+?)_(?P<stamp>\d{4}-\d{2}-\d{2}T[\d\-.]+)\.jsonl$")


def read_lm_eval(path: str | Path) -> Imported:
    """Every usable multiple-choice record of one lm-eval run: a ``--log_samples`` output folder
    of one model (one samples file per task) or one samples file."""
    path = Path(path)
    if not path.exists():
        raise CalibenchError(f"{path}: no such file or directory")
    files = [path] if path.is_file() else sorted(path.rglob("samples_*.jsonl"))
    if not files:
        raise CalibenchError(f"{path}: no lm-eval samples file (samples_<task>_<date>.jsonl, written by --log_samples)")
    _one_run(path, files)
    results = _results_file(path)
    meta = _read_json(results) if results else {}
    answers, skipped, sources = [], {}, []
    for file in files:
        match = SAMPLES.match(file.name)
        task = match["task"] if match else file.stem.removeprefix("samples_")
        delimiter = ((meta.get("configs") or {}).get(task) or {}).get("target_delimiter", " ")
        data = file.read_bytes()
        sources.append({"path": str(file), "sha256": hashlib.sha256(data).hexdigest()})
        for line in data.decode("utf-8", errors="replace").splitlines():
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if not isinstance(record, dict):
                skipped["not a JSON object"] = skipped.get("not a JSON object", 0) + 1
                continue
            found, reason = _answers(record, task, delimiter)
            if reason:
                skipped[reason] = skipped.get(reason, 0) + 1
            answers += found
    if not answers:
        raise CalibenchError(f"{path}: no multiple-choice record with every option's log-likelihood ({skipped_text(skipped)})")
    protocols = dict(PROTOCOLS)
    tasks = sorted({a.task for a in answers})
    if len(tasks) > 1:  # each task's answers apart: <task>/loglik, <task>/loglik-norm
        answers = [replace(a, protocol=f"{a.task}/{a.protocol}") for a in answers]
        protocols = {f"{task}/{name}": f"{text}, task {task}" for task in tasks for name, text in PROTOCOLS.items()}
    return Imported(
        tool="lm-eval", tool_version=meta.get("lm_eval_version"), model=_model_name(meta),
        protocols=protocols, answers=answers, skipped=skipped,
        sources=sources + ([{"path": str(results), "sha256": hashlib.sha256(results.read_bytes()).hexdigest()}] if results else []),
    )


def _one_run(path: Path, files: list[Path]) -> None:
    """Refuse a folder holding several models' samples, or one task's samples from several runs:
    their answers would be counted as one model's, twice."""
    folders = sorted({str(f.parent) for f in files})
    if len(folders) > 1:
        raise CalibenchError(f"{path}: holds samples of several runs or models ({', '.join(folders)}); import each folder on its own")
    tasks = [m["task"] if (m := SAMPLES.match(f.name)) else f.name for f in files]
    repeated = sorted({t for t in tasks if tasks.count(t) > 1})
    if repeated:
        raise CalibenchError(f"{path}: holds several runs of task(s) {', '.join(repeated)}; import one samples file, or move the others away")


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CalibenchError(f"{path}: not an lm-eval results file (not JSON: {str(exc)[:120]})") from None
    if not isinstance(data, dict):
        raise CalibenchError(f"{path}: not an lm-eval results file (not a JSON object)")
    return data


def _model_name(meta: dict) -> str:
    """The model's name as the results file gives it: a GGUF file's stem, else the last part of its path or name."""
    args = (meta.get("config") or {}).get("model_args")
    if isinstance(args, dict) and args.get("gguf_file"):
        return Path(str(args["gguf_file"])).stem
    name = str(meta.get("model_name") or "lm-eval model")
    return Path(name).name if "/" in name else name


def _results_file(path: Path) -> Path | None:
    """The aggregated results file beside the samples (its model name, version and task configs)."""
    folder = path.parent if path.is_file() else path
    found = sorted(folder.rglob("results_*.json")) or sorted(folder.glob("results.json"))
    return found[-1] if found else None


def _answers(record: dict, task: str, delimiter: str) -> tuple[list[ImportedAnswer], str | None]:
    """A record's two answers (raw and length-normalised), or none and why."""
    resps = record.get("filtered_resps")
    if not isinstance(resps, list) or len(resps) < 2 or not all(isinstance(r, list) and r for r in resps):
        return [], "not multiple choice (no log-likelihood per option)"
    if len(resps) > len(LETTERS):
        return [], f"more than {len(LETTERS)} options"
    try:
        lls = [float(r[0]) for r in resps]
    except (TypeError, ValueError):
        return [], "unreadable log-likelihood"
    if not all(math.isfinite(x) for x in lls):
        return [], "a log-likelihood not finite"
    arguments = record.get("arguments") if isinstance(record.get("arguments"), dict) else {}
    continuations = [str((arguments.get(f"gen_args_{k}") or {}).get("arg_1", "")) for k in range(len(lls))]
    choices = [c.removeprefix(delimiter) for c in continuations]
    target, reason = _target(record, choices, lls)
    if reason:
        return [], reason
    doc = record.get("doc") if isinstance(record.get("doc"), dict) else {}
    qid = str(doc["id"]) if isinstance(doc.get("id"), (str, int)) else f"{task}/{record.get('doc_id')}"
    shown = ", ".join(f"{LETTERS[k]} {x:.4f}" for k, x in enumerate(lls))
    common = {"question_id": qid, "subject": str(doc.get("subject") or task), "answer": LETTERS[target], "task": task}
    out = []
    for protocol, scores in (("loglik", lls), ("loglik-norm", [x / max(len(c), 1) for x, c in zip(lls, choices)])):
        top = max(scores)
        weights = [math.exp(x - top) for x in scores]
        total = sum(weights)
        probs = {LETTERS[k]: w / total for k, w in enumerate(weights)}
        letter = max(probs, key=probs.get)
        out.append(ImportedAnswer(protocol=protocol, letter=letter, confidence=probs[letter], letter_probs=probs,
                                  raw_text=f"log-likelihoods: {shown}", **common))
    return out, None


def _target(record: dict, choices: list[str], lls: list[float]) -> tuple[int | None, str | None]:
    """The right option's index as lm-eval scored it. The log writes the target as text: an
    option index ("1") or an option's own text, which lm-eval looks up among the options; where
    both readings are possible and differ, the record's own ``acc`` (whether the most likely
    option was right) decides, and a record whose ``acc`` contradicts the reading is skipped."""
    text = str(record.get("target", "")).strip()
    readings = set()
    if text.isdigit() and int(text) < len(choices):
        readings.add(int(text))
    if text in choices:
        readings.add(choices.index(text))
    best = lls.index(max(lls))
    acc = record.get("acc")
    if len(readings) > 1 and isinstance(acc, (int, float)):
        readings = {r for r in readings if (r == best) == bool(acc)}
    if len(readings) != 1:
        return None, "target not one option (neither an index nor an option's text)" if not readings else "target ambiguous"
    target = readings.pop()
    if isinstance(acc, (int, float)) and (target == best) != bool(acc):
        return None, "disagrees with lm-eval's own acc for the record"
    return target, None
