"""On a GPU: training steps given a plan never synchronise, and a forward can be captured in a CUDA graph.

Skipped without CUDA (the CPU profiler tests of each layer check the same steps for host reads).
"""
import pytest
import torch

from graphrnn.data import PARENT, DataLoader, chain_graph, scene_graph, tree_graph
from graphrnn.nn import DRNN, HMM, ChainRNN, ChildSumTreeLSTM, NaryTreeLSTM, StructureInferenceMachine

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def no_sync(step):
    step()  # warm up: allocator, cuDNN plans, lazy modules
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        step()
    finally:
        torch.cuda.set_sync_debug_mode(0)
    torch.cuda.synchronize()


def trees():
    parents = [[-1, 0, 0, 1, 1, 2], [-1, 0, 1], [-1, 0, 0, 0, 3]]
    return [tree_graph(torch.arange(len(p)) % 5, p) for p in parents]


def test_drnn_teacher_forced_step_never_syncs():
    drnn = DRNN(5, 8).cuda()
    root = torch.zeros(3, 8, device="cuda", requires_grad=True)
    batch = next(iter(DataLoader(trees(), batch_size=3, plans=drnn.planners()))).to("cuda")
    no_sync(lambda: DRNN.loss(drnn(batch, root), batch).backward())


def test_sim_step_never_syncs():
    generator = torch.Generator().manual_seed(0)
    scenes = [scene_graph(torch.randn(k, 4, generator=generator), torch.randn(3, generator=generator),
                          person_y=torch.zeros(k, dtype=torch.long), scene_y=1) for k in (2, 3, 1)]
    sim = StructureInferenceMachine(4, 3, 6, num_actions=3, num_activities=2).cuda()
    batch = next(iter(DataLoader(scenes, batch_size=3, plans=sim.planners()))).to("cuda")

    def step():
        actions, activities = sim(batch)[-1]
        (torch.nn.functional.cross_entropy(actions, batch.person_y)
         + torch.nn.functional.cross_entropy(activities, batch.scene_y)).backward()

    no_sync(step)


def test_hmm_forward_algorithm_step_never_syncs():
    hmm = HMM(3, 4).cuda()
    graphs = [chain_graph(torch.randint(0, 4, (n,))) for n in (3, 5, 2)]
    batch = next(iter(DataLoader(graphs, batch_size=3, plans=hmm.planners()))).to("cuda")
    no_sync(lambda: (-hmm.log_likelihood(batch).sum()).backward())


def test_chain_rnn_fused_step_never_syncs():
    layer = ChainRNN(3, 4).cuda()
    graphs = [chain_graph(torch.randn(n, 3)) for n in (3, 5, 2)]
    batch = next(iter(DataLoader(graphs, batch_size=3, plans={"plan": layer.planner()}))).to("cuda")
    no_sync(lambda: layer(batch.x, batch.edge_index, plan=batch.plan).sum().backward())


@pytest.mark.parametrize("make", [lambda: ChildSumTreeLSTM(3, 4), lambda: NaryTreeLSTM(3, 4, N=3)])
def test_tree_lstm_step_never_syncs(make):
    layer = make().cuda()
    edge_index = torch.tensor([[0, 0, 2, 2, 5, 5, 5], [1, 2, 3, 4, 6, 7, 8]], device="cuda")
    x = torch.randn(9, 3, device="cuda")
    plan = layer.plan(edge_index, 9)
    no_sync(lambda: layer(x, edge_index, plan=plan).square().sum().backward())


def test_tree_forward_captured_in_a_cuda_graph_equals_eager():
    """The recipe of docs/design.md: warm up on a side stream, capture, then copy new inputs and replay."""
    layer = ChainRNN(5, 8, flow="target_to_source", edge_types=[PARENT]).cuda().eval()
    batch = next(iter(DataLoader(trees(), batch_size=3, plans={"plan": layer.planner()}))).to("cuda")
    static_x = torch.randn(batch.num_nodes, 5, device="cuda")
    run = lambda: layer(static_x, batch.edge_index, plan=batch.plan, edge_type=batch.edge_type)  # noqa: E731
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.no_grad(), torch.cuda.stream(side):
        for _ in range(3):
            run()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.no_grad(), torch.cuda.graph(graph):
        static_out = run()
    new_x = torch.randn_like(static_x)
    static_x.copy_(new_x)
    graph.replay()
    with torch.no_grad():
        expected = layer(new_x, batch.edge_index, plan=batch.plan, edge_type=batch.edge_type)
    torch.testing.assert_close(static_out, expected)
