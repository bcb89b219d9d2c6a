"""HMM with plans carried by the batch: equal results, no host reads in a step, bad batch vectors."""
import pytest
import torch
from torch_geometric.data import Data

from graphrnn.bench import host_sync_ops
from graphrnn.data import DataLoader, chain_graph
from graphrnn.nn import HMM
from graphrnn.nn.hmm import ChainsPlan


def sequences(count=5, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return [chain_graph(torch.randint(0, 4, (int(n),), generator=generator))
            for n in torch.randint(1, 7, (count,), generator=generator)]


def test_carried_plan_gives_the_same_results():
    hmm = HMM(3, 4, dtype=torch.float64)
    batch = next(iter(DataLoader(sequences(), batch_size=5, plans=hmm.planners())))
    assert isinstance(batch.hmm_plan, ChainsPlan)
    plain = next(iter(DataLoader(sequences(), batch_size=5)))
    torch.testing.assert_close(hmm.log_likelihood(batch), hmm.log_likelihood(plain))
    torch.testing.assert_close(hmm.posterior(batch), hmm.posterior(plain))
    assert torch.equal(hmm.viterbi(batch), hmm.viterbi(plain))


def test_a_gradient_step_on_the_forward_algorithm_reads_nothing_on_the_host():
    hmm = HMM(3, 4)
    optimizer = torch.optim.SGD(hmm.parameters(), lr=0.1)
    batch = next(iter(DataLoader(sequences(8), batch_size=8, plans=hmm.planners())))

    def step():
        optimizer.zero_grad()
        (-hmm.log_likelihood(batch).sum()).backward()
        optimizer.step()

    step()
    assert host_sync_ops(step) == []


def test_a_batch_vector_that_disagrees_with_the_chains():
    data = Data(x=torch.tensor([0, 1, 2, 3]), edge_index=torch.tensor([[0, 1, 2], [1, 2, 3]]),
                batch=torch.tensor([0, 0, 1, 1]), num_nodes=4)
    with pytest.raises(ValueError, match="edge 1 -> 2 joins graph 0 to graph 1"):
        HMM(2, 4).log_likelihood(data)


def test_batch_ids_beyond_the_number_of_graphs():
    batch = next(iter(DataLoader(sequences(2), batch_size=2)))
    batch.batch = batch.batch + 5
    with pytest.raises(ValueError, match="batch holds graph id .*num_graphs=2"):
        HMM(2, 4).log_likelihood(batch)


def test_a_plan_for_another_batch_is_refused():
    hmm = HMM(2, 4)
    batch = next(iter(DataLoader(sequences(3, seed=1), batch_size=3, plans=hmm.planners())))
    other = next(iter(DataLoader(sequences(3, seed=2), batch_size=3)))
    other.hmm_plan = batch.hmm_plan
    with pytest.raises(ValueError, match="different graph|another graph"):
        hmm.log_likelihood(other)


def test_tensor_form_equals_the_batch_form():
    hmm = HMM(3, 4, dtype=torch.float64)
    batch = next(iter(DataLoader(sequences(), batch_size=5, plans=hmm.planners())))
    expected = hmm(batch)
    torch.testing.assert_close(hmm(batch.x, batch.edge_index, batch=batch.batch, num_graphs=5), expected)
    torch.testing.assert_close(hmm(batch.x, batch.edge_index, batch=batch.batch, plan=batch.hmm_plan), expected)
    single = sequences(1)[0]
    torch.testing.assert_close(hmm(single.x, single.edge_index), hmm(single))
    with pytest.raises(TypeError, match="pass x"):
        hmm(batch.x)


def test_a_carried_plan_with_another_batch_vector_or_graph_count_is_refused():
    # same edges, graphs relabelled or merged: the plan's chain-to-graph map would silently win
    hmm = HMM(2, 4)
    batch = next(iter(DataLoader([chain_graph(torch.tensor([0, 1, 2])), chain_graph(torch.tensor([3, 1]))],
                                 batch_size=2, plans=hmm.planners())))
    swapped = torch.tensor([1, 1, 1, 0, 0])
    with pytest.raises(ValueError, match="plan was built for another batch vector"):
        hmm(batch.x, batch.edge_index, batch=swapped, plan=batch.hmm_plan)
    with pytest.raises(ValueError, match="plan was built for a batch of 2 graphs, but this batch has 1"):
        hmm(batch.x, batch.edge_index, batch=torch.zeros(5, dtype=torch.long), num_graphs=1, plan=batch.hmm_plan)
    with pytest.raises(TypeError, match="plan must be a ChainsPlan"):
        hmm(batch.x, batch.edge_index, batch=batch.batch, plan="plan")
    torch.testing.assert_close(hmm(batch.x, batch.edge_index, batch=batch.batch, plan=batch.hmm_plan),
                               hmm(batch.x, batch.edge_index, batch=batch.batch))
