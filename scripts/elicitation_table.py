"""Print the elicitation tables of a run as Markdown (docs/elicitation.md quotes them).

``python scripts/elicitation_table.py runs/offline-ladder [--against OLD/items.jsonl]``: per model and protocol, the
constraint, parse rate, accuracy, the letter agreement with the answer read and the exact
McNemar test of the accuracy difference, the position bias, the most common stated value;
then per protocol the mean tokens per question (prompt tokens processed anew, cached, and
generated), from items.jsonl. With ``--against``, also each protocol's letters against
another run's items of the same name on the same questions (say the published v1 study,
``docs/study/v1/items.jsonl``): agreement, both accuracies and the exact McNemar p.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

from scipy.stats import binomtest

from calibench.study import load_run


def _pct(x) -> str:
    return "-" if x is None else f"{x:.0%}"


def main(run_dir: str) -> None:
    run = load_run(run_dir)
    print("| Model | Protocol | Constraint | Parse | n | Acc | Same letter as answer read | Acc vs answer read | McNemar p | Distorting | Position TV | Most chosen (gold) | Most common confidence |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for model in run.results.models:
        for p in model.protocols:
            v, pos, val = p.validity, p.positions, p.confidence_values
            acc = p.panel.metrics["accuracy"].value if p.panel else None
            top = max(pos.answers, key=pos.answers.get) if pos else None
            print(f"| {model.label} | {p.protocol} | {p.constraint or '-'} | {_pct(p.parse.parse_rate)} | {p.panel.n if p.panel else 0} | {_pct(acc)} | "
                  f"{_pct(v.agreement) if v else '-'} | {f'{_pct(v.accuracy)} vs {_pct(v.reference_accuracy)} (n={v.n})' if v else '-'} | "
                  f"{f'{v.mcnemar_p:.2g}' if v else '-'} | {('yes' if v.distorting else 'no') if v else '-'} | "
                  f"{f'{pos.tv_distance:.2f}' if pos else '-'} | {f'{top} {pos.answers[top]:.0%} ({pos.gold[top]:.0%})' if pos else '-'} | "
                  f"{f'{val.most_common:g} ({val.most_common_share:.0%})' if val else '-'} |")
    print()
    tokens = defaultdict(lambda: defaultdict(list))
    for item in run.items:
        if item["prompt_tokens"] is not None:  # logprob's items carry the answer read's request
            cached = item["cached_tokens"] or 0
            tokens[(item["model"], item["protocol"])]["new"].append(item["prompt_tokens"] - cached)
            tokens[(item["model"], item["protocol"])]["cached"].append(cached)
            tokens[(item["model"], item["protocol"])]["generated"].append(item["completion_tokens"] or 0)
    print("| Model | Request | Prompt tokens, new | cached | Generated |")
    print("|---|---|---|---|---|")
    for (model, protocol), t in tokens.items():
        mean = {k: sum(v) / len(v) for k, v in t.items()}
        name = "answer read (logprob)" if protocol == "logprob" else f"{protocol} (its own request)"
        print(f"| {model} | {name} | {mean['new']:.0f} | {mean['cached']:.0f} | {mean['generated']:.1f} |")


def against(run_dir: str, old_items: str) -> None:
    """The run's letters against another run's, protocol by protocol, on the questions both read."""
    new = load_run(run_dir).items
    old = [json.loads(line) for line in Path(old_items).read_text().splitlines()]
    index = {(i["model"], i["protocol"], i["question_id"], i["repetition"]): i for i in old if i["letter"]}
    print()
    print("| Model | Protocol | n | Same letter | Acc before | Acc now | McNemar p |")
    print("|---|---|---|---|---|---|---|")
    for model in dict.fromkeys(i["model"] for i in new):
        for protocol in dict.fromkeys(i["protocol"] for i in new):
            pairs = [(index[k], i) for i in new if i["letter"] and i["model"] == model and i["protocol"] == protocol
                     and (k := (model, protocol, i["question_id"], i["repetition"])) in index]
            if not pairs:
                continue
            before = sum(bool(a["correct"]) and not b["correct"] for a, b in pairs)
            now = sum(bool(b["correct"]) and not a["correct"] for a, b in pairs)
            p = binomtest(min(before, now), before + now).pvalue if before + now else 1.0
            print(f"| {model} | {protocol} | {len(pairs)} | {_pct(sum(a['letter'] == b['letter'] for a, b in pairs) / len(pairs))} | "
                  f"{_pct(sum(bool(a['correct']) for a, _ in pairs) / len(pairs))} | {_pct(sum(bool(b['correct']) for _, b in pairs) / len(pairs))} | {p:.2g} |")


if __name__ == "__main__":
    main(sys.argv[1])
    if "--against" in sys.argv:
        against(sys.argv[1], sys.argv[sys.argv.index("--against") + 1])
