r"""Conversion between :mod:`networkx` directed graphs and :class:`torch_geometric.data.Data`.

Unlike :func:`torch_geometric.utils.from_networkx`, :func:`from_networkx` accepts
only directed graphs (the recurrent schedules follow edge direction), turns an
edge attribute into the integer ``edge_type`` used by typed message passing, and
names the offending node or edge in every error.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any, Dict, Hashable, List, Optional, Tuple, Union

import networkx as nx
import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data

from graphrnn.counts import is_int
from graphrnn.data.loader import COLLATE_WRITES
from graphrnn.graph.checks import check_edge_index

__all__ = ["from_networkx", "to_networkx"]

EdgeTypes = Union[Sequence, Mapping]

_RESERVED = ("edge_index", "num_nodes", "node_keys", "edge_type_names")


# --------------------------------------------------------------------------- networkx -> Data


def from_networkx(
    G: nx.DiGraph,
    edge_type_attr: Optional[str] = None,
    edge_types: Optional[EdgeTypes] = None,
    node_attrs: Optional[Union[str, Sequence[str]]] = None,
    edge_attrs: Optional[Union[str, Sequence[str]]] = None,
) -> Data:
    r"""Converts a directed networkx graph into a :class:`~torch_geometric.data.Data`.

    Nodes are numbered ``0..N-1`` in ``G.nodes`` order (insertion order); the
    original node keys are kept in ``data.node_keys`` (a list, ``node_keys[i]`` is
    the key of node ``i``). Edges are listed in ``G.edges`` order; every parallel
    edge of a :class:`~networkx.MultiDiGraph` becomes its own edge.

    Args:
        G (nx.DiGraph or nx.MultiDiGraph): the graph; may be empty.
        edge_type_attr (str, optional): name of the edge attribute that gives the
            edge type, stored as ``data.edge_type`` (``LongTensor [E]``). Values are
            non-negative ints used as they are, or hashable labels mapped to ids
            through ``edge_types``. Floats (``2.0`` from a GraphML or CSV reader) are
            refused unless ``edge_types`` maps them: numbered as labels, their ids
            would follow their sorted order, not their values.
        edge_types (sequence or dict, optional): the label of each type id
            (``edge_types[t]`` is the label of type ``t``) or a dict ``label -> id``.
            When omitted and the values are not all ints, the ids follow the sorted
            unique labels. Whenever labels are mapped, ``data.edge_type_names``
            (list, ``names[t]`` = label of type ``t``) records the mapping.
        node_attrs (str or list of str, optional): node attributes to stack into
            tensors ``[N, ...]``, each stored under its own name (``"x"`` ->
            ``data.x``).
        edge_attrs (str or list of str, optional): edge attributes to stack into
            tensors ``[E, ...]``, each stored under its own name (``"edge_attr"`` ->
            ``data.edge_attr``).

    Note:
        PyG batching adds node offsets to every attribute whose name contains
        ``"index"`` and concatenates the others unchanged; pick names accordingly.

    Returns:
        Data with ``edge_index`` (``LongTensor [2, E]``), ``num_nodes``,
        ``node_keys``, and the requested ``edge_type`` / attributes.

    Raises:
        TypeError: if ``G`` is not a networkx graph.
        ValueError: if ``G`` is undirected (call ``G.to_directed()``), an edge has
            no ``edge_type_attr`` attribute or a label missing from ``edge_types``,
            a node or edge lacks a requested attribute, attribute values have
            different shapes, an edge type is a float (and ``edge_types`` is not given),
            or an attribute is named ``batch`` or ``ptr`` (PyG's collate writes those).
    """
    _check_directed(G)
    node_attrs = _attr_names(node_attrs, "node_attrs")
    edge_attrs = _attr_names(edge_attrs, "edge_attrs")
    _check_attr_names(node_attrs, edge_attrs, edge_type_attr)

    node_keys = list(G.nodes)
    position = {key: i for i, key in enumerate(node_keys)}
    edges = list(G.edges(data=True))
    data = Data(edge_index=_edge_index(edges, position), num_nodes=len(node_keys), node_keys=node_keys)
    if edge_type_attr is not None:
        edge_type, names = _edge_types(edges, edge_type_attr, edge_types)
        data.edge_type = edge_type
        if names is not None:
            data.edge_type_names = names
    for name in node_attrs:
        data[name] = _stack(name, [(repr(key), G.nodes[key]) for key in node_keys], "node", "node_attrs")
    for name in edge_attrs:
        items = [(f"({u!r}, {v!r})", attrs) for u, v, attrs in edges]
        data[name] = _stack(name, items, "edge", "edge_attrs")
    return data


def _check_directed(G: Any) -> None:
    if not isinstance(G, nx.Graph):
        raise TypeError(f"G must be a networkx DiGraph or MultiDiGraph, got {type(G).__name__}")
    if not G.is_directed():
        raise ValueError(
            f"from_networkx needs a directed graph, got an undirected {type(G).__name__}; call "
            "G.to_directed() first (note: this adds both directions u -> v and v -> u of every "
            "edge, which makes a cycle for the topological schedule), or build an nx.DiGraph "
            "with the edge directions you mean"
        )


def _attr_names(names: Optional[Union[str, Sequence[str]]], argument: str) -> List[str]:
    """``None`` -> ``[]``, ``"x"`` -> ``["x"]``, a sequence of str -> list."""
    if names is None:
        return []
    if isinstance(names, str):
        return [names]
    names = list(names)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"{argument} must be attribute names (str), got {name!r}")
    return names


def _check_attr_names(node_attrs: List[str], edge_attrs: List[str], edge_type_attr: Optional[str]) -> None:
    reserved = set(_RESERVED) | ({"edge_type"} if edge_type_attr is not None else set())
    seen = set()
    for name in node_attrs + edge_attrs:
        if name in COLLATE_WRITES:
            raise ValueError(f"attribute name {name!r} is written by PyG's collate into every batch, which would "
                             f"replace its values when the graphs are batched; rename the networkx attribute "
                             f"(e.g. {name + '_id'!r})")
        if name in reserved:
            raise ValueError(
                f"attribute name {name!r} is reserved by from_networkx (it stores {sorted(reserved)}); "
                "rename the networkx attribute"
            )
        if name in seen:
            raise ValueError(f"attribute {name!r} is requested twice in node_attrs/edge_attrs; request it once")
        seen.add(name)


def _edge_index(edges: List[Tuple], position: Dict[Hashable, int]) -> Tensor:
    """``LongTensor [2, E]`` from networkx edges ``(u, v, attrs)``."""
    src = [position[u] for u, _, _ in edges]
    dst = [position[v] for _, v, _ in edges]
    return torch.tensor([src, dst], dtype=torch.long).view(2, -1)


def _as_int(value: Any) -> Optional[int]:
    """``value`` as a python int when it is an integer (not a bool), else ``None``."""
    if is_int(value):
        return int(value)
    if isinstance(value, Tensor) and value.dim() == 0 and not (
        value.is_floating_point() or value.is_complex() or value.dtype == torch.bool
    ):
        return int(value)
    return None


def _as_type_id(value: Any) -> Optional[int]:
    """An edge type id: an integer, or a whole float (``2.0``, as GraphML and pandas write integer columns) taken
    as the integer it holds; ``None`` for anything else (a label, or a float that is not whole)."""
    as_int = _as_int(value)
    if as_int is None and _is_float(value) and math.isfinite(float(value)) and float(value).is_integer():
        return int(float(value))
    return as_int


def _edge_types(edges: List[Tuple], attr: str, edge_types: Optional[EdgeTypes]) -> Tuple[Tensor, Optional[list]]:
    """``(edge_type LongTensor [E], names or None)`` from the ``attr`` attribute of every edge."""
    values = [_edge_type_value(u, v, attrs, attr) for u, v, attrs in edges]
    if edge_types is None:
        ints = [_as_type_id(value) for value in values]
        if all(i is not None for i in ints):
            return _check_type_ids(ints, edges, attr), None
        _refuse_numbers_as_labels(values, ints, edges, attr)
        mapping = _mapping_from_labels(_sorted_labels(values, attr))
    else:
        mapping = _mapping_from_edge_types(edge_types)
    ids = [_lookup(mapping, value, edge, attr) for value, edge in zip(values, edges)]
    return torch.tensor(ids, dtype=torch.long), _names_by_id(mapping)


def _is_float(value: Any) -> bool:
    if isinstance(value, Tensor):
        return value.dim() == 0 and value.is_floating_point()
    return isinstance(value, numbers.Real) and not isinstance(value, (numbers.Integral, bool, np.bool_))


def _refuse_numbers_as_labels(values: List[Any], ints: List[Optional[int]], edges: List[Tuple], attr: str) -> None:
    """Floats that are not whole numbers are not type ids, and numbered as labels by sorted value they would
    shift the ids of the integer types beside them (``{1, 2.5}`` would become ``{0, 1}``). Whole floats
    (``2.0``) are read as their integers before this (:func:`_as_type_id`); beside labels they are refused too."""
    for value, (u, v, _) in zip(values, edges):
        if _is_float(value):
            labels = any(i is None and not _is_float(other) for i, other in zip(ints, values))
            kind = ("mixed with labels" if labels else "mixed with integer types" if any(i is not None for i in ints)
                    else "a float")
            raise ValueError(f"edge ({u!r}, {v!r}) has {attr}={value!r}, {kind}; edge types are integer ids >= 0 "
                             "(whole floats such as 2.0 are read as 2), or labels such as strings mapped through "
                             "edge_types")


def _edge_type_value(u: Any, v: Any, attrs: Mapping, attr: str) -> Any:
    if attr not in attrs:
        raise ValueError(
            f"edge ({u!r}, {v!r}) has no {attr!r} attribute; give every edge an {attr!r} attribute "
            "or pass edge_type_attr=None"
        )
    return attrs[attr]


def _check_type_ids(ids: List[int], edges: List[Tuple], attr: str) -> Tensor:
    for value, (u, v, _) in zip(ids, edges):
        if value < 0:
            raise ValueError(
                f"edge ({u!r}, {v!r}) has {attr}={value}; integer edge types must be >= 0"
            )
        if value >= 2 ** 63:
            raise ValueError(f"edge ({u!r}, {v!r}) has {attr}={value}, too large for an edge type id (int64); "
                             "number the types 0, 1, ... or map them through edge_types")
    return torch.tensor(ids, dtype=torch.long)


def _sorted_labels(values: List[Any], attr: str) -> List[Any]:
    try:
        return sorted(set(values))
    except TypeError as err:
        raise ValueError(
            f"cannot order the {attr!r} labels ({err}); labels must be hashable and comparable to "
            "be numbered automatically — pass edge_types=[label0, label1, ...] to fix the ids"
        ) from err


def _mapping_from_labels(labels: Sequence) -> Dict[Hashable, int]:
    mapping = {}
    for type_id, label in enumerate(labels):
        if label in mapping:
            raise ValueError(f"edge_types lists label {label!r} twice; list every label once")
        mapping[label] = type_id
    return mapping


def _mapping_from_edge_types(edge_types: EdgeTypes) -> Dict[Hashable, int]:
    if isinstance(edge_types, Mapping):
        mapping = {label: _as_int(type_id) for label, type_id in edge_types.items()}
        for label, type_id in mapping.items():
            if type_id is None or type_id < 0:
                raise ValueError(
                    f"edge_types maps {label!r} to {edge_types[label]!r}; type ids must be ints >= 0"
                )
        return mapping
    if isinstance(edge_types, (str, bytes)) or not isinstance(edge_types, Sequence):
        raise TypeError(
            "edge_types must be a sequence of labels (index = type id) or a dict label -> id, "
            f"got {type(edge_types).__name__}"
        )
    return _mapping_from_labels(edge_types)


def _lookup(mapping: Mapping, value: Any, edge: Tuple, attr: str) -> int:
    try:
        return mapping[value]
    except (KeyError, TypeError):
        u, v, _ = edge
        raise ValueError(
            f"edge ({u!r}, {v!r}) has {attr}={value!r}, which is not in edge_types "
            f"{list(mapping)}; add it to edge_types"
        ) from None


def _names_by_id(mapping: Mapping) -> list:
    """``names[t]`` = label of type ``t`` (``None`` for ids no label uses)."""
    names = [None] * (max(mapping.values(), default=-1) + 1)
    for label, type_id in mapping.items():
        names[type_id] = label
    return names


def _stack(name: str, items: List[Tuple[str, Mapping]], kind: str, argument: str) -> Tensor:
    """Stacks attribute ``name`` of every ``(description, attrs)`` item into ``[len(items), ...]``."""
    rows = [_attr_tensor(name, attrs, description, kind, argument) for description, attrs in items]
    if not rows:
        return torch.empty(0)
    for (description, _), row in zip(items, rows):
        if row.shape != rows[0].shape:
            raise ValueError(
                f"attribute {name!r} has shape {list(row.shape)} on {kind} {description} but "
                f"{list(rows[0].shape)} on {kind} {items[0][0]}; every {kind} needs the same shape"
            )
    return torch.stack(rows)


def _attr_tensor(name: str, attrs: Mapping, description: str, kind: str, argument: str) -> Tensor:
    if name not in attrs:
        raise ValueError(
            f"{kind} {description} has no {name!r} attribute; give every {kind} a {name!r} "
            f"attribute or leave {name!r} out of {argument}"
        )
    try:
        return torch.as_tensor(attrs[name])
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(
            f"attribute {name!r} of {kind} {description} is not numeric ({err}); map labels to ids first"
        ) from err


# --------------------------------------------------------------------------- Data -> networkx


#: Attributes copied to the nodes by default (when present): the per-node fields of graphrnn's builders.
NODE_KEYS = ("x", "y", "pos", "node_type", "depth", "has_children", "has_next_sibling")
#: Attributes copied to the edges by default (when present).
EDGE_KEYS = ("edge_type", "edge_attr", "edge_weight")


def to_networkx(
    data: Data,
    node_attrs: Optional[Union[str, Sequence[str]]] = None,
    edge_attrs: Optional[Union[str, Sequence[str]]] = None,
) -> nx.DiGraph:
    r"""Converts a :class:`~torch_geometric.data.Data` into a directed networkx graph.

    Node ``i`` is named ``data.node_keys[i]`` when ``data`` came from :func:`from_networkx`
    (``node_keys`` is a list of ``N`` distinct keys), so that ``from_networkx(to_networkx(data))``
    restores the original keys; otherwise nodes are ``0..N-1``. Edges are added in
    ``edge_index`` order. The result is an :class:`~networkx.MultiDiGraph` when
    ``edge_index`` has parallel edges and an :class:`~networkx.DiGraph` otherwise. Tensor
    rows become python scalars (0-d rows) or nested lists.

    Attributes are placed by name, never by size: an attribute goes on the nodes only when
    it is listed in ``node_attrs`` and on the edges only when listed in ``edge_attrs`` (so an
    edge attribute stays on the edges even when ``E == N``), and it must then have one row
    per node (edge). When ``edge_type`` (``node_type``) is copied and ``data.edge_type_names``
    (``node_type_names``) names the ids, as :func:`from_networkx` and
    :func:`~graphrnn.data.from_hetero` record them, each edge (node) also gets its label as
    ``edge_type_name`` (``node_type_name``), so ``from_networkx(H, edge_type_attr="edge_type_name")``
    restores the labels.

    Args:
        data (Data): graph with ``edge_index`` ``[2, E]`` and ``num_nodes``.
        node_attrs (str or list of str, optional): per-node tensors (first dim ``N``) to
            copy. Default: those of :data:`NODE_KEYS` (``x``, ``y``, ``pos``, ``node_type``,
            ``depth``, ``has_children``, ``has_next_sibling``) that ``data`` has, except 0-d
            (per-graph) values.
        edge_attrs (str or list of str, optional): per-edge tensors (first dim ``E``) to
            copy. Default: those of :data:`EDGE_KEYS` (``edge_type``, ``edge_attr``,
            ``edge_weight``) that ``data`` has.

    Returns:
        nx.DiGraph or nx.MultiDiGraph.

    Raises:
        TypeError: if ``data`` is not a PyG ``Data`` (e.g. already a networkx graph).
        ValueError: if ``data`` has no ``edge_index`` or ``num_nodes``, or an attribute to
            copy is missing or does not have one row per node (edge).
    """
    _check_data(data)
    edge_index = getattr(data, "edge_index", None)
    num_nodes = data.num_nodes
    if edge_index is None or num_nodes is None:
        raise ValueError("data needs edge_index and num_nodes; set data.num_nodes = N explicitly")
    check_edge_index(edge_index, num_nodes)
    num_edges = edge_index.size(1)
    node_names = _present(data, NODE_KEYS) if node_attrs is None else _attr_names(node_attrs, "node_attrs")
    edge_names = _present(data, EDGE_KEYS) if edge_attrs is None else _attr_names(edge_attrs, "edge_attrs")
    node_rows = {name: _rows(data, name, num_nodes, "node") for name in node_names}
    edge_rows = {name: _rows(data, name, num_edges, "edge") for name in edge_names}
    _add_type_names(data, node_rows, "node")
    _add_type_names(data, edge_rows, "edge")

    keys = _node_keys(data, num_nodes)
    G = nx.MultiDiGraph() if _has_parallel_edges(edge_index) else nx.DiGraph()
    G.add_nodes_from((keys[i], {name: rows[i] for name, rows in node_rows.items()}) for i in range(num_nodes))
    pairs = edge_index.t().tolist()
    G.add_edges_from((keys[u], keys[v], {name: rows[e] for name, rows in edge_rows.items()})
                     for e, (u, v) in enumerate(pairs))
    return G


def _add_type_names(data: Data, rows: Dict[str, list], kind: str) -> None:
    """Beside copied ``<kind>_type`` ids, their labels from ``data.<kind>_type_names`` (as :func:`from_networkx`
    and :func:`~graphrnn.data.from_hetero` record them) as ``<kind>_type_name``: without them the labels the
    graph came with would be lost, leaving bare ids."""
    names = getattr(data, f"{kind}_type_names", None)
    ids = rows.get(f"{kind}_type")
    if ids is None or not isinstance(names, (list, tuple)) or f"{kind}_type_name" in rows:
        return
    rows[f"{kind}_type_name"] = [names[i] if isinstance(i, int) and 0 <= i < len(names) else None for i in ids]


def _check_data(data: Any) -> None:
    if isinstance(data, nx.Graph):
        raise TypeError(f"to_networkx needs a torch_geometric Data, got a networkx {type(data).__name__}, which "
                        "is converted already; use from_networkx(G) to go the other way")
    if not isinstance(data, Data):
        raise TypeError(f"to_networkx needs a torch_geometric.data.Data (e.g. from chain_graph or tree_graph), "
                        f"got {type(data).__name__}")


def _present(data: Data, names: Sequence[str]) -> List[str]:
    """The attributes of ``names`` that ``data`` holds as tensors of at least one dimension."""
    return [name for name in names if isinstance(getattr(data, name, None), Tensor) and data[name].dim() > 0]


def _node_keys(data: Data, num_nodes: int) -> list:
    """``data.node_keys`` when it names every node once (``from_networkx`` output), else ``0..N-1``."""
    keys = getattr(data, "node_keys", None)
    if isinstance(keys, (list, tuple)) and len(keys) == num_nodes and all(isinstance(k, Hashable) for k in keys):
        try:
            if len(set(keys)) == num_nodes:
                return list(keys)
        except TypeError:  # a tuple holding an unhashable value
            pass
    return list(range(num_nodes))


def _rows(data: Data, name: str, size: int, kind: str) -> list:
    value = getattr(data, name, None)
    if not isinstance(value, Tensor):
        raise ValueError(f"data has no tensor attribute {name!r}; choose among {sorted(data.keys())}")
    if value.dim() == 0 or value.size(0) != size:
        raise ValueError(
            f"{kind} attribute {name!r} has shape {list(value.shape)}, expected first dimension "
            f"{size} (one row per {kind}); leave it out by listing the attributes to copy, e.g. "
            f"{kind}_attrs=[...] without {name!r}"
        )
    return value.detach().cpu().tolist()


def _has_parallel_edges(edge_index: Tensor) -> bool:
    return edge_index.size(1) > 0 and torch.unique(edge_index, dim=1).size(1) < edge_index.size(1)
