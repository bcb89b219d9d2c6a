"""Device choice, moving nested batches, counting items of a batch."""
from collections import OrderedDict, namedtuple

import pytest
import torch
from torch_geometric.data import Batch, Data

from graphrnn.training import batch_size_of, move_to, resolve_device

Pair = namedtuple("Pair", ["inputs", "targets"])


def test_auto_is_cuda_when_available_else_cpu():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected and resolve_device(None).type == expected
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_cuda_without_cuda_says_what_to_use():
    with pytest.raises(ValueError, match="asks for CUDA but torch sees no CUDA device.*device='cpu'"):
        resolve_device("cuda:0")


def test_unknown_device_string_is_refused():
    with pytest.raises(ValueError, match="is not a torch device"):
        resolve_device("gpu please")


def test_move_to_walks_nested_structures_and_keeps_their_types():
    graph = Data(x=torch.ones(2, 3), edge_index=torch.tensor([[0], [1]]))
    batch = {"graphs": Batch.from_data_list([graph, graph]), "pair": Pair(torch.zeros(1), [torch.ones(1), 3]),
             "ordered": OrderedDict(a=torch.ones(1)), "name": "x", "none": None}
    moved = move_to(batch, torch.device("cpu"))
    assert isinstance(moved["pair"], Pair) and isinstance(moved["ordered"], OrderedDict)
    assert isinstance(moved["graphs"], Batch) and moved["graphs"].num_graphs == 2
    assert moved["pair"].targets[1] == 3 and moved["name"] == "x" and moved["none"] is None
    assert torch.equal(moved["pair"].targets[0], torch.ones(1))


def test_batch_size_of_counts_graphs_rows_or_first_elements():
    graph = Data(x=torch.ones(2, 3))
    assert batch_size_of(Batch.from_data_list([graph] * 3)) == 3
    assert batch_size_of(torch.zeros(5, 2)) == 5
    assert batch_size_of((torch.zeros(4, 2), torch.zeros(4))) == 4
    assert batch_size_of({"x": torch.zeros(6)}) == 6
    assert batch_size_of("opaque") == 1
