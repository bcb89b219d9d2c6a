"""SIM experiments: validation-chosen epochs, the baselines, SIM beating the MLP, gates by sender kind, old
checkpoints, the CLI task with resume, the reproduce section."""
import argparse
import json

import pytest
import torch

import graphrnn
import graphrnn.experiments.sim as experiment
from graphrnn.datasets.collective import ACTIVITIES
from graphrnn.experiments.sim import (
    GRID,
    Variant,
    comparison_table,
    evaluate,
    gating_comparison,
    majority_row,
    results_table,
    run,
    run_task,
    synthetic_data,
    train_one,
    without_distractors,
)


def test_grid_covers_the_comparison():
    names = [v.name for v in GRID]
    assert names[0] == "MLP (unary only)" and len(names) == len(set(names)) == 15
    assert "SIM gated, T=4, untied" in names and "SIM ungated, T=1" in names
    assert all(v.output_activation for v in GRID)
    assert Variant("sim", 3, True, output_activation=False).name == "SIM gated, T=3, no f on c"


def test_epoch_and_weights_are_chosen_on_validation_and_test_is_read_with_them(tmp_path):
    data = synthetic_data(60, 30, seed=0)
    row = train_one(Variant("sim", 2, gated=True), data, 3, hidden=8, out=tmp_path, device="cpu")
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    validation = [r["scene_accuracy"] for r in records]
    assert row["best_epoch"] == 1 + max(range(3), key=validation.__getitem__)
    assert row["validation_scene_accuracy"] == pytest.approx(100 * max(validation))
    model = row["trained"]
    assert evaluate(model, data.validation)["scene_accuracy"] == pytest.approx(row["validation_scene_accuracy"])
    assert evaluate(model, data.test)["scene_accuracy"] == pytest.approx(row["scene_accuracy"])
    best = graphrnn.load(tmp_path / "best.pt", device="cpu").model
    assert all(torch.equal(a, b) for a, b in zip(best.state_dict().values(), model.state_dict().values()))
    with pytest.raises(ValueError, match="data.validation is empty"):
        train_one(Variant("mlp"), data._replace(validation=()), 1)
    with pytest.raises(ValueError, match="variant kind must be"):
        train_one(Variant("gnn"), data, 1)


def test_majority_row_is_the_most_frequent_training_class():
    data = synthetic_data(40, 20, seed=2)
    row = majority_row(data)
    scene = int(torch.bincount(torch.cat([s.scene_y for s in data.train])).argmax())
    hits = sum(int(s.scene_y) == scene for s in data.test)
    assert row["model"] == f"majority class ({ACTIVITIES[scene]})"
    assert row["scene_accuracy"] == pytest.approx(100 * hits / len(data.test))


def test_sim_beats_the_mlp_on_a_small_seeded_run():
    """SIM (gated, T=2) against the unary MLP, same data and budget (340 train / 60 validation / 150 test
    scenes, 6 epochs, hidden 16, lr 1e-2): measured MLP 31.3%, SIM 57.3% scene accuracy (+26.0) on seed 0,
    and +36.0 / +26.0 on seeds 1 / 2; 12 points required."""
    data = synthetic_data(400, 150, seed=0)
    mlp, sim = (train_one(v, data, 6, hidden=16, device="cpu", batch_size=16, lr=1e-2)
                for v in (Variant("mlp"), Variant("sim", 2, gated=True)))
    assert sim["scene_accuracy"] >= mlp["scene_accuracy"] + 12.0, (sim["scene_accuracy"], mlp["scene_accuracy"])


def test_table_has_the_majority_row_and_says_validation_chose_the_epoch():
    data = synthetic_data(24, 12, seed=0)
    rows = run(data, epochs=1, variants=[Variant("mlp"), Variant("sim", 2, gated=True, tied=False)], hidden=8)
    assert rows[0]["kind"] == "rule" and rows[0]["model"].startswith("majority class")
    assert isinstance(rows[2]["trained"], torch.nn.Module) and len(rows[2]["trained"].iterations) == 2
    table = results_table(rows)
    assert "epoch (chosen on validation)" in table and "| 1/1 |" in table
    assert f"| {rows[0]['model']} | {rows[0]['scene_accuracy']:.1f} |" in table
    assert "paper" not in results_table(rows, paper_column=False)


def test_old_checkpoints_load_without_f_and_new_ones_with_it(tmp_path):
    data = synthetic_data(24, 12, seed=0)
    train_one(Variant("sim", 2, gated=True), data, 1, hidden=8, out=tmp_path, device="cpu")
    new = graphrnn.load(tmp_path / "best.pt", device="cpu")
    assert new.model.output_activation is True
    checkpoint = torch.load(tmp_path / "best.pt", weights_only=False)
    checkpoint["extra_state"]["inference"]["variant"] = checkpoint["extra_state"]["inference"]["variant"][:4]
    torch.save(checkpoint, tmp_path / "old.pt")  # as written before output_activation existed
    old = graphrnn.load(tmp_path / "old.pt", device="cpu")
    assert old.model.output_activation is False
    scene = data.test[0]
    line = json.dumps({"person_x": scene.person_x.tolist(), "scene_x": scene.scene_x.view(-1).tolist()})
    with torch.no_grad():
        linear = old.model(scene)[-1][1]
        activated = new.model(scene)[-1][1]
    torch.testing.assert_close(activated, torch.relu(linear))
    assert old.predict([line])[0].split("\t")[0] == ACTIVITIES[int(linear.argmax())]
    with pytest.raises(ValueError, match="a saved SIM variant has 5 fields"):
        Variant.from_saved(["sim", 2, True])


def _args(out, **overrides):
    values = dict(quick=True, epochs=1, data=None, out=str(out), resume=False, device="cpu", seed=0, iterations=2,
                  no_gates=False, untied=False, mlp=False, hidden=8, train_size=20, distractors=None,
                  no_output_activation=False)
    values.update(overrides)
    return argparse.Namespace(**values)


def test_run_task_writes_checkpoints_and_resumes(tmp_path):
    message = run_task(_args(tmp_path))
    assert "SIM gated, T=2" in message and "after 1 epochs" in message and "chosen on validation" in message
    assert "17 train / 3 validation / 100 test" in message and "majority class" in message
    assert (tmp_path / "checkpoint.pt").exists() and (tmp_path / "best.pt").exists()
    message = run_task(_args(tmp_path, epochs=2, resume=True))
    assert "after 2 epochs" in message
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2]
    message = run_task(_args(tmp_path / "d", distractors=[1, 3], no_output_activation=True))
    assert "1-3 distractors per scene" in message and "no f on c" in message
    with pytest.raises(ValueError, match="--distractors makes synthetic scenes"):
        run_task(_args(tmp_path / "v", data=str(tmp_path), distractors=[1, 3]))
    add = argparse.ArgumentParser()
    experiment.add_arguments(add)
    parsed = add.parse_args(["--iterations", "4", "--untied", "--no-gates", "--distractors", "1", "8",
                             "--no-output-activation"])
    assert parsed.iterations == 4 and parsed.untied and parsed.no_gates and parsed.distractors == [1, 8]
    assert parsed.no_output_activation


def test_gating_comparison_rows_oracle_and_gates_by_sender():
    result = gating_comparison([0, 1], 24, 16, 1, distractors=(1, 3), iterations=2, hidden=4, device="cpu",
                               linear_variant=False)
    names = list(result["rows"])
    assert names == ["majority class", "MLP (unary only)", "SIM ungated, T=2", "SIM gated, T=2",
                     "oracle: SIM gated, T=2 with the distractors removed"]
    assert all(len(rows) == 2 for rows in result["rows"].values()) and list(result["gates"]) == ["SIM gated, T=2"]
    first = result["gates"]["SIM gated, T=2"][0]
    assert "person->scene from distractor" in first and "scene->person from scene" in first
    table = comparison_table(result)
    scenes = [r["scene_accuracy"] for r in result["rows"]["SIM gated, T=2"]]
    mean, sd = sum(scenes) / 2, abs(scenes[0] - scenes[1]) / 2 ** 0.5
    assert f"| SIM gated, T=2 | {mean:.1f} ± {sd:.1f} |" in table
    assert "person->person from distractor" in table


def test_without_distractors_keeps_everyone_else():
    data = synthetic_data(10, 5, seed=0, distractors=(1, 3))
    for scene, clean in zip(data.test, without_distractors(data.test)):
        keep = ~scene.distractor
        assert torch.equal(clean.person_x, scene.person_x[keep]) and torch.equal(clean.person_y, scene.person_y[keep])
        assert int(clean.scene_y) == int(scene.scene_y) and not bool(clean.distractor.any())


def test_section_small(monkeypatch):
    small = synthetic_data(16, 8, seed=0)
    monkeypatch.setattr(experiment, "synthetic_data", lambda *args, **kw: small)
    monkeypatch.setattr(experiment, "GRID", GRID[:2])
    original_run, original_compare = experiment.run, experiment.gating_comparison
    monkeypatch.setattr(experiment, "run", lambda data, epochs, variants=GRID[:2], *args, **kw: original_run(
        data, 1, variants[:2], **{**kw, "hidden": 4}))
    monkeypatch.setattr(experiment, "gating_comparison", lambda seeds, *a, **kw: original_compare(
        seeds[:1], 16, 8, 1, None, iterations=1, hidden=4, device="cpu", linear_variant=False))
    monkeypatch.setenv("GRAPHRNN_DATA", "/nonexistent")
    section = experiment.section(quick=True, seed=0)
    assert "Structure Inference" in section.title and "Volleyball: skipped" in section.markdown
    assert "epoch is chosen on validation" in section.markdown and "majority class" in section.markdown
    assert len(section.data["synthetic"]) == 3 and "trained" not in section.data["synthetic"][1]
    assert set(section.data["gating"]) == {"default scenes", "distractors (1, 8)"}


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


def test_gate_summary_by_sender_kind():
    data = synthetic_data(8, 30, seed=1, distractors=(1, 2))
    torch.manual_seed(0)
    model = experiment.build_model(Variant("sim", 2, gated=True), data, 8)
    summary = experiment.gate_summary(model, data.test)
    assert set(summary) == {f"{k} from {w}" for k in ("person->person", "person->scene")
                            for w in ("main group", "second group", "passer-by", "distractor")} \
        | {"scene->person from scene"}
    assert all(0 < v < 1 for v in summary.values())
    scene = data.test[0]
    gates = model(scene, return_gates=True)[1][-1]
    from graphrnn.data import PERSON_TO_SCENE
    to_scene = (scene.edge_type == PERSON_TO_SCENE).nonzero().view(-1)
    edges = to_scene[scene.distractor[scene.edge_index[0, to_scene]]]
    alone = experiment.gate_summary(model, [scene])["person->scene from distractor"]
    assert alone == pytest.approx(float(gates[edges].mean()))
