"""Metrics and rewards: BLEU, ROUGE-n, tree retrieval."""
from graphrnn.metrics.bleu import corpus_bleu, sentence_bleu, sentence_bleu_batch
from graphrnn.metrics.rouge import rouge_n, rouge_n_batch
from graphrnn.metrics.trees import tree_retrieval

__all__ = ["corpus_bleu", "rouge_n", "rouge_n_batch", "sentence_bleu", "sentence_bleu_batch", "tree_retrieval"]
