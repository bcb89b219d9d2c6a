"""A user's GNN module mixing PyG layers with graphrnn's, trained on plain PyG ``Data`` batches."""
import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader as PyGLoader
from torch_geometric.nn import GCNConv, global_mean_pool

from graphrnn.nn import ChainRNN, ChildSumTreeLSTM


class Net(torch.nn.Module):
    """GCNConv -> ChainRNN (root to leaves) and ChildSumTreeLSTM (leaves to root) -> mean pool -> linear."""

    def __init__(self):
        super().__init__()
        self.conv = GCNConv(3, 8)
        self.down = ChainRNN(8, 8, cell="gru")
        self.up = ChildSumTreeLSTM(8, 8)
        self.out = torch.nn.Linear(16, 2)

    def forward(self, data):
        x = torch.relu(self.conv(data.x, data.edge_index))
        h = torch.cat([self.down(x, data.edge_index), self.up(x, data.edge_index)], -1)
        return self.out(global_mean_pool(h, data.batch))


def random_tree_data(label: int, generator: torch.Generator) -> Data:
    """A plain Data: parent -> child edges of a random tree; the class decides whether deep nodes are marked."""
    n = int(torch.randint(4, 9, (1,), generator=generator))
    parents = [int(torch.randint(0, i, (1,), generator=generator)) for i in range(1, n)]
    depth = [0]
    for p in parents:
        depth.append(depth[p] + 1)
    x = torch.randn(n, 3, generator=generator) * 0.5
    x[:, 0] += torch.tensor([float(d >= 2) for d in depth]) * (1.0 if label else -1.0)
    edge_index = torch.tensor([parents, list(range(1, n))])
    return Data(x=x, edge_index=edge_index, y=torch.tensor([label]))


def test_a_pyg_module_with_chain_rnn_and_child_sum_tree_lstm_trains_on_data_batches():
    generator = torch.Generator().manual_seed(0)
    train = [random_tree_data(i % 2, generator) for i in range(64)]
    test = [random_tree_data(i % 2, generator) for i in range(32)]
    torch.manual_seed(0)
    net = Net()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.02)
    loader = PyGLoader(train, batch_size=16, shuffle=True, generator=torch.Generator().manual_seed(1))
    first = last = None
    for _ in range(12):
        total = 0.0
        for batch in loader:
            loss = torch.nn.functional.cross_entropy(net(batch), batch.y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach())
        first = total if first is None else first
        last = total
    assert last < 0.5 * first
    with torch.no_grad():
        batch = next(iter(PyGLoader(test, batch_size=32)))
        accuracy = float((net(batch).argmax(-1) == batch.y).float().mean())
    assert accuracy >= 0.75  # the majority class (balanced test set) gets 0.5


def test_float64_input_into_float32_reference_layers():
    from graphrnn.nn import DAGNN, NaryTreeLSTM

    edge_index = torch.tensor([[0, 0], [1, 2]])
    x = torch.randn(3, 4, dtype=torch.float64)
    for layer in (ChildSumTreeLSTM(4, 5), NaryTreeLSTM(4, 5, 2), DAGNN(4, 5)):
        with pytest.raises(TypeError, match=r"float64 but .* parameters are torch.float32; call layer.double\(\)"):
            layer(x, edge_index)
