"""DRNN speed: the wavefront pass and batched generation against node-by-node / tree-by-tree anchors.

    OMP_NUM_THREADS=1 python benchmarks/bench_drnn.py [--trees 256 --generate 1000 --hidden 128 --device cpu|cuda]

1. Teacher-forced training step (forward, loss, backward) over a batch of trees from the
   synthetic generator: ours (graphrnn.nn.DRNN, one batched cell call per depth and per sibling
   position across the batch) against the
   per-node recursion one writes by hand (a Python loop over the nodes in top-down order,
   two cell calls and the output heads per node), with the same weights. Goal: >= 30x.
2. Greedy generation of many trees: all trees at once (one wavefront across the batch per
   step) against one tree at a time (the same generate() called per tree). Goal: >= 20x.

Both sides run in one process, interleaved (median of repeats); outputs are checked equal.
With --device cuda everything lives on the GPU (goal there: a training step over 256 trees
<= 5 ms). Where DRNN offers ``planners()``, a column times the step on a batch whose plans
graphrnn.data.DataLoader built in its collate ("plans built once").
"""
import argparse

import torch

from graphrnn.bench import (
    add_device_argument,
    describe_environment,
    format_ratio,
    interleaved_medians,
    loader_batch,
    markdown_table,
    planners_of,
    random_parents,
    synchronizer,
)
from graphrnn.data import tree_graph
from graphrnn.datasets.synthetic_trees import generate_dataset
from graphrnn.nn import DRNN


def recursive_step(layer: DRNN, trees, roots: torch.Tensor) -> torch.Tensor:
    """The per-node anchor: the summed DRNN loss of ``trees``, node by node (top-down order)."""
    total = roots.new_zeros(())
    zero = roots.new_zeros(1, layer.hidden_channels)
    device = roots.device
    for index, (labels, parents) in enumerate(trees):
        x = layer.embedding(torch.tensor(labels, device=device))
        ancestral, fraternal, last_child = {}, {}, {}
        for v, p in enumerate(parents):  # parents come first: index order is top-down
            if p < 0:
                ancestral[v] = (roots[index:index + 1], zero)
            else:
                ancestral[v] = layer.ancestral.cell(x[p:p + 1], ancestral[p])
            s = last_child.get(p)
            fraternal[v] = (zero, zero) if s is None else layer.fraternal.cell(x[s:s + 1], fraternal[s])
            last_child[p] = v
            alpha = float(v in parents)
            phi = float(any(parents[u] == p for u in range(v + 1, len(parents)))) if p >= 0 else 0.0
            pred = layer.predictive(ancestral[v][0], fraternal[v][0])
            logits = layer.label(pred) + alpha * layer.offset_ancestral + phi * layer.offset_fraternal
            total = total + torch.nn.functional.cross_entropy(logits, torch.tensor(labels[v:v + 1], device=device),
                                                            reduction="sum")
            bce = torch.nn.functional.binary_cross_entropy_with_logits
            total = total + bce(layer.has_children(pred).view(1), torch.tensor([alpha], device=device),
                                reduction="sum")
            total = total + bce(layer.has_next_sibling(pred).view(1), torch.tensor([phi], device=device),
                                reduction="sum")
    return total


def synthetic_trees(args, generator: torch.Generator):
    """Trees of the synthetic task (about 5 nodes each), labels as ids."""
    # the deep grammar: the trees the documented timings were measured on (depth <= 5, ~5 nodes each)
    examples = generate_dataset(args.seed, sizes=(args.trees, 0, 0), grammar="deep")["train"]
    labels = sorted({label for e in examples for label in e.labels})
    return "synthetic-task trees", [([labels.index(label) for label in e.labels], e.parents) for e in examples]


def random_trees(args, generator: torch.Generator):
    """Random recursive trees of 10-30 nodes (as in bench_tree.py), random labels out of 28."""
    trees = []
    for _ in range(args.trees):
        n = int(torch.randint(10, 31, (1,), generator=generator))
        trees.append((torch.randint(0, 28, (n,), generator=generator).tolist(), random_parents(n, generator)))
    return "random trees, 10-30 nodes", trees


def training_step(args, generator: torch.Generator, make_trees):
    name, trees = make_trees(args, generator)
    torch.manual_seed(args.seed)
    layer = DRNN(28, args.hidden).to(args.device)
    roots = torch.randn(len(trees), args.hidden, generator=generator).to(args.device)
    graphs = [tree_graph(*t) for t in trees]
    planners = planners_of(layer)
    batches = {"ours": loader_batch(graphs, args.device)}
    if planners is not None:
        batches["ours, plans"] = loader_batch(graphs, args.device, plans=planners)

    def step(batch):
        def run():
            layer.zero_grad()
            loss = DRNN.loss(layer(batch, roots), batch, reduction="sum")
            loss.backward()
            return loss
        return run

    def recursion():
        layer.zero_grad()
        loss = recursive_step(layer, trees, roots)
        loss.backward()
        return loss

    ours = {name: step(batch) for name, batch in batches.items()}
    anchor = float(recursion().detach())
    difference = max(abs(float(fn().detach()) - anchor) / abs(anchor) for fn in ours.values())
    times = interleaved_medians({"recursion": recursion, **ours}, repeats=args.repeats, warmup=1,
                                sync=synchronizer(args.device))
    batch = batches["ours"]
    planned = ([f"{times['ours, plans'] * 1e3:.1f}", format_ratio(times["recursion"], times["ours, plans"], 0)]
               if planners is not None else ["-", "-"])
    return [f"teacher-forced step (fwd + loss + bwd), {name}",
            f"{len(trees)} trees, {batch.num_nodes} nodes, depth <= {int(batch.depth.max())}",
            f"{times['recursion'] * 1e3:.0f}", f"{times['ours'] * 1e3:.1f}",
            format_ratio(times["recursion"], times["ours"], 0), *planned, ">= 30x",
            f"relative loss diff {difference:.1e}"]


def generation(args, generator: torch.Generator):
    torch.manual_seed(args.seed)
    layer = DRNN(28, args.hidden).to(args.device)
    with torch.no_grad():  # random weights; topology biases give trees of about the synthetic data's size
        layer.has_children.bias.fill_(0.2)
        layer.has_next_sibling.bias.fill_(-0.3)
    roots = torch.randn(args.generate, args.hidden, generator=generator).to(args.device)
    caps = dict(max_depth=5, max_children=12, max_nodes=60)
    batched = layer.generate(roots, **caps)
    alone = [layer.generate(roots[i:i + 1], **caps)[0] for i in range(len(roots))]
    times = interleaved_medians({
        "batched": lambda: layer.generate(roots, **caps),
        "alone": lambda: [layer.generate(roots[i:i + 1], **caps) for i in range(len(roots))],
    }, repeats=max(1, args.repeats // 2), warmup=1, sync=synchronizer(args.device))
    nodes = sum(len(t[0]) for t in batched)
    return ["greedy generation", f"{len(roots)} trees, {nodes} nodes (mean {nodes / len(roots):.1f})",
            f"{times['alone'] * 1e3:.0f}", f"{times['batched'] * 1e3:.1f}",
            format_ratio(times["alone"], times["batched"], 0), "-", "-", ">= 20x",
            f"identical trees: {batched == alone}"]


def main(args):
    generator = torch.Generator().manual_seed(args.seed)
    rows = [training_step(args, generator, synthetic_trees), training_step(args, generator, random_trees),
            generation(args, generator)]
    print(f"DRNN-LSTM H={args.hidden}, median of {args.repeats}; {describe_environment(args.device)}")
    if not callable(getattr(DRNN, "planners", None)):
        print("DRNN offers no planners(): no plans-built-once column")
    header = ["task", "size", "anchor ms", "ours ms", "speed-up", "ours, plans built once ms", "speed-up, plans",
              "goal", "check"]
    print(markdown_table(header, rows))
    return header, rows


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trees", type=int, default=256, help="trees in the training step (default: 256)")
    parser.add_argument("--generate", type=int, default=1000, help="trees to generate (default: 1000)")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    add_device_argument(parser)
    return parser


if __name__ == "__main__":
    main(build_parser().parse_args())
