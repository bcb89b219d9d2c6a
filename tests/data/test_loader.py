"""graphrnn.data.DataLoader: bad arguments raise before any batch is built."""
import numpy as np
import pytest
import torch

from graphrnn.data import DataLoader, chain_graph
from graphrnn.nn import ChainRNN


@pytest.mark.parametrize("batch_size", [0, -1, 1.5, True])
def test_batch_size_must_be_a_positive_integer(batch_size):
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        DataLoader([chain_graph(torch.randn(3, 2))], batch_size=batch_size)


def test_numpy_integer_batch_size_is_accepted():
    assert len(DataLoader([chain_graph(torch.randn(3, 2))] * 4, batch_size=np.int64(2))) == 2


@pytest.mark.parametrize("name", ["x", "edge_index", "batch", "ptr"])
def test_a_plan_named_like_batch_data_raises_instead_of_replacing_it(name):
    # before: batch.edge_index (or x, batch) silently became a TopologicalPlan
    loader = DataLoader([chain_graph(torch.randn(3, 2))], plans={name: ChainRNN(2, 4).planner()})
    with pytest.raises(ValueError, match=f"the batch already has an attribute '{name}'"):
        next(iter(loader))


def test_a_plan_with_its_own_name_is_attached():
    batch = next(iter(DataLoader([chain_graph(torch.randn(3, 2))], plans={"plan": ChainRNN(2, 4).planner()})))
    assert batch.plan.num_nodes == 3 and batch.edge_index.shape == (2, 2)
