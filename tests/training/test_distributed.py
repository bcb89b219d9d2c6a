"""DDP with 2 gloo processes against one process; the helpers with a single process.

The 2-process runs share one pair of worker processes (see ``ddp_worker.py``):
importing torch and PyG costs more than all the training.
"""
import pytest
import torch
from training_testing import (
    assert_same_parameters,
    config,
    launch_workers,
    make_dataset,
    make_model,
    mse_loss,
    parameters,
    without_seconds,
)

from graphrnn.training import (
    Trainer,
    all_gather_objects,
    all_reduce_sums,
    barrier,
    broadcast_object,
    is_distributed,
    is_main_process,
    load_checkpoint,
    rank,
    setup_distributed,
    world_size,
)

B = 4  # per-process batch of the equivalence run
STEP_SETTINGS = dict(num_items=2 * B, dropout=0.0, epochs=1, shuffle=False, optimizer="sgd", lr=0.5,
                     momentum=0.9, grad_clip=None)
RESUME_SETTINGS = dict(num_items=12, dropout=0.3, batch_size=2, lr_schedule="step", lr_step_size=1)


@pytest.fixture(scope="module")
def ddp_runs(tmp_path_factory):
    """Runs every 2-process scenario once; returns name -> results directory."""
    root = tmp_path_factory.mktemp("ddp")
    dirs = {name: root / name for name in ("step", "uneven", "full", "part1", "part2")}
    launch_workers([
        dict(STEP_SETTINGS, results=str(dirs["step"]), batch_size=B),
        # 7 training items over 2 ranks x batch 2: DistributedSampler pads to 4 items (2 batches)
        # per rank; 3 eval items: rank 0 evaluates 2 of them, rank 1 one.
        dict(results=str(dirs["uneven"]), num_items=7, eval_items=3, dropout=0.3, batch_size=2, epochs=2,
             out=str(root / "uneven_run"), monitor="y_mean"),
        dict(RESUME_SETTINGS, results=str(dirs["full"]), epochs=3, out=str(root / "full_run")),
        dict(RESUME_SETTINGS, results=str(dirs["part1"]), epochs=1, out=str(root / "part_run")),
        dict(RESUME_SETTINGS, results=str(dirs["part2"]), epochs=3, out=str(root / "part_run"), resume=True),
    ])
    return dirs


def load_ranks(directory):
    return [torch.load(directory / f"rank{r}.pt", weights_only=True) for r in range(2)]


def test_single_process_helpers_initialise_nothing(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.delenv("RANK", raising=False)
    assert setup_distributed(torch.device("cpu")) is False
    assert not is_distributed() and not torch.distributed.is_initialized()
    assert (rank(), world_size(), is_main_process()) == (0, 1, True)
    assert all_reduce_sums({"loss": torch.tensor(2.5), "count": 3}) == {"loss": 2.5, "count": 3.0}
    assert broadcast_object({"a": 1}) == {"a": 1}
    assert all_gather_objects("x") == ["x"]
    barrier()


def test_world_size_one_in_the_environment_is_not_distributed(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert setup_distributed("cpu") is False
    assert not torch.distributed.is_initialized()


@pytest.mark.slow  # the shared 2-process fixture takes ~20 s on 2 cores
def test_two_processes_with_batch_b_take_the_step_of_one_process_with_batch_2b(ddp_runs):
    ranks = load_ranks(ddp_runs["step"])
    single = Trainer(make_model(dropout=0.0), mse_loss, make_dataset(2 * B),
                     config(**{k: v for k, v in STEP_SETTINGS.items() if k not in ("num_items", "dropout")},
                            batch_size=2 * B))
    history = single.fit()
    assert single.step == 1 and all(r["history"][0]["step"] == 1 for r in ranks)
    assert all(r["seen"]["distributed_in_fit"] and r["seen"]["world_size"] == 2 for r in ranks)
    assert not any(r["seen"]["distributed_after_fit"] for r in ranks)  # the Trainer cleans up its group
    expected = parameters(single.model)
    assert not torch.allclose(expected["0.weight"], parameters(make_model(dropout=0.0))["0.weight"])
    for result in ranks:
        for name, value in expected.items():
            torch.testing.assert_close(result["parameters"][name], value, rtol=0, atol=1e-6)
        assert abs(result["history"][0]["train_loss"] - history[0]["train_loss"]) < 1e-6


@pytest.mark.slow  # the shared 2-process fixture takes ~20 s on 2 cores
def test_uneven_data_finishes_and_only_rank_0_writes(ddp_runs):
    results = ddp_runs["uneven"]
    ranks = load_ranks(results)
    assert [record["step"] for record in ranks[0]["history"]] == [2, 4]
    assert_same_parameters(ranks[0]["parameters"], ranks[1]["parameters"])
    assert without_seconds(ranks[0]["history"]) == without_seconds(ranks[1]["history"])
    eval_y = torch.cat([item.y for item in make_dataset(3, seed=1)]).double()
    for record in ranks[0]["history"]:
        assert abs(record["y_mean"] - eval_y.mean().item()) < 1e-6  # every eval item once, no padding
        assert record["evaluated_on"] == 0.0  # evaluate_fn ran on rank 0 and its result reached rank 1
    assert (results / "saves_rank0.txt").read_text().count("checkpoint.pt") == 2
    assert not (results / "saves_rank1.txt").exists()
    run = results.parent / "uneven_run"
    checkpoint = load_checkpoint(run / "checkpoint.pt")
    assert checkpoint["epoch"] == 2 and checkpoint["world_size"] == 2 and len(checkpoint["rng"]) == 2
    assert_same_parameters(checkpoint["model"], ranks[0]["parameters"])
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 2


@pytest.mark.slow  # the shared 2-process fixture takes ~20 s on 2 cores
def test_resumed_two_process_run_matches_an_uninterrupted_one(ddp_runs):
    for full, resumed in zip(load_ranks(ddp_runs["full"]), load_ranks(ddp_runs["part2"])):
        assert_same_parameters(full["parameters"], resumed["parameters"])
        assert without_seconds(full["history"]) == without_seconds(resumed["history"])
