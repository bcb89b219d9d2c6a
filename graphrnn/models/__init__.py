"""Task models built on the recurrent layers."""
from graphrnn.models.attention import Attention
from graphrnn.models.feedforward import FeedForward, chain_windows
from graphrnn.models.group_activity import UnaryMLP, group_activity_loss, group_activity_metrics
from graphrnn.models.seq2seq import Seq2Seq, Seq2SeqPair, seq2seq_pair, text_pair
from graphrnn.models.seq2tree import Seq2Tree, TreePair, tree_pair
from graphrnn.models.sequence import (
    NextStepPredictor,
    SequenceClassifier,
    SequenceEncoder,
    SequenceTagger,
    chain_ends,
)

__all__ = [
    "Attention",
    "SequenceEncoder",
    "SequenceClassifier",
    "SequenceTagger",
    "NextStepPredictor",
    "FeedForward",
    "chain_windows",
    "chain_ends",
    "Seq2Seq",
    "Seq2SeqPair",
    "seq2seq_pair",
    "text_pair",
    "UnaryMLP",
    "group_activity_loss",
    "group_activity_metrics",
    "Seq2Tree",
    "TreePair",
    "tree_pair",
]
