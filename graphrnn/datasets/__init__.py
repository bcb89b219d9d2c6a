"""Datasets and seeded generators: each returns graphs built with :mod:`graphrnn.data`."""
from graphrnn.datasets.aeslc import Email, read_aeslc
from graphrnn.datasets.collective import collective_activity_dataset, split_collective_activity
from graphrnn.datasets.digit_captions import digit_caption_dataset
from graphrnn.datasets.digits import digit_sequences, split_digit_sequences, split_digit_sequences_with_validation
from graphrnn.datasets.django import load_django, read_django
from graphrnn.datasets.hmm import sample_hmm_dataset, sequence_labelling_hmm
from graphrnn.datasets.memory import remember_first_dataset
from graphrnn.datasets.synthetic_trees import generate_dataset as generate_synthetic_trees
from graphrnn.datasets.synthetic_trees import read_dataset as read_tree_dataset
from graphrnn.datasets.synthetic_trees import write_dataset as write_tree_dataset
from graphrnn.datasets.translation import read_parallel
from graphrnn.datasets.volleyball import volleyball_scenes

__all__ = [
    "digit_sequences",
    "split_digit_sequences",
    "split_digit_sequences_with_validation",
    "remember_first_dataset",
    "sample_hmm_dataset",
    "sequence_labelling_hmm",
    "Email",
    "read_aeslc",
    "digit_caption_dataset",
    "read_parallel",
    "collective_activity_dataset",
    "split_collective_activity",
    "volleyball_scenes",
    "generate_synthetic_trees",
    "read_tree_dataset",
    "write_tree_dataset",
    "load_django",
    "read_django",
]
