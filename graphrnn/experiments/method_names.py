r"""Method-name prediction on the Python standard library: tree vs sequence vs bag encoders.

Data: :mod:`graphrnn.datasets.python_ast` (functions of this Python's standard library, name
masked, split by module). Models: :class:`graphrnn.models.method_names.MethodNameModel` with a
Child-Sum Tree-LSTM, a pre-order LSTM or a bag-of-nodes encoder (node types + identifier
subtokens), and a bag of node types only; all with the same attention decoder. Trivial rows:
the most frequent training subtokens (how many chosen on validation) and the ceiling that the
target vocabulary allows. Metric: code2seq's subtoken precision / recall / F1 (micro over the
split), on greedy decodes. The epoch of each model is chosen on validation F1; test is read
once, with the chosen weights. Only training functions are capped in size (``max_train_nodes``
AST nodes); validation and test keep every function of their modules, and every test function
is predicted and scored (the encoders take whole trees, 1,583 nodes at most in Python 3.11).
"""
from __future__ import annotations

import contextlib
import copy
import random
import time
from collections import Counter
from typing import List, NamedTuple, Optional, Sequence, Tuple

import torch
from torch_geometric.data import Batch

from graphrnn.data.vocab import Vocab
from graphrnn.datasets.python_ast import (
    NAME_TOKEN,
    FunctionExample,
    python_version,
    read_python_functions,
    split_by_module,
)
from graphrnn.decoding import greedy
from graphrnn.models.method_names import MethodNameModel, count_parameters, method_example

__all__ = ["Vocabularies", "build_vocabularies", "encode_examples", "subtoken_scores", "train_and_select",
           "frequency_baseline", "vocabulary_ceiling", "run", "results_table", "describe", "section", "MODELS"]

#: (row name, encoder, embed identifier subtokens)
MODELS = (("tree (Child-Sum Tree-LSTM)", "tree", True), ("sequence (pre-order LSTM)", "sequence", True),
          ("bag of nodes (types + identifiers)", "bag", True), ("bag of node types", "bag", False))
MAX_TOKENS_PER_NODE = 5


class Vocabularies(NamedTuple):
    node_types: Vocab
    subtokens: Vocab
    targets: Vocab


class Scores(NamedTuple):
    precision: float
    recall: float
    f1: float


def build_vocabularies(train: Sequence[FunctionExample], min_count: int = 2) -> Vocabularies:
    """Node types (all seen in training) and one subtoken vocabulary for identifiers and names:
    the subtokens seen ``min_count`` times in training identifiers and names together, plus
    ``<name>`` (``subtokens`` and ``targets`` are the same :class:`Vocab`)."""
    types = Vocab.build([e.node_types for e in train])
    sentences = [[t for tokens in e.node_tokens for t in tokens] + e.target for e in train]
    subtokens = Vocab.build(sentences, min_count=min_count)
    if NAME_TOKEN not in subtokens.stoi:
        subtokens = Vocab(subtokens.itos[4:] + [NAME_TOKEN])
    return Vocabularies(types, subtokens, subtokens)


def encode_examples(examples: Sequence[FunctionExample], vocabs: Vocabularies) -> list:
    """The graphs of :func:`~graphrnn.models.method_names.method_example` (unknown ids -> ``<unk>``)."""
    graphs = []
    for example in examples:
        tokens = torch.zeros(len(example.node_types), MAX_TOKENS_PER_NODE, dtype=torch.long)
        for node, names in enumerate(example.node_tokens):
            ids = vocabs.subtokens.encode(names[:MAX_TOKENS_PER_NODE])
            tokens[node, :ids.numel()] = ids
        graphs.append(method_example(vocabs.node_types.encode(example.node_types), tokens, example.parents,
                                     vocabs.targets.encode(example.target, eos=True)))
    return graphs


def subtoken_scores(predictions: Sequence[Sequence[str]], golds: Sequence[Sequence[str]]) -> Scores:
    """code2seq's metric, micro-averaged: a predicted subtoken is a true positive if the gold name
    has it, else a false positive; a gold subtoken not predicted is a false negative.

    Raises:
        ValueError: if the two lists differ in length.
    """
    if len(predictions) != len(golds):
        raise ValueError(f"one prediction per gold name is needed, got {len(predictions)} and {len(golds)}")
    tp = fp = fn = 0
    for predicted, gold in zip(predictions, golds):
        for token in predicted:
            tp, fp = (tp + 1, fp) if token in gold else (tp, fp + 1)
        fn += sum(token not in predicted for token in gold)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision, recall, f1)


def bucketed_batches(graphs: list, batch_size: int, generator: Optional[torch.Generator] = None,
                     pool: int = 20) -> List[Tuple[Batch, List[int]]]:
    """Batches of graphs of similar size (little padding in the attention memory).

    With a ``generator`` the graphs are shuffled, sorted by size inside pools of
    ``pool * batch_size``, cut into batches, and the batches shuffled; without one the whole
    list is sorted by size. Returns the batches and, for each, the indices of its graphs.
    """
    if generator is None:
        order = sorted(range(len(graphs)), key=lambda i: graphs[i].num_nodes)
    else:
        shuffled = torch.randperm(len(graphs), generator=generator).tolist()
        width = pool * batch_size
        order = [i for s in range(0, len(shuffled), width)
                 for i in sorted(shuffled[s:s + width], key=lambda i: graphs[i].num_nodes)]
    chunks = [order[s:s + batch_size] for s in range(0, len(order), batch_size)]
    if generator is not None:
        chunks = [chunks[i] for i in torch.randperm(len(chunks), generator=generator).tolist()]
    return [(Batch.from_data_list([graphs[i] for i in chunk]), chunk) for chunk in chunks]


@contextlib.contextmanager
def torch_threads(count: Optional[int]):
    """Runs the block with ``count`` intra-op threads (the small per-level steps of a recurrent
    pass run faster on one thread than on several contended ones), then restores the setting."""
    previous = torch.get_num_threads()
    if count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@torch.no_grad()
def predict(model: MethodNameModel, graphs: list, vocab: Vocab, max_len: int = 8,
            batch_size: int = 256) -> List[List[str]]:
    """Greedy names (subtokens) of ``graphs``, in their order; ``<unk>`` is never emitted."""
    model.eval()
    names: List[List[str]] = [[] for _ in graphs]

    def step(tokens, state):
        log_probs, state = model.step(tokens, state)
        return log_probs.index_fill(1, torch.tensor([Vocab.unk]), float("-inf")), state

    for batch, indices in bucketed_batches(graphs, batch_size):
        decoded = greedy(step, model.encode(batch), Vocab.bos, Vocab.eos, max_len)
        for index, (tokens, _) in zip(indices, decoded):
            names[index] = vocab.decode(tokens)
    return names


def train_and_select(model: MethodNameModel, train: list, val: list, val_names: List[List[str]], vocab: Vocab,
                     epochs: int, seed: int, lr: float = 3e-3, batch_size: int = 32,
                     log=None) -> Tuple[MethodNameModel, List[dict], float]:
    """Trains with Adam on teacher-forced cross-entropy, scores validation F1 after every epoch
    and returns the weights of the best epoch, the history and the training seconds (not
    counting validation)."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    best, history, seconds = None, [], 0.0
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        model.train()
        total, count = 0.0, 0
        for batch, _ in bucketed_batches(train, batch_size, generator):
            loss = torch.nn.functional.cross_entropy(model(batch), batch.tgt)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            total, count = total + loss.item() * batch.num_graphs, count + batch.num_graphs
        seconds += time.perf_counter() - start
        scores = subtoken_scores(predict(model, val, vocab), val_names)
        history.append({"epoch": epoch, "train_loss": total / count, "val_f1": scores.f1})
        if log:
            log(f"  epoch {epoch}: loss {total / count:.3f}, val F1 {scores.f1:.3f}")
        if best is None or scores.f1 > best[0]:
            best = (scores.f1, epoch, copy.deepcopy(model.state_dict()))
    model.load_state_dict(best[2])
    return model, history, seconds


def frequency_baseline(train: Sequence[FunctionExample], val_names, test_names) -> Tuple[Scores, int]:
    """Predicts the ``k`` most frequent training subtokens for every function, ``k`` chosen on validation."""
    ranked = [t for t, _ in Counter(t for e in train for t in e.target).most_common(3)]
    best_k = max(range(1, 4), key=lambda k: subtoken_scores([ranked[:k]] * len(val_names), val_names).f1)
    return subtoken_scores([ranked[:best_k]] * len(test_names), test_names), best_k


def vocabulary_ceiling(test_names: List[List[str]], vocab: Vocab) -> Scores:
    """The best any model here can do: the gold subtokens that the target vocabulary holds."""
    return subtoken_scores([[t for t in gold if t in vocab.stoi] for gold in test_names], test_names)


def run(quick: bool = False, seed: int = 0, root=None, epochs: Optional[int] = None, hidden: int = 64,
        train_limit: Optional[int] = None, max_train_nodes: Optional[int] = 150, models=MODELS,
        threads: Optional[int] = 1, dropout: float = 0.3, lr: float = 3e-3, log=print) -> dict:
    """Reads the corpus, trains every model, and scores the chosen epochs on test (with ``threads``
    intra-op threads; ``None`` keeps torch's setting).

    Training functions with more than ``max_train_nodes`` AST nodes are left out (``None``: no
    cap); validation and test are never filtered by size."""
    with torch_threads(threads):
        return _run(quick, seed, root, epochs, hidden, train_limit, max_train_nodes, models, dropout, lr, log)


def _run(quick, seed, root, epochs, hidden, train_limit, max_train_nodes, models, dropout, lr, log) -> dict:
    start = time.perf_counter()
    examples, report = read_python_functions(root)
    train, val, test = split_by_module(examples, seed=seed, max_train_nodes=max_train_nodes)
    over_cap = len(examples) - len(train) - len(val) - len(test)
    sample = random.Random(seed)
    if quick:
        train, val, test = (sample.sample(part, min(len(part), size)) for part, size in
                            ((train, 2000), (val, 300), (test, 400)))
    if train_limit and train_limit < len(train):
        train = sample.sample(train, train_limit)
    epochs = epochs or (3 if quick else 4)
    vocabs = build_vocabularies(train)
    graphs = [encode_examples(split, vocabs) for split in (train, val, test)]
    val_names, test_names = [e.target for e in val], [e.target for e in test]
    log(f"[method_names] {len(train)} / {len(val)} / {len(test)} functions ({over_cap} training functions over "
        f"{max_train_nodes} nodes left out; largest val / test tree {largest_tree(val)} / {largest_tree(test)} "
        f"nodes), {len(vocabs.targets)} name subtokens, read in {time.perf_counter() - start:.1f} s")
    frequency, k = frequency_baseline(train, val_names, test_names)
    rows = [{"model": f"most frequent {k} subtoken(s)", "parameters": 0, "train_seconds": 0.0,
             "best_epoch": None, **frequency._asdict()}]
    for name, encoder, identifiers in models:
        torch.manual_seed(seed)
        model = MethodNameModel(encoder, len(vocabs.node_types), len(vocabs.subtokens), len(vocabs.targets),
                                hidden_channels=hidden, identifiers=identifiers, tie_subtokens=identifiers,
                                dropout=dropout)
        log(f"[method_names] {name}: {count_parameters(model):,} parameters")
        model, history, seconds = train_and_select(model, graphs[0], graphs[1], val_names, vocabs.targets,
                                                   epochs, seed, lr=lr, log=log)
        scores = subtoken_scores(predict(model, graphs[2], vocabs.targets), test_names)
        best_epoch = max(history, key=lambda h: h["val_f1"])["epoch"]
        rows.append({"model": name, "parameters": count_parameters(model), "train_seconds": seconds,
                     "best_epoch": best_epoch, "val_f1": max(h["val_f1"] for h in history),
                     "history": history, **scores._asdict()})
    ceiling = vocabulary_ceiling(test_names, vocabs.targets)
    rows.append({"model": "ceiling: gold subtokens in the target vocabulary", "parameters": 0,
                 "train_seconds": 0.0, "best_epoch": None, **ceiling._asdict()})
    return {"rows": rows, "python": python_version(), "counts": [len(train), len(val), len(test)],
            "skipped": report.skipped, "files": report.files, "max_train_nodes": max_train_nodes,
            "train_over_cap": over_cap, "largest_tree": [largest_tree(part) for part in (train, val, test)],
            "epochs": epochs, "hidden": hidden,
            "target_vocab": len(vocabs.targets), "subtoken_vocab": len(vocabs.subtokens),
            "node_types": len(vocabs.node_types), "seed": seed, "quick": quick}


def largest_tree(examples: Sequence[FunctionExample]) -> int:
    """The most AST nodes of one function in ``examples`` (0 if empty)."""
    return max((len(e.node_types) for e in examples), default=0)


def results_table(result: dict) -> str:
    """Markdown table of the test scores (percent), parameter counts and train times."""
    lines = ["| model | test precision | test recall | test F1 | val F1 (chosen epoch) | parameters | train time |",
             "|---|---|---|---|---|---|---|"]
    for row in result["rows"]:
        chosen = f"{100 * row['val_f1']:.1f} (epoch {row['best_epoch']})" if row.get("best_epoch") else "-"
        time_text = f"{row['train_seconds']:.0f} s" if row["train_seconds"] else "-"
        params = f"{row['parameters']:,}" if row["parameters"] else "-"
        lines.append(f"| {row['model']} | {100 * row['precision']:.1f} | {100 * row['recall']:.1f} | "
                     f"{100 * row['f1']:.1f} | {chosen} | {params} | {time_text} |")
    return "\n".join(lines)


def describe(result: dict) -> str:
    train, val, test = result["counts"]
    cap = result["max_train_nodes"]
    sampled = " of the full training split, before sampling" if result["quick"] else ""
    capped = (f"training functions over {cap} AST nodes left out ({result['train_over_cap']:,}{sampled})"
              if cap is not None else "no size cap")
    return (f"Functions of the Python {result['python']} standard library, name masked, split by module "
            f"(seed {result['seed']}): {train:,} train / {val:,} validation / {test:,} test; {capped}, "
            f"validation and test unfiltered (largest test tree {result['largest_tree'][2]:,} nodes, every "
            f"test function scored); each model's epoch chosen on validation F1, test read once; "
            f"{result['target_vocab']:,} name subtokens, hidden {result['hidden']}, {result['epochs']} epochs, "
            f"greedy decoding; scores in percent.")


def section(quick: bool, seed: int):
    """The ``graphrnn reproduce`` section."""
    from graphrnn.reproduce import Section

    result = run(quick=quick, seed=seed, log=lambda message: None)
    data = {k: v for k, v in result.items()}
    return Section("Method names from Python ASTs (code2seq's task)",
                   describe(result) + "\n\n" + results_table(result), data)
