"""Training: the :class:`Trainer` every example uses, checkpoints, distributed helpers.

>>> from graphrnn.training import Trainer, TrainConfig
>>> history = Trainer(model, loss_fn, train_data, TrainConfig(epochs=10, out="runs/x")).fit()  # doctest: +SKIP
"""
from .bptt import ChainRNNStep, truncated_bptt
from .checkpoint import (
    CHECKPOINT_FORMAT,
    CHECKPOINT_VERSION,
    CheckpointError,
    check_weights_only,
    load_checkpoint,
    load_model_state,
    non_finite_entries,
    save_checkpoint,
)
from .config import TrainConfig
from .device import batch_size_of, move_to, resolve_device
from .distributed import (
    all_gather_objects,
    all_reduce_sums,
    barrier,
    broadcast_object,
    cleanup_distributed,
    is_distributed,
    is_main_process,
    launched_distributed,
    local_rank,
    rank,
    setup_distributed,
    world_size,
)
from .optim import build_optimizer, build_scheduler
from .seeding import epoch_generator, get_rng_state, seed_everything, set_rng_state
from .sequence_level import (
    AnnealedProbability,
    EndToEnd,
    Mixer,
    MixerSchedule,
    ScheduledSampling,
    SequenceObjective,
    Xent,
    mixed_loss,
    reinforce_terms,
    xent_loss,
)
from .trainer import (
    BEST_NAME,
    CHECKPOINT_NAME,
    METRICS_NAME,
    EarlyStopping,
    NonFiniteError,
    Trainer,
    TrainingInterrupted,
    default_loader,
)

__all__ = [
    "truncated_bptt",
    "xent_loss",
    "Xent",
    "ScheduledSampling",
    "EndToEnd",
    "AnnealedProbability",
    "mixed_loss",
    "reinforce_terms",
    "MixerSchedule",
    "Mixer",
    "SequenceObjective",
    "ChainRNNStep",
    "Trainer",
    "TrainConfig",
    "NonFiniteError",
    "TrainingInterrupted",
    "EarlyStopping",
    "default_loader",
    "CHECKPOINT_NAME",
    "BEST_NAME",
    "METRICS_NAME",
    "save_checkpoint",
    "load_checkpoint",
    "load_model_state",
    "check_weights_only",
    "non_finite_entries",
    "CheckpointError",
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
    "seed_everything",
    "epoch_generator",
    "get_rng_state",
    "set_rng_state",
    "resolve_device",
    "move_to",
    "batch_size_of",
    "build_optimizer",
    "build_scheduler",
    "is_distributed",
    "launched_distributed",
    "rank",
    "local_rank",
    "world_size",
    "is_main_process",
    "setup_distributed",
    "cleanup_distributed",
    "barrier",
    "all_reduce_sums",
    "broadcast_object",
    "all_gather_objects",
]
