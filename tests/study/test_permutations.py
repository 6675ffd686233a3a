"""Option orders: the question asked with its options rotated, every letter mapped back."""

import pytest

from calibench.data.question import Question
from calibench.study import load_run, parse_config, run_study
from calibench.study.plan import original_letter, rotate

Q = Question(id="q", dataset="t", subject="s", category="c", question="?", choices=("w", "x", "y", "z"), answer="B")


def test_rotation_moves_the_answer_with_its_option():
    r1 = rotate(Q, 1)
    assert r1.choices == ("x", "y", "z", "w") and r1.answer == "A"
    for r in range(4):
        shown = rotate(Q, r)
        assert shown.choices[shown.answer_index] == "x"  # the right option is the same text in every order
        for letter in shown.letters:  # a letter as shown maps back to the option with the same text
            assert Q.choices[Q.letters.index(original_letter(letter, shown, r))] == shown.choices[shown.letters.index(letter)]
    assert rotate(Q, 4) == Q


def test_a_model_that_always_says_b_is_caught_by_the_permutations(fault_server, tmp_path):
    fault_server.default = ("ok", "Answer: B\nConfidence: 90%")
    cfg = parse_config({"name": "perm", "out": str(tmp_path / "run"), "protocols": ["verbalized"], "data": {"limit": 3, "permutations": 4},
                        "metrics": {"n_boot": 50}, "models": [{"name": "m", "endpoints": [{"base_url": fault_server.base_url}]}]})
    run = load_run(run_study(cfg, show_progress=False))
    assert len(fault_server.requests) == 3 * 4 and len(run.items) == 12
    assert {i["shown_letter"] for i in run.items} == {"B"}
    for item in run.items:
        assert item["letter"] == "ABCD"[(1 + item["rotation"]) % 4]  # "B" as shown, mapped back
        assert item["correct"] == (item["letter"] == item["answer"])
    proto = run.results.models[0].protocols[0]
    perm = proto.permutations
    assert perm.orders == 4 and perm.n_questions == 3 and perm.agreement == 0.0
    # over the four orders each question is right exactly once: debiased accuracy 1/4
    assert perm.debiased_accuracy == pytest.approx(0.25)
    assert proto.positions.answers["B"] == 1.0 and proto.positions.tv_distance == pytest.approx(0.75)


def test_only_the_permuted_protocols_are_asked_in_the_other_orders(fault_server, tmp_path):
    fault_server.default = ("ok", "Answer: B\nConfidence: 90%")
    cfg = parse_config({"name": "perm", "out": str(tmp_path / "run"), "protocols": ["verbalized", "verbalized-json"],
                        "data": {"limit": 3, "permutations": 2, "permuted_protocols": ["verbalized"]},
                        "metrics": {"n_boot": 50}, "models": [{"name": "m", "endpoints": [{"base_url": fault_server.base_url}]}]})
    run = load_run(run_study(cfg, show_progress=False))
    assert len(fault_server.requests) == 3 * 2 + 3  # verbalized in both orders, verbalized-json in the first
    rows = {(i["protocol"], i["rotation"]) for i in run.items}
    assert rows == {("verbalized", 0), ("verbalized", 1), ("verbalized-json", 0)} and len(run.items) == 9
    assert all(i["status"] != "failed" for i in run.items)
    by = {p.protocol: p for p in run.results.models[0].protocols}
    assert by["verbalized"].permutations is not None and by["verbalized-json"].permutations is None
    with pytest.raises(Exception, match="data.permuted_protocols: stated is not among the study's protocols"):
        parse_config({"models": [{"name": "m"}], "protocols": ["verbalized"], "data": {"permuted_protocols": ["stated"]}})


def test_a_protocol_reading_a_permuted_request_is_not_itemised_unless_permuted(fault_server, tmp_path):
    fault_server.default = ("ok", " 70%")
    cfg = parse_config({"name": "perm", "out": str(tmp_path / "run"), "protocols": ["stated", "logprob"],
                        "data": {"limit": 2, "permutations": 2, "permuted_protocols": ["stated"]},
                        "metrics": {"n_boot": 50}, "models": [{"name": "m", "backend": "llama.cpp",
                                                               "endpoints": [{"base_url": fault_server.base_url}]}]})
    run = load_run(run_study(cfg, show_progress=False))
    assert sorted({(i["protocol"], i["rotation"]) for i in run.items}) == [("logprob", 0), ("stated", 0), ("stated", 1)]


@pytest.mark.parametrize("settings,message", [
    ({"data": {"permutations": 2, "permuted_protocols": []}}, "data.permuted_protocols: List should have at least 1 item"),
    ({"sampling": {"consistency_protocols": ["verbalized"]}}, "consistency_protocols names protocols to sample, but consistency"),
])
def test_empty_or_idle_scopes_are_refused(settings, message):
    with pytest.raises(Exception, match=message):
        parse_config({"models": [{"name": "m"}], "protocols": ["verbalized"], **settings})


def test_the_dry_run_counts_questions_apart_from_their_asks(fault_server, tmp_path, capsys):
    from calibench.cli import main

    study = tmp_path / "s.toml"
    study.write_text(f'name = "p"\nout = "{tmp_path / "run"}"\nprotocols = ["verbalized"]\n[data]\nlimit = 3\npermutations = 2\n'
                     f'[[models]]\nname = "m"\nendpoints = [{{ base_url = "{fault_server.base_url}" }}]\n')
    assert main(["run", str(study), "--dry-run"]) == 0
    assert "m: 3 questions (6 asks in all orders and repetitions), 6 requests (verbalized 6)" in capsys.readouterr().out
