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

with :math:`c_y = c_{lo} + (c_{hi} - c_{lo}) u_y^k` and :math:`s_y \sim \mathcal{U}(s_{lo}, s_{hi})`
per label (:math:`u_y \sim \mathcal{U}(0, 1)`; the skew :math:`k > 1` makes a few letters
likely parents and most letters leaves), depth :math:`d_i \ge 1` below the root, capped at
``max_depth`` levels below the root and ``max_children`` children per node. ``ROOT``
always has children. The source of each tree is the depth-first pre-order of its
letters; the target is the tree.

Two presets (:data:`GRAMMARS`):

* ``"released"`` (the default) matches the authors' released synthetic data
  (``data/synth`` of github.com/dmelis/drnn): 3.64 letters per tree and 74.6% *flat*
  test trees (no edge below ``ROOT``'s children). As in that data, letters are near uniform
  (:math:`\beta = 10`), there is no depth decay, and a few letters often have children
  (:math:`c_y` up to 0.47, skew :math:`k = 3`) while most almost never do; :math:`c` and
  :math:`s` are drawn stratified, so every seed has the same spread of them.
  :func:`graphrnn.datasets.tree_grammar.expected_statistics` gives both numbers of a grammar
  exactly: 3.57-3.80 letters and 71.8-75.7% flat trees over seeds 0-39.
* ``"deep"``, the generator's earlier defaults: peaked label distributions
  (:math:`\beta = 0.2`), more children (:math:`c \sim \mathcal{U}(0.3, 0.8)`) decaying
  with depth (:math:`\gamma = 0.6`): about 4 letters per tree but only 28-39% flat trees.
  It is a different, harder task than the paper's.

Files follow the authors' released layout: ``<dir>/{train,dev,test}/s.toks`` (source
tokens per line), ``t.toks`` (target labels per line, first ``ROOT``) and ``t.parents``
(1-based parent index of each target token, 0 for ``ROOT``); targets are written in
breadth-first order, so every parent comes before its children.
"""
from __future__ import annotations

import string
from pathlib import Path
from typing import Dict, List, NamedTuple, Sequence, Union

import numpy as np
import torch

from graphrnn.counts import is_int
from graphrnn.datasets.text import read_lines

__all__ = ["ROOT", "LETTERS", "SPLITS", "GRAMMARS", "TreeExample", "TreeGrammar", "make_grammar", "dataset_grammar",
           "sample_tree",
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


#: Named grammar settings for :func:`make_grammar` (see the module docstring).
GRAMMARS: Dict[str, Dict[str, object]] = {
    "released": dict(concentration=10.0, child_range=(0.0, 0.47), child_skew=3.0, sibling_range=(0.44, 0.78),
                     stratified=True, decay=1.0, max_depth=5, max_children=12),
    "deep": dict(concentration=0.2, child_range=(0.3, 0.8), child_skew=1.0, sibling_range=(0.2, 0.7),
                 stratified=False, decay=0.6, max_depth=5, max_children=12),
}


def make_grammar(generator: torch.Generator, grammar: str = "released", **overrides) -> TreeGrammar:
    """A random grammar drawn from ``generator`` with the settings of preset ``grammar``.

    Args:
        generator (torch.Generator): the source of randomness.
        grammar (str): a key of :data:`GRAMMARS`, ``"released"`` (the statistics of the
            authors' released data) or ``"deep"`` (deeper trees, peaked label distributions).
        **overrides: any of ``concentration`` (:math:`\\beta`), ``child_range``
            (:math:`(c_{lo}, c_{hi})`), ``child_skew`` (:math:`k`), ``sibling_range``, ``stratified``
            (draw :math:`u` one per equal bin of [0, 1], in random order, so every seed has the same
            spread of :math:`c` and :math:`s`), ``decay`` (:math:`\\gamma`), ``max_depth``,
            ``max_children``, replacing the preset's value.

    Raises:
        ValueError: for an unknown preset or setting.
    """
    settings = {**_preset(grammar), **_checked_overrides(overrides)}
    size = len(LETTERS)
    rng = np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=generator)))
    probs = rng.dirichlet(np.full(size, float(settings["concentration"])), size=(size + 1, size + 1))
    low_c, high_c = settings["child_range"]
    low_s, high_s = settings["sibling_range"]
    draw_c = _uniforms(size, bool(settings["stratified"]), generator)
    if settings["child_skew"] != 1.0:
        draw_c = draw_c ** float(settings["child_skew"])
    draw_s = _uniforms(size, bool(settings["stratified"]), generator)
    return TreeGrammar(torch.from_numpy(probs).float(), low_c + (high_c - low_c) * draw_c,
                       low_s + (high_s - low_s) * draw_s, float(settings["decay"]), int(settings["max_depth"]),
                       int(settings["max_children"]))


def _uniforms(size: int, stratified: bool, generator: torch.Generator) -> torch.Tensor:
    """``size`` draws from U(0, 1); stratified: one from each of ``size`` equal bins, in random order
    (the same spread of values on every seed, assigned to the letters at random)."""
    if not stratified:
        return torch.rand(size, generator=generator)
    bins = torch.randperm(size, generator=generator).float()
    return (bins + torch.rand(size, generator=generator)) / size


def _preset(grammar: str) -> Dict[str, object]:
    if grammar not in GRAMMARS:
        raise ValueError(f"unknown grammar {grammar!r}; choose one of {sorted(GRAMMARS)} "
                         "(or pass a TreeGrammar)")
    return GRAMMARS[grammar]


def _checked_overrides(overrides: Dict[str, object]) -> Dict[str, object]:
    unknown = sorted(set(overrides) - set(GRAMMARS["released"]))
    if unknown:
        raise ValueError(f"unknown grammar settings {unknown}; the settings are {sorted(GRAMMARS['released'])}")
    return overrides


def dataset_grammar(seed: int, grammar: Union[str, TreeGrammar] = "released") -> TreeGrammar:
    """The grammar that :func:`generate_dataset` (``seed``, ``grammar``) samples its trees from."""
    if isinstance(grammar, TreeGrammar):
        return grammar
    return make_grammar(torch.Generator().manual_seed(seed), grammar)


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
                     grammar: Union[str, TreeGrammar, None] = "released") -> Dict[str, List[TreeExample]]:
    """``{"train", "dev", "test"}`` examples from one grammar, all drawn from ``seed``.

    ``grammar``: a preset name of :data:`GRAMMARS` (drawn from ``seed``; ``None`` means
    ``"released"``) or a :class:`TreeGrammar`; :func:`dataset_grammar` returns the grammar used.

    Raises:
        ValueError: unless ``sizes`` holds one integer >= 0 per split.
    """
    sizes = list(sizes)
    if len(sizes) != len(SPLITS) or any(not is_int(n) or n < 0 for n in sizes):
        # a negative size made an empty split and zip() dropped missing ones, silently
        raise ValueError(f"sizes must be {len(SPLITS)} integers >= 0 (one per split {list(SPLITS)}), got {sizes}")
    generator = torch.Generator().manual_seed(seed)
    if not isinstance(grammar, TreeGrammar):
        grammar = make_grammar(generator, "released" if grammar is None else grammar)
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
    texts = {name: read_lines(folder / name, "one example") for name in _FILES}
    counts = {name: len(rows) for name, rows in texts.items()}
    if len(set(counts.values())) != 1:
        raise ValueError(f"{folder}: the files must have one line per example, got line counts {counts}")
    return [_parse_example(folder, i + 1, *rows) for i, rows in enumerate(zip(*(texts[n] for n in _FILES)))]


def _parse_example(folder: Path, line: int, source: str, labels: str, parents: str) -> TreeExample:
    labels_list, parent_tokens = labels.split(), parents.split()
    where = f"{folder}, line {line}"
    if not labels_list or not source.split():
        raise ValueError(f"{where}: empty line in {'t.toks' if not labels_list else 's.toks'}; every line holds one "
                         "example (remove blank lines from s.toks, t.toks and t.parents)")
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
