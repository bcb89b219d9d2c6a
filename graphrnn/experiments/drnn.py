"""Tree recovery with a doubly-recurrent decoder (Alvarez-Melis & Jaakkola, 2017, Sec. 5.1).

An RNN encoder reads the depth-first pre-order string of a tree's letters; a DRNN-LSTM
decoder rebuilds the tree. Scores are node and edge retrieval (precision, recall, F1)
on the test split, leaving out the constant ``ROOT`` node and its edges, with edges both
as (parent, child) pairs and by parent label only (the authors' evaluation); the epoch is
the one with the best dev edge F1. Every table has the flat and chain rules beside the
model, and on synthetic data the Bayes-optimal tree (:mod:`graphrnn.experiments.tree_rules`).
Data: any directory in the authors' layout (``--data``), or the seeded synthetic generator
(``grammar="released"``, the statistics of the authors' data, or ``"deep"``).
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import torch

from graphrnn.bench import markdown_table
from graphrnn.data import DataLoader
from graphrnn.data.vocab import UNK, Vocab
from graphrnn.datasets.synthetic_trees import (
    GRAMMARS,
    ROOT,
    TreeExample,
    dataset_grammar,
    generate_dataset,
    write_dataset,
)
from graphrnn.datasets.tree_tsv import load_tree_data
from graphrnn.experiments.common import run_directory
from graphrnn.experiments.tree_rules import reference_rows, retrieval_rows, score_predictions
from graphrnn.inference import seq2tree_inference_state
from graphrnn.models.seq2tree import Seq2Tree, tree_pair
from graphrnn.training import TrainConfig, Trainer

__all__ = ["Caps", "decoding_caps", "vocabularies", "pairs", "decode_trees", "retrieval", "train_seq2tree",
           "run", "references", "over_seeds", "seeds_table", "f1_vs_size", "results_table", "size_table",
           "plot_f1_vs_size",
           "section", "add_arguments", "run_task", "score_trees", "run_django", "train_linearised_baseline",
           "django_baselines", "django_ceiling", "django_table"]

METRIC_KEYS = ("node_precision", "node_recall", "node_f1", "edge_precision", "edge_recall", "edge_f1",
               "edge_parent_precision", "edge_parent_recall", "edge_parent_f1")
#: Column names of the two edge definitions (see :mod:`graphrnn.metrics.trees`).
EDGE_PAIR, EDGE_PARENT = "edge F1 % (parent, child)", "edge F1 % (parent label only, authors' eval)"


class Caps(NamedTuple):
    """Decoding caps, read off the training trees by :func:`decoding_caps`."""

    max_depth: int
    max_children: int
    max_nodes: int


def decoding_caps(examples: Sequence[TreeExample], slack_nodes: int = 2) -> Caps:
    """The deepest and widest training tree, and ``slack_nodes`` times the largest one's size."""
    depth = children = nodes = 0
    for e in examples:
        d: List[int] = []
        for p in e.parents:
            d.append(0 if p < 0 else d[p] + 1)
        depth = max(depth, max(d))
        children = max(children, max(e.parents.count(v) for v in range(len(e.parents))))
        nodes = max(nodes, len(e.labels))
    return Caps(depth, children, nodes * slack_nodes)


def vocabularies(train: Sequence[TreeExample], min_count: int = 1) -> Tuple[Vocab, Vocab]:
    """(source vocabulary, label vocabulary) of the training examples; rarer labels become ``<unk>``."""
    return Vocab.build((e.source for e in train), min_count=min_count), \
        Vocab.build((e.labels for e in train), min_count=min_count)


def pairs(examples: Sequence[TreeExample], source_vocab: Vocab, label_vocab: Vocab) -> list:
    """One :class:`~graphrnn.models.seq2tree.TreePair` per example (unknown tokens -> ``<unk>``)."""
    return [tree_pair(source_vocab.encode(e.source or [ROOT]), label_vocab.encode(e.labels), e.parents,
                      num_labels=len(label_vocab)) for e in examples]


def decode_trees(model: Seq2Tree, data: Sequence, label_vocab: Vocab, caps: Caps, root: Optional[str] = ROOT,
                 batch_size: int = 500) -> List[Tuple[List[str], List[int]]]:
    """Greedy trees for every pair of ``data`` (labels as strings), batched; the root is fixed to ``root``."""
    model.eval()
    device = next(model.parameters()).device
    root_label = None if root is None else label_vocab.stoi[root]
    out = []
    for batch in DataLoader(list(data), batch_size=batch_size):
        trees = model.generate(batch.to(device), caps.max_depth, caps.max_children, max_nodes=caps.max_nodes,
                               root_label=root_label)
        out += [([label_vocab.itos[i] for i in labels], parents) for labels, parents in trees]
    return out


def score_trees(predicted: Sequence[Tuple[List[str], List[int]]], examples: Sequence,
                skip_root: bool = True) -> Dict[str, float]:
    """Node/edge precision, recall and F1 (in %, edges both as (parent, child) pairs and by parent
    label only), and exact match (%) of the source code when the examples carry ``code`` (a tree
    that does not turn back into code never matches)."""
    scores = score_predictions(predicted, examples, skip_root=skip_root)
    if examples and hasattr(examples[0], "code"):
        from graphrnn.datasets.django import tree_to_code

        scores["exact_match"] = 100.0 * sum(_code_or_none(tree_to_code, t) == e.code
                                            for t, e in zip(predicted, examples)) / len(examples)
    return scores


def _code_or_none(convert, tree) -> Optional[str]:
    try:
        return convert(*tree)
    except (ValueError, RecursionError):
        return None


def retrieval(model: Seq2Tree, data: Sequence, examples: Sequence[TreeExample], label_vocab: Vocab,
              caps: Caps, root: Optional[str] = ROOT) -> Dict[str, float]:
    """:func:`score_trees` of the greedy trees; without the fixed ``root`` node when there is one."""
    return score_trees(decode_trees(model, data, label_vocab, caps, root), examples, skip_root=root is not None)


def train_seq2tree(splits: Dict[str, List[TreeExample]], epochs: int = 30, hidden: int = 128, seed: int = 0,
                   out: Optional[Path] = None, resume: bool = False, device: str = "auto", progress: bool = False,
                   batch_size: int = 32, lr: float = 2e-3, root: Optional[str] = ROOT,
                   min_count: int = 1, dropout: float = 0.0, weight_decay: float = 0.0,
                   attention: Optional[str] = None) -> Dict[str, object]:
    """Trains a :class:`Seq2Tree` on ``splits["train"]`` with the Trainer (dev F1 every epoch)
    and scores the epoch with the best dev edge F1 on ``splits["test"]``. ``root``: the fixed root label (``None``
    when the root is predicted too, and then scored). Without ``out`` the run's files go to a
    temporary directory (the best epoch is read back from its ``best.pt``)."""
    resume = resume and out is not None
    with run_directory(out) as out:
        source_vocab, label_vocab = vocabularies(splits["train"], min_count)
        caps = decoding_caps(splits["train"])
        train, dev, test = (pairs(splits[name], source_vocab, label_vocab) for name in ("train", "dev", "test"))
        torch.manual_seed(seed)
        model = Seq2Tree(len(source_vocab), len(label_vocab), hidden, cell="lstm", dropout=dropout, attention=attention)
        config = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, lr_schedule="cosine", lr_min=lr / 20,
                             optimizer="adamw" if weight_decay else "adam", weight_decay=weight_decay,
                             grad_clip=5.0, monitor="dev_edge_f1", mode="max", seed=seed, device=device, out=out,
                             resume=resume, progress=progress)

        def dev_scores(model_):
            scores = retrieval(model_, dev, splits["dev"], label_vocab, caps, root)
            return {f"dev_{k}": v for k, v in scores.items() if k.endswith("f1")}

        trainer = Trainer(model, lambda m, b: m.loss(b), train, config, evaluate_fn=dev_scores,
                          extra_state={"task": "drnn", "hidden": hidden, "attention": attention,
                                       "source_vocab": source_vocab.to_list(), "label_vocab": label_vocab.to_list(),
                                       "inference": seq2tree_inference_state(source_vocab, label_vocab, caps, root,
                                                                             hidden=hidden, dropout=dropout,
                                                                             attention=attention)})
        start = time.perf_counter()
        history = trainer.fit()
        seconds = time.perf_counter() - start
        trainer.load_best()
        test_scores = retrieval(model, test, splits["test"], label_vocab, caps, root)
        return {"model_name": "DRNN" if attention is None else f"DRNN + {attention} attention", "attention": attention,
                "seed": seed, "train_trees": len(train), "test_trees": len(test), "epochs": len(history),
                "best_epoch": trainer.early_stopping.best_epoch, "hidden": hidden, "dropout": dropout,
                "weight_decay": weight_decay, "seconds": seconds, "caps": list(caps), "labels": len(label_vocab),
                **test_scores,
                "best_dev_edge_f1": max(h["dev_edge_f1"] for h in history),
                "dev_edge_f1_by_epoch": [h["dev_edge_f1"] for h in history], "model": model}


def _splits(data: Optional[Path], seed: int, train_size: Optional[int] = None, grammar: str = "released",
            log: Callable[[str], None] = print) -> Dict[str, List[TreeExample]]:
    splits = load_tree_data(data, seed, log=log) if data is not None else generate_dataset(seed, grammar=grammar)
    if train_size is not None:
        splits = {**splits, "train": splits["train"][:train_size]}
    return splits


def run(data: Optional[Path] = None, seed: int = 0, train_size: Optional[int] = None, grammar: str = "released",
        **settings) -> Dict[str, object]:
    """Trains and scores one model on ``data`` (or the seeded synthetic set of preset ``grammar``);
    returns its result row."""
    row = train_seq2tree(_splits(data, seed, train_size, grammar), seed=seed, **settings)
    row.pop("model")
    return {**row, "grammar": "data" if data is not None else grammar}


def references(data: Optional[Path] = None, seed: int = 0, grammar: str = "released") -> List[Dict[str, object]]:
    """The flat and chain rules on the test split of ``data`` (or of the seeded synthetic set), and
    the Bayes-optimal tree when the set is synthetic (its grammar is known), as result rows."""
    test = _splits(data, seed, grammar=grammar, log=lambda message: None)["test"]  # the same seeded cut, said once
    known = dataset_grammar(seed, grammar) if data is None else None
    return [{**row, "seed": seed, "grammar": "data" if data is not None else grammar, "best_epoch": "-"}
            for row in reference_rows(test, known)]


def f1_vs_size(sizes: Sequence[int], data: Optional[Path] = None, seed: int = 0, grammar: str = "released",
               **settings) -> List[Dict[str, object]]:
    """Test F1 after training on the first ``n`` training trees, for every ``n`` in ``sizes`` (the paper's Fig. 3)."""
    splits = _splits(data, seed, grammar=grammar)
    rows = []
    for size in sizes:
        row = train_seq2tree({**splits, "train": splits["train"][:size]}, seed=seed, **settings)
        row.pop("model")
        rows.append(row)
    return rows


def over_seeds(seeds: Sequence[int], data: Optional[Path] = None, grammar: str = "released",
               with_references: bool = True, **settings) -> List[Dict[str, object]]:
    """One :func:`run` per seed, and (``with_references``) the :func:`references` rows of that seed.
    Without ``data`` each seed also draws a new synthetic set, i.e. a new grammar (the generator's
    random draws), so the spread covers both the task and the training."""
    rows = []
    for seed in seeds:
        rows.append(run(data, seed=seed, grammar=grammar, **settings))
        rows += references(data, seed, grammar) if with_references else []
    return rows


def seeds_table(rows: Sequence[Dict[str, object]]) -> str:
    """Test node / edge F1 (%) per model (and reference row) and seed, with each one's mean and range;
    models are tested at the epoch of best dev edge F1."""
    lines = []
    kinds = ("node", "edge", "edge_parent")
    for name in dict.fromkeys(r["model_name"] for r in rows):
        mine = [r for r in rows if r["model_name"] == name]
        lines += [[name, r["seed"], *(f"{r[f'{kind}_f1']:.1f}" for kind in kinds), r["best_epoch"]] for r in mine]
        seeds = [r["seed"] for r in mine]
        lines.append([f"**{name}, mean of {len(mine)}**", f"{min(seeds)}-{max(seeds)}",
                      *(_mean_and_range([r[f"{kind}_f1"] for r in mine]) for kind in kinds), ""])
    return markdown_table(["model", "seed", "node F1 %", EDGE_PAIR, EDGE_PARENT, "epoch (chosen on dev)"], lines)


def _mean_and_range(values: Sequence[float]) -> str:
    return f"**{sum(values) / len(values):.1f}** ({min(values):.1f}-{max(values):.1f})"


def results_table(rows: Union[Dict[str, object], Sequence[Dict[str, object]]]) -> str:
    """Test retrieval (%) of one row or a list of rows (models, tested at the epoch of best dev edge
    F1, and :func:`references`): node F1, edge precision / recall / F1 as (parent, child) pairs,
    edge F1 by parent label only."""
    rows = [rows] if isinstance(rows, dict) else list(rows)
    lines = [[r["model_name"], f"{r['node_f1']:.1f}", f"{r['edge_precision']:.1f}", f"{r['edge_recall']:.1f}",
              f"{r['edge_f1']:.1f}", f"{r['edge_parent_f1']:.1f}", r.get("best_epoch", "-")] for r in rows]
    return markdown_table(["model", "node F1 %", "edge P %", "edge R %", EDGE_PAIR, EDGE_PARENT,
                           "epoch (chosen on dev)"], lines)


def size_table(rows: Sequence[Dict[str, object]], reference: Sequence[Dict[str, object]] = ()) -> str:
    """Test node / edge F1 (%) of :func:`f1_vs_size`'s rows (each at its epoch of best dev edge F1), then the
    ``reference`` rows of the same test set (:func:`references`: the flat and chain rules, the Bayes-optimal
    tree), which do not depend on the training size."""
    lines = [[r["train_trees"], f"{r['node_f1']:.1f}", f"{r['edge_f1']:.1f}", r["epochs"], f"{r['seconds']:.0f}"]
             for r in rows]
    lines += [[r["model_name"], f"{r['node_f1']:.1f}", f"{r['edge_f1']:.1f}", "-", "-"] for r in reference]
    return markdown_table(["training trees", "node F1 %", "edge F1 %", "epochs", "seconds"], lines)


def plot_f1_vs_size(rows: Sequence[Dict[str, object]], path: Path) -> Path:
    """Node and edge F1 against the training-set size (log scale), saved to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["train_trees"] for r in rows]
    figure, axis = plt.subplots(figsize=(4.5, 3.2))
    for kind, marker in (("node", "o"), ("edge", "s")):
        axis.plot(sizes, [r[f"{kind}_f1"] for r in rows], marker=marker, label=f"{kind} F1")
    axis.set_xscale("log")
    axis.set_xticks(sizes)
    axis.set_xticklabels([str(n) for n in sizes])
    axis.minorticks_off()
    axis.set_xlabel("training trees")
    axis.set_ylabel("test F1 (%)")
    axis.set_title(f"{rows[0].get('model_name', 'DRNN')} tree recovery vs training size")
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def section(quick: bool, seed: int):
    """The DRNN section of ``graphrnn reproduce``: synthetic recovery on both grammars beside the flat
    and chain rules and the Bayes-optimal tree, F1 vs size (full), Django."""
    from graphrnn.reproduce import Section

    settings = dict(epochs=10, hidden=96) if quick else dict(epochs=30, hidden=128)
    text, data = [], {}
    for grammar in ("released", "deep"):
        models = [run(seed=seed, train_size=2000 if quick else None, grammar=grammar, **settings)]
        if not quick:
            models.append(run(seed=seed, grammar=grammar, attention="mlp", **settings))
        reference = references(seed=seed, grammar=grammar)
        text += [f"Synthetic trees, {grammar!r} grammar (seed {seed}): {models[0]['train_trees']} training trees, "
                 f"{models[0]['test_trees']} test trees; BiLSTM -> DRNN-LSTM, hidden {models[0]['hidden']}, "
                 f"{models[0]['epochs']} epochs, tested at the epoch of best dev edge F1 "
                 f"({models[0]['seconds']:.0f} s). Retrieval without the constant ROOT node.", "",
                 results_table(models + reference), ""]
        data[f"synthetic_{grammar}"] = {"models": models, "references": reference}
    if not quick:
        rows = f1_vs_size((250, 500, 1000, 2000), seed=seed, grammar="deep", **settings)
        rows.append(data["synthetic_deep"]["models"][0])
        text += ["F1 against training-set size (paper Fig. 3), deep grammar:", "",
                 size_table(rows, data["synthetic_deep"]["references"]), ""]
        data["f1_vs_size"] = rows
    text.append(_django_part(quick, seed, data))
    return Section("Tree decoding: DRNN (Alvarez-Melis & Jaakkola 2017)", "\n".join(text), data)


def _django_part(quick: bool, seed: int, data: dict) -> str:
    settings = dict(limits=(1000, 200, 200), epochs=2, hidden=64) if quick else \
        dict(limits=(5000, 300, None), epochs=4, hidden=128)
    try:
        result = run_django(seed=seed, **settings)
    except FileNotFoundError as error:
        data["django"] = {"skipped": str(error)}
        return f"Django NL -> AST: skipped ({error})."
    data["django"] = result
    return "Django NL -> AST (one line of Python as an AST; scores on the whole tree):\n\n" + django_table(result)


# ------------------------------------------------------------------ Django: DRNN vs a sequence baseline
def run_django(directory=None, limits=(None, None, None), sizes=None, max_train_nodes: int = 60, epochs: int = 4,
               hidden: int = 128, seed: int = 0, device: str = "auto", progress: bool = False,
               min_count: int = 3, attention: Optional[str] = None) -> Dict[str, object]:
    """DRNN against Seq2Seq over the linearised tree on Django (``$GRAPHRNN_DATA/django``): node/edge
    F1 and exact match of the code on the test split. Training trees above ``max_train_nodes`` nodes
    are left out (for speed); labels and words seen fewer than ``min_count`` times become ``<unk>``.
    ``attention`` (``"dot"``, ``"mlp"``) gives both decoders the same attention over the source. Beside
    them: the two retrieval baselines (:func:`django_baselines`) and the oracle (:func:`django_ceiling`)."""
    from graphrnn.datasets.django import SPLIT_SIZES, load_django

    splits, dropped = load_django(directory, sizes=sizes or SPLIT_SIZES, limits=limits)
    splits["train"] = [e for e in splits["train"] if len(e.labels) <= max_train_nodes]
    settings = dict(epochs=epochs, hidden=hidden, seed=seed, device=device, progress=progress, min_count=min_count,
                    attention=attention)
    drnn = train_seq2tree(splits, root=None, lr=2e-3, **settings)
    drnn.pop("model")
    baseline = train_linearised_baseline(splits, **settings)
    return {"rows": [drnn, baseline, *django_baselines(splits), django_ceiling(splits, min_count)],
            "dropped_lines": dropped,
            "max_train_nodes": max_train_nodes,
            **{f"{name}_examples": len(examples) for name, examples in splits.items()}}


def django_baselines(splits: Dict[str, list]) -> List[Dict[str, object]]:
    """The two baselines that do not learn (:func:`~graphrnn.experiments.tree_rules.retrieval_rows`:
    the most frequent training tree, and the tree of the training line sharing most words), on the
    test split, by :func:`score_trees` over the whole tree. They copy training labels verbatim (no
    ``<unk>``), so rare identifiers can match exactly."""
    rows = retrieval_rows(splits["train"], splits["test"], score=lambda trees, gold: score_trees(trees, gold, False))
    return [{**row, "train_trees": len(splits["train"]), "test_trees": len(splits["test"]), "epochs": "-",
             "best_epoch": "-"} for row in rows]


#: The row name of :func:`django_ceiling`.
DJANGO_CEILING = "oracle: the gold tree in the decoders' label vocabulary (rarer labels are <unk>)"


def django_ceiling(splits: Dict[str, list], min_count: int = 3) -> Dict[str, object]:
    """The oracle row of the Django table: every test tree exactly right, except that a label the
    decoders' vocabulary lacks (seen fewer than ``min_count`` times in ``splits["train"]``, the DRNN's
    :func:`vocabularies` and the linearised baseline's alike) can only be written as ``<unk>``, which
    never matches (and a tree holding it never turns back into the gold code). It is the best either
    decoder can score, an upper bound (it ignores the decoding caps), by the same :func:`score_trees`."""
    _, label_vocab = vocabularies(splits["train"], min_count)
    trees = [([label if label in label_vocab.stoi else UNK for label in e.labels], list(e.parents))
             for e in splits["test"]]
    return {"model_name": DJANGO_CEILING, "kind": "oracle", **score_trees(trees, splits["test"], skip_root=False),
            "train_trees": len(splits["train"]), "test_trees": len(splits["test"]), "epochs": "-",
            "best_epoch": "-", "seconds": 0.0}


def train_linearised_baseline(splits: Dict[str, list], epochs: int = 4, hidden: int = 128, seed: int = 0,
                              device: str = "auto", progress: bool = False, min_count: int = 3,
                              batch_size: int = 32, lr: float = 2e-3,
                              attention: Optional[str] = None) -> Dict[str, object]:
    """Seq2Seq (BiLSTM encoder, LSTM decoder, with the DRNN's ``attention`` or none) trained on the
    bracketed pre-order of the trees, decoded greedily and read back into trees. Like the DRNN it is
    tested at the epoch with the best dev edge F1 (decoded every epoch), read back from its ``best.pt``."""
    from graphrnn.datasets.django import linearise
    from graphrnn.models.seq2seq import Seq2Seq, seq2seq_pair

    train_targets = [linearise(e.labels, e.parents) for e in splits["train"]]
    source_vocab = Vocab.build((e.source for e in splits["train"]), min_count=min_count)
    target_vocab = Vocab.build(train_targets, min_count=min_count)
    train = [seq2seq_pair(source_vocab.encode(e.source), target_vocab.encode(t, eos=True))
             for e, t in zip(splits["train"], train_targets)]
    dev, test = ([seq2seq_pair(source_vocab.encode(e.source), torch.tensor([Vocab.eos])) for e in splits[name]]
                 for name in ("dev", "test"))
    max_len = max(len(t) for t in train_targets) + 10
    torch.manual_seed(seed)
    model = Seq2Seq(len(source_vocab), len(target_vocab), hidden, bidirectional=True, attention=attention)

    def dev_scores(model_):
        scores = score_trees(_decode_linearised(model_, dev, target_vocab, max_len), splits["dev"], skip_root=False)
        return {f"dev_{k}": v for k, v in scores.items() if k.endswith("f1")}

    with run_directory(None) as out:
        config = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, lr_schedule="cosine", lr_min=lr / 20,
                             grad_clip=5.0, monitor="dev_edge_f1", mode="max", seed=seed, device=device, out=out,
                             progress=progress)
        trainer = Trainer(model, lambda m, b: torch.nn.functional.cross_entropy(m(b), b.tgt), train, config,
                          evaluate_fn=dev_scores)
        start = time.perf_counter()
        history = trainer.fit()
        seconds = time.perf_counter() - start
        trainer.load_best()
    predicted = _decode_linearised(model, test, target_vocab, max_len)
    name = "Seq2Seq, linearised tree" + (f" + {attention} attention" if attention else "")
    return {"model_name": name, "attention": attention, "train_trees": len(train), "test_trees": len(test),
            "epochs": len(history), "best_epoch": trainer.early_stopping.best_epoch, "hidden": hidden,
            "seconds": seconds, "labels": len(target_vocab),
            "dev_edge_f1_by_epoch": [h["dev_edge_f1"] for h in history],
            **score_trees(predicted, splits["test"], skip_root=False)}


def _decode_linearised(model, data: Sequence, vocab: Vocab, max_len: int, batch_size: int = 500):
    from graphrnn.datasets.django import delinearise
    from graphrnn.decoding import greedy

    model.eval()
    device = next(model.parameters()).device
    trees = []
    with torch.no_grad():
        for batch in DataLoader(list(data), batch_size=batch_size):
            hypotheses = greedy(model.step, model.encode(batch.to(device)), Vocab.bos, Vocab.eos, max_len)
            trees += [delinearise(vocab.decode(tokens)) for tokens, _ in hypotheses]
    return trees


def django_table(result: Dict[str, object]) -> str:
    """DRNN vs the sequence baseline, the two retrieval baselines and the vocabulary oracle on the Django
    test split; the models are tested at the epoch of best dev edge F1."""
    header = ["model", "node F1 %", EDGE_PAIR, EDGE_PARENT, "exact match %", "train trees", "epochs",
              "epoch (chosen on dev)", "seconds"]
    rows = [[r["model_name"], f"{r['node_f1']:.1f}", f"{r['edge_f1']:.1f}", f"{r['edge_parent_f1']:.1f}",
             f"{r['exact_match']:.1f}", r["train_trees"], r["epochs"], r["best_epoch"], f"{r['seconds']:.0f}"]
            for r in result["rows"]]
    note = (f"\n\n{result['train_examples']} training trees (lines that parse as one statement, at most "
            f"{result['max_train_nodes']} nodes), {result['dev_examples']} dev and {result['test_examples']} test "
            f"lines (all sizes); {result['dropped_lines']} lines dropped as unparseable. The models are tested "
            "once, at their epoch of best dev edge F1; the two retrieval rows do not learn (no epoch); the oracle "
            "is the gold test tree with the labels the decoders' vocabulary lacks as <unk> (never matching).")
    return markdown_table(header, rows) + note


# ------------------------------------------------------------------ CLI
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``graphrnn train drnn`` (besides the shared ``--quick --epochs --data --out --resume
    --device --seed``)."""
    parser.add_argument("--hidden", type=int, default=128, help="hidden size of encoder and decoder (default: 128)")
    parser.add_argument("--train-size", type=int, default=None, help="use only the first N training trees")
    parser.add_argument("--batch-size", type=int, default=32, help="trees per batch (default: 32)")
    parser.add_argument("--lr", type=float, default=2e-3, help="Adam learning rate, cosine decay (default: 2e-3)")
    parser.add_argument("--attention", choices=["mlp"], default=None,
                        help="the decoder attends over the encoder states (default: none, the paper's model)")
    parser.add_argument("--grammar", choices=sorted(GRAMMARS), default="released",
                        help="without --data: the synthetic grammar, 'released' (the statistics of the authors' "
                             "data, default) or 'deep' (deeper trees, peaked label distributions)")


def run_task(args: argparse.Namespace) -> str:
    """``graphrnn train drnn``: trains on ``--data DIR`` (authors' layout) or on freshly generated
    synthetic trees of ``--grammar`` (written to ``<out>/data`` or a temporary folder), and reports
    test retrieval beside the flat and chain rules (and, on generated data, the Bayes-optimal tree)."""
    epochs = args.epochs if args.epochs is not None else (5 if args.quick else 30)
    out = Path(args.out) if args.out is not None else None
    data = Path(args.data) if args.data is not None else None
    grammar = getattr(args, "grammar", "released")
    with tempfile.TemporaryDirectory() as scratch:
        generated = data is None
        if generated:
            data = _generated_data((out if out is not None else Path(scratch)) / "data", args.seed, grammar)
        train_size = getattr(args, "train_size", None) or (1000 if args.quick else None)
        row = run(data, seed=args.seed, train_size=train_size, epochs=epochs, hidden=getattr(args, "hidden", 128),
                  out=None if out is None else out / "model", resume=args.resume, device=args.device, progress=True,
                  batch_size=getattr(args, "batch_size", 32), lr=getattr(args, "lr", 2e-3),
                  attention=getattr(args, "attention", None))
        reference = references(None if generated else data, args.seed, grammar)
    where = f"synthetic trees ({grammar!r} grammar, seed {args.seed})" if generated else str(data)
    return (f"DRNN on {where}: test node F1 {row['node_f1']:.1f}% (P {row['node_precision']:.1f}, "
            f"R {row['node_recall']:.1f}), edge F1 {row['edge_f1']:.1f}% (P {row['edge_precision']:.1f}, "
            f"R {row['edge_recall']:.1f}; parent label only {row['edge_parent_f1']:.1f}%) after {row['epochs']} "
            f"epochs on {row['train_trees']} trees, tested at epoch {row['best_epoch']} (best dev edge F1)\n\n"
            + results_table([row, *reference]))


def _generated_data(folder: Path, seed: int, grammar: str) -> Path:
    """``folder`` holding the synthetic set of ``seed`` and ``grammar`` (written unless already there)."""
    stamp = folder / "GRAMMAR"
    wanted = f"{grammar} {seed}\n"
    if not (stamp.is_file() and stamp.read_text() == wanted):
        write_dataset(folder, generate_dataset(seed, grammar=grammar))
        stamp.write_text(wanted)
    return folder
