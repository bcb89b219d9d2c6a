"""The batched graph loader: PyG's ``DataLoader``, plus execution plans built in the collate."""
from __future__ import annotations

import numbers
from typing import Callable, Dict, Mapping, Optional

from torch_geometric.loader import DataLoader as PyGDataLoader

__all__ = ["DataLoader", "PlanningCollater", "planners_of"]


def planners_of(model) -> Optional[Dict[str, Callable]]:
    """``model.planners()`` where the model offers one (the plans a loader can attach to its batches),
    else ``None``: the ``plans`` argument of :class:`DataLoader` for that model."""
    planners = getattr(model, "planners", None)
    return dict(planners()) if callable(planners) else None


class PlanningCollater:
    """Collates like PyG, then attaches ``batch.<name> = planner(batch)`` for every plan asked for.

    It runs where the collate runs: in the loader's worker processes when ``num_workers > 0``,
    so plans are built on the CPU, off the training loop, and travel with the batch
    (``batch.to(device)`` moves them).
    """

    def __init__(self, collate: Callable, plans: Mapping[str, Callable]) -> None:
        self.collate = collate
        self.plans = dict(plans)

    def __call__(self, items):
        batch = self.collate(items)
        for name, planner in self.plans.items():
            if name in batch:  # a plan named like x, edge_index or batch would replace that data silently
                raise ValueError(f"plans: the batch already has an attribute {name!r}; a plan of that name would "
                                 f"replace it. Name the plan otherwise (e.g. {name + '_plan'!r}), or use "
                                 "model.planners()")
            setattr(batch, name, planner(batch))
        return batch


class DataLoader(PyGDataLoader):
    r"""Batches graphs as :class:`torch_geometric.loader.DataLoader` does, and builds their plans.

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
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1 (graphs per batch), got {batch_size!r}")
        super().__init__(dataset, batch_size=int(batch_size), shuffle=shuffle, **kwargs)
        if plans:
            self.collate_fn = PlanningCollater(self.collate_fn, plans)
