"""Task models built on the recurrent layers."""
from graphrnn.models.feedforward import FeedForward, chain_windows
from graphrnn.models.sequence import (
    NextStepPredictor,
    SequenceClassifier,
    SequenceEncoder,
    SequenceTagger,
    chain_ends,
)

__all__ = [
    "SequenceEncoder",
    "SequenceClassifier",
    "SequenceTagger",
    "NextStepPredictor",
    "FeedForward",
    "chain_windows",
    "chain_ends",
]
