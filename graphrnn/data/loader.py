"""The batched graph loader: PyG's ``DataLoader``, plus execution plans built in the collate."""
from __future__ import annotations

import multiprocessing
import pickle
from collections.abc import Iterator
from typing import Any, Callable, Dict, Iterable, Mapping, Optional, Sequence, Tuple

import torch
from torch import Tensor
from torch_geometric.data.data import BaseData
from torch_geometric.loader import DataLoader as PyGDataLoader

from graphrnn.counts import is_int

__all__ = ["DataLoader", "PlanningCollater", "check_batchable", "check_dataset", "planners_of"]


def planners_of(model) -> Optional[Dict[str, Callable]]:
    """``model.planners()`` where the model offers one (the plans a loader can attach to its batches),
    else ``None``: the ``plans`` argument of :class:`DataLoader` for that model."""
    planners = getattr(model, "planners", None)
    return dict(planners()) if callable(planners) else None


def _signature(graph: BaseData, exclude: Iterable[str], cat_dims: Dict[Tuple[Any, str, int], Any]
               ) -> Dict[Tuple[Any, str], Any]:
    """``{(store, attribute): what PyG must find equal to join it}`` of one graph (metadata only, no values).

    A tensor gives its dtype and its shape with ``"*"`` for the dimension PyG concatenates along
    (``__cat_dim__``: the nodes or edges), ``None`` for an empty 1-D tensor (which joins any shape);
    any other value gives its type's name (only its presence counts). ``cat_dims`` caches
    ``__cat_dim__`` by attribute and rank, so a batch asks it once.
    """
    signature: Dict[Tuple[Any, str], Any] = {}
    for store in graph.stores:
        store_key = store._key
        for name, value in store.items():
            if name in exclude:
                continue
            if not isinstance(value, Tensor):
                signature[(store_key, name)] = type(value).__name__
                continue
            shape: Any = value.shape
            rank = len(shape)
            if rank == 1 and shape[0] == 0:
                shape = None  # torch.cat skips an empty 1-D tensor (e.g. x of a graph without nodes): any shape joins
            elif rank:
                cached = (store_key, name, rank)
                dim = cat_dims.get(cached, False)
                if dim is False:
                    dim = cat_dims[cached] = graph.__cat_dim__(name, value, store)
                if isinstance(dim, int):  # any length along the dimension the graphs are joined on
                    dim %= rank
                    shape = (*shape[:dim], "*", *shape[dim + 1:])
            signature[(store_key, name)] = (value.dtype, None if shape is None else list(shape))
    return signature


def _attribute(key: Tuple[Any, str]) -> str:
    store, name = key
    return repr(name) if store is None else f"{name!r} of {store!r}"


def _same_kind_of_integer(left, right) -> bool:
    """int32 and int64 ids concatenate without changing a value; any other pair of dtypes would be cast."""
    return all(not (d.is_floating_point or d.is_complex) and d is not torch.bool for d in (left, right))


def _compare_kind(key: Tuple[Any, str], want: Any, have: Any, label: str, first: str) -> None:
    """Tensor or not, and the dtype of a tensor."""
    if isinstance(want, str) or isinstance(have, str):  # not tensors: only their presence counts
        if isinstance(want, str) != isinstance(have, str):
            shown = [value if isinstance(value, str) else "tensor" for value in (have, want)]
            raise ValueError(f"{label}: {_attribute(key)} is a {shown[0]}, in {first} a {shown[1]}; give every "
                             "graph the same kind of value")
        return
    (want_dtype, _), (have_dtype, _) = want, have
    if want_dtype != have_dtype and not _same_kind_of_integer(want_dtype, have_dtype):
        raise ValueError(f"{label}: {_attribute(key)} is {have_dtype}, in {first} it is {want_dtype}; batching would "
                         f"cast one to the other silently (token ids to floats, or float32 features to float64). "
                         f"Give every graph the same dtype, e.g. data.{key[1]} = data.{key[1]}.to({want_dtype})")


def _shape(entry: Any) -> Optional[list]:
    return None if isinstance(entry, str) else entry[1]


def _compare_shape(key: Tuple[Any, str], want: Optional[list], have: Optional[list], label: str,
                   first: str) -> None:
    if want is not None and have is not None and have != want:
        raise ValueError(f"{label}: {_attribute(key)} has shape {have}, in {first} {want} ('*': the dimension along "
                         "which graphs are joined, free); every other dimension must be equal (the same feature "
                         "width, or a per-graph label in every graph, or a per-node one in every graph)")


def check_batchable(items: Sequence[Any], what: str = "the batch", exclude: Iterable[str] = ()) -> None:
    r"""Checks that PyG can join ``items`` into one batch without failing deep inside torch or changing them.

    PyG's collate reads the attributes of the *first* graph: an attribute missing from a later
    graph fails with a bare ``KeyError``, one missing from the first is dropped from the whole
    batch, tensors of different dtypes are cast silently (``torch.cat`` promotes token ids to
    floats), different feature widths fail inside ``torch.cat``, and a graph's own ``batch`` or
    ``ptr`` attribute is replaced by the collate's. This check reads only
    metadata (attribute names, dtypes, shapes), never tensor values, so it is cheap enough for
    every batch; :class:`DataLoader` runs it in its collate. Items that are not PyG graphs
    (tensors, tuples) are left to PyG.

    Args:
        items: the graphs (``Data`` or ``HeteroData``) of one batch or of a whole dataset.
        what: how to name ``items`` in errors, e.g. ``"train_data"``.
        exclude: attribute names the collate leaves out (PyG's ``exclude_keys``).

    Raises:
        TypeError: if graphs are mixed with other items, or with graphs of another class.
        ValueError: naming the item and attribute, if an attribute is missing from some graphs,
            or has another dtype (integers of different widths are fine) or another shape
            outside the dimension along which graphs are joined, or is named ``batch`` or ``ptr``
            (PyG's collate writes those, replacing the graph's own values).
    """
    graphs = [index for index, item in enumerate(items) if isinstance(item, BaseData)]
    if not graphs:
        _check_columns(items, what, exclude)
        return
    exclude = set(exclude)
    first = items[0]
    if len(graphs) != len(items):
        other = next(index for index in range(len(items)) if index not in set(graphs))
        raise TypeError(f"item {other} of {what} is a {type(items[other]).__name__}, item {graphs[0]} a "
                        f"{type(items[graphs[0]]).__name__}: a batch holds graphs only; build every item as a graph")
    cat_dims: Dict[Tuple[Any, str, int], Any] = {}
    labels = [f"item {index} of {what}" for index in range(len(items))]
    signatures = [_signature(first, exclude, cat_dims)]
    _check_collate_names(signatures[0], labels[0])
    for index in range(1, len(items)):
        graph = items[index]
        if type(graph) is not type(first):
            raise TypeError(f"{labels[index]} is a {type(graph).__name__}, {labels[0]} a {type(first).__name__}; "
                            "give every item the same graph class")
        signatures.append(_signature(graph, exclude, cat_dims))
        _compare_keys(signatures[0], signatures[index], labels[index], labels[0])
    if all(signature == signatures[0] for signature in signatures):
        return  # the usual batch: one comparison of dicts per graph
    for key, want in signatures[0].items():
        for index in range(1, len(items)):
            _compare_kind(key, want, signatures[index][key], labels[index], labels[0])
        shapes = [_shape(signature[key]) for signature in signatures]
        shaped = next((index for index, shape in enumerate(shapes) if shape is not None), 0)
        for index, shape in enumerate(shapes):
            _compare_shape(key, shapes[shaped], shape, labels[index], labels[shaped])


#: Attributes PyG's collate writes into every batch (graph id of each node, graph offsets): a graph's own value
#: under these names would be replaced without a word.
COLLATE_WRITES = ("batch", "ptr")


def _check_collate_names(signature: Mapping, label: str) -> None:
    for store, name in signature:
        if name in COLLATE_WRITES:
            raise ValueError(f"{label} has an attribute {_attribute((store, name))}, which PyG's collate overwrites "
                             f"in every batch ({name!r}: {'the graph of each node' if name == 'batch' else 'offsets'}"
                             f"), so its values would be lost; rename it (e.g. data.{name}_id = data.{name}; del "
                             f"data.{name}), or leave it out with exclude_keys=[{name!r}]")


def _check_columns(items: Sequence[Any], what: str, exclude: Iterable[str]) -> None:
    """Items that are tuples (or lists) of graphs, e.g. ``(source_graph, target_graph)``: PyG collates each
    position on its own, so each position is checked as a batch of its own."""
    if not items or not all(isinstance(item, (tuple, list)) for item in items):
        return
    lengths = {len(item) for item in items}
    if len(lengths) != 1:
        raise ValueError(f"the items of {what} are tuples of different lengths {sorted(lengths)}; PyG joins them "
                         "position by position, so give every item the same number of parts")
    for position in range(lengths.pop()):
        column = [item[position] for item in items]
        if any(isinstance(part, BaseData) for part in column):
            check_batchable(column, f"part {position} of the items of {what}", exclude)


def _compare_keys(reference: Mapping, signature: Mapping, label: str, first: str) -> None:
    if signature.keys() != reference.keys():
        missing = [key for key in reference if key not in signature]
        extra = [key for key in signature if key not in reference]
        lacking, having = (label, first) if missing else (first, label)
        raise ValueError(f"{lacking} has no {_attribute((missing or extra)[0])} while {having} has one: every graph "
                         "of a batch needs the same attributes (PyG would fail with a KeyError or drop the attribute "
                         "from the batch); give it to every graph, or delete it from all")


def check_dataset(dataset: Any, name: str = "dataset") -> None:
    """Checks that ``dataset`` can be read again every epoch, item by item (a list, a ``Dataset``).

    Raises:
        TypeError: for one graph instead of a list of graphs (PyG's loader fails with ``KeyError: 0``),
            a generator or other iterator (used up after one pass; ``has no len()``), a dict
            (``KeyError: 0``) or ``None``.
    """
    if dataset is None:
        raise TypeError(f"{name} is None; pass a list of graphs (or a Dataset)")
    if isinstance(dataset, BaseData):
        raise TypeError(f"{name} is one graph ({type(dataset).__name__}), not a list of graphs; wrap it in a list: "
                        f"[{name}]")
    if isinstance(dataset, Iterator):
        raise TypeError(f"{name} is a {type(dataset).__name__}, which is used up after one pass, but every epoch "
                        f"reads it again; pass a list (list({name})) or a Dataset")
    if isinstance(dataset, Mapping):
        raise TypeError(f"{name} is a {type(dataset).__name__}; pass a list of items (e.g. list({name}.values()))")


class PlanningCollater:
    """Checks the items (:func:`check_batchable`), collates like PyG, then attaches
    ``batch.<name> = planner(batch)`` for every plan asked for.

    It runs where the collate runs: in the loader's worker processes when ``num_workers > 0``,
    so the checks and the plans run on the CPU, off the training loop, and plans travel with the
    batch (``batch.to(device)`` moves them).
    """

    def __init__(self, collate: Callable, plans: Mapping[str, Callable]) -> None:
        self.collate = collate
        self.plans = dict(plans)
        self.exclude = tuple(getattr(collate, "exclude_keys", None) or ())

    def __call__(self, items):
        try:
            check_batchable(items, exclude=self.exclude)
        except (TypeError, ValueError) as error:
            raise type(error)(f"{error}. To find the item in the dataset: "
                              "graphrnn.data.loader.check_batchable(list(dataset), 'dataset')") from None
        batch = self.collate(items)
        for name, planner in self.plans.items():
            if name in batch:  # a plan named like x, edge_index or batch would replace that data silently
                raise ValueError(f"plans: the batch already has an attribute {name!r}; a plan of that name would "
                                 f"replace it. Name the plan otherwise (e.g. {name + '_plan'!r}), or use "
                                 "model.planners()")
            setattr(batch, name, planner(batch))
        return batch


def _check_planners_reach_workers(plans: Mapping[str, Callable], kwargs: Mapping[str, Any]) -> None:
    """Worker processes started by ``spawn`` or ``forkserver`` (the default on macOS and Windows, and on Linux
    from Python 3.14) receive the collate, planners included, by pickling: a lambda or a local function would
    fail there with a ``PicklingError`` from inside torch's worker start-up."""
    if not plans or not kwargs.get("num_workers"):
        return
    context = kwargs.get("multiprocessing_context")
    # allow_none=True: reading the default must not fix it (a later set_start_method would then fail)
    method = context if isinstance(context, str) else context.get_start_method() if context is not None else \
        multiprocessing.get_start_method(allow_none=True) or multiprocessing.get_all_start_methods()[0]
    if method == "fork":
        return
    for name, planner in plans.items():
        try:
            pickle.dumps(planner)
        except (pickle.PicklingError, TypeError, AttributeError) as error:
            raise TypeError(f"plans[{name!r}] cannot be sent to the loader's worker processes (started by "
                            f"{method!r}, which pickles the collate): {error}. Use a layer's planner() or a "
                            "module-level function, or num_workers=0") from None


class DataLoader(PyGDataLoader):
    r"""Batches graphs as :class:`torch_geometric.loader.DataLoader` does, and builds their plans.

    Every batch is checked first (:func:`check_batchable`, metadata only): graphs with different
    attributes, dtypes or feature widths raise a ``ValueError`` naming the item and attribute,
    where PyG would fail with a ``KeyError`` deep in its collate or cast them silently.

    Args:
        dataset: graphs (``Data``) to batch.
        batch_size (int): graphs per batch. (default: ``1``)
        shuffle (bool): reshuffle every epoch. (default: ``False``)
        plans (dict, optional): ``{attribute: planner}``; every batch gets
            ``batch.<attribute> = planner(batch)``, e.g. ``plans={"plan": layer.planner()}``
            for a :class:`~graphrnn.nn.ChainRNN`, then ``layer(batch.x, batch.edge_index,
            plan=batch.plan)``. Models that know their plans offer ``model.planners()``.
        **kwargs: the rest of PyG's / torch's ``DataLoader`` arguments (``num_workers``, ...).

    Example::

        layer = ChainRNN(16, 32, flow="target_to_source", edge_types=[PARENT])
        loader = DataLoader(trees, batch_size=64, plans={"plan": layer.planner()}, num_workers=2)
        for batch in loader:
            batch = batch.to(device)  # moves the plan too
            h = layer(batch.x, batch.edge_index, plan=batch.plan, edge_type=batch.edge_type)
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False,
                 plans: Optional[Mapping[str, Callable]] = None, **kwargs) -> None:
        if plans is not None and not isinstance(plans, Mapping):
            raise TypeError(f"plans must be a dict {{attribute: planner}}, e.g. {{'plan': layer.planner()}}, got "
                            f"{type(plans).__name__}")
        for name, planner in (plans or {}).items():
            if not isinstance(name, str) or not name.isidentifier() or not callable(planner):
                raise TypeError(f"plans maps attribute names to planners (layer.planner()), got {name!r}: "
                                f"{type(planner).__name__}")
        if not is_int(batch_size) or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1 (graphs per batch), got {batch_size!r}")
        check_dataset(dataset)
        _check_planners_reach_workers(plans or {}, kwargs)
        super().__init__(dataset, batch_size=int(batch_size), shuffle=shuffle, **kwargs)
        self.collate_fn = PlanningCollater(self.collate_fn, plans or {})
