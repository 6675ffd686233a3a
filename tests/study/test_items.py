"""Items built from the store: scale ambiguity is decided per model and protocol."""

import pytest

from calibench.study import load_run, parse_config, run_study


def test_a_bare_one_is_scale_ambiguous_where_the_model_writes_probabilities(fault_server, tmp_path):
    fault_server.script.extend([("ok", '{"answer": "B", "confidence": 1}'), ("ok", '{"answer": "B", "confidence": 0.8}'),
                                ("ok", '{"answer": "B", "confidence": 0}')])
    cfg = parse_config({"name": "scale", "out": str(tmp_path / "run"), "protocols": ["verbalized-json"], "data": {"limit": 3},
                        "metrics": {"n_boot": 50}, "models": [{"name": "m", "endpoints": [{"base_url": fault_server.base_url, "max_concurrency": 1}]}]})
    run = load_run(run_study(cfg, show_progress=False))
    assert [i["status"] for i in run.items] == ["scale_ambiguous", "ok", "ok"]  # zero is zero on either scale
    assert [i["alt_confidence"] for i in run.items] == [1.0, None, None]
    proto = run.results.models[0].protocols[0]
    assert proto.parse.parsed == 2 and proto.parse.counts["scale_ambiguous"] == 1
    both = proto.scale_readings
    assert both["percent"].mean_confidence == pytest.approx((0.01 + 0.8 + 0.0) / 3)
    assert both["probability"].mean_confidence == pytest.approx((1.0 + 0.8 + 0.0) / 3)
