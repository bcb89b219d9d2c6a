"""One process of 2-process gloo runs, started by test_distributed.py (not a test itself).

Usage: ``python ddp_worker.py SCENARIOS_JSON`` with MASTER_ADDR, RANK, WORLD_SIZE and
LOCAL_RANK in the environment. SCENARIOS_JSON is a list of settings dicts, run one
after the other (importing torch once costs more than a run), each with its own
``port``. Each rank writes ``rank<r>.pt`` (final parameters and history) into the
scenario's ``results`` directory.
"""
import json
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from training_testing import config, make_dataset, make_model, mse_loss, parameters  # noqa: E402

import graphrnn.training.trainer as trainer_module  # noqa: E402
from graphrnn.training import Trainer, is_distributed, rank, save_checkpoint, world_size  # noqa: E402


def record_saves(results: Path) -> None:
    """Logs every checkpoint write of this rank to ``saves_rank<r>.txt`` in ``results``."""

    def logged(path, checkpoint):
        with open(results / f"saves_rank{rank()}.txt", "a") as log:
            log.write(f"{path}\n")
        return save_checkpoint(path, checkpoint)

    trainer_module.save_checkpoint = logged


def eval_metrics(model, batch):
    return {"y_mean": batch.y.sum(), "count": batch.num_graphs}


def run(settings: dict) -> None:
    os.environ["MASTER_PORT"] = str(settings.pop("port"))
    results = Path(settings.pop("results"))
    results.mkdir(parents=True, exist_ok=True)
    record_saves(results)
    data = make_dataset(settings.pop("num_items"))
    eval_size = settings.pop("eval_items", None)
    model = make_model(dropout=settings.pop("dropout"))
    extra = {}
    if eval_size is not None:
        extra = dict(eval_data=make_dataset(eval_size, seed=1), metrics_fn=eval_metrics,
                     evaluate_fn=lambda m: {"evaluated_on": float(rank())})
    seen = {}

    def loss_fn(model, batch):
        seen.update(distributed_in_fit=is_distributed(), world_size=world_size())
        return mse_loss(model, batch)

    trainer = Trainer(model, loss_fn, data, config(**settings), **extra)
    history = trainer.fit()
    seen["distributed_after_fit"] = is_distributed()
    torch.save({"parameters": parameters(trainer.model), "history": history, "seen": seen,
                "optimizer": trainer.optimizer.state_dict()}, results / f"rank{rank()}.pt")


if __name__ == "__main__":
    for scenario in json.loads(sys.argv[1]):
        run(scenario)
