"""Protocols written outside calibench: listed, loaded from a study file or an entry point, and run."""

import dataclasses
import json
from pathlib import Path

import pytest

from calibench.cli import main
from calibench.elicit import protocols as registry
from calibench.errors import CalibenchError
from calibench.study import load_run, parse_config

EXAMPLE = Path(__file__).parents[2] / "examples" / "plugins" / "ten_point.py"
SPEC = f"{EXAMPLE}:TEN_POINT"


@pytest.fixture(autouse=True)
def clean_registry(monkeypatch):
    """No plugin outlives its test: the registry is put back as it was (in place: modules hold it)."""
    before = dict(registry.PROTOCOLS), dict(registry.REQUESTS)
    monkeypatch.setattr(registry, "_entry_points_loaded", False)
    yield
    for table, saved in zip((registry.PROTOCOLS, registry.REQUESTS), before):
        table.clear()
        table.update(saved)


def test_the_example_plugin_is_listed_with_its_cost(capsys):
    assert main(["protocols", "--plugin", SPEC, "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert {"stated", "logprob", "p-true", "verbalized", "verbalized-json", "ten-point"} <= set(rows)
    mine = rows["ten-point"]
    assert not mine["built_in"] and mine["builds_on"] == "answer" and mine["requests_per_question"] == {"answer": 1, "ten-point": 1}
    assert mine["max_generated_tokens_per_question"] == 1 + 4  # the answer read's token and its own four
    assert rows["stated"]["built_in"] and rows["logprob"]["requests_per_question"] == {"answer": 1}


def test_the_listing_reads_in_80_columns_with_what_each_protocol_asks(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["protocols", "--plugin", SPEC]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 80  # nothing cut at the terminal's edge
    text = " ".join(out.split())  # the paragraphs wrap: read them as one text
    assert "cot: step-by-step reasoning" in text and "[Xiong et al. 2024" in text
    assert "ten-point:" in text and "(plugin)" in text


def test_the_example_plugin_runs_in_a_study(fault_server, tmp_path):
    def reply(body):
        last = body["messages"][-1]["content"]
        return ("ok", "7") if "scale from 1" in last else ("ok", '{"answer": "B"}')

    fault_server.default = reply
    study = tmp_path / "study.toml"
    study.write_text(f'name = "plugin"\nout = "{tmp_path / "run"}"\nplugins = ["{SPEC}"]\nprotocols = ["ten-point"]\n'
                     f'[data]\nlimit = 3\n[[models]]\nname = "m"\nendpoints = [{{ base_url = "{fault_server.base_url}" }}]\n')
    assert main(["run", str(study), "--quiet"]) == 0
    run = load_run(tmp_path / "run")
    assert [(i["protocol"], i["letter"], i["confidence"], i["status"]) for i in run.items] == [("ten-point", "B", 0.7, "ok")] * 3
    (result,) = run.results.models[0].protocols
    assert result.protocol == "ten-point" and result.protocol_sha256 == registry.PROTOCOLS["ten-point"].sha256
    asked = len(fault_server.requests)
    assert main(["run", str(study), "--quiet"]) == 0 and len(fault_server.requests) == asked  # resumed: the plugin re-imported


def test_a_plugin_named_in_protocols_moves_to_plugins():
    cfg = parse_config({"models": [{"name": "m", "endpoints": [{"base_url": "http://h/v1"}]}], "protocols": ["stated", SPEC]})
    assert cfg.protocols == ["stated", "ten-point"] and cfg.plugins == [SPEC]


def test_a_subclass_hash_covers_its_code_and_names_stay_unique():
    mine = registry.load_protocol(SPEC)

    @dataclasses.dataclass(frozen=True)
    class Other(registry.Protocol):
        def read(self, response, question, *, prefilled=True):
            return None

    twin = Other(**{f.name: getattr(mine, f.name) for f in dataclasses.fields(mine)})
    assert dataclasses.replace(mine).sha256 == mine.sha256  # stable
    assert twin.sha256 != mine.sha256  # the same fields, but another class's read() would read the replies
    with pytest.raises(CalibenchError, match="protocol name 'stated' is taken"):
        registry.register(registry.Protocol(name="stated", version=9, reads="text", request="stated"))
    with pytest.raises(CalibenchError, match="reads must be one of"):
        registry.Protocol(name="odd", version=1, reads="tea-leaves", request="odd")


@pytest.mark.parametrize("spec,message", [
    ("no_such_module_xyz:P", "cannot import no_such_module_xyz"),
    (f"{EXAMPLE}:NOPE", "has no NOPE"),
    ("just-a-name", "is 'package.module:NAME' or 'file.py:NAME'"),
])
def test_bad_plugins_are_one_line(spec, message, capsys):
    assert main(["protocols", "--plugin", spec]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_a_bad_plugin_in_a_study_is_one_line_and_stores_nothing(tmp_path, capsys):
    assert main(["run", "--model", "m@http://127.0.0.1:9/v1", "--protocol", "no_such_module_xyz:P", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "cannot import no_such_module_xyz" in err and len(err.strip().splitlines()) == 1 and not (tmp_path / "run").exists()


def test_an_installed_package_declares_protocols_by_entry_point(tmp_path, monkeypatch):
    (tmp_path / "my_calibench_plugin.py").write_text(EXAMPLE.read_text())
    dist = tmp_path / "my_calibench_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: my-calibench-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[calibench.protocols]\nten-point = my_calibench_plugin:TEN_POINT\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "ten-point" in registry.available()
    assert registry.get_protocol("ten-point").follows == "answer"


def test_the_docs_show_the_tested_example():
    docs = (Path(__file__).parents[2] / "docs" / "elicitation.md").read_text()
    block = docs.split("class TenPointScale(Protocol):", 1)[1].split("TEN_POINT = ", 1)[0]
    source = EXAMPLE.read_text()
    assert all(line.strip() in source for line in block.splitlines() if line.strip())


@pytest.mark.parametrize("source,attr,message", [
    ("def broken(:\n", "P", "cannot import"),  # a syntax error in the plugin
    ("raise RuntimeError('boom')\n", "P", "RuntimeError: boom"),
    ("from calibench.elicit.protocols import Protocol\nclass P(Protocol):\n    pass\n", "P", "calling P() failed"),
])
def test_a_plugin_that_fails_is_one_line(source, attr, message, tmp_path, capsys):
    plugin = tmp_path / "bad_plugin.py"
    plugin.write_text(source)
    assert main(["protocols", "--plugin", f"{plugin}:{attr}"]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_plugin_file_moved_elsewhere_keeps_its_hash(tmp_path):
    hashes = []
    for where in ("one", "two"):
        (tmp_path / where).mkdir()
        copy = tmp_path / where / "ten_point.py"
        copy.write_text(EXAMPLE.read_text())
        protocol = registry._import_file(str(copy)).TEN_POINT
        hashes.append(protocol.sha256)
    assert hashes[0] == hashes[1]


def test_names_and_dependencies_a_registry_refuses():
    with pytest.raises(CalibenchError, match="kept for samples"):
        registry.register(registry.Protocol(name="mine~sample", version=1, reads="text", request="mine~sample"))
    with pytest.raises(CalibenchError, match="can follow only the answer read"):
        registry.register(registry.Protocol(name="mine", version=1, reads="number", request="mine", follows="verbalized"))
    with pytest.raises(CalibenchError, match="builds on nothing-here"):
        registry.register(registry.Protocol(name="mine", version=1, reads="number", request="mine", builds_on=("nothing-here",)))


def test_a_plugin_file_edited_during_a_run_keeps_the_hash_its_replies_were_stored_under(tmp_path):
    from calibench.elicit.protocols import load_protocol

    plugin = tmp_path / "edited_plugin.py"
    plugin.write_text(
        "from dataclasses import dataclass\n"
        "from calibench.elicit.protocols import Protocol\n"
        "@dataclass(frozen=True)\n"
        "class Edited(Protocol):\n"
        "    pass\n"
        "EDITED = Edited(name='edited-plugin', version=1, reads='text', request='edited-plugin')\n")
    protocol = load_protocol(f"{plugin}:EDITED")
    before = protocol.sha256
    plugin.write_text(plugin.read_text() + "# edited while the run goes on\n")
    assert protocol.sha256 == before  # the code running is still the one loaded
