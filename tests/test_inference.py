"""graphrnn.load for every kind of checkpoint: rnn classifiers and language models, digits, SIM; bad inputs."""
import io
import json
import random
from argparse import Namespace

import pytest
import torch

import graphrnn
from graphrnn import cli
from graphrnn.datasets.text import DataFormatError, TextOptions
from graphrnn.experiments import sequence_data
from graphrnn.predict import run_predict
from graphrnn.training import CheckpointError
from graphrnn.training.checkpoint import save_checkpoint

POSITIVE, NEGATIVE, FILLER = ["good", "great", "fine"], ["bad", "awful", "poor"], ["the", "movie", "was", "plot"]


def reviews(path, count=240, seed=0):
    draw = random.Random(seed)
    lines = ["sequence,label"]
    for _ in range(count):
        label = draw.choice(["pos", "neg"])
        words = [draw.choice(FILLER) for _ in range(draw.randint(1, 4))]
        words.insert(draw.randint(0, len(words)), draw.choice(POSITIVE if label == "pos" else NEGATIVE))
        lines.append(f"{' '.join(words)},{label}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def counting(path, count=200, seed=0):
    """Sentences 'one two ... .' of 2-5 words: a language model can learn the next word exactly."""
    draw = random.Random(seed)
    numbers = ["one", "two", "three", "four", "five"]
    path.write_text("".join(" ".join(numbers[:draw.randint(2, 5)]) + " .\n" for _ in range(count)), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    folder = tmp_path_factory.mktemp("classifier")
    row = sequence_data.train_on_file(reviews(folder / "reviews.csv"), "gru", hidden=16, epochs=6, seed=0,
                                      out=folder / "out", device="cpu")
    return row, folder / "out" / "best.pt"


@pytest.fixture(scope="module")
def language_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lm")
    row = sequence_data.train_on_file(counting(folder / "counting.txt"), "lstm", hidden=24, epochs=8, seed=0,
                                      out=folder / "out", device="cpu", text=TextOptions("whitespace"))
    return row, folder / "out" / "best.pt"


def test_classifier_beats_the_majority_label_and_predicts_labels(classifier):
    row, path = classifier
    assert row["sizes"] == (194, 22, 24)  # a tenth of 240 as test, then a tenth of the other 216 as validation
    assert row["test_accuracy"] > row["majority_accuracy"] + 20
    model = graphrnn.load(path, device="cpu")
    assert model.task == "rnn" and model.kind == "sequence_classifier"
    assert model.predict(["the movie was great", "awful plot", "good"]) == ["pos", "neg", "pos"]


def test_language_model_beats_unigrams_and_continues_prefixes(language_model):
    row, path = language_model
    assert row["test_perplexity"] < row["unigram_perplexity"]
    model = graphrnn.load(path, device="cpu")
    greedy = model.predict(["one two three", "one"])
    assert len(greedy) == 2 and greedy[0].split()[0] in ("four", ".")
    assert greedy[1].split()[0] == "two"  # every sentence goes on with 'two' after 'one'
    assert len(model.predict(["one two three", "one"], beam=3)) == 2
    # prefixes of different lengths in one batch give what they give alone
    assert model.predict(["one two three", "one"], batch_size=1) == greedy


def test_digits_model_predicts_a_digit_per_line(tmp_path):
    from graphrnn.datasets.digits import split_digit_sequences
    from graphrnn.experiments.digits import train_one

    train, test = split_digit_sequences(0)
    train_one("lstm", train[:128], train[128:160], test[:32], 1, 8, 0, out=tmp_path, device="cpu")
    model = graphrnn.load(tmp_path / "best.pt", device="cpu")
    image = (test[0].x * 16).round().view(-1).tolist()
    answer = model.predict([" ".join(str(int(v)) for v in image), ",".join(str(v) for v in image)])
    assert answer[0] == answer[1] and answer[0] in [str(d) for d in range(10)]
    with pytest.raises(DataFormatError, match=r"input:1: expected 64 pixel values in \[0, 16\]"):
        model.predict(["1 2 3"])


@pytest.fixture(scope="module")
def sim_checkpoint(tmp_path_factory):
    from graphrnn.experiments.sim import Variant, synthetic_data, train_one

    folder = tmp_path_factory.mktemp("sim")
    data = synthetic_data(40, 10, 0)
    train_one(Variant("sim", 2, gated=True), data, 1, hidden=8, out=folder, device="cpu")
    return folder / "best.pt", data


def test_sim_predicts_scene_and_person_labels_from_json_lines(sim_checkpoint):
    from graphrnn.datasets.collective import ACTIONS, ACTIVITIES

    path, data = sim_checkpoint
    model = graphrnn.load(path, device="cpu")
    scenes = data.test[:3]
    lines = [json.dumps({"person_x": s.person_x.tolist(), "scene_x": s.scene_x.view(-1).tolist()}) for s in scenes]
    answers = model.predict(lines)
    assert len(answers) == 3
    with torch.no_grad():
        for scene, answer in zip(scenes, answers):
            activity, actions = answer.split("\t")
            assert activity in ACTIVITIES and len(actions.split()) == scene.person_x.size(0)
            assert set(actions.split()) <= set(ACTIONS)
            alone = model.predict([json.dumps({"person_x": scene.person_x.tolist(),
                                               "scene_x": scene.scene_x.view(-1).tolist()})])
            assert alone == [answer]  # batching scenes does not mix their persons


@pytest.mark.parametrize("line, message", [
    ("", "input:1: empty input"),
    ("{not json", "input:1: not valid JSON"),
    ('{"boxes": [[1, 2, 3, 4]]}', "input:1: the scene has 6 person and 5 scene features, the model reads 11 and 6"),
    ('{"people": []}', "input:1: expected a JSON object with 'boxes'"),
    ("1.jpg 1 2 3", r"input:1: expected '<frame>.jpg \[activity\]' then groups of 'x y w h \[action\]'"),
    # before: the model's ValueError for the whole batch, naming no line and suggesting check_finite=False
    (json.dumps({"person_x": [[float("nan")] * 11], "scene_x": [0.0] * 6}), "input:1: person_x has a NaN or inf"),
    (json.dumps({"person_x": [[0.0] * 11], "scene_x": [float("inf")] * 6}), "input:1: scene_x has a NaN or inf"),
])
def test_sim_bad_scenes_are_named(sim_checkpoint, line, message):
    model = graphrnn.load(sim_checkpoint[0], device="cpu")
    with pytest.raises(DataFormatError, match=message):
        model.predict([line])


def test_volleyball_lines_with_or_without_labels_give_the_same_features():
    from graphrnn.inference import SceneModel

    state = {"person_channels": 6, "scene_channels": 5, "features": "Volleyball box", "actions": ["a"],
             "activities": ["b"]}
    reader = SceneModel.__new__(SceneModel)
    torch.nn.Module.__init__(reader)
    reader.state = state
    labelled = reader.parse("5.jpg r_spike 10 10 20 40 spiking 30 12 20 40 standing", "x")
    bare = reader.parse("5.jpg 10 10 20 40 30 12 20 40", "x")
    from_json = reader.parse('{"boxes": [[10, 10, 20, 40], [30, 12, 20, 40]]}', "x")
    for other in (bare, from_json):
        assert torch.equal(labelled.person_x, other.person_x) and torch.equal(labelled.scene_x, other.scene_x)


def test_checkpoints_without_inference_settings_and_bad_calls(tmp_path, classifier):
    save_checkpoint(tmp_path / "old.pt", {"model": {}, "extra_state": {"task": "digits"}})
    with pytest.raises(CheckpointError, match="carries no inference settings .*task 'digits'"):
        graphrnn.load(tmp_path / "old.pt")
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        graphrnn.load(tmp_path / "missing.pt")
    model = graphrnn.load(classifier[1], device="cpu")
    with pytest.raises(TypeError, match="list of inputs"):
        model.predict("the movie")
    with pytest.raises(ValueError, match="has no beam search"):
        model.predict(["good"], beam=2)
    with pytest.raises(ValueError, match="beam must be a positive integer"):
        model.predict(["good"], beam=0)
    with pytest.raises(TypeError, match="input:2: an input must be a string"):
        model.predict(["good", 3])
    assert repr(model) == "ClassifierModel(task='rnn', kind='sequence_classifier', model=SequenceClassifier)"


def test_run_predict_reads_stdin_and_writes_one_line_each(classifier):
    out, err = io.StringIO(), io.StringIO()
    args = Namespace(task="rnn", checkpoint=classifier[1], input=None, beam=None, batch_size=2, device="cpu")
    assert run_predict(args, stdin=io.BytesIO(b"good\nawful plot\nthe movie was fine\n"), stdout=out, stderr=err) == 0
    assert out.getvalue().splitlines() == graphrnn.load(classifier[1], device="cpu").predict(
        ["good", "awful plot", "the movie was fine"])
    assert run_predict(Namespace(**{**vars(args), "task": "mixer"}), stdin=io.BytesIO(b"good\n"), stdout=out,
                       stderr=err) == 2
    assert "holds a sequence_classifier model written by `graphrnn train rnn`, not mixer" in err.getvalue()


@pytest.mark.parametrize("batch_size", [0, 1.5, True])
def test_predict_batch_size_must_be_a_positive_integer(classifier, batch_size):
    # before: 1.5 was a TypeError from range() inside predict
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        graphrnn.load(classifier[1], device="cpu").predict(["good"], batch_size=batch_size)


def edited(source, target, edit):
    """A copy of checkpoint ``source`` at ``target`` after ``edit(checkpoint)`` (a damaged or foreign file)."""
    checkpoint = torch.load(source, weights_only=True)
    edit(checkpoint)
    torch.save(checkpoint, target)
    return target


def drop_inference_entry(name):
    def edit(checkpoint):
        checkpoint["extra_state"] = {**checkpoint["extra_state"],
                                     "inference": {k: v for k, v in checkpoint["extra_state"]["inference"].items()
                                                   if k != name}}
    return edit


def set_inference_entry(name, value):
    def edit(checkpoint):
        inference = {**checkpoint["extra_state"]["inference"], name: value}
        checkpoint["extra_state"] = {**checkpoint["extra_state"], "inference": inference}
    return edit


@pytest.mark.parametrize("edit, message", [
    # before: KeyError: 'model'
    (lambda c: c.pop("model"), r"lacks \['model'\], which prediction needs"),
    # before: AttributeError: 'str' object has no attribute 'get'
    (lambda c: c.update(extra_state="notes"), "its 'extra_state' is str, where prediction needs dict or None"),
    # before: AttributeError: 'list' object has no attribute 'items' (in the state_dict check)
    (lambda c: c.update(model=[1, 2]), "its 'model' is list, where prediction needs dict"),
    # before: KeyError: 'vocab' / 'labels' from the model's constructor or predict
    (drop_inference_entry("vocab"), r"inference settings lacks \['vocab'\], which a sequence_classifier model needs"),
    (drop_inference_entry("labels"), r"lacks \['labels'\]"),
    # before: TypeError: SequenceClassifier.__init__() got an unexpected keyword argument 'depth'
    (set_inference_entry("model_settings", {"depth": 3}), "inference settings do not build a sequence_classifier "
                                                          "model .TypeError"),
    # before: TypeError: unhashable type: 'list'
    (set_inference_entry("kind", ["rnn"]), "carries no inference settings"),
])
def test_damaged_or_edited_checkpoints_are_named_checkpoint_errors(tmp_path, classifier, edit, message):
    path = edited(classifier[1], tmp_path / "edited.pt", edit)
    with pytest.raises(CheckpointError, match=message):
        graphrnn.load(path, device="cpu")


def test_a_damaged_checkpoint_is_one_line_and_exit_2_in_predict(tmp_path, classifier, capsys):
    path = edited(classifier[1], tmp_path / "edited.pt", drop_inference_entry("vocab"))
    inputs = reviews(tmp_path / "in.csv", 3)
    assert cli.main(["predict", "rnn", "--checkpoint", str(path), "--input", str(inputs)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "lacks ['vocab']" in err


def test_a_checkpoint_with_extra_entries_of_its_own_still_loads(tmp_path, classifier):
    # valid but unusual: a user added notes to the checkpoint and its inference settings
    path = edited(classifier[1], tmp_path / "notes.pt", lambda c: c.update(notes="mine"))
    path = edited(path, path, set_inference_entry("comment", "kept"))
    assert graphrnn.load(path, device="cpu").predict(["good"]) == graphrnn.load(classifier[1], device="cpu").predict(
        ["good"])


def test_a_run_directory_given_as_the_checkpoint_names_its_best_pt(tmp_path, classifier):
    # before: "no checkpoint at DIR", as if nothing were there
    with pytest.raises(CheckpointError, match=f"{classifier[1].parent} is a directory, not a checkpoint file; pass "
                                              f"{classifier[1]}"):
        graphrnn.load(classifier[1].parent)
    with pytest.raises(CheckpointError, match="is a directory, not a checkpoint file; pass the best.pt that graphrnn"):
        graphrnn.load(tmp_path)


def test_input_dash_reads_stdin_like_no_input(classifier, monkeypatch, capsys):
    # before: "--input - does not exist"
    lines = b"good\nawful plot\n"
    answers = []
    for extra in ([], ["--input", "-"]):
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(lines)))
        assert cli.main(["predict", "rnn", "--checkpoint", str(classifier[1]), "--device", "cpu", *extra]) == 0
        answers.append(capsys.readouterr().out)
    assert answers[0] == answers[1] and len(answers[0].splitlines()) == 2
