"""Memory of a topological pass grows O(N*H), never O(N*H*levels).

What autograd saves is measured with saved-tensor hooks (distinct storages, in bytes)
on chains and trees of growing depth with the number of nodes held fixed.
"""
import torch

from graphrnn.nn import ChainRNN


def saved_bytes(fn) -> int:
    storages = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn()
    return sum(storages.values())


def chains(num_chains: int, length: int):
    starts = torch.arange(num_chains) * length
    steps = torch.arange(length - 1)
    src = (starts[:, None] + steps[None, :]).reshape(-1)
    return torch.stack([src, src + 1]), num_chains * length


def test_saved_memory_independent_of_depth_at_fixed_size():
    torch.manual_seed(0)
    layer = ChainRNN(8, 16, cell="lstm", fused=False)
    measured = {}
    for num_chains, length in [(64, 4), (16, 16), (4, 64), (1, 256)]:  # always 256 nodes
        edge_index, n = chains(num_chains, length)
        x = torch.randn(n, 8, requires_grad=True)
        measured[length] = saved_bytes(lambda: layer(x, edge_index))
    smallest, largest = min(measured.values()), max(measured.values())
    # 64x more levels at the same N: a per-level copy of the state would grow this 64-fold.
    assert largest < 2.0 * smallest, measured


def test_saved_memory_linear_in_nodes():
    torch.manual_seed(0)
    layer = ChainRNN(8, 16, cell="gru", fused=False)
    sizes = {}
    for length in (50, 100, 200):
        edge_index, n = chains(8, length)
        x = torch.randn(n, 8, requires_grad=True)
        sizes[length] = saved_bytes(lambda: layer(x, edge_index))
    assert sizes[200] < 2.3 * sizes[100] < 2.3 * 2.3 * sizes[50], sizes
