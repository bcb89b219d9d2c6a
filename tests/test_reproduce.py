"""graphrnn reproduce: results files, atomic writes, the core section at a tiny scale."""
import json
import stat

import pytest

from graphrnn import bench, reproduce
from graphrnn.files import new_file_mode


def tiny_experiment(quick, seed):
    return reproduce.Section("Tiny", f"quick={quick} seed={seed}", {"value": seed})


def test_run_all_writes_markdown_and_json(tmp_path, monkeypatch):
    monkeypatch.setitem(reproduce.EXPERIMENTS, "tiny", tiny_experiment)
    reproduce.run_all(tmp_path, quick=True, seed=3, only=["tiny"], log=lambda m: None)
    text = (tmp_path / "results.md").read_text()
    assert "## Tiny" in text and "quick=True seed=3" in text
    payload = json.loads((tmp_path / "results.json").read_text())
    assert payload["experiments"]["tiny"]["data"] == {"value": 3}
    assert payload["quick"] is True and payload["seed"] == 3
    for name in ("results.md", "results.json"):  # readable like any new file, not mkstemp's private 0600
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == new_file_mode()


def test_unknown_experiment_is_named(tmp_path):
    with pytest.raises(ValueError, match="unknown experiment.*nope"):
        reproduce.run_all(tmp_path, quick=True, seed=0, only=["nope"], log=lambda m: None)


def test_failed_write_keeps_previous_file(tmp_path, monkeypatch):
    target = tmp_path / "results.md"
    reproduce.write_atomic(target, "old results")

    def crash(*args, **kwargs):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(reproduce.os, "replace", crash)
    with pytest.raises(OSError, match="simulated"):
        reproduce.write_atomic(target, "new results")
    assert target.read_text() == "old results"
    assert [p.name for p in tmp_path.iterdir()] == ["results.md"], "temporary file left behind"


def test_benchmark_tables_are_consistent_at_tiny_scale():
    header, rows = bench.chain_vs_torch(cells=("lstm",), batch=3, length=4, input_size=5, hidden=6, repeats=1)
    assert header[0] == "cell" and rows[0][0] == "lstm"
    assert float(rows[0][-1]) < 1e-5  # fused and generic paths match torch.nn.LSTM
    header, rows = bench.tree_vs_recursion(trees=4, min_nodes=3, max_nodes=6, input_size=5, hidden=6, repeats=1)
    assert len(rows) == 3 and all(float(r[-1]) < 1e-5 for r in rows)
    header, rows = bench.levels_scaling(sizes=(1000,), repeats=1)
    chain_row = next(r for r in rows if r[1] == "one chain")
    assert chain_row[3] == "1,000"


def test_unwritable_out_fails_before_any_experiment(tmp_path, monkeypatch):
    ran = []

    def experiment(quick, seed):
        ran.append(seed)
        return tiny_experiment(quick, seed)

    monkeypatch.setitem(reproduce.EXPERIMENTS, "tiny", experiment)
    taken = tmp_path / "taken"
    taken.write_text("x")
    for out, message in ((taken, "is a file, not a directory"), (taken / "results", "is a file")):
        with pytest.raises(ValueError, match=message):
            reproduce.run_all(out, quick=True, seed=0, only=["tiny"], log=lambda m: None)
    assert ran == []
