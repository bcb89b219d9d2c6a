"""Metrics and rewards: BLEU, ROUGE-n, tree retrieval, and sacrebleu / ROUGE-2 on raw text."""
from graphrnn.metrics.bleu import corpus_bleu, sentence_bleu, sentence_bleu_batch
from graphrnn.metrics.rouge import rouge_n, rouge_n_batch
from graphrnn.metrics.standard import UNK_MARK, detokenize, hypothesis_text, rouge2_text, sacrebleu_corpus
from graphrnn.metrics.trees import tree_retrieval

__all__ = ["corpus_bleu", "rouge_n", "rouge_n_batch", "sentence_bleu", "sentence_bleu_batch", "tree_retrieval",
           "UNK_MARK", "detokenize", "hypothesis_text", "rouge2_text", "sacrebleu_corpus"]
