"""Held-out-style audit of graphrnn.metrics: inputs as users hold them (tensors, floats, other scripts).

Each test is one kind of input that used to be scored silently wrong, compared with a hand-computed
(or sacrebleu's) value, or checked for the error that now says what to do.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from graphrnn.metrics.bleu import corpus_bleu, sentence_bleu
from graphrnn.metrics.rouge import rouge_n
from graphrnn.metrics.standard import rouge2_text
from graphrnn.metrics.trees import tree_retrieval


# ----------------------------------------------------------------- 0-d tensor tokens (list(ids) gives them)
def test_bleu_and_rouge_read_0d_tensor_tokens_as_their_values():
    ids = torch.tensor([4, 5, 6, 7, 8])
    # tensors hash by identity: every n-gram used to count as wrong, BLEU 0 and ROUGE 0 for a perfect hypothesis
    assert corpus_bleu([list(ids)], [[4, 5, 6, 7, 8]]) == pytest.approx(100.0)
    assert sentence_bleu(list(ids), list(ids)) == pytest.approx(1.0)
    assert rouge_n(list(ids[:3]), [4, 5, 9], n=1) == pytest.approx({"recall": 2 / 3, "precision": 2 / 3,
                                                                       "f1": 2 / 3})
    with pytest.raises(TypeError, match=r"got a tensor of shape \(2,\); pass one token list"):
        corpus_bleu([[torch.tensor([1, 2])]], [[1, 2]])


# ----------------------------------------------------------------- tree retrieval
def test_tree_retrieval_reads_tensor_labels_as_values():
    labels = torch.tensor([3, 4, 4])
    parents = torch.tensor([-1, 0, 0])
    scores = tree_retrieval([(labels, parents)], [(torch.tensor([3, 4, 4]), [-1, 0, 0])])
    assert scores["node_f1"] == 1.0 and scores["edge_f1"] == 1.0  # used to be 0.0: no tensor label matched another
    scores = tree_retrieval([([torch.tensor(3), torch.tensor(4)], [-1, 0])], [([3, 5], [-1, 0])])
    assert scores["node_precision"] == 0.5 and scores["edge_precision"] == 0.0


@pytest.mark.parametrize("parent", [0.7, True, "0"])
def test_tree_retrieval_refuses_parents_that_are_not_whole_numbers(parent):
    with pytest.raises(ValueError, match=r"parent of node 1 is .*; parents are integer node indices"):
        tree_retrieval([(["ROOT", "a"], [-1, parent])], [(["ROOT", "a"], [-1, 0])])  # 0.7 was read as 0
    assert tree_retrieval([(["ROOT", "a"], [-1.0, 0.0])], [(["ROOT", "a"], np.array([-1, 0]))])["edge_f1"] == 1.0


def test_tree_retrieval_one_tree_instead_of_a_list_and_generators():
    tree = (["ROOT", "a", "b"], [-1, 0, 0])
    with pytest.raises(TypeError, match=r"preds looks like one tree \(labels, parents\), not a list of trees"):
        tree_retrieval(tree, [tree])
    assert tree_retrieval((t for t in [tree]), [tree])["node_f1"] == 1.0


def test_tree_retrieval_empty_and_single_node_trees():
    single = (["ROOT"], [-1])
    empty = ([], [])
    scores = tree_retrieval([single, empty, empty], [single, empty, single])
    # per tree (P, R): nodes (1, 1), (1, 1) as 0/0, (0, 0) for an empty prediction of a non-empty gold;
    # no edges anywhere: edges (1, 1) each
    assert scores["node_precision"] == pytest.approx(2 / 3) and scores["node_recall"] == pytest.approx(2 / 3)
    assert scores["edge_f1"] == 1.0


# ----------------------------------------------------------------- ROUGE on text in another script
def test_rouge2_text_refuses_references_rouge_score_would_drop():
    with pytest.raises(ValueError, match=r"9 of the 9 letters and digits of the references are not a-z or 0-9"):
        rouge2_text(["привет мир"], ["привет мир"])  # used to score 0.0 for a perfect hypothesis
    with pytest.raises(ValueError, match=r"8 of the 10 letters"):
        rouge2_text(["встреча в 10"], ["встреча в 10"])  # only '10' was scored
    assert rouge2_text(["Grüße aus Köln"], ["Grüße aus Köln"]) == 100.0  # mostly Latin: scored as rouge_score does
    assert rouge2_text(["a b c", "x"], ["a b c", "周五"]) == 50.0  # one such reference in a Latin corpus: scored


# ----------------------------------------------------------------- unsplit sentences inside token lists
def test_an_unsplit_reference_inside_a_list_is_refused_not_scored_zero():
    hyp = "the cat sat on the mat".split()
    # sacrebleu's layout (one list of reference strings) used to score 0.0: 'the cat sat on the mat' was one token
    refused = r"a reference is made of tokens of several words \('the cat sat on the mat'\)"
    with pytest.raises(ValueError, match=refused):
        corpus_bleu([hyp], [["the cat sat on the mat"]])
    with pytest.raises(ValueError, match=r"a hypothesis is made of tokens of several words"):
        rouge_n(["the cat sat"], hyp, n=1)
    assert corpus_bleu([hyp], [[hyp]]) == pytest.approx(100.0)  # several references, each split: fine


@pytest.mark.parametrize("batch", [torch.tensor([[5, 6, 0, 0], [5, 6, 7, 0]]), np.array([[5, 6, 0, 0], [5, 6, 7, 0]])])
def test_a_padded_batch_tensor_of_ids_is_refused(batch):
    refs = [[5, 6], [5, 6, 7]]
    # the pads were tokens: hypothesis '5 6 0 0' was scored as 4 tokens, its 0-grams matching nothing or each other
    with pytest.raises(TypeError, match=r"hyps is a .* of shape \(2, 4\): the padding of its rows would be scored"):
        corpus_bleu(batch, refs)
    with pytest.raises(TypeError, match=r"refs is a .* of shape \(2, 4\)"):
        corpus_bleu(refs, batch)
    assert corpus_bleu([row[row != 0].tolist() for row in torch.as_tensor(batch)], refs) == \
        corpus_bleu(refs, refs)


def test_tokens_that_hold_white_space_are_scored_as_tokens():
    # code tokens (Python's tokenize: '\n', indentation, string literals) and subwords (' cat') are tokens
    code = ["x", "=", "'hello world'", "\n", "    ", "return"]
    assert corpus_bleu([code], [[code]]) == pytest.approx(100.0)
    assert rouge_n([" the", " cat", " sat"], [" the", " cat", " sat"], n=2)["f1"] == pytest.approx(1.0)


def test_several_unsplit_references_in_one_list_are_refused():
    # NLTK's layout of several reference strings: read as one reference of two 'tokens', every score 0
    hyp = "the cat sat on the mat".split()
    with pytest.raises(ValueError, match=r"a reference is made of tokens of several words"):
        corpus_bleu([hyp], [["the cat sat on the mat", "a cat sat on a mat"]])
    with pytest.raises(ValueError, match=r"a reference is made of tokens of several words"):
        rouge_n(hyp, ["the cat sat", "a cat sat"], n=2)
