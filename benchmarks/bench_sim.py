"""Structure Inference Machine: sparse message passing vs a dense padded implementation of the same math.

    OMP_NUM_THREADS=1 python benchmarks/bench_sim.py [--scenes 256 --persons 12 --iterations 3 --device cpu|cuda]

Both compute the same SIM (same weights, outputs compared) forward + backward in one
process, round-robin (interleaved medians). The dense side is what one writes for
fixed-size scenes: persons padded to ``K`` per scene, person->person messages as a
``[B, K, K, M]`` tensor with a validity mask, the three edge types as three tensors.
Ours is :class:`graphrnn.nn.StructureInferenceMachine` on PyG batches of sparse
scene graphs. Goal: <= 1.5x the dense time at 256 scenes x 12 persons, while also
running mixed scene sizes (the dense side pads every scene to the largest); on a GPU,
<= 4 ms at 256 scenes and no slower than the dense reference. Where the model offers
``planners()``, a column times it on a batch whose plans graphrnn.data.DataLoader built
in its collate ("plans built once").

    python benchmarks/bench_sim.py --device cuda
"""
import argparse
from typing import List, Sequence, Tuple

import torch
from torch import Tensor

from graphrnn.bench import (
    add_device_argument,
    describe_environment,
    format_ratio,
    interleaved_medians,
    loader_batch,
    markdown_table,
    planners_of,
    synchronizer,
)
from graphrnn.data import scene_graph
from graphrnn.nn import StructureInferenceMachine


def padded_scenes(sizes: Sequence[int], person_channels: int, scene_channels: int, generator: torch.Generator):
    """Random scenes as (list of scene graphs, person_x [B, K, F_p], mask [B, K], scene_x [B, F_s])."""
    width = max(sizes)
    person_x = torch.randn(len(sizes), width, person_channels, generator=generator)
    scene_x = torch.randn(len(sizes), scene_channels, generator=generator)
    mask = torch.arange(width)[None, :] < torch.tensor(list(sizes))[:, None]
    graphs = [scene_graph(person_x[b, :k], scene_x[b]) for b, k in enumerate(sizes)]
    return graphs, person_x, mask, scene_x


def dense_sim(model: StructureInferenceMachine, person_x: Tensor, mask: Tensor,
              scene_x: Tensor) -> List[Tuple[Tensor, Tensor]]:
    """The SIM equations on padded scenes; returns per iteration ([B, K, A], [B, C]) (padded persons: junk)."""
    act = model.activation
    x_person, x_scene, actions, activities = model.unary(person_x.flatten(0, 1), scene_x)
    batch, width = mask.shape
    x_person = x_person.view(batch, width, -1)
    pad = max(model.num_actions, model.num_activities)
    c_person = torch.nn.functional.pad(actions.view(batch, width, -1), (0, pad - model.num_actions))
    c_scene = torch.nn.functional.pad(activities, (0, pad - model.num_activities))
    pair = mask[:, :, None] & mask[:, None, :] & ~torch.eye(width, dtype=torch.bool, device=mask.device)[None]
    pair_weight = pair.to(person_x.dtype) / pair.sum(1, keepdim=True).clamp(min=1)  # mean over sources i
    person_weight = mask.to(person_x.dtype) / mask.sum(1, keepdim=True)
    outputs = []
    for step in range(model.num_steps):
        it = model.step_module(model.iterations, step)
        w_x, b_x = it.input_message.weight, it.input_message.bias
        w_c, w_m = it.recurrent_message.weight[:, :, :pad], it.recurrent_message.weight[:, :, pad:]
        shape = (batch, width, width, model.message_channels)
        source_pp = (c_person @ w_c[0].T + x_person @ w_x[0].T + b_x[0])[:, :, None].expand(shape)
        source_ps = c_person @ w_c[1].T + x_person @ w_x[1].T + b_x[1]
        source_sp = (c_scene @ w_c[2].T + x_scene @ w_x[2].T + b_x[2])[:, None].expand(shape[0], *shape[2:])
        if step == 0:  # m^(0) = 0: skip W_mm m, as ours does
            m_pp, m_ps, m_sp = act(source_pp), act(source_ps), act(source_sp)
        else:
            m_pp = act(m_pp @ w_m[0].T + source_pp)
            m_ps = act(m_ps @ w_m[1].T + source_ps)
            m_sp = act(m_sp @ w_m[2].T + source_sp)
        if it.gate is not None:
            w_g, b_g = it.gate.weight[:, 0, :model.message_channels], it.gate.weight[:, 0, model.message_channels:]
            bias = it.gate.bias[:, 0]
            g_pp = torch.sigmoid(m_pp @ w_g[0] + (c_person @ b_g[0])[:, None, :] + bias[0])
            g_ps = torch.sigmoid(m_ps @ w_g[1] + (c_scene @ b_g[1])[:, None] + bias[1])
            g_sp = torch.sigmoid(m_sp @ w_g[2] + c_person @ b_g[2] + bias[2])
        else:
            g_pp, g_ps, g_sp = m_pp.new_ones(m_pp.shape[:-1]), m_ps.new_ones(m_ps.shape[:-1]), \
                m_sp.new_ones(m_sp.shape[:-1])
        agg_pp = torch.einsum("bij,bijm->bjm", pair_weight * g_pp, m_pp)
        agg_sp = g_sp[..., None] * m_sp
        agg_ps = torch.einsum("bi,bim->bm", person_weight * g_ps, m_ps)
        actions = it.person_out(torch.cat([agg_pp, agg_sp, x_person], dim=-1))
        activities = it.scene_out(torch.cat([agg_ps, x_scene], dim=-1))
        if model.output_activation:  # c^(t) = f(W_mc m + W_xc x + b_c)
            actions, activities = act(actions), act(activities)
        c_person = torch.nn.functional.pad(actions, (0, pad - model.num_actions))
        c_scene = torch.nn.functional.pad(activities, (0, pad - model.num_activities))
        outputs.append((actions, activities))
    return outputs


def _loss(outputs) -> Tensor:
    return sum(a.sum() + c.sum() for a, c in outputs)


def compare(sizes: Sequence[int], args, generator: torch.Generator) -> list:
    graphs, person_x, mask, scene_x = padded_scenes(sizes, args.person, args.scene, generator)
    person_x, mask, scene_x = person_x.to(args.device), mask.to(args.device), scene_x.to(args.device)
    torch.manual_seed(args.seed)
    model = StructureInferenceMachine(args.person, args.scene, args.hidden, args.actions, args.activities,
                                      num_iterations=args.iterations,
                                      output_activation=not args.no_output_activation).to(args.device)
    planners = planners_of(model)
    batches = {"ours": loader_batch(graphs, args.device)}
    if planners is not None:
        batches["ours, plans"] = loader_batch(graphs, args.device, plans=planners)
    with torch.no_grad():
        dense = dense_sim(model, person_x, mask, scene_x)
        error = max(max((a - d[mask]).abs().max().item(), (c - e).abs().max().item())
                    for batch in batches.values() for (a, c), (d, e) in zip(model(batch), dense))

    def step(batch):
        def run():
            model.zero_grad()
            _loss(model(batch)).backward()
        return run

    def run_dense():
        model.zero_grad()
        outputs = dense_sim(model, person_x, mask, scene_x)
        _loss([(a[mask], c) for a, c in outputs]).backward()

    times = interleaved_medians({"dense": run_dense, **{name: step(b) for name, b in batches.items()}},
                                repeats=args.repeats, sync=synchronizer(args.device))
    planned = ([f"{times['ours, plans'] * 1e3:.1f}", format_ratio(times["ours, plans"], times["dense"])]
               if planners is not None else ["-", "-"])
    return [f"{len(sizes)} scenes, {min(sizes)}-{max(sizes)} persons", f"{times['dense'] * 1e3:.1f}",
            f"{times['ours'] * 1e3:.1f}", format_ratio(times["ours"], times["dense"]), *planned, f"{error:.1e}"]


def main(args):
    generator = torch.Generator().manual_seed(args.seed)
    mixed = torch.randint(2, args.persons + 1, (args.scenes,), generator=generator).tolist()
    rows = [compare([args.persons] * args.scenes, args, generator), compare(mixed, args, generator)]
    print(f"SIM forward+backward, T={args.iterations}, H=M={args.hidden}, "
          f"f on c: {not args.no_output_activation}, median of {args.repeats} "
          f"(dense pads every scene to the largest); {describe_environment(args.device)}")
    if not callable(getattr(StructureInferenceMachine, "planners", None)):
        print("StructureInferenceMachine offers no planners(): no plans-built-once column")
    header = ["batch", "dense padded ms", "ours (sparse) ms", "ratio", "ours, plans built once ms", "plan ratio",
              "max abs diff"]
    print(markdown_table(header, rows))
    return header, rows


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenes", type=int, default=256)
    parser.add_argument("--persons", type=int, default=12)
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--person", type=int, default=16, help="person features")
    parser.add_argument("--scene", type=int, default=16, help="scene features")
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--actions", type=int, default=5)
    parser.add_argument("--activities", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-output-activation", action="store_true", help="SIM without f on c(t)")
    add_device_argument(parser)
    return parser


if __name__ == "__main__":
    main(build_parser().parse_args())
