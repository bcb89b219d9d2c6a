"""Datasets and seeded generators: each returns graphs built with :mod:`graphrnn.data`."""
from graphrnn.datasets.digits import digit_sequences, split_digit_sequences
from graphrnn.datasets.hmm import sample_hmm_dataset, sequence_labelling_hmm
from graphrnn.datasets.memory import remember_first_dataset

__all__ = [
    "digit_sequences",
    "split_digit_sequences",
    "remember_first_dataset",
    "sample_hmm_dataset",
    "sequence_labelling_hmm",
]
