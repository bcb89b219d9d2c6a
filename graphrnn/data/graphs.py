r"""Graph builders: every recurrent model of the library runs on one of these graphs.

* :func:`chain_graph` — a sequence as a chain ``0 -> 1 -> ... -> T-1`` (RNN, GRU, LSTM, HMM).
* :func:`tree_graph` — an ordered tree with typed ``PARENT`` and ``SIBLING`` edges
  (the doubly-recurrent tree decoder, Tree-LSTM style encoders).
* :func:`scene_graph` — ``K`` persons and one scene node, fully connected with typed
  edges (the Structure Inference Machine).

All builders return a :class:`torch_geometric.data.Data` with ``num_nodes`` set
explicitly, so that PyG batching (:class:`~torch_geometric.loader.DataLoader`)
offsets ``edge_index`` correctly even for graphs without node features. No
attribute name other than ``edge_index`` contains ``"index"`` or ``"batch"``, so
every other field is concatenated unchanged by PyG batching.
"""
from __future__ import annotations

from typing import Any, Optional

import torch
from torch import Tensor
from torch_geometric.data import Data

from graphrnn.counts import is_int
from graphrnn.data._checks import require_integer, to_float_features, to_index_vector, to_tensor
from graphrnn.graph.levels import topological_levels

__all__ = [
    "PARENT",
    "SIBLING",
    "NUM_TREE_EDGE_TYPES",
    "PERSON_TO_PERSON",
    "PERSON_TO_SCENE",
    "SCENE_TO_PERSON",
    "NUM_SCENE_EDGE_TYPES",
    "PERSON",
    "SCENE",
    "chain_graph",
    "tree_graph",
    "tree_parents",
    "scene_graph",
]

# Edge types of a tree (``tree_graph``).
PARENT = 0  #: parent -> child ("ancestral" edge)
SIBLING = 1  #: previous sibling -> next sibling ("fraternal" edge)
NUM_TREE_EDGE_TYPES = 2

# Edge types of a scene (``scene_graph``).
PERSON_TO_PERSON = 0
PERSON_TO_SCENE = 1
SCENE_TO_PERSON = 2
NUM_SCENE_EDGE_TYPES = 3

# Node types of a scene (``scene_graph``).
PERSON = 0
SCENE = 1

_MAX_NODES_SHOWN = 10


def _show(nodes: Tensor) -> str:
    """Formats a few node indices for an error message."""
    values = nodes.view(-1).tolist()
    shown = ", ".join(str(v) for v in values[:_MAX_NODES_SHOWN])
    return f"[{shown}{', ...' if len(values) > _MAX_NODES_SHOWN else ''}]"


def _check_count(name: str, value: Any) -> int:
    """``value`` as a Python int >= 0: ints, numpy integers and 0-d integer tensors pass."""
    if isinstance(value, Tensor) and value.dim() == 0 and not (value.is_floating_point() or value.is_complex()
                                                               or value.dtype == torch.bool):
        value = int(value)
    if not is_int(value):
        raise TypeError(f"{name} must be an integer (a count), got {type(value).__name__} {value!r}; "
                        "round it explicitly, e.g. int(n), if a whole number was meant")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return int(value)


# --------------------------------------------------------------------------- chain


def chain_graph(x: Any, y: Any = None) -> Data:
    r"""A sequence as a chain graph ``0 -> 1 -> ... -> T-1``.

    Args:
        x: the sequence, ``[T]`` (e.g. token ids, ``LongTensor``) or ``[T, F]``
            (features). Lists and numpy arrays are converted with
            :func:`torch.as_tensor`; the dtype is kept as given.
        y (optional): targets, either per node (first dimension ``T``, e.g. the
            next tokens ``[T]``) or one label for the whole sequence (a python
            number or a 0-d tensor). Stored as a tensor, otherwise unchanged.

    Returns:
        Data: ``x``; ``edge_index`` ``LongTensor [2, T-1]`` with row 0
        ``0..T-2`` and row 1 ``1..T-1``; ``y`` when given; ``num_nodes = T``.
        ``T = 0`` gives an empty graph and ``T = 1`` a graph without edges.

    Raises:
        ValueError: if ``x`` is a scalar or cannot be converted to a tensor, or
            ``y`` is neither a scalar nor has first dimension ``T``.
    """
    x = to_tensor(x, "x")
    if x.dim() == 0:
        raise ValueError(
            "x must have a time dimension: shape [T] (token ids) or [T, F] (features), "
            "got a scalar; wrap a single step as [value]"
        )
    num_steps = x.size(0)
    data = Data(x=x, edge_index=chain_edge_index(num_steps, device=x.device), num_nodes=num_steps)
    if y is not None:
        data.y = _check_sequence_target(to_tensor(y, "y"), num_steps)
    return data


def chain_edge_index(num_steps: int, device: Optional[torch.device] = None) -> Tensor:
    """The edges ``t -> t+1`` of a chain with ``num_steps`` nodes: ``LongTensor [2, T-1]``.

    Raises:
        TypeError: if ``num_steps`` is not an integer (e.g. ``2.5`` or ``True``).
        ValueError: if ``num_steps`` is negative.
    """
    num_steps = _check_count("num_steps", num_steps)
    steps = torch.arange(max(num_steps - 1, 0), device=device)
    return torch.stack([steps, steps + 1])


def _check_sequence_target(y: Tensor, num_steps: int) -> Tensor:
    """Accepts a per-sequence scalar ``y`` or a per-node ``y`` with first dimension ``T``."""
    if y.dim() > 0 and y.size(0) != num_steps:
        raise ValueError(
            f"y has first dimension {y.size(0)} but the sequence has T={num_steps} steps; pass "
            "per-node targets of shape [T, ...] or one label for the whole sequence as a scalar "
            "(a python number or a 0-d tensor, e.g. torch.tensor(label))"
        )
    return y


# --------------------------------------------------------------------------- tree


def tree_graph(labels: Any, parents: Any, num_labels: Optional[int] = None, ordered: bool = False) -> Data:
    r"""An ordered tree with ``PARENT`` and ``SIBLING`` edges (the DRNN graph).

    ``parents[i]`` is the index of the parent of node ``i`` and ``-1`` for the root.
    The children of a node are ordered by their index: the "next sibling" of a
    child is the next larger index with the same parent.

    Edge order (deterministic): all ``PARENT`` edges ``parent -> child`` first, then
    all ``SIBLING`` edges ``previous sibling -> next sibling``; within each type the
    edges are sorted by their target node (every node has at most one incoming edge
    of each type).

    Args:
        labels: integer node labels ``[N]`` (list, numpy array or tensor).
        parents: integer parent indices ``[N]``, ``-1`` for the root.
        num_labels (int, optional): size of the label vocabulary; labels must lie in
            ``0..num_labels-1``.
        ordered (bool): require ``parents[i] < i`` for every non-root node (so node 0
            is the root), the order a top-down decoder produces. (default: ``False``)

    Returns:
        Data with

        * ``y`` (``LongTensor [N]``): the labels,
        * ``edge_index`` (``LongTensor [2, E]``), ``E = (N - 1) + number of sibling pairs``,
        * ``edge_type`` (``LongTensor [E]``): :data:`PARENT` (0) or :data:`SIBLING` (1),
        * ``has_children`` (float ``[N]``): 1.0 where the node has a child
          (:math:`\alpha` in Alvarez-Melis & Jaakkola, 2017),
        * ``has_next_sibling`` (float ``[N]``): 1.0 where a later sibling follows
          (:math:`\varphi`),
        * ``depth`` (``LongTensor [N]``): distance from the root (root 0),
        * ``num_nodes = N``.

    Raises:
        TypeError: if ``num_labels`` is not an integer.
        ValueError: if the lengths differ, labels or parents are not integers (map
            string labels to ids with a vocabulary first), a parent index is out of
            range or a node is its own parent, there is not exactly one root (a forest),
            the parents form a cycle, a label lies outside ``num_labels``, or (with
            ``ordered``) a parent comes after its child.
    """
    labels = to_index_vector(labels, "labels")
    parents = to_index_vector(parents, "parents")
    if labels.numel() != parents.numel():
        raise ValueError(
            f"labels and parents must have one entry per node, got {labels.numel()} labels "
            f"and {parents.numel()} parents"
        )
    _check_parents(parents)
    _check_label_range(labels, None if num_labels is None else _check_count("num_labels", num_labels))
    if ordered:
        _check_parent_order(parents)
    parent_edges = _parent_edges(parents)
    sibling_edges = _sibling_edges(parents)
    edge_index = torch.cat([parent_edges, sibling_edges], dim=1)
    edge_type = torch.cat([
        torch.full((parent_edges.size(1),), PARENT, dtype=torch.long, device=parents.device),
        torch.full((sibling_edges.size(1),), SIBLING, dtype=torch.long, device=parents.device),
    ])
    num_nodes = parents.numel()
    return Data(
        y=labels,
        edge_index=edge_index,
        edge_type=edge_type,
        has_children=_indicator(parent_edges[0], num_nodes),
        has_next_sibling=_indicator(sibling_edges[0], num_nodes),
        depth=_tree_depth(parent_edges, num_nodes),
        num_nodes=num_nodes,
    )


def _check_parents(parents: Tensor) -> None:
    """Range, self-parent and single-root checks on a parent vector ``[N]``.

    Cycles are found later, by :func:`_tree_depth`.
    """
    num_nodes = parents.numel()
    nodes = torch.arange(num_nodes, device=parents.device)
    out_of_range = (parents < -1) | (parents >= num_nodes)
    if out_of_range.any():
        node = int(out_of_range.nonzero()[0, 0])
        raise ValueError(
            f"parents[{node}] = {int(parents[node])} is out of range: a parent must be a node index "
            f"in 0..{num_nodes - 1}, or -1 for the root"
        )
    self_parent = parents == nodes
    if self_parent.any():
        raise ValueError(
            f"nodes {_show(nodes[self_parent])} are their own parent; give each node the index "
            "of its parent, and -1 to the root"
        )
    roots = nodes[parents == -1]
    if roots.numel() != 1:
        found = "none" if roots.numel() == 0 else f"{roots.numel()} at nodes {_show(roots)}"
        raise ValueError(
            f"a tree needs exactly one root (parent -1), found {found}; for a forest build "
            "one tree_graph per tree and batch them with DataLoader"
        )


def _check_label_range(labels: Tensor, num_labels: Optional[int]) -> None:
    """Labels must be ids of a vocabulary of ``num_labels`` labels (of some vocabulary, so >= 0, when ``None``)."""
    outside = (labels < 0) if num_labels is None else (labels < 0) | (labels >= num_labels)
    if outside.any():
        node = int(outside.nonzero()[0, 0])
        valid = "ids are >= 0" if num_labels is None else f"valid ids 0..{num_labels - 1}"
        raise ValueError(
            f"labels[{node}] = {int(labels[node])} is outside the vocabulary"
            f"{'' if num_labels is None else f' of {num_labels} labels'} ({valid}); map unknown labels to <unk> first"
        )


def _check_parent_order(parents: Tensor) -> None:
    """Top-down order: the root is node 0 and every parent index is smaller than its child's."""
    nodes = torch.arange(parents.numel(), device=parents.device)
    late = (parents >= nodes) | ((parents < 0) & (nodes > 0))
    if late.any():
        node = int(late.nonzero()[0, 0])
        raise ValueError(
            f"parents[{node}] = {int(parents[node])} is not an earlier node: in top-down order the root "
            "is node 0 and every parent index is smaller than its child's (list parents before children)"
        )


def _parent_edges(parents: Tensor) -> Tensor:
    """``parent -> child`` edges sorted by child: ``LongTensor [2, N-1]``."""
    children = (parents >= 0).nonzero().view(-1)
    return torch.stack([parents[children], children])


def _sibling_edges(parents: Tensor) -> Tensor:
    """``previous sibling -> next sibling`` edges sorted by target: ``LongTensor [2, S]``.

    Children are sorted by ``(parent, index)``; consecutive entries that share a
    parent are consecutive siblings.
    """
    children = (parents >= 0).nonzero().view(-1)
    by_parent = torch.argsort(parents[children], stable=True)  # keeps index order within a parent
    children = children[by_parent]
    same_parent = parents[children[1:]] == parents[children[:-1]]
    previous, following = children[:-1][same_parent], children[1:][same_parent]
    by_target = torch.argsort(following)
    return torch.stack([previous[by_target], following[by_target]])


def _indicator(nodes: Tensor, num_nodes: int) -> Tensor:
    """Float ``[N]`` that is 1.0 at ``nodes`` and 0.0 elsewhere."""
    flags = torch.zeros(num_nodes, device=nodes.device)
    flags[nodes] = 1.0
    return flags


def _tree_depth(parent_edges: Tensor, num_nodes: int) -> Tensor:
    """Depth of every node (root 0) via topological levels; a cycle raises ``ValueError``."""
    try:
        return topological_levels(parent_edges, num_nodes)
    except ValueError as err:
        raise ValueError(
            f"parents do not form a tree: {err}. Following parents from any node must reach "
            "the root (-1); fix the parent indices on that cycle"
        ) from err


def tree_parents(data: Data) -> Tensor:
    """Recovers the parent vector of a tree built by :func:`tree_graph`.

    Args:
        data (Data): a graph with ``edge_index`` and ``edge_type``, whose
            ``PARENT`` edges give each node at most one parent.

    Returns:
        LongTensor ``[N]``: parent index of every node, ``-1`` for the root. On a
        batch of trees the indices are global (one ``-1`` per tree).

    Raises:
        ValueError: if ``data`` has no ``edge_type`` or a node has several parents.
    """
    edge_type = getattr(data, "edge_type", None)
    if edge_type is None or getattr(data, "edge_index", None) is None:
        raise ValueError("data needs edge_index and edge_type (PARENT/SIBLING); build it with tree_graph")
    src, dst = data.edge_index[:, edge_type == PARENT]
    num_nodes = data.num_nodes
    counts = torch.bincount(dst, minlength=num_nodes)
    if counts.numel() > 0 and int(counts.max()) > 1:
        raise ValueError(
            f"nodes {_show((counts > 1).nonzero())} have several PARENT edges; a tree gives every "
            "node at most one parent"
        )
    parents = torch.full((num_nodes,), -1, dtype=torch.long, device=dst.device)
    parents[dst] = src
    return parents


# --------------------------------------------------------------------------- scene


def scene_graph(person_x: Any, scene_x: Any, person_y: Any = None, scene_y: Any = None) -> Data:
    r"""``K`` persons and one scene node, fully connected without self loops (the SIM graph).

    Nodes ``0..K-1`` are the persons, node ``K`` (the last) is the scene.
    Edge order (deterministic):

    1. :data:`PERSON_TO_PERSON` edges ``i -> j`` for ``i != j``, sorted by ``(i, j)``;
    2. :data:`PERSON_TO_SCENE` edges ``i -> K`` for ``i = 0..K-1``;
    3. :data:`SCENE_TO_PERSON` edges ``K -> i`` for ``i = 0..K-1``.

    so ``E = K(K-1) + 2K``.

    Args:
        person_x: person features ``[K, F_p]``.
        scene_x: scene features ``[F_s]`` or ``[1, F_s]``.
        person_y (optional): integer person labels ``[K]``.
        scene_y (optional): one integer scene label (python int, 0-d or ``[1]``).

    Returns:
        Data with ``person_x`` ``[K, F_p]`` and ``scene_x`` ``[1, F_s]`` (floating
        point; integer inputs become the default float dtype), ``node_type``
        ``LongTensor [K+1]`` (:data:`PERSON` = 0, :data:`SCENE` = 1),
        ``edge_index`` ``[2, E]``, ``edge_type`` ``[E]``, optional ``person_y``
        ``LongTensor [K]`` and ``scene_y`` ``LongTensor [1]``, and
        ``num_nodes = K + 1``. After batching, the rows of ``person_x`` are the
        nodes with ``node_type == PERSON`` in node order, and the rows of
        ``scene_x`` the nodes with ``node_type == SCENE``.

    Raises:
        ValueError: if there are no persons, ``person_x`` is not 2-D, ``scene_x``
            has more than one row, ``person_y`` does not have ``K`` integer labels,
            or ``scene_y`` is not a single integer label.
    """
    person_x = _check_person_features(person_x)
    num_persons = person_x.size(0)
    edge_index, edge_type = _scene_edges(num_persons, device=person_x.device)
    data = Data(
        person_x=person_x,
        scene_x=_check_scene_features(scene_x),
        node_type=_scene_node_types(num_persons, device=person_x.device),
        edge_index=edge_index,
        edge_type=edge_type,
        num_nodes=num_persons + 1,
    )
    if person_y is not None:
        data.person_y = _check_person_labels(person_y, num_persons)
    if scene_y is not None:
        data.scene_y = _check_scene_label(scene_y)
    return data


def _check_person_features(person_x: Any) -> Tensor:
    person_x = to_float_features(person_x, "person_x")
    if person_x.dim() != 2:
        raise ValueError(
            f"person_x must have shape [K, F_p] (one row per person), got {list(person_x.shape)}; "
            "use person_x.unsqueeze(0) for a single person"
        )
    if person_x.size(0) == 0:
        raise ValueError("a scene needs at least one person, got person_x with 0 rows")
    return person_x


def _check_scene_features(scene_x: Any) -> Tensor:
    scene_x = to_float_features(scene_x, "scene_x")
    if scene_x.dim() == 1:
        scene_x = scene_x.unsqueeze(0)
    if scene_x.dim() != 2 or scene_x.size(0) != 1:
        raise ValueError(
            f"scene_x must have shape [F_s] or [1, F_s] (one scene per graph), got "
            f"{list(scene_x.shape)}; build one scene_graph per scene and batch them with DataLoader"
        )
    return scene_x


def _check_person_labels(person_y: Any, num_persons: int) -> Tensor:
    person_y = to_index_vector(person_y, "person_y")
    if person_y.numel() != num_persons:
        raise ValueError(
            f"person_y must have one label per person: got {person_y.numel()} labels for "
            f"K={num_persons} persons"
        )
    return person_y


def _check_scene_label(scene_y: Any) -> Tensor:
    scene_y = require_integer(to_tensor(scene_y, "scene_y"), "scene_y")
    if scene_y.numel() != 1 or scene_y.dim() > 1:
        raise ValueError(
            f"scene_y must be a single label (python int, 0-d tensor or shape [1]), got shape "
            f"{list(scene_y.shape)}"
        )
    return scene_y.view(1)


def _scene_node_types(num_persons: int, device: Optional[torch.device] = None) -> Tensor:
    """``LongTensor [K+1]``: ``PERSON`` for nodes ``0..K-1``, ``SCENE`` for node ``K``."""
    node_type = torch.full((num_persons + 1,), PERSON, dtype=torch.long, device=device)
    node_type[-1] = SCENE
    return node_type


def _scene_edges(num_persons: int, device: Optional[torch.device] = None) -> tuple:
    """``(edge_index [2, E], edge_type [E])`` of a scene with ``K`` persons (order in :func:`scene_graph`)."""
    persons = torch.arange(num_persons, device=device)
    src = persons.repeat_interleave(num_persons)
    dst = persons.repeat(num_persons)
    distinct = src != dst
    scene = torch.full_like(persons, num_persons)
    edge_index = torch.cat([
        torch.stack([src[distinct], dst[distinct]]),
        torch.stack([persons, scene]),
        torch.stack([scene, persons]),
    ], dim=1)
    num_pairs = num_persons * (num_persons - 1)
    edge_type = torch.cat([
        torch.full((num_pairs,), PERSON_TO_PERSON, dtype=torch.long, device=device),
        torch.full((num_persons,), PERSON_TO_SCENE, dtype=torch.long, device=device),
        torch.full((num_persons,), SCENE_TO_PERSON, dtype=torch.long, device=device),
    ])
    return edge_index, edge_type
