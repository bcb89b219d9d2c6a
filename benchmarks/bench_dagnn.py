"""graphrnn.nn.DAGNN vs a per-level, per-node Python loop written like the authors' layer.

    python benchmarks/bench_dagnn.py [--graphs 64 --min-nodes 20 --max-nodes 60 --hidden 128
        --layers 2 --bidirectional --device cpu|cuda --repeats 5 --threads 0]

The reference follows the forward of Thost & Chen's DAGNN (github.com/vthost/DAGNN,
``ogbg-code/models/dagnn.py``): for every direction and every topological level it collects
the level's incoming edges node by node (``edge_index[1 - d] == n``), runs a PyG attention
convolution (``AttnConv``: softmax over each node's predecessors of
``w^T [query_i; h_j] + b``) over the full state tensor, a ``GRUCell`` on the level's nodes,
and adds the result into the state tensor. It reads the weights of the graphrnn model, and
the two outputs are checked equal before timing. Levels are computed once, outside the
timing (the authors precompute them in their data pipeline). Both run in one process on the
same batch of random DAGs (node ``j`` draws one or two predecessors among the 8 before it).
Prints the median time of forward and of forward + backward, and the ratios.
"""
import argparse
import statistics
import time

import torch
from torch import Tensor
from torch_geometric.nn import MessagePassing
from torch_geometric.utils import softmax

from graphrnn.nn import DAGNN, topological_levels


class AuthorsAttnConv(MessagePassing):
    """The authors' ``AttnConv``: attention of each target over its predecessors' states."""

    def __init__(self, attention: torch.nn.Linear, reverse: bool) -> None:
        super().__init__(aggr="add", flow="target_to_source" if reverse else "source_to_target")
        self.attention = attention

    def forward(self, h: Tensor, edge_index: Tensor, h_attn_q: Tensor) -> Tensor:
        return self.propagate(edge_index, h=h, h_attn_q=h_attn_q)

    def message(self, h_attn_q_i, h_j, index, ptr, size_i):
        weight = softmax(self.attention(torch.cat([h_attn_q_i, h_j], dim=-1)), index, ptr, size_i)
        return h_j * weight


def authors_loop(model: DAGNN, x: Tensor, edge_index: Tensor, levels) -> Tensor:
    """The authors' forward (agg="attn_h", out_wx, no readout) with the weights of ``model``."""
    directions = [model.forward_layers] + ([model.backward_layers] if model.bidirectional else [])
    outputs = [x]
    for d, layers in enumerate(directions):
        convs = [AuthorsAttnConv(layer.attention, reverse=d == 1) for layer in layers]
        h = [torch.zeros(x.size(0), model.hidden_channels, device=x.device, dtype=x.dtype) for _ in layers]
        for level_index, layer_nodes in enumerate(levels[d]):
            inp = x[layer_nodes]
            if level_index > 0:
                edges = [(edge_index[1 - d] == n).nonzero().squeeze(-1) for n in layer_nodes]
                level_edge_index = edge_index[:, torch.cat(edges, dim=-1)]
            for i, layer in enumerate(layers):
                if level_index == 0:
                    incoming = None
                else:
                    query = h[i - 1] if i > 0 else x
                    incoming = convs[i](h[i], level_edge_index, h_attn_q=query)[layer_nodes]
                inp = layer.cell(inp, incoming)
                h[i][layer_nodes] += inp
        outputs += h
    return torch.cat(outputs, dim=-1)


def random_dags(graphs: int, min_nodes: int, max_nodes: int, generator: torch.Generator):
    sources, targets, offset = [], [], 0
    for _ in range(graphs):
        n = int(torch.randint(min_nodes, max_nodes + 1, (1,), generator=generator))
        for j in range(1, n):
            window = torch.arange(max(0, j - 8), j)
            order = torch.randperm(window.numel(), generator=generator)
            coin = bool(torch.rand(1, generator=generator) < 0.5)
            picks = window[order[:2 if j > 1 and coin else 1]]
            sources += (picks + offset).tolist()
            targets += [j + offset] * picks.numel()
        offset += n
    return offset, torch.tensor([sources, targets])


def level_lists(edge_index: Tensor, num_nodes: int, device) -> list:
    """Per direction, the node ids of each topological level (the authors' bi_layer_index)."""
    result = []
    for oriented in (edge_index, edge_index.flip(0)):
        level = topological_levels(oriented, num_nodes)
        result.append([(level == k).nonzero().view(-1).to(device) for k in range(int(level.max()) + 1)])
    return result


def timed(fn, repeats: int, device: str) -> float:
    times = []
    for _ in range(repeats + 1):  # the first call warms up
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def main(args):
    if args.threads:
        torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(args.seed)
    num_nodes, edge_index = random_dags(args.graphs, args.min_nodes, args.max_nodes, generator)
    torch.manual_seed(args.seed)
    model = DAGNN(args.input, args.hidden, num_layers=args.layers, bidirectional=args.bidirectional).to(args.device)
    x = torch.randn(num_nodes, args.input, generator=generator).to(args.device)
    edge_index = edge_index.to(args.device)
    levels = level_lists(edge_index.cpu(), num_nodes, args.device)
    ours, theirs = model(x, edge_index), authors_loop(model, x, edge_index, levels)
    difference = float((ours - theirs).abs().max().detach())
    if difference > 1e-4:
        raise SystemExit(f"the two implementations disagree by {difference:.2e}; the benchmark would be meaningless")

    def forward_backward(fn):
        def run():
            model.zero_grad(set_to_none=True)
            fn().sum().backward()
        return run

    with torch.no_grad():
        forward = (timed(lambda: model(x, edge_index), args.repeats, args.device),
                   timed(lambda: authors_loop(model, x, edge_index, levels), args.repeats, args.device))
    both = (timed(forward_backward(lambda: model(x, edge_index)), args.repeats, args.device),
            timed(forward_backward(lambda: authors_loop(model, x, edge_index, levels)), args.repeats, args.device))
    print(f"{args.graphs} random DAGs, {num_nodes} nodes, {edge_index.size(1)} edges, "
          f"{len(levels[0])} levels; DAGNN D={args.input} H={args.hidden} layers={args.layers} "
          f"bidirectional={args.bidirectional}; device {args.device}, {torch.get_num_threads()} threads, "
          f"median of {args.repeats}; max |difference| {difference:.1e}")
    print("| pass | graphrnn DAGNN | authors' loop | ratio |")
    print("|---|---|---|---|")
    for name, (a, b) in (("forward", forward), ("forward + backward", both)):
        print(f"| {name} | {1000 * a:.1f} ms | {1000 * b:.1f} ms | {b / a:.1f}x |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--graphs", type=int, default=64)
    parser.add_argument("--min-nodes", type=int, default=20)
    parser.add_argument("--max-nodes", type=int, default=60)
    parser.add_argument("--input", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--bidirectional", action="store_true")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--seed", type=int, default=0)
    main(parser.parse_args())
