"""The item explorer: for every model, protocol and reliability bin, the answers in it.

Each bin of a model's reliability diagram (the panel's: uniform bins over the stated
confidence, complete-case answers) lists its answers with the question, its options and the
right one, the raw reply, what was read from it and its status; the answers that were not
read make a last group. The data is plain (:func:`explorer_data`) and goes into the page as
an inline JSON block (:func:`embedded_json`) that the page's own script renders with
``textContent`` only, so no model-written string is ever parsed as markup; the page's
Content-Security-Policy admits that one script by its hash and nothing from elsewhere.

The questions' text comes from the run's own sample (its config in results.json, drawn again
from the same dataset); where the dataset cannot be read, the answers are listed by question id.
"""

from __future__ import annotations

import base64
import hashlib
import json

import numpy as np

from calibench.elicit.parser import PARSED
from calibench.errors import CalibenchError
from calibench.metrics.binning import uniform_bin_index
from calibench.report.table import ordered_models
from calibench.study.results import Results

REPLY_CHARS = 1_500  # of each raw reply in the page; items.jsonl keeps what the parser read


def run_questions(results: Results) -> dict[str, tuple[str, list[str], str]]:
    """The run's questions by id (text, options, right letter), drawn again from its config; empty
    when the dataset cannot be read here."""
    from calibench.study.config import DataConfig
    from calibench.study.plan import study_sample

    if "data" not in results.config:  # imported from another tool's log: no sample to draw again
        return {}
    try:
        sample = study_sample(DataConfig.model_validate(results.config["data"]))
    except (CalibenchError, ValueError, OSError):
        return {}
    return {q.id: (q.question, list(q.choices), q.answer) for q in sample.questions}


def explorer_data(results: Results, items: list[dict], questions: dict) -> dict:
    """Every model x protocol's bins with the indices of their answers, the answers, and the questions they ask."""
    rows: list[list] = []
    used: set[str] = set()
    groups = []
    for model in ordered_models(results):
        for proto in model.protocols:
            mine = [i for i in items if i["model"] == model.name and i["protocol"] == proto.protocol]
            if not mine:
                continue
            n_bins = proto.panel.reliability.n_bins if proto.panel else 10
            read = [i for i in mine if i["status"] in PARSED and i.get("confidence") is not None]
            index = uniform_bin_index(np.array([i["confidence"] for i in read], dtype=float), n_bins) if read else []
            bins = [[] for _ in range(n_bins)]
            for item, b in zip(read, index):
                bins[int(b)].append(_row(item, rows, used))
            unread = [_row(i, rows, used) for i in mine if i["status"] not in PARSED or i.get("confidence") is None]
            groups.append({
                "model": model.label, "protocol": proto.protocol,
                "bins": [{"label": f"{k / n_bins:.2f}–{(k + 1) / n_bins:.2f}", "items": b,
                          "accuracy": float(np.mean([rows[j][5] for j in b])) if b else None} for k, b in enumerate(bins)],
                "unread": unread,
            })
    return {"groups": groups, "items": rows, "questions": {q: questions[q] for q in sorted(used) if q in questions}}


def _row(item: dict, rows: list, used: set) -> int:
    """Append one answer as a compact row (question id, letter, confidence, status, reply, right,
    option order) and return its index."""
    raw = item.get("raw_text") or ""
    if len(raw) > REPLY_CHARS:
        raw = raw[:REPLY_CHARS] + f" … [{len(raw) - REPLY_CHARS} more characters in items.jsonl]"
    used.add(item["question_id"])
    rows.append([item["question_id"], item.get("letter"), item.get("confidence"), item["status"], raw,
                 bool(item.get("correct")), item.get("rotation", 0)])
    return len(rows) - 1


def embedded_json(data: dict) -> str:
    """``data`` as JSON that is safe inside a ``<script type="application/json">`` block: no ``<``,
    ``>`` or ``&`` appears as itself, so no reply can close the block."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def script_hash(script: str) -> str:
    """The CSP source that admits exactly this inline script."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


# renders a bin's answers when its button is pressed; every string goes in through textContent
SCRIPT = """
(() => {
  const data = JSON.parse(document.getElementById("explorer-data").textContent);
  const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; };
  const LETTERS = "ABCDEFGHIJ";
  document.querySelectorAll("button[data-group]").forEach((button) => button.addEventListener("click", () => {
    const group = data.groups[Number(button.dataset.group)];
    const which = button.dataset.bin;
    const indices = which === "unread" ? group.unread : group.bins[Number(which)].items;
    const panel = document.getElementById("explorer-" + button.dataset.group);
    panel.replaceChildren(el("p", group.model + " · " + group.protocol + " · " + button.dataset.label + ": " + indices.length + " answer(s)", "muted"));
    for (const i of indices) {
      const [qid, letter, confidence, status, raw, right, rotation] = data.items[i];
      const q = data.questions[qid];
      const box = el("div", undefined, "item " + (right ? "right" : "wrong"));
      box.append(el("p", qid + (rotation ? " (options rotated by " + rotation + ")" : ""), "muted"));
      if (q) {
        box.append(el("p", q[0]));
        const list = el("ol");
        q[1].forEach((option, k) => list.append(el("li", LETTERS[k] + ". " + option + (LETTERS[k] === q[2] ? "  ← right" : ""))));
        box.append(list);
      }
      box.append(el("pre", raw));
      box.append(el("p", "read: " + (letter === null ? "no letter" : letter) + ", confidence " +
        (confidence === null ? "none" : confidence) + ", status " + status + (letter === null ? "" : (right ? ", right" : ", wrong"))));
      panel.append(box);
    }
  }));
})();
"""
