"""MethodNameModel: the three encoders under Seq2Seq's decoder, on PyG batches of method_example graphs."""
import pytest
import torch
from torch_geometric.data import Batch

from graphrnn.decoding import greedy
from graphrnn.models.method_names import MethodNameModel, count_parameters, method_example
from graphrnn.nn import ChildSumTreeLSTM


def example(parents, target, generator):
    n = len(parents)
    types = torch.randint(0, 6, (n,), generator=generator)
    tokens = torch.randint(0, 9, (n, 3), generator=generator)
    return method_example(types, tokens, parents, torch.tensor(target))


def batch_of_three():
    generator = torch.Generator().manual_seed(0)
    graphs = [example([-1, 0, 0, 1], [5, 6, 2], generator), example([-1], [7, 2], generator),
              example([-1, 0, 1, 1, 0], [4, 2], generator)]
    return graphs, Batch.from_data_list(graphs)


@pytest.mark.parametrize("encoder", ["tree", "sequence", "bag"])
def test_logits_per_target_token_and_greedy_decoding(encoder):
    graphs, batch = batch_of_three()
    torch.manual_seed(0)
    model = MethodNameModel(encoder, 6, 9, 9, hidden_channels=8, tie_subtokens=True)
    assert model(batch).shape == (7, 9)
    decoded = greedy(model.step, model.encode(batch), 1, 2, max_len=4)
    assert len(decoded) == 3 and all(1 <= len(tokens) <= 4 for tokens, _ in decoded)
    # batched == alone
    alone = [model(Batch.from_data_list([g])) for g in graphs]
    torch.testing.assert_close(model(batch), torch.cat(alone), atol=1e-5, rtol=0)


def test_the_tree_summary_is_the_root_state_and_sequence_edges_are_the_pre_order_chain():
    graphs, batch = batch_of_three()
    assert batch.seq_edge_index.tolist() == [[0, 1, 2, 5, 6, 7, 8], [1, 2, 3, 6, 7, 8, 9]]
    model = MethodNameModel("tree", 6, 9, 9, hidden_channels=8)
    assert isinstance(model.encoder.layer, ChildSumTreeLSTM)
    x = model.node_embedding(batch.node_type, batch.node_tokens)
    states = model.encoder.layer(x, batch.edge_index)
    h = model.encode(batch)[0]
    torch.testing.assert_close(h, torch.tanh(model.bridge(states[[0, 4, 5]])))


def test_tied_subtokens_share_one_matrix_and_types_only_has_no_identifiers():
    tied = MethodNameModel("bag", 6, 9, 9, hidden_channels=8, tie_subtokens=True)
    assert tied.output.weight is tied.node_embedding.subtokens.weight is tied.embedding.weight
    untied = MethodNameModel("bag", 6, 9, 9, hidden_channels=8)
    assert count_parameters(untied) - count_parameters(tied) == 2 * 9 * 8
    types_only = MethodNameModel("bag", 6, 9, 9, hidden_channels=8, identifiers=False)
    assert types_only.node_embedding.subtokens is None
    assert repr(tied).startswith("MethodNameModel(encoder='bag'") and "\n" not in repr(tied)


def test_bad_arguments_raise():
    generator = torch.Generator().manual_seed(0)
    with pytest.raises(ValueError, match="encoder must be one of"):
        MethodNameModel("graph", 6, 9, 9)
    with pytest.raises(ValueError, match="tie_subtokens needs"):
        MethodNameModel("tree", 6, 9, 12, tie_subtokens=True)
    with pytest.raises(ValueError, match="pre-order"):
        example([-1, 2, 0], [5, 2], generator)
    with pytest.raises(ValueError, match="one entry per node"):
        method_example(torch.zeros(2, dtype=torch.long), torch.zeros(3, 2, dtype=torch.long), [-1, 0],
                       torch.tensor([5, 2]))
    with pytest.raises(ValueError, match="non-empty LongTensor"):
        example([-1, 0], [], generator)
