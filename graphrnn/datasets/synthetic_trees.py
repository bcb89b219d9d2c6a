r"""The synthetic tree-recovery task of Alvarez-Melis & Jaakkola (2017), Sec. 5.1.

A seeded random *grammar* generates labelled ordered trees top-down. Every tree has a
``ROOT`` node; each other node carries one of 26 letters, drawn from a multinomial
conditioned on its parent's and previous sibling's labels,

.. math::
    y_i \sim \mathrm{Cat}\big(\boldsymbol\theta_{y_{p(i)}, y_{s(i)}}\big), \qquad
    \boldsymbol\theta_{a, b} \sim \mathrm{Dirichlet}(\beta \mathbf{1}),

and whether it has children or a next sibling depends on its label and depth,

.. math::
    P(\alpha_i = 1) = c_{y_i} \gamma^{d_i - 1}, \qquad P(\varphi_i = 1) = s_{y_i} \gamma^{d_i - 1},

with :math:`c, s \sim \mathcal{U}(c_{lo}, c_{hi})` per label, depth :math:`d_i \ge 1`
below the root, capped at ``max_depth`` levels below the root and ``max_children``
children per node. ``ROOT`` always has children. The source of each tree is the
depth-first pre-order of its letters; the target is the tree.

Files follow the authors' released layout: ``<dir>/{train,dev,test}/s.toks`` (source
tokens per line), ``t.toks`` (target labels per line, first ``ROOT``) and ``t.parents``
(1-based parent index of each target token, 0 for ``ROOT``); targets are written in
breadth-first order, so every parent comes before its children.
"""
from __future__ import annotations

import string
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence, Union

import numpy as np
import torch

__all__ = ["ROOT", "LETTERS", "SPLITS", "TreeExample", "TreeGrammar", "make_grammar", "sample_tree",
           "generate_dataset", "write_split", "read_split", "write_dataset", "read_dataset", "preorder",
           "tree_statistics"]

ROOT = "ROOT"
LETTERS = tuple(string.ascii_lowercase)
SPLITS = ("train", "dev", "test")
_FILES = ("s.toks", "t.toks", "t.parents")


class TreeExample(NamedTuple):
    """One source string and its target tree (``parents[i] = -1`` for the root, node 0)."""

    source: List[str]
    labels: List[str]
    parents: List[int]


class TreeGrammar(NamedTuple):
    """Parameters of the generating process (see the module docstring)."""

    label_probs: torch.Tensor  #: ``[27, 27, 26]``: parent (ROOT + letters) x previous sibling (none + letters)
    child_prob: torch.Tensor  #: ``[26]``, :math:`c`
    sibling_prob: torch.Tensor  #: ``[26]``, :math:`s`
    decay: float
    max_depth: int
    max_children: int


def make_grammar(generator: torch.Generator, concentration: float = 0.2, child_range=(0.3, 0.8),
                 sibling_range=(0.2, 0.7), decay: float = 0.6, max_depth: int = 5,
                 max_children: int = 12) -> TreeGrammar:
    """A random grammar drawn from ``generator`` (defaults match the released data's statistics)."""
    size = len(LETTERS)
    rng = np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=generator)))
    probs = torch.from_numpy(rng.dirichlet(np.full(size, float(concentration)), size=(size + 1, size + 1))).float()
    low_c, high_c = child_range
    low_s, high_s = sibling_range
    return TreeGrammar(probs, low_c + (high_c - low_c) * torch.rand(size, generator=generator),
                       low_s + (high_s - low_s) * torch.rand(size, generator=generator),
                       decay, max_depth, max_children)


def _draw(probs: torch.Tensor, generator: torch.Generator) -> int:
    return int(torch.multinomial(probs, 1, generator=generator))


def sample_tree(grammar: TreeGrammar, generator: torch.Generator) -> TreeExample:
    """One tree, generated top-down and breadth-first; returns its pre-order source and the tree."""
    labels, parents, depths = [ROOT], [-1], [0]
    queue = [0]
    while queue:
        node = queue.pop(0)
        if not _has_children(grammar, labels[node], depths[node], generator):
            continue
        previous = None
        for position in range(grammar.max_children):
            parent_id = 0 if labels[node] == ROOT else LETTERS.index(labels[node]) + 1
            sibling_id = 0 if previous is None else LETTERS.index(labels[previous]) + 1
            letter = LETTERS[_draw(grammar.label_probs[parent_id, sibling_id], generator)]
            labels.append(letter)
            parents.append(node)
            depths.append(depths[node] + 1)
            queue.append(len(labels) - 1)
            previous = len(labels) - 1
            if not _bernoulli(_scaled(grammar.sibling_prob, letter, depths[-1], grammar.decay), generator):
                break
    return TreeExample(preorder(labels, parents)[1:], labels, parents)


def _scaled(table: torch.Tensor, letter: str, depth: int, decay: float) -> float:
    return float(table[LETTERS.index(letter)]) * decay ** (depth - 1)


def _has_children(grammar: TreeGrammar, label: str, depth: int, generator: torch.Generator) -> bool:
    if label == ROOT:
        return True
    if depth >= grammar.max_depth:
        return False
    return _bernoulli(_scaled(grammar.child_prob, label, depth, grammar.decay), generator)


def _bernoulli(p: float, generator: torch.Generator) -> bool:
    return bool(torch.rand((), generator=generator) < p)


def preorder(labels: Sequence[str], parents: Sequence[int]) -> List[str]:
    """Depth-first pre-order of the labels (children in index order), root first."""
    children: Dict[int, List[int]] = {}
    for node, parent in enumerate(parents):
        children.setdefault(parent, []).append(node)
    out, stack = [], list(reversed(children.get(-1, [])))
    while stack:
        node = stack.pop()
        out.append(labels[node])
        stack.extend(reversed(children.get(node, [])))
    return out


def generate_dataset(seed: int = 0, sizes: Sequence[int] = (4000, 500, 500),
                     grammar: Optional[TreeGrammar] = None) -> Dict[str, List[TreeExample]]:
    """``{"train", "dev", "test"}`` examples from one grammar, all drawn from ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    grammar = grammar if grammar is not None else make_grammar(generator)
    return {split: [sample_tree(grammar, generator) for _ in range(size)] for split, size in zip(SPLITS, sizes)}


def tree_statistics(examples: Sequence[TreeExample]) -> Dict[str, float]:
    """Mean letters per tree, maximum depth below the root and maximum number of children."""
    letters = [len(e.labels) - 1 for e in examples]
    depth, children = 0, 0
    for e in examples:
        d = []
        for p in e.parents:
            d.append(0 if p < 0 else d[p] + 1)
        depth = max(depth, max(d))
        children = max(children, max(e.parents.count(v) for v in range(len(e.parents))))
    return {"trees": len(examples), "mean_letters": sum(letters) / len(letters), "max_depth": depth,
            "max_children": children}


# ------------------------------------------------------------------ files
PathLike = Union[str, Path]


def write_split(directory: PathLike, split: str, examples: Sequence[TreeExample]) -> Path:
    """Writes ``<directory>/<split>/{s.toks,t.toks,t.parents}``; returns the split folder."""
    folder = Path(directory) / split
    folder.mkdir(parents=True, exist_ok=True)
    lines = {name: [] for name in _FILES}
    for e in examples:
        lines["s.toks"].append(" ".join(e.source))
        lines["t.toks"].append(" ".join(e.labels))
        lines["t.parents"].append(" ".join(str(p + 1) for p in e.parents))
    for name, rows in lines.items():
        (folder / name).write_text("".join(row + "\n" for row in rows), encoding="utf-8")
    return folder


def write_dataset(directory: PathLike, dataset: Dict[str, Sequence[TreeExample]]) -> Path:
    """Writes every split of ``dataset`` under ``directory``."""
    for split, examples in dataset.items():
        write_split(directory, split, examples)
    return Path(directory)


def read_split(directory: PathLike, split: str) -> List[TreeExample]:
    """Reads ``<directory>/<split>/{s.toks,t.toks,t.parents}`` (the authors' layout).

    Raises:
        FileNotFoundError: if a file is missing.
        ValueError: if the files disagree in lines or tokens, or a line is not one tree
            listed parents first (root first with parent 0, 1-based parents before children).
    """
    folder = Path(directory) / split
    missing = [name for name in _FILES if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{folder} lacks {missing}; a split folder holds {list(_FILES)} "
                                "(write one with graphrnn.datasets.synthetic_trees.write_dataset)")
    texts = {name: (folder / name).read_text(encoding="utf-8").splitlines() for name in _FILES}
    counts = {name: len(rows) for name, rows in texts.items()}
    if len(set(counts.values())) != 1:
        raise ValueError(f"{folder}: the files must have one line per example, got line counts {counts}")
    return [_parse_example(folder, i + 1, *rows) for i, rows in enumerate(zip(*(texts[n] for n in _FILES)))]


def _parse_example(folder: Path, line: int, source: str, labels: str, parents: str) -> TreeExample:
    labels_list, parent_tokens = labels.split(), parents.split()
    where = f"{folder}, line {line}"
    if len(labels_list) != len(parent_tokens):
        raise ValueError(f"{where}: t.toks has {len(labels_list)} labels but t.parents {len(parent_tokens)} indices")
    try:
        parents_list = [int(p) - 1 for p in parent_tokens]
    except ValueError as error:
        raise ValueError(f"{where}: t.parents must hold integers ({error})") from error
    for node, parent in enumerate(parents_list):
        if (node == 0) != (parent == -1) or parent >= node or parent < -1:
            raise ValueError(f"{where}: node {node + 1} has parent {parent + 1}; the root must come first with "
                             "parent 0 and every other node needs an earlier node (1-based) as parent, so one "
                             "line holds exactly one tree")
    return TreeExample(source.split(), labels_list, parents_list)


def read_dataset(directory: PathLike, splits: Sequence[str] = SPLITS) -> Dict[str, List[TreeExample]]:
    """Reads every split of a directory in the authors' layout."""
    if not Path(directory).is_dir():
        raise FileNotFoundError(
            f"{directory} is not a directory; pass a folder in the authors' layout, "
            f"<dir>/{{{','.join(splits)}}}/{{s.toks,t.toks,t.parents}} (write one with "
            "graphrnn.datasets.synthetic_trees.write_dataset)")
    return {split: read_split(directory, split) for split in splits}
