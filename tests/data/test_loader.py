"""graphrnn.data.DataLoader: bad arguments raise before any batch is built."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_geometric.data import Batch, Data, HeteroData

from graphrnn.data import DataLoader, chain_graph
from graphrnn.data.loader import check_batchable
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


# ------------------------------------------------ graphs that PyG cannot join as they are


def first_batch(items, **kwargs):
    return next(iter(DataLoader(items, batch_size=len(items), **kwargs)))


def typed_edge(edge_type=True):
    data = Data(x=torch.zeros(2, 1), edge_index=torch.tensor([[0], [1]]))
    if edge_type:
        data.edge_type = torch.tensor([0])
    return data


@pytest.mark.parametrize("items, error, message", [
    # before: silently float x (token ids 1, 2, 3 read as floats)
    ([chain_graph(torch.tensor([1, 2, 3])), chain_graph(torch.tensor([1.0, 2.0]))], ValueError,
     r"item 1 of the batch: 'x' is torch.float32, in item 0 of the batch it is torch.int64; batching would cast"),
    # before: silently float64 x, then 'expected Float but found Double' in the model
    ([chain_graph(torch.zeros(3, 2)), chain_graph(torch.zeros(2, 2, dtype=torch.float64))], ValueError,
     r"'x' is torch.float64, in item 0 of the batch it is torch.float32.*data.x = data.x.to\(torch.float32\)"),
    # before: silently float y
    ([chain_graph([1, 2], y=1), chain_graph([1, 2], y=1.5)], ValueError, r"'y' is torch.float32"),
    # before: RuntimeError 'Sizes of tensors must match except in dimension 0' from torch.cat
    ([chain_graph(torch.zeros(3, 2)), chain_graph(torch.zeros(2, 3))], ValueError,
     r"item 1 of the batch: 'x' has shape \['\*', 3\], in item 0 of the batch \['\*', 2\]"),
    # before: RuntimeError 'Tensors must have same number of dimensions'
    ([chain_graph([1, 2], y=1), chain_graph([1, 2], y=[1, 2])], ValueError,
     r"'y' has shape \['\*'\], in item 0 of the batch \[\]"),
    # before: KeyError: 'y'
    ([chain_graph([1, 2], y=1), chain_graph([1, 2])], ValueError,
     "item 1 of the batch has no 'y' while item 0 of the batch has one"),
    # before: the batch silently had no y at all
    ([chain_graph([1, 2]), chain_graph([1, 2], y=1)], ValueError,
     "item 0 of the batch has no 'y' while item 1 of the batch has one"),
    # before: KeyError: 'edge_type'
    ([typed_edge(), typed_edge(edge_type=False)], ValueError, "item 1 of the batch has no 'edge_type'"),
    # before: AttributeError: 'Tensor' object has no attribute 'stores'
    ([chain_graph([1, 2]), torch.zeros(3)], TypeError, "item 1 of the batch is a Tensor, item 0 a Data"),
    # before: TypeError "DataLoader found invalid type: <class 'NoneType'>"
    ([None, chain_graph([1, 2])], TypeError, "item 0 of the batch is a NoneType, item 1 a Data"),
])
def test_graphs_that_cannot_be_joined_name_the_item_and_attribute(items, error, message):
    with pytest.raises(error, match=message):
        first_batch(items)


def test_a_value_that_is_a_tensor_in_one_graph_and_not_in_another_is_named():
    items = [chain_graph([1, 2]), chain_graph([1, 2])]
    items[0].name, items[1].name = "a", torch.zeros(1)
    with pytest.raises(ValueError, match="item 1 of the batch: 'name' is a tensor, in item 0 of the batch a str"):
        first_batch(items)


def test_check_batchable_names_a_dataset_item():
    dataset = [chain_graph(torch.zeros(3, 2))] * 5 + [chain_graph(torch.zeros(3, 4))]
    with pytest.raises(ValueError, match=r"item 1 of the batch.*check_batchable\(list\(dataset\), 'dataset'\)"):
        first_batch(dataset[4:])
    with pytest.raises(ValueError, match="item 5 of train_data: 'x' has shape"):
        check_batchable(dataset, "train_data")


def test_a_batch_of_heterogeneous_graphs_names_the_node_type():
    def scene(width):
        data = HeteroData()
        data["person"].x = torch.zeros(2, width)
        data["person", "sees", "person"].edge_index = torch.tensor([[0], [1]])
        return data

    assert first_batch([scene(3), scene(3)])["person"].x.shape == (4, 3)
    with pytest.raises(ValueError, match="'x' of 'person' has shape"):
        first_batch([scene(3), scene(4)])


@pytest.mark.parametrize("items", [
    [chain_graph(torch.zeros(0, 2)), chain_graph(torch.zeros(2, 2))],  # a graph without nodes
    [chain_graph(torch.zeros(0, 2))],  # only one, empty
    [chain_graph(torch.zeros(1, 2)), chain_graph(torch.zeros(1, 2))],  # graphs without edges
    [Data(x=torch.zeros(2, 1), edge_index=torch.tensor([[0], [0]])), typed_edge(False)],  # a self-loop
    [Data(x=torch.zeros(2, 1), edge_index=torch.tensor([[0], [1]], dtype=torch.int32)), typed_edge(False)],  # int32
    [chain_graph(torch.zeros(3, 2, 5)), chain_graph(torch.zeros(1, 2, 5))],  # extra feature dimensions
])
def test_unusual_but_joinable_graphs_batch_as_pyg_batches_them(items):
    batch, reference = first_batch(items), Batch.from_data_list(items)
    assert sorted(batch.keys()) == sorted(reference.keys())
    for key in reference.keys():
        assert torch.equal(batch[key], reference[key]) if torch.is_tensor(reference[key]) else True


def test_excluded_keys_are_not_compared():
    items = [chain_graph([1, 2], y=1), chain_graph([1, 2], y=1.5)]
    assert "y" not in first_batch(items, exclude_keys=["y"]).keys()


def test_tensors_that_are_not_graphs_are_left_to_torch():
    assert first_batch([torch.zeros(3), torch.ones(3)]).shape == (2, 3)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=1, max_size=6), st.integers(1, 3),
       st.sampled_from([torch.float32, torch.float64, torch.long]))
def test_graphs_of_one_kind_always_batch_like_pyg(lengths, width, dtype):
    items = [chain_graph(torch.zeros(n, width, dtype=dtype), y=n) for n in lengths]
    check_batchable(items)
    batch = first_batch(items)
    assert batch.x.dtype == dtype and batch.x.shape == (sum(lengths), width)
    assert torch.equal(batch.edge_index, Batch.from_data_list(items).edge_index)


def test_an_empty_one_dimensional_attribute_joins_any_shape_as_torch_cat_allows():
    # a graph without nodes from from_networkx(nx.DiGraph(), node_attrs="x") has x of shape [0]
    empty = Data(x=torch.empty(0), edge_index=torch.empty(2, 0, dtype=torch.long), num_nodes=0)
    full = [chain_graph(torch.zeros(2, 3)), chain_graph(torch.zeros(1, 3))]
    for items in ([empty, *full], [full[0], empty, full[1]]):
        assert first_batch(items).x.shape == (3, 3)
    with pytest.raises(ValueError, match=r"item 2 of the batch: 'x' has shape \['\*', 4\], in item 1 of the batch"):
        first_batch([empty, full[0], chain_graph(torch.zeros(1, 4))])
    with pytest.raises(ValueError, match="'x' is torch.int64, in item 0 of the batch it is torch.float32"):
        first_batch([empty, chain_graph(torch.zeros(2, 3, dtype=torch.long))])  # float [0] would cast the ids


@pytest.mark.parametrize("dataset, message", [
    # before: KeyError: 0 (a Data has a len(), its number of attributes, and is indexed by name)
    (chain_graph(torch.zeros(3, 2)), r"dataset is one graph \(Data\), not a list of graphs; wrap it in a list"),
    # before: TypeError "object of type 'generator' has no len()" when iterated
    ((chain_graph(torch.zeros(3, 2)) for _ in range(2)), "dataset is a generator, which is used up after one pass"),
    ({"a": chain_graph(torch.zeros(3, 2))}, "dataset is a dict; pass a list of items"),  # before: KeyError: 0
    (None, "dataset is None; pass a list of graphs"),  # before: "object of type 'NoneType' has no len()"
])
def test_a_dataset_that_is_not_a_list_of_graphs_is_refused(dataset, message):
    with pytest.raises(TypeError, match=message):
        DataLoader(dataset, batch_size=2)


def test_a_tuple_of_graphs_is_a_dataset():
    graphs = tuple(chain_graph(torch.zeros(3, 2)) for _ in range(3))
    assert [batch.num_graphs for batch in DataLoader(graphs, batch_size=2)] == [2, 1]


def test_building_a_loader_with_workers_leaves_the_start_method_unset():
    # before: the picklability check read multiprocessing.get_start_method(allow_none=False), which fixes the
    # method, so a later multiprocessing.set_start_method("spawn") raised 'context has already been set'
    import subprocess
    import sys

    script = ("import multiprocessing, torch\n"
              "from graphrnn.data import DataLoader, chain_graph\n"
              "from graphrnn.nn import ChainRNN\n"
              "DataLoader([chain_graph(torch.zeros(3, 2))] * 2, batch_size=2, num_workers=1,\n"
              "           plans={'plan': ChainRNN(2, 3).planner()})\n"
              "assert multiprocessing.get_start_method(allow_none=True) is None\n"
              "multiprocessing.set_start_method('spawn')\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
