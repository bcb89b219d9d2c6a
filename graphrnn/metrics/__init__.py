"""Metrics and rewards: BLEU, ROUGE-n, tree retrieval."""
