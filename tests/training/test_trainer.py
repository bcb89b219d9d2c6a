"""The Trainer on one process: resume equivalence, early stopping, clipping, determinism, logs."""
import json
import math
import random

import numpy as np
import pytest
import torch
from training_testing import (
    EXPECTED_KEYS,
    assert_same_parameters,
    config,
    make_dataset,
    make_model,
    mse_loss,
    parameters,
    without_seconds,
)

from graphrnn.training import CheckpointError, TrainConfig, Trainer, default_loader, load_checkpoint, seed_everything

RESUME_SETTINGS = dict(batch_size=8, optimizer="adam", lr=1e-2, lr_schedule="step", lr_step_size=1, lr_gamma=0.7,
                       shuffle=True)


def eval_metrics(model, batch):
    error = model(batch.x).squeeze(-1) - batch.y
    return {"loss": (error ** 2).sum(), "abs_error": error.abs().sum(), "count": batch.num_graphs}


def fit(out=None, epochs=4, model=None, data=None, **overrides):
    settings = dict(RESUME_SETTINGS, epochs=epochs, out=str(out) if out is not None else None)
    settings.update(overrides)
    trainer = Trainer(model or make_model(), mse_loss, data or make_dataset(64), config(**settings),
                      metrics_fn=eval_metrics, eval_data=make_dataset(16, seed=1))
    trainer.fit()
    return trainer


def disturb_global_generators():
    torch.manual_seed(12345)
    random.seed(12345)
    np.random.seed(12345)


def assert_same_optimizer_state(left, right):
    left, right = left.state_dict(), right.state_dict()
    assert left["param_groups"] == right["param_groups"]
    assert left["state"].keys() == right["state"].keys()
    for index, state in left["state"].items():
        for key, value in state.items():
            other = right["state"][index][key]
            assert torch.equal(value, other) if isinstance(value, torch.Tensor) else value == other


# ------------------------------------------------------------------------ resume
def test_resumed_run_ends_with_the_parameters_of_an_uninterrupted_one(tmp_path):
    full = fit(tmp_path / "full", epochs=4)
    fit(tmp_path / "part", epochs=2)
    disturb_global_generators()
    # a differently initialised model: everything must come from the checkpoint
    resumed = fit(tmp_path / "part", epochs=4, model=make_model(seed=7), resume=True)
    assert resumed.step == full.step == 32
    assert_same_parameters(parameters(resumed.model), parameters(full.model))
    assert_same_optimizer_state(resumed.optimizer, full.optimizer)
    assert resumed.scheduler.state_dict() == full.scheduler.state_dict()
    assert without_seconds(resumed.history) == without_seconds(full.history)
    lines = (tmp_path / "part" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3, 4]


def test_resume_restores_the_random_generators(tmp_path, monkeypatch):
    """Without restoring them, dropout draws other masks and the parameters differ."""
    full = fit(tmp_path / "full", epochs=3)
    fit(tmp_path / "part", epochs=1)
    disturb_global_generators()
    monkeypatch.setattr("graphrnn.training.trainer.set_rng_state", lambda state: None)
    resumed = fit(tmp_path / "part", epochs=3, resume=True)
    assert not torch.equal(parameters(resumed.model)["0.weight"], parameters(full.model)["0.weight"])


class CrashAtStep:
    """A loss that raises at the ``crash_at``-th call, like a process killed mid-epoch."""

    def __init__(self, crash_at):
        self.calls, self.crash_at = 0, crash_at

    def __call__(self, model, batch):
        self.calls += 1
        if self.calls == self.crash_at:
            raise KeyboardInterrupt("simulated kill")
        return mse_loss(model, batch)


def test_run_killed_mid_epoch_and_resumed_matches_an_uninterrupted_one(tmp_path):
    settings = config(**dict(RESUME_SETTINGS, epochs=4, lr_schedule="cosine", out=str(tmp_path / "killed")))
    killed = Trainer(make_model(), CrashAtStep(crash_at=21), make_dataset(64), settings)  # step 21: epoch 3
    with pytest.raises(KeyboardInterrupt):
        killed.fit()
    assert load_checkpoint(tmp_path / "killed" / "checkpoint.pt")["epoch"] == 2
    settings.resume = True
    resumed = Trainer(make_model(seed=3), mse_loss, make_dataset(64), settings)
    resumed.fit()
    full = Trainer(make_model(), mse_loss, make_dataset(64),
                   config(**dict(RESUME_SETTINGS, epochs=4, lr_schedule="cosine")))
    full.fit()
    assert_same_parameters(parameters(resumed.model), parameters(full.model))


def test_resuming_a_cosine_run_with_more_epochs_stretches_the_schedule_to_the_new_end(tmp_path):
    out = str(tmp_path / "run")
    Trainer(make_model(), mse_loss, make_dataset(32),
            config(epochs=2, lr=0.1, lr_schedule="cosine", lr_min=0.0, out=out)).fit()
    resumed = Trainer(make_model(), mse_loss, make_dataset(32),
                      config(epochs=4, lr=0.1, lr_schedule="cosine", lr_min=0.0, out=out, resume=True))
    with pytest.warns(UserWarning, match="cosine schedule over 2 epochs; it now spans 4"):
        history = resumed.fit()
    # epochs 3 and 4 of a 4-epoch cosine from 0.1: 0.1 * (1 + cos(pi * e / 4)) / 2 for e = 2, 3
    assert [round(r["lr"], 6) for r in history[2:]] == [0.05, round(0.05 * (1 + math.cos(3 * math.pi / 4)), 6)]
    assert resumed.scheduler.get_last_lr()[0] == pytest.approx(0.0, abs=1e-12)


# ----------------------------------------------------------------- determinism
def test_same_seed_gives_identical_parameters_and_another_seed_does_not():
    first, second = fit(epochs=2, seed=3), fit(epochs=2, seed=3)
    assert_same_parameters(parameters(first.model), parameters(second.model))
    assert without_seconds(first.history) == without_seconds(second.history)
    other = fit(epochs=2, seed=4)
    assert not torch.equal(parameters(other.model)["0.weight"], parameters(first.model)["0.weight"])


def test_shuffling_order_depends_only_on_seed_and_epoch():
    def record_orders(loss_draws):
        orders = []

        def loader_fn(dataset, batch_size, sampler, shuffle, generator):
            loader = default_loader(dataset, batch_size, sampler, shuffle, generator)
            orders.append([])
            for batch in loader:
                orders[-1].extend(batch.idx.tolist())
                yield batch

        def loss_fn(model, batch):
            torch.rand(loss_draws)  # earlier epochs consume a varying amount of random numbers
            return mse_loss(model, batch)

        Trainer(make_model(), loss_fn, make_dataset(24), config(epochs=3, batch_size=8),
                loader_fn=loader_fn).fit()
        return orders

    orders = record_orders(1)
    assert orders == record_orders(1000)
    assert orders[0] != orders[1] and sorted(orders[0]) == list(range(24))


def test_seed_everything_seeds_python_numpy_and_torch():
    seed_everything(11)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    seed_everything(11)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first
    with pytest.raises(ValueError, match="non-negative integer"):
        seed_everything(-1)


# ---------------------------------------------------------------- early stopping
def test_early_stopping_stops_after_patience_epochs_and_best_pt_holds_the_best_epoch(tmp_path):
    scores = [3.0, 2.0, 2.5, 2.1, 2.2, 1.0]  # best at epoch 2, then 3 epochs without improvement
    snapshots = []

    def evaluate_fn(model):
        snapshots.append(parameters(model))
        return {"score": scores[len(snapshots) - 1]}

    trainer = Trainer(make_model(), mse_loss, make_dataset(16),
                      config(epochs=6, patience=3, monitor="score", mode="min", out=str(tmp_path)),
                      evaluate_fn=evaluate_fn)
    history = trainer.fit()
    assert [record["epoch"] for record in history] == [1, 2, 3, 4, 5]
    best = load_checkpoint(tmp_path / "best.pt")
    assert best["epoch"] == 2 and best["early_stopping"]["best"] == 2.0
    assert_same_parameters(best["model"], snapshots[1])
    assert load_checkpoint(tmp_path / "checkpoint.pt")["early_stopping"] == {
        "best": 2.0, "best_epoch": 2, "bad_epochs": 3}
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert len(lines) == 5
    assert all(set(line) == EXPECTED_KEYS | {"score"} for line in lines)
    assert [line["score"] for line in lines] == scores[:5]


def test_load_best_puts_the_best_epochs_weights_into_the_model(tmp_path):
    scores = [3.0, 1.0, 2.0]  # best at epoch 2
    snapshots = []

    def evaluate_fn(model):
        snapshots.append(parameters(model))
        return {"score": scores[len(snapshots) - 1]}

    trainer = Trainer(make_model(), mse_loss, make_dataset(16),
                      config(epochs=3, monitor="score", mode="min", out=str(tmp_path)), evaluate_fn=evaluate_fn)
    trainer.fit()
    assert not torch.equal(parameters(trainer.model)["0.weight"], snapshots[1]["0.weight"])
    assert trainer.load_best() is trainer.model
    assert_same_parameters(parameters(trainer.model), snapshots[1])
    with pytest.raises(ValueError, match="load_best needs config.out"):
        Trainer(make_model(), mse_loss, make_dataset(16), config(epochs=1)).load_best()


def test_mode_max_and_eval_metrics_are_per_item_means(tmp_path):
    eval_data = make_dataset(10, seed=1)
    trainer = Trainer(make_model(), mse_loss, make_dataset(16), config(batch_size=4, monitor="accuracy",
                                                                        mode="max", patience=1),
                      metrics_fn=lambda m, b: {"accuracy": (b.idx < 3).sum(), "count": b.num_graphs},
                      eval_data=eval_data)
    history = trainer.fit()
    # the same accuracy every epoch: the first is the best, the second is not better -> stop after 2
    assert [record["accuracy"] for record in history] == [0.3, 0.3]
    assert trainer.early_stopping.best_epoch == 1


def test_default_eval_metric_is_the_mean_loss_and_monitor_falls_back_to_train_loss():
    trainer = Trainer(make_model(dropout=0.0), mse_loss, make_dataset(16), config(epochs=1),
                      eval_data=make_dataset(10, seed=1))
    record = trainer.fit()[0]
    data = make_dataset(10, seed=1)
    x, y = torch.cat([d.x for d in data]), torch.cat([d.y for d in data])
    with torch.no_grad():
        expected = ((trainer.model(x).squeeze(-1) - y) ** 2).mean().item()
    assert abs(record["loss"] - expected) < 1e-6
    no_eval = Trainer(make_model(), mse_loss, make_dataset(16), config(epochs=1, patience=1))
    no_eval.fit()
    assert no_eval.monitor == "train_loss" and no_eval.early_stopping.best == no_eval.history[0]["train_loss"]


# ----------------------------------------------------------------- clipping / LR
def test_gradient_clipping_bounds_the_update():
    data = [item.update({"y": item.y * 100}) or item for item in make_dataset(8)]

    def update_norm(grad_clip):
        trainer = Trainer(make_model(dropout=0.0), mse_loss, data,
                          config(epochs=1, batch_size=8, optimizer="sgd", lr=1.0, grad_clip=grad_clip))
        before = torch.cat([p.detach().flatten().clone() for p in trainer.model.parameters()])
        trainer.fit()
        after = torch.cat([p.detach().flatten() for p in trainer.model.parameters()])
        return (after - before).norm().item()

    assert update_norm(None) > 1.0  # the gradient is large ...
    assert update_norm(0.1) == pytest.approx(0.1, abs=1e-5)  # ... and clipped to norm 0.1


@pytest.mark.parametrize("schedule, expected", [
    (None, [0.1, 0.1, 0.1]),
    ("step", [0.1, 0.05, 0.025]),
    ("cosine", [0.1, 0.075, 0.025]),
])
def test_learning_rate_schedules_step_once_per_epoch(schedule, expected):
    trainer = Trainer(make_model(), mse_loss, make_dataset(16),
                      config(epochs=3, lr=0.1, lr_schedule=schedule, lr_step_size=1, lr_gamma=0.5))
    assert [record["lr"] for record in trainer.fit()] == pytest.approx(expected)


def test_plateau_schedule_lowers_the_rate_when_the_monitor_stalls():
    trainer = Trainer(make_model(), mse_loss, make_dataset(16),
                      config(epochs=4, lr=0.1, lr_schedule="plateau", lr_patience=0, lr_gamma=0.5,
                             monitor="score"),
                      evaluate_fn=lambda model: {"score": 1.0})
    assert [record["lr"] for record in trainer.fit()] == pytest.approx([0.1, 0.1, 0.05, 0.025])


@pytest.mark.parametrize("optimizer, cls", [("adam", torch.optim.Adam), ("adamw", torch.optim.AdamW),
                                            ("sgd", torch.optim.SGD)])
def test_optimizer_choice(optimizer, cls):
    trainer = Trainer(make_model(), mse_loss, make_dataset(8), config(optimizer=optimizer, momentum=0.5))
    assert type(trainer.optimizer) is cls


# ------------------------------------------------------------------------ errors
def test_unknown_monitor_names_the_available_metrics():
    trainer = Trainer(make_model(), mse_loss, make_dataset(8), config(monitor="bleu"),
                      metrics_fn=eval_metrics, eval_data=make_dataset(4, seed=1))
    with pytest.raises(ValueError, match=r"monitor='bleu' is not among .*\['abs_error', 'loss', 'train_loss'\]"):
        trainer.fit()


def test_metrics_fn_without_count_is_refused():
    trainer = Trainer(make_model(), mse_loss, make_dataset(8), config(),
                      metrics_fn=lambda m, b: {"loss": 1.0}, eval_data=make_dataset(4))
    with pytest.raises(ValueError, match="must return a dict of sums .* 'count'"):
        trainer.fit()


def test_loss_must_be_a_scalar():
    def per_item_loss(model, batch):
        return (model(batch.x).squeeze(-1) - batch.y) ** 2

    with pytest.raises(ValueError, match="loss_fn must return a scalar tensor"):
        Trainer(make_model(), per_item_loss, make_dataset(8), config()).fit()


def test_metric_names_may_not_shadow_record_keys():
    trainer = Trainer(make_model(), mse_loss, make_dataset(8), config(),
                      evaluate_fn=lambda model: {"lr": 1.0})
    with pytest.raises(ValueError, match="metric named 'lr'"):
        trainer.fit()


def test_fit_runs_once():
    trainer = Trainer(make_model(), mse_loss, make_dataset(8), config(epochs=1))
    trainer.fit()
    with pytest.raises(RuntimeError, match="resume=True"):
        trainer.fit()


@pytest.mark.parametrize("settings, message", [
    (dict(optimizer="rmsprop"), "optimizer must be one of"),
    (dict(lr_schedule="linear"), "lr_schedule must be one of"),
    (dict(mode="lowest"), "mode must be one of"),
    (dict(batch_size=0), "batch_size must be an integer >= 1"),
    (dict(lr=0.0), "lr must be a finite number > 0"),
    (dict(grad_clip=-1.0), "grad_clip must be a finite number > 0"),
    (dict(patience=0), "patience must be an integer >= 1"),
    (dict(resume=True), "resume=True needs out="),
    (dict(lr_schedule="plateau", lr_gamma=2.0), "lr_gamma must be < 1"),
])
def test_config_validation(settings, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**settings)


def test_config_round_trips_through_a_dict(tmp_path):
    settings = TrainConfig(out=tmp_path, lr_schedule="step")
    assert TrainConfig.from_dict(settings.to_dict()) == TrainConfig(out=str(tmp_path), lr_schedule="step")
    with pytest.raises(ValueError, match="unknown TrainConfig settings"):
        TrainConfig.from_dict({"learning_rate": 1.0})


def test_bad_arguments_are_refused_up_front():
    with pytest.raises(ValueError, match="train_data is empty"):
        Trainer(make_model(), mse_loss, [], config())
    with pytest.raises(ValueError, match="metrics_fn is applied to eval_data"):
        Trainer(make_model(), mse_loss, make_dataset(4), config(), metrics_fn=eval_metrics)
    with pytest.raises(TypeError, match="loss_fn must be callable"):
        Trainer(make_model(), "mse", make_dataset(4), config())


def test_eval_data_that_is_empty_is_refused_before_training():
    # before: a whole epoch trained, then "evaluation saw no items"
    with pytest.raises(ValueError, match="eval_data is empty, so no epoch could be evaluated"):
        Trainer(make_model(), mse_loss, make_dataset(4), config(), eval_data=[])


@pytest.mark.parametrize("name, data, message", [
    # before: TypeError "object of type 'generator' has no len()" from the loader
    ("train_data", (item for item in make_dataset(4)), "train_data is a generator, which is used up after one pass"),
    ("eval_data", iter(make_dataset(4)), "eval_data is a list_iterator, which is used up"),
    # before: KeyError: 0 from the loader
    ("train_data", {"a": make_dataset(1)[0]}, r"train_data is a dict; pass a list of items \(e.g. list"),
    ("train_data", make_dataset(1)[0], r"train_data is one graph \(Data\), not a list of graphs; wrap it in a list"),
])
def test_data_that_cannot_be_read_every_epoch_is_refused(name, data, message):
    arguments = {"train_data": make_dataset(4), name: data}
    with pytest.raises(TypeError, match=message):
        Trainer(make_model(), mse_loss, arguments["train_data"], config(), eval_data=arguments.get("eval_data"))


def test_out_that_is_a_file_is_refused(tmp_path):
    # before: FileExistsError "[Errno 17] File exists" when fit() made the directory
    (tmp_path / "taken").write_text("x")
    for out in (tmp_path / "taken", tmp_path / "taken" / "run"):
        with pytest.raises(ValueError, match=f"cannot be a directory: {tmp_path / 'taken'} is a file"):
            Trainer(make_model(), mse_loss, make_dataset(4), config(out=out))


@pytest.mark.parametrize("name", ["checkpoint.pt", "best.pt", "metrics.jsonl"])
def test_a_directory_where_a_run_file_goes_is_refused(tmp_path, name):
    # before: IsADirectoryError after the first epoch was trained (or at the start, for metrics.jsonl)
    (tmp_path / name).mkdir()
    with pytest.raises(ValueError, match=f"holds a directory named '{name}', where the run writes that file"):
        Trainer(make_model(), mse_loss, make_dataset(4), config(out=tmp_path))


def test_numpy_numbers_in_the_config_are_plain_numbers(tmp_path):
    # before: "TrainConfig.batch_size must be an integer >= 1, got np.int64(8)"
    settings = config(batch_size=np.int64(8), epochs=np.int32(1), lr=np.float32(0.01), out=tmp_path)
    assert type(settings.batch_size) is int and type(settings.lr) is float and settings.epochs == 1
    Trainer(make_model(), mse_loss, make_dataset(16), settings).fit()
    assert load_checkpoint(tmp_path / "checkpoint.pt")["config"]["batch_size"] == 8  # weights_only-loadable


def test_an_iterable_dataset_is_still_read_every_epoch():
    class Stream(torch.utils.data.IterableDataset):
        def __iter__(self):
            return iter(make_dataset(8))

    history = Trainer(make_model(), mse_loss, Stream(), config(epochs=2, shuffle=False)).fit()
    assert [record["step"] for record in history] == [1, 2]


@pytest.mark.parametrize("eval_data, message", [
    (None, r"monitor='accuracy' is not among this run's metrics \['train_loss'\]"),
    (make_dataset(4), r"monitor='accuracy' is not among this run's metrics \['loss', 'train_loss'\]"),
])
def test_a_monitor_no_metric_reports_is_refused_before_training(eval_data, message):
    # before: a whole epoch trained, then the same complaint, and the epoch was not saved
    with pytest.raises(ValueError, match=message):
        Trainer(make_model(), mse_loss, make_dataset(4), config(monitor="accuracy"), eval_data=eval_data)


def test_a_monitor_of_the_users_own_metric_is_checked_when_it_is_reported():
    trainer = Trainer(make_model(), mse_loss, make_dataset(8), config(monitor="mae", epochs=1),
                      evaluate_fn=lambda model: {"mae": 1.0})
    assert trainer.fit()[0]["mae"] == 1.0


def test_graphs_that_cannot_share_a_batch_are_named_before_training():
    # before: a KeyError or torch.cat RuntimeError from PyG's collate when the item's batch came, mid-epoch
    data = make_dataset(16)
    data[7].x = data[7].x.double()
    with pytest.raises(ValueError, match="item 7 of train_data: 'x' is torch.float64, in item 0 of train_data"):
        Trainer(make_model(), mse_loss, data, config())
    evaluation = make_dataset(4)
    del evaluation[2].idx
    with pytest.raises(ValueError, match="item 2 of eval_data has no 'idx' while item 0 of eval_data has one"):
        Trainer(make_model(), mse_loss, make_dataset(8), config(), eval_data=evaluation)


def test_a_custom_loader_decides_itself_which_items_meet():
    data = make_dataset(8)
    data[7].x = data[7].x.double()  # a loader of the user's could batch it alone, or convert it
    Trainer(make_model(), mse_loss, data, config(), loader_fn=default_loader)


def test_a_run_whose_monitor_is_always_nan_says_so(tmp_path):
    # before: fit() ended quietly, and load_best() said "no checkpoint at best.pt: resuming (--resume ...) needs ..."
    trainer = Trainer(make_model(), mse_loss, make_dataset(8), config(out=tmp_path, monitor="score"),
                      evaluate_fn=lambda model: {"score": float("nan")})
    with pytest.warns(UserWarning, match="epoch 1: the monitored score is NaN, so this epoch cannot be chosen"):
        trainer.fit()
    with pytest.raises(CheckpointError, match=r"best.pt does not exist: no epoch had a finite score \(nan, nan\)"):
        trainer.load_best()


def test_load_best_before_fit_says_to_fit(tmp_path):
    with pytest.raises(CheckpointError, match="best.pt does not exist: no epoch has been trained yet; call fit"):
        Trainer(make_model(), mse_loss, make_dataset(8), config(out=tmp_path)).load_best()


def test_a_loader_of_the_users_own_may_take_one_graph():
    # valid: full-graph training, the loader yields the one graph every epoch
    graph = make_dataset(1)[0]
    history = Trainer(make_model(), mse_loss, graph, config(epochs=2), loader_fn=lambda data, *rest: [data]).fit()
    assert [record["step"] for record in history] == [1, 2]
