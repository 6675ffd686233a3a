"""A study in several prompt templates: every template asked, and each metric's spread across them."""

import json

import pytest

from calibench.cli import main
from calibench.errors import CalibenchError
from calibench.study import load_run, parse_config


def _study(tmp_path, server, body: str) -> str:
    study = tmp_path / "s.toml"
    study.write_text(f'name = "t"\nout = "{tmp_path / "run"}"\n{body}\n'
                     f'[[models]]\nname = "m"\nendpoints = [{{ base_url = "{server.base_url}" }}]\n')
    return str(study)


def test_templates_expand_each_protocol_that_has_them():
    config = parse_config({"models": [{"name": "m"}], "protocols": ["stated", "p-true", "verbalized-json"],
                           "elicit": {"templates": ["plain", "rephrased", "few-shot"]}})
    assert config.protocols == ["stated", "stated@rephrased", "stated@few-shot", "p-true", "verbalized-json",
                                "verbalized-json@rephrased", "verbalized-json@few-shot"]
    # what config.json keeps reads back as the same study
    assert parse_config(config.model_dump(mode="json")).protocols == config.protocols
    only = parse_config({"models": [{"name": "m"}], "protocols": ["stated", "p-true"], "elicit": {"templates": ["few-shot"]}})
    assert only.protocols == ["stated@few-shot", "p-true"]
    with pytest.raises(CalibenchError, match="none of the protocols comes in them"):
        parse_config({"models": [{"name": "m"}], "protocols": ["p-true"], "elicit": {"templates": ["plain", "few-shot"]}})
    with pytest.raises(CalibenchError, match=r"elicit.templates: unknown template\(s\) fewshot"):
        parse_config({"models": [{"name": "m"}], "elicit": {"templates": ["fewshot"]}})


def test_every_template_is_asked_and_its_spread_reported(fault_server, tmp_path, capsys):
    def reply(body):
        few_shot = len(body["messages"]) > 6
        asked = (body.get("response_format") or {}).get("json_schema", {}).get("name")
        if asked == "confidence":  # stated: the few-shot template copies an example's 95%
            return ("ok", '{"confidence": 95}' if few_shot else '{"confidence": 60}')
        if asked == "answer":  # the answer read (no prefill on this server: its own letter)
            return ("ok", '{"answer": "B"}')
        return ("ok", "Answer: B\nConfidence: 70%" if few_shot else "Answer: C\nConfidence: 80%")

    fault_server.default = reply
    study = _study(tmp_path, fault_server, 'protocols = ["stated", "verbalized"]\n[data]\nlimit = 8\n'
                                           '[sampling]\nconsistency = 5\n[elicit]\ntemplates = ["plain", "few-shot", "rephrased"]')
    assert main(["run", study, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert ("8 questions, 96 requests (answer 8, stated 8, stated@rephrased 8, verbalized 8, verbalized@rephrased 8, "
            "verbalized~sample 40, stated@few-shot 8, verbalized@few-shot 8)") in out  # samples of the plain one only
    assert main(["run", study, "--quiet"]) == 0
    run = load_run(tmp_path / "run")
    assert {i["protocol"] for i in run.items} == {"stated", "stated@few-shot", "stated@rephrased", "verbalized", "verbalized@few-shot",
                                                  "verbalized@rephrased", "verbalized~sample"}
    stated = {i["question_id"]: i["letter"] for i in run.items if i["protocol"] == "stated"}
    assert stated == {i["question_id"]: i["letter"] for i in run.items if i["protocol"] == "stated@few-shot"}  # the answer read's letter
    rows = {row.protocol: row for row in run.results.models[0].templates}
    assert set(rows) == {"stated", "verbalized"}
    s = rows["stated"]
    assert s.templates == ["stated", "stated@few-shot", "stated@rephrased"] and s.n == dict.fromkeys(s.templates, 8)
    assert s.spread["mean_confidence"] == pytest.approx(0.95 - 0.60)
    assert s.spread["accuracy"] == pytest.approx(0.0)  # every template speaks of the same answers
    panel = next(p.panel for p in run.results.models[0].protocols if p.protocol == "stated")
    assert s.interval_width["ece_debiased_l1"] == pytest.approx(panel.metrics["ece_debiased_l1"].high - panel.metrics["ece_debiased_l1"].low)
    assert s.example_copies == {"stated": 0.0, "stated@few-shot": 1.0, "stated@rephrased": 0.0}
    v = rows["verbalized"]
    assert v.example_copies["verbalized@few-shot"] == 1.0 and v.example_copies["verbalized"] == 0.0
    validity = next(p.validity for p in run.results.models[0].protocols if p.protocol == "verbalized@few-shot")
    assert validity.agreement == 1.0  # B, as the answer read; the plain verbalized said C
    html = (tmp_path / "run" / "report.html").read_text()
    assert "Prompt sensitivity" in html and "stated@few-shot" in html
    recomputed = json.loads((tmp_path / "run" / "results.json").read_text())["models"][0]["templates"][0]
    assert recomputed["spread"]["mean_confidence"] == pytest.approx(0.35)


def test_a_sample_holding_a_few_shot_example_is_refused(fault_server, tmp_path, capsys):
    study = _study(tmp_path, fault_server, 'protocols = ["stated"]\n[data]\nsubjects = ["world_religions"]\nn_total = "all"\n'
                                           '[elicit]\ntemplates = ["plain", "few-shot"]')
    assert main(["run", study, "--quiet"]) == 2
    assert "include the few-shot examples world_religions/49" in capsys.readouterr().err
    assert not fault_server.requests
