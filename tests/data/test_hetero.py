"""HeteroData <-> typed homogeneous graphs, and a recurrent layer on one."""
import pytest
import torch
from torch_geometric.data import Data, HeteroData

from graphrnn.data import from_hetero, to_hetero
from graphrnn.nn import ChainRNN


def citation_dag():
    generator = torch.Generator().manual_seed(0)
    hetero = HeteroData()
    hetero["paper"].x = torch.randn(4, 3, generator=generator)
    hetero["author"].x = torch.randn(2, 5, generator=generator)
    hetero["author", "writes", "paper"].edge_index = torch.tensor([[0, 1, 1], [0, 1, 2]])
    hetero["paper", "cites", "paper"].edge_index = torch.tensor([[0, 1, 2], [1, 2, 3]])
    return hetero


def test_round_trip_keeps_types_names_edges_and_features():
    hetero = citation_dag()
    data = from_hetero(hetero)
    assert data.node_type_names == ["paper", "author"]
    assert data.edge_type_names == [("author", "writes", "paper"), ("paper", "cites", "paper")]
    assert data.x.shape == (6, 5) and data.node_type.tolist() == [0, 0, 0, 0, 1, 1]
    back = to_hetero(data)
    for node_type in hetero.node_types:
        torch.testing.assert_close(back[node_type].x, hetero[node_type].x)
    for edge_type in hetero.edge_types:
        assert torch.equal(back[edge_type].edge_index, hetero[edge_type].edge_index)


def test_a_recurrent_layer_over_the_typed_graph_and_back():
    """Authors feed papers; papers feed the papers citing them: one topological pass over both relations."""
    data = from_hetero(citation_dag())
    layer = ChainRNN(5, 8)
    h = layer(data.x, data.edge_index)
    out = to_hetero(data, x=h)
    assert out["paper"].x.shape == (4, 8) and out["author"].x.shape == (2, 8)
    cites_only = ChainRNN(5, 8, edge_types=[data.edge_type_names.index(("paper", "cites", "paper"))])
    cites_only.load_state_dict(layer.state_dict())
    h_cites = cites_only(data.x, data.edge_index, edge_type=data.edge_type)
    assert not torch.allclose(h_cites[:4], h[:4])  # the writes edges changed the papers' states


def test_bad_inputs():
    with pytest.raises(TypeError, match="takes a torch_geometric HeteroData"):
        from_hetero(Data(x=torch.zeros(2, 1)))
    with pytest.raises(ValueError, match="no node types"):
        from_hetero(HeteroData())
    partial = citation_dag()
    del partial["author"].x
    with pytest.raises(ValueError, match=r"node types \['author'\] have no x"):
        from_hetero(partial)
    with pytest.raises(TypeError, match="takes a torch_geometric Data"):
        to_hetero(citation_dag())
    with pytest.raises(ValueError, match="lacks"):
        to_hetero(Data(x=torch.zeros(2, 1), edge_index=torch.zeros(2, 0, dtype=torch.long)))
    with pytest.raises(ValueError, match="one row per node"):
        to_hetero(from_hetero(citation_dag()), x=torch.zeros(3, 2))


def test_edges_outside_their_node_type_raise():
    # before: the ids were offset type by type, so 'b' node 3 silently became another type's node (or past the end)
    hetero = HeteroData()
    hetero["a"].x, hetero["b"].x = torch.randn(2, 3), torch.randn(3, 3)
    hetero["a", "to", "b"].edge_index = torch.tensor([[0, 1], [2, 3]])
    with pytest.raises(ValueError, match=r"edge_index of \('a', 'to', 'b'\) refers to 'b' node 3, but 'b' has 3"):
        from_hetero(hetero)
    hetero["a", "to", "b"].edge_index = torch.tensor([[-1], [0]])
    with pytest.raises(ValueError, match="refers to 'a' node -1"):
        from_hetero(hetero)
    hetero["a", "to", "b"].edge_index = torch.tensor([[0.0], [1.0]])
    with pytest.raises(ValueError, match="must hold integer node indices"):
        from_hetero(hetero)


def test_node_types_with_features_of_different_dtypes_raise():
    hetero = HeteroData()
    hetero["a"].x, hetero["b"].x = torch.randn(2, 3), torch.ones(2, 3, dtype=torch.long)
    with pytest.raises(ValueError, match="x of different dtypes"):
        from_hetero(hetero)
