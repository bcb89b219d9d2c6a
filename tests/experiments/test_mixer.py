"""The MIXER experiment at a toy scale: protocol bookkeeping, tables, CLI hooks, resume."""
import argparse
import warnings

import pytest
import torch

from graphrnn.data.vocab import Vocab
from graphrnn.experiments import mixer
from graphrnn.models.seq2seq import seq2seq_pair


def exact_match_reward(hyps, refs):
    return torch.tensor([float(h == r) for h, r in zip(hyps, refs)])


def exact_match_metric(hyps, refs):
    return 100.0 * sum(h == r for h, r in zip(hyps, refs)) / max(len(hyps), 1)


def toy_task(count=96, seed=0):
    """Copy a one-hot class into a 2-token caption: a context-vector task any method can learn.
    The trivial rule always says the first training caption (right on about a third)."""
    g = torch.Generator().manual_seed(seed)
    vocab = Vocab(["a", "b", "c"])

    def pair():
        k = int(torch.randint(0, 3, (1,), generator=g))
        return seq2seq_pair(None, torch.tensor([4 + k, 4 + (k + 1) % 3, Vocab.eos]), context=torch.eye(3)[k])

    data = [pair() for _ in range(count)]
    texts = [" ".join(vocab.decode(p.tgt.tolist())) for p in data]
    refs = {"val": texts[:8], "test": texts[:8]}
    return mixer.TaskData("captioning", data, data[:8], data[:8], vocab, 3, "vector", None, exact_match_reward,
                          exact_match_metric, 3, refs, "toy", ("first caption", lambda split: [texts[0]] * 8))


def toy_settings(**overrides):
    values = dict(hidden=8, xent_epochs=2, mixed_epochs=1, delta=1, batch_size=8, beams=(1, 2), lr=2e-2)
    values.update(overrides)
    return mixer.Settings(**values)


def test_run_trains_every_method_from_the_shared_start(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = mixer.run(toy_task(), toy_settings(), seed=0, out=tmp_path)
    # continuing the shared start for more epochs is the protocol: no "resuming ... with epochs" warning
    assert not [w for w in caught if "resuming" in str(w.message)], [str(w.message) for w in caught]
    assert [r["method"] for r in result["rows"]] == list(mixer.METHODS)
    assert result["schedule"] == [(2, 3), (1, 2), (1, 1)]
    trivial, oracle = result["baselines"]
    captions = toy_task().references["test"]
    assert trivial["test"] == pytest.approx(100.0 * captions.count(captions[0]) / 8) and oracle["test"] == 100.0
    for row in result["rows"]:
        assert row["epochs"] == 4 and 1 <= row["best_epoch"] <= 4
        assert row["greedy"] > trivial["test"] + 20  # every method learns the class -> caption map
        assert ("beam1" in row) == (row["method"] in ("xent", "mixer"))
    xent = result["rows"][0]
    assert xent["beam1"] == xent["greedy"]  # beam search with k = 1 is greedy decoding
    # every method's history starts with the same shared XENT epochs
    starts = [(tmp_path / m / "metrics.jsonl").read_text().splitlines()[:2] for m in mixer.METHODS]
    assert all(s == starts[0] for s in starts)
    table = mixer.results_table(result)
    assert "| MIXER |" in table and "beam k=2" in table and "best epoch (on val)" in table
    lines = table.splitlines()
    assert lines[2].startswith(f"| trivial: first caption | {trivial['test']:.2f}")
    assert lines[-1].startswith("| oracle:")


def test_resumed_experiment_gives_the_same_rows(tmp_path):
    settings = toy_settings(methods=("xent", "mixer"))
    first = mixer.run(toy_task(), settings, seed=1, out=tmp_path)
    again = mixer.run(toy_task(), settings, seed=1, out=tmp_path, resume=True)
    for a, b in zip(first["rows"], again["rows"]):
        assert {k: v for k, v in a.items() if "seconds" not in k} == {k: v for k, v in b.items()
                                                                      if "seconds" not in k}


def test_cli_hooks(monkeypatch, tmp_path):
    parser = argparse.ArgumentParser()
    mixer.add_arguments(parser)
    args = parser.parse_args(["--task", "captioning", "--methods", "xent", "mixer"])
    args.quick, args.epochs, args.seed, args.out, args.resume, args.device, args.data = (True, 1, 0, tmp_path,
                                                                                         False, "auto", None)
    monkeypatch.setattr(mixer, "load_task", lambda name, settings, seed, data=None: toy_task())
    monkeypatch.setitem(mixer.QUICK, "captioning", toy_settings())
    text = mixer.run_task(args)
    assert "| XENT |" in text and "| MIXER |" in text and "| DAD |" not in text


def test_bad_task_and_method_names():
    with pytest.raises(ValueError, match="task must be one of"):
        mixer.load_task("poetry", mixer.Settings())
    with pytest.raises(ValueError, match="method must be one of"):
        mixer._objective("beam", toy_task(), toy_settings(), mixer.MixerSchedule())


def test_section_runs_captioning_and_skips_missing_corpora(monkeypatch):
    def load(name, settings, seed, data=None):
        if name != "captioning":
            raise FileNotFoundError(f"no {name} corpus here")
        return toy_task()

    monkeypatch.setattr(mixer, "load_task", load)
    monkeypatch.setitem(mixer.QUICK, "captioning", toy_settings(methods=("xent", "mixer")))
    section = mixer.section(quick=True, seed=0)
    assert "Skipped: no translation corpus here" in section.markdown
    assert section.data["summarization"] == {"skipped": "no summarization corpus here"}
    assert [r["method"] for r in section.data["captioning"]["rows"]] == ["xent", "mixer"]


def test_captioning_example_runs_end_to_end(tmp_path, capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "examples" / "mixer_captioning.py"
    spec = importlib.util.spec_from_file_location("mixer_captioning_example", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    args = mixer.example_parser(example.__doc__).parse_args(
        ["--quick", "--epochs", "1", "--train-size", "60", "--methods", "xent", "mixer", "--no-progress",
         "--out", str(tmp_path / "run")])
    result = example.main(args)
    printed = capsys.readouterr().out
    assert "MIXER stages (epochs, s)" in printed and "| xent |" in printed.lower()
    assert [row["method"] for row in result["rows"]] == ["xent", "mixer"]


def test_a_run_of_some_methods_keeps_the_better_best_pt_of_an_earlier_run(tmp_path):
    """``--methods mixer --resume`` into a finished run: <out>/best.pt is the best on validation among
    every method in the folder, not only among those this run trained."""
    import json

    first = mixer.run(toy_task(), toy_settings(methods=("xent", "dad")), seed=0, out=tmp_path)
    # make DAD's recorded validation the best by far, as an earlier run could have left it
    log = tmp_path / "dad" / "metrics.jsonl"
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    entries[-1]["val_score"] = 1000.0
    log.write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    again = mixer.run(toy_task(), toy_settings(methods=("mixer",)), seed=0, out=tmp_path, resume=True)
    assert [row["method"] for row in again["rows"]] == ["mixer"]
    assert again["best_method"] == "dad" and first["best_method"] in ("xent", "dad")
    assert (tmp_path / "best.pt").read_bytes() == (tmp_path / "dad" / "best.pt").read_bytes()
    # result.json keeps the rows of the methods this run did not train, as the earlier run recorded them
    recorded = json.loads((tmp_path / "result.json").read_text())
    assert [row["method"] for row in recorded["rows"]] == ["mixer"]
    assert [row["method"] for row in recorded["earlier_rows"]] == ["xent", "dad"]
    assert recorded["earlier_rows"] == json.loads(json.dumps(first["rows"]))
    (tmp_path / "dad" / "metrics.jsonl").write_text("not json\n")  # an unreadable log leaves DAD out
    assert mixer.best_method(tmp_path, again["rows"]) in ("xent", "mixer")
