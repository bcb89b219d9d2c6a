"""Heterogeneous graphs (PyG ``HeteroData``) as typed homogeneous graphs, and back.

graphrnn's layers run on one ``edge_index`` with ``node_type``/``edge_type`` vectors (the
SIM's scene graphs, the DRNN's trees, ``ChainRNN(edge_types=...)``). :func:`from_hetero`
turns a ``HeteroData`` into that form, keeping the type names; :func:`to_hetero` splits a
typed graph (or a layer's node outputs) back into a ``HeteroData``.

PyG's model transform ``torch_geometric.nn.to_hetero`` does not apply to graphrnn's layers:
it traces a module's forward with ``torch.fx``, and a recurrent pass loops over the levels of
the graph it is given, which a symbolic trace cannot follow. Convert the data instead.
"""
from __future__ import annotations

import warnings
from typing import Dict, List, Optional

import torch
from torch import Tensor
from torch_geometric.data import Data, HeteroData

__all__ = ["from_hetero", "to_hetero"]


def from_hetero(hetero: HeteroData, pad_features: bool = True, strict: bool = False) -> Data:
    r"""A ``HeteroData`` as one typed graph: ``x``, ``edge_index``, ``node_type``, ``edge_type`` and names.

    Nodes are numbered type by type (in ``hetero.node_types`` order), edges likewise. Every
    other per-node attribute (``y``, ...) and per-edge attribute (``edge_attr``, ...) that every
    node (edge) type holds as a tensor of one dtype and width is carried over, concatenated type
    by type; graph-level attributes are kept as they are. One that only some types hold (``y``
    and ``train_mask`` on the labelled type of IMDB or DBLP, ``edge_label`` on the edge type a
    link predictor scores) or that is not a tensor (a ``NeighborLoader``'s ``batch_size``) cannot
    become part of one typed graph: it is left out with a warning that names it (``strict=True``
    refuses it instead).
    ``data.node_type_names`` (list of str) and ``data.edge_type_names`` (list of
    ``(source, relation, target)``) name the type ids; ``data.node_feature_widths`` records each
    node type's feature width, so :func:`to_hetero` restores them.

    Args:
        hetero (HeteroData): the graph.
        pad_features (bool): zero-pad every node type's ``x`` to the widest, so that all nodes
            share one ``x`` (a layer then reads a type's first columns). (default: ``True``)
        strict (bool): refuse an attribute that some types lack or that is not a tensor, instead
            of leaving it out with a warning. (default: ``False``)

    Raises:
        TypeError: if ``hetero`` is not a ``HeteroData``.
        ValueError: if it has no node types, node types disagree on whether they have ``x`` or on its
            dtype, an ``edge_index`` is malformed or refers to a node outside its type, or another
            attribute that every type holds differs in dtype or width across them; with ``strict``,
            also one that some types lack or that is not a tensor.
    """
    if not isinstance(hetero, HeteroData):
        raise TypeError(f"from_hetero takes a torch_geometric HeteroData, got {type(hetero).__name__}; a Data "
                        "is already homogeneous")
    if not hetero.node_types:
        raise ValueError("the HeteroData has no node types")
    with_x = [t for t in hetero.node_types if "x" in hetero[t]]
    if with_x and len(with_x) != len(hetero.node_types):
        missing = sorted(set(hetero.node_types) - set(with_x))
        raise ValueError(f"node types {missing} have no x while others do; give every node type features "
                         "(e.g. zeros) or none")
    dtypes = {t: hetero[t].x.dtype for t in with_x}
    if len(set(dtypes.values())) > 1:
        raise ValueError(f"node types have x of different dtypes {dtypes}; convert every x to one dtype "
                         "(e.g. .float()) first, so that no type is cast silently")
    _check_edges(hetero)
    widths = {t: (hetero[t].x.size(1) if hetero[t].x.dim() > 1 else 1) for t in with_x}
    source = hetero
    if with_x and pad_features and len(set(widths.values())) > 1:
        source = hetero.clone()
        width = max(widths.values())
        for node_type in with_x:
            x = source[node_type].x.view(source[node_type].num_nodes, -1)
            source[node_type].x = torch.nn.functional.pad(x, (0, width - x.size(1)))
    node_attrs = _shared_attributes(hetero, "node", strict)
    edge_attrs = _shared_attributes(hetero, "edge", strict)
    data = source.to_homogeneous(node_attrs=node_attrs, edge_attrs=edge_attrs)
    data.node_type_names = list(hetero.node_types)
    data.edge_type_names = [tuple(t) for t in hetero.edge_types]
    data.node_feature_widths = widths
    return data


#: Attributes from_hetero writes or reads itself (not carried over as per-node or per-edge values).
_OWN = {"node": {"num_nodes", "node_type"}, "edge": {"edge_index", "edge_type"}}


def _shared_attributes(hetero: HeteroData, kind: str, strict: bool) -> List[str]:
    """The per-node (``kind="node"``) or per-edge attributes to carry into the typed graph: those every store of
    that kind holds as a tensor. The others are left out with a warning naming them (PyG's ``to_homogeneous``
    drops them without a word), or refused when ``strict``; one held with different dtypes or widths is refused."""
    stores = hetero.node_stores if kind == "node" else hetero.edge_stores
    if not stores:
        return []
    names = sorted({name for store in stores for name in store.keys()} - _OWN[kind])
    kept, left_out = [], []
    for name in names:
        having = [store._key for store in stores if isinstance(store.get(name), Tensor)]
        if len(having) < len(stores):
            lacking = [store._key for store in stores if store._key not in having]
            reason = (f"{name!r} (not a tensor)" if not having else
                      f"{name!r} (held by {having}, not by {lacking})")
            left_out.append(reason)
            continue
        if not (name == "x" and kind == "node"):  # x is checked and padded by from_hetero itself
            _check_same_layout(stores, name, kind)
        kept.append(name)
    if left_out:
        verb = "cannot carry" if strict else "leaves out"
        message = (f"from_hetero {verb} {kind} attributes {', '.join(left_out)}: one typed graph holds an "
                   f"attribute for every {kind} or none. Give it to every {kind} type (e.g. zeros, or -1 for "
                   "no label), or read it from the HeteroData by type")
        if strict:
            raise ValueError(message)
        warnings.warn(message, stacklevel=3)
    return kept


def _check_same_layout(stores, name: str, kind: str) -> None:
    shapes = {store._key: (str(store[name].dtype), list(store[name].shape[1:])) for store in stores}
    if len(set(map(str, shapes.values()))) > 1:
        raise ValueError(f"{kind} attribute {name!r} has different dtypes or widths across {kind} types "
                         f"({shapes}); one typed graph holds one {name!r} tensor: convert them to one dtype "
                         "and width first")


def _check_edges(hetero: HeteroData) -> None:
    """Every edge type's ``edge_index`` is an integer ``[2, E]`` whose sources lie among its source type's nodes
    and targets among its target type's (once numbered type by type, an id past its type's count would silently
    name a node of the next type)."""
    for edge_type in hetero.edge_types:
        edge_index = getattr(hetero[edge_type], "edge_index", None)
        if edge_index is None:
            continue
        name = f"edge_index of {tuple(edge_type)}"
        if not isinstance(edge_index, Tensor) or edge_index.dim() != 2 or edge_index.size(0) != 2:
            shape = list(edge_index.shape) if isinstance(edge_index, Tensor) else type(edge_index).__name__
            raise ValueError(f"{name} must have shape [2, E], got {shape}")
        if edge_index.dtype not in (torch.int64, torch.int32):
            raise ValueError(f"{name} must hold integer node indices (torch.long), got dtype {edge_index.dtype}")
        for row, node_type in ((0, edge_type[0]), (1, edge_type[-1])):
            count = hetero[node_type].num_nodes or 0
            ids = edge_index[row]
            if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= count):
                bad = int(ids.min()) if int(ids.min()) < 0 else int(ids.max())
                raise ValueError(f"{name} refers to {node_type!r} node {bad}, but {node_type!r} has {count} nodes "
                                 f"(valid ids 0..{count - 1}); fix the edges or the node count")


def to_hetero(data: Data, x: Optional[Tensor] = None) -> HeteroData:
    """Splits a typed graph from :func:`from_hetero` (or any ``Data`` with ``node_type``,
    ``edge_type`` and the two name lists) back into a ``HeteroData``.

    Args:
        data (Data): the typed graph.
        x (Tensor, optional): node rows to split instead of ``data.x`` (e.g. a layer's output
            ``[N, H]``, which then keeps its width).

    Raises:
        TypeError: if ``data`` is not a ``Data``.
        ValueError: if it lacks ``node_type``/``edge_type`` or the type names, or ``x`` has the wrong rows.
    """
    if not isinstance(data, Data):
        raise TypeError(f"to_hetero takes a torch_geometric Data, got {type(data).__name__}")
    missing = [k for k in ("node_type", "edge_type", "node_type_names", "edge_type_names")
               if getattr(data, k, None) is None]
    if missing:
        raise ValueError(f"data lacks {missing}: build it with graphrnn.data.from_hetero, or set the type "
                         "vectors and their names")
    source = data.clone()
    widths: Dict[str, int] = getattr(data, "node_feature_widths", None) or {}
    if x is not None:
        if not isinstance(x, Tensor) or x.size(0) != data.num_nodes:
            raise ValueError(f"x must have one row per node ({data.num_nodes}), got "
                             f"{list(x.shape) if isinstance(x, Tensor) else type(x).__name__}")
        source.x, widths = x, {}
    for key in ("node_type_names", "edge_type_names", "node_feature_widths"):
        if key in source:
            del source[key]
    hetero = source.to_heterogeneous(node_type_names=list(data.node_type_names),
                                     edge_type_names=[tuple(t) for t in data.edge_type_names])
    for node_type, width in widths.items():
        if "x" in hetero[node_type]:
            x_type = hetero[node_type].x[:, :width]
            hetero[node_type].x = x_type
    return hetero
