"""Sampling consistency: k samples of a self-answering protocol, and the three signals they give."""

import math

import pytest

from calibench.cli import main
from calibench.elicit.protocols.sampled import sample_seed
from calibench.errors import CalibenchError
from calibench.study import load_run, parse_config


def test_samples_are_asked_itemised_and_turned_into_signals(fault_server, tmp_path, capsys):
    odd_one = sample_seed(0, "verbalized~sample", 4)  # the last sample's seed (study seed 0, repetition 0)

    def reply(body):
        if body["temperature"] == 0.0:
            return ("ok", "Answer: B\nConfidence: 80%")
        # one sample in five disagrees
        return ("ok", "Answer: C\nConfidence: 40%") if body["seed"] == odd_one else ("ok", "Answer: B\nConfidence: 70%")

    fault_server.default = reply
    study = tmp_path / "s.toml"
    study.write_text(f'name = "c"\nout = "{tmp_path / "run"}"\nprotocols = ["verbalized"]\n[data]\nlimit = 6\n'
                     f'[sampling]\nconsistency = 5\nconsistency_temperature = 0.9\n'
                     f'[[models]]\nname = "m"\nendpoints = [{{ base_url = "{fault_server.base_url}" }}]\n')
    assert main(["run", str(study), "--dry-run"]) == 0
    assert "6 questions, 36 requests (verbalized 6, verbalized~sample 30)" in capsys.readouterr().out
    assert main(["run", str(study), "--quiet"]) == 0
    temperatures = sorted(r["body"]["temperature"] for r in fault_server.requests)
    assert temperatures == [0.0] * 6 + [0.9] * 30
    run = load_run(tmp_path / "run")
    samples = [i for i in run.items if i["protocol"] == "verbalized~sample"]
    assert len(samples) == 30 and sorted({i["sample"] for i in samples}) == [0, 1, 2, 3, 4]
    headline = [p for p in run.results.models[0].protocols if p.protocol == "verbalized"][0]
    assert headline.panel.n == 6  # the samples are not headline answers
    by = {s.signal: s for s in run.results.models[0].signals.sampled}
    assert set(by) == {"agreement", "entropy", "avg-conf"} and all(s.n == 6 and s.samples == 5 for s in by.values())
    assert by["agreement"].mean_confidence == pytest.approx(0.8)
    h = -(0.8 * math.log(0.8) + 0.2 * math.log(0.2))
    assert by["entropy"].mean_confidence == pytest.approx(1 - h / math.log(4))
    assert by["avg-conf"].mean_confidence == pytest.approx(4 * 0.7 / (4 * 0.7 + 0.4))
    assert by["agreement"].temperature == 0.9


def test_too_few_samples_are_refused():
    with pytest.raises(CalibenchError, match="consistency takes 5 samples or more"):
        parse_config({"models": [{"name": "m"}], "sampling": {"consistency": 3}})


def test_signals_need_half_the_samples_and_a_headline_letter():
    from calibench.study.signal_table import signal_values

    def item(protocol, letter, *, sample=None, confidence=None, status="ok", correct=True):
        return {"protocol": protocol, "question_id": "q", "rotation": 0, "repetition": 0, "sample": sample, "letter": letter,
                "confidence": confidence, "status": status, "correct": correct}

    # the headline stated a letter but no confidence; four of five samples were cut, one said B
    items = [item("cot", "B", status="no_confidence")]
    items += [item("cot~sample", None, sample=j, status="truncated") for j in range(4)]
    items += [item("cot~sample", "B", sample=4, confidence=0.9)]
    values = signal_values(items, ["cot"], options={"q": 4})
    assert values["cot~agreement"] == {("q", 0, 0): (0.2, 1.0)}  # one of five agreed
    assert values["cot~entropy"] == {} and values["cot~avg-conf"] == {}  # one sample is not enough to be sure of
    assert values["cot"] == {}  # the protocol's own signal needs its confidence


def test_samples_with_permutations_and_repetitions_and_in_the_signal_table(fault_server, tmp_path):
    import json
    import zlib

    def reply(body):
        spread = zlib.crc32(json.dumps(body["messages"]).encode() + str(body["seed"]).encode()) % 4
        return ("ok", f"Answer: {'BBBC'[spread]}\nConfidence: {60 + 10 * spread}%")

    fault_server.default = reply
    study = tmp_path / "s.toml"
    study.write_text(f'name = "c"\nout = "{tmp_path / "run"}"\nprotocols = ["verbalized"]\n[data]\nlimit = 30\npermutations = 2\n'
                     f'[sampling]\nconsistency = 5\nrepetitions = 2\ntemperature = 0.5\n'
                     f'[[models]]\nname = "m"\nendpoints = [{{ base_url = "{fault_server.base_url}" }}]\n')
    assert main(["run", str(study), "--quiet"]) == 0
    run = load_run(tmp_path / "run")
    samples = [i for i in run.items if i["protocol"] == "verbalized~sample"]
    # samples only with each question's original order and first repetition: 30 questions x 5
    assert len(samples) == 150 and {(i["rotation"], i["repetition"]) for i in samples} == {(0, 0)}
    headline = [i for i in run.items if i["protocol"] == "verbalized"]
    assert len(headline) == 30 * 2 * 2  # two orders x two repetitions, none of them a sample
    table = run.results.models[0].signal_table
    signals = {r.signal for r in table.rows}
    assert {"verbalized", "verbalized~agreement", "verbalized~entropy", "verbalized~avg-conf"} <= signals | set(table.left_out)
    assert table.n <= 30  # the sampled signals exist only for (question, order 0, repetition 0)


def test_only_the_named_protocols_are_sampled(fault_server, tmp_path):
    fault_server.default = ("ok", "Answer: B\nConfidence: 80%")
    study = tmp_path / "s.toml"
    study.write_text(f'name = "c"\nout = "{tmp_path / "run"}"\nprotocols = ["verbalized", "top-k"]\n[data]\nlimit = 2\n'
                     f'[sampling]\nconsistency = 5\nconsistency_protocols = ["verbalized"]\n'
                     f'[[models]]\nname = "m"\nendpoints = [{{ base_url = "{fault_server.base_url}" }}]\n')
    assert main(["run", str(study), "--quiet"]) == 0
    run = load_run(tmp_path / "run")
    assert {i["protocol"] for i in run.items} == {"verbalized", "top-k", "verbalized~sample"}
    assert {s.protocol for s in run.results.models[0].signals.sampled} == {"verbalized"}
    with pytest.raises(CalibenchError, match="consistency_protocols: stated is not one of the study's protocols that answer on their own"):
        parse_config({"models": [{"name": "m"}], "protocols": ["stated", "verbalized"],
                      "sampling": {"consistency": 5, "consistency_protocols": ["stated"]}})
