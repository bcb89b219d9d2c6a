"""SIM experiments: training through the Trainer, the CLI task with resume, the reproduce section."""
import argparse
import json

import pytest
import torch

import graphrnn.experiments.sim as experiment
from graphrnn.experiments.sim import GRID, Variant, results_table, run, run_task, synthetic_data, train_one


def test_grid_covers_the_comparison():
    names = [v.name for v in GRID]
    assert names[0] == "MLP (unary only)" and len(names) == len(set(names)) == 15
    assert "SIM gated, T=4, untied" in names and "SIM ungated, T=1" in names


def test_train_one_and_table():
    data = synthetic_data(24, 12, seed=0)
    rows = run(data, epochs=1, variants=[Variant("mlp"), Variant("sim", 2, gated=True, tied=False)], hidden=8)
    for row in rows:
        assert 0 <= row["scene_accuracy"] <= 100 and 0 <= row["action_accuracy"] <= 100 and row["epochs"] == 1
    assert isinstance(rows[1]["trained"], torch.nn.Module) and len(rows[1]["trained"].iterations) == 2
    table = results_table(rows)
    assert "SIM gated, T=2, untied" in table and "MLP (unary only)" in table
    gated_tied = results_table([dict(rows[1], tied=True, model="SIM gated, T=2")])
    assert "80.3" in gated_tied  # the paper's number beside iteration 2
    assert "paper" not in results_table(rows, paper_column=False)
    with pytest.raises(ValueError, match="variant kind must be"):
        train_one(Variant("gnn"), data, 1)


def _args(out, **overrides):
    values = dict(quick=True, epochs=1, data=None, out=str(out), resume=False, device="cpu", seed=0, iterations=2,
                  no_gates=False, untied=False, mlp=False, hidden=8, train_size=20)
    values.update(overrides)
    return argparse.Namespace(**values)


def test_run_task_writes_checkpoints_and_resumes(tmp_path):
    message = run_task(_args(tmp_path))
    assert "SIM gated, T=2" in message and "after 1 epochs" in message
    assert (tmp_path / "checkpoint.pt").exists()
    message = run_task(_args(tmp_path, epochs=2, resume=True))
    assert "after 2 epochs" in message
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2]
    add = argparse.ArgumentParser()
    experiment.add_arguments(add)
    parsed = add.parse_args(["--iterations", "4", "--untied", "--no-gates"])
    assert parsed.iterations == 4 and parsed.untied and parsed.no_gates


def test_section_small(monkeypatch):
    small = synthetic_data(16, 8, seed=0)
    monkeypatch.setattr(experiment, "synthetic_data", lambda *args: small)
    monkeypatch.setattr(experiment, "GRID", GRID[:2])
    original = experiment.run
    monkeypatch.setattr(experiment, "run", lambda data, epochs, variants=GRID[:2], **kw: original(
        data, 1, variants[:2], hidden=4, **kw))
    monkeypatch.setenv("GRAPHRNN_DATA", "/nonexistent")
    section = experiment.section(quick=True, seed=0)
    assert "Structure Inference" in section.title
    assert "80.1 -> 80.3 -> 81.2" in section.markdown and "Volleyball: skipped" in section.markdown
    assert len(section.data["synthetic"]) == 2 and "trained" not in section.data["synthetic"][0]


@pytest.mark.slow  # three small trainings and a matplotlib figure: ~5 s on a busy machine
def test_example_main_gate_summary_and_plot(tmp_path, capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "examples" / "group_activity_sim.py"
    spec = importlib.util.spec_from_file_location("group_activity_sim", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    args = argparse.Namespace(train_size=16, test_size=40, epochs=1, iterations=2, hidden=8, grid=False, seed=0,
                              device="cpu", no_progress=True, plot=tmp_path / "gates.png")
    example.main(args)
    printed = capsys.readouterr().out
    assert "SIM gated, T=2" in printed and "person->scene from main group" in printed
    assert (tmp_path / "gates.png").stat().st_size > 1000


def test_gate_summary_separates_members_and_passers_by():
    data = synthetic_data(4, 30, seed=1)
    torch.manual_seed(0)
    model = experiment.build_model(Variant("sim", 2, gated=True), data, 8)
    summary = experiment.gate_summary(model, data.test)
    assert set(summary) == {f"{k} from {w}" for k in ("person->person", "person->scene")
                            for w in ("main group", "second group", "passer-by")}
    assert all(0 < v < 1 for v in summary.values())
