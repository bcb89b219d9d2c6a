"""Structure Inference Machine: sparse message passing vs a dense padded implementation of the same math.

    OMP_NUM_THREADS=1 python benchmarks/bench_sim.py [--scenes 256 --persons 12 --iterations 3 --device cpu|cuda]

Both compute the same SIM (same weights, outputs compared) forward + backward in one
process, round-robin (interleaved medians). The dense side is what one writes for
fixed-size scenes: persons padded to ``K`` per scene with a validity mask, the three edge
types as three tensors, in two forms: "per edge", one message per edge as the equations are
written (``[B, K, K, M]`` person->person messages), and "per source", which uses what
graphrnn's layer uses, that an edge's message depends only on its source and type
(``[B, K, M]``; the gates stay per edge). Ours is
:class:`graphrnn.nn.StructureInferenceMachine` on PyG batches of sparse scene graphs, timed
with its plans built in the forward ("ours", whose time the ratios use) and with plans that
graphrnn.data.DataLoader built in its collate ("plans built once"). Both dense forms compute
the terms of x alone once per weight set, as ours does. Goal: <= 1.5x the dense time at 256
scenes x 12 persons, judged against the faster, per-source form, while also running mixed
scene sizes (the dense side pads every scene to the largest); on a GPU, <= 4 ms at 256 scenes
and no slower than the dense reference.

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


def dense_sim(model: StructureInferenceMachine, person_x: Tensor, mask: Tensor, scene_x: Tensor,
              per_source: bool = False) -> List[Tuple[Tensor, Tensor]]:
    """The SIM equations on padded scenes; returns per iteration ([B, K, A], [B, C]) (padded persons: junk).

    ``per_source=False`` keeps one message per edge, as the equations are written: ``[B, K, K, M]``
    person->person and ``[B, K, M]`` scene->person messages. ``per_source=True`` uses what graphrnn's
    layer uses, that an edge's message depends only on its source and type: ``[B, K, M]`` and
    ``[B, M]`` (the gates stay per edge).
    """
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
    # per edge: a person->person message per (i, j), a scene->person message per j
    spread_pp = (lambda v: v) if per_source else (lambda v: v[:, :, None].expand(batch, width, width, v.size(-1)))
    spread_sp = (lambda v: v) if per_source else (lambda v: v[:, None].expand(batch, width, v.size(-1)))
    # the terms of x alone, once per weight set (as graphrnn's layer computes them): W_xm x + b_m, W_xc x + b_c
    fixed = [input_terms(it, x_person, x_scene, model.message_channels) for it in model.iterations]
    outputs = []
    for step in range(model.num_steps):
        it = model.step_module(model.iterations, step)
        x_pp, x_ps, x_sp, x_actions, x_activities = model.step_module(fixed, step)
        w_c, w_m = it.recurrent_message.weight[:, :, :pad], it.recurrent_message.weight[:, :, pad:]
        source_pp = spread_pp(c_person @ w_c[0].T + x_pp)
        source_ps = c_person @ w_c[1].T + x_ps
        source_sp = spread_sp(c_scene @ w_c[2].T + x_sp)
        if step == 0:  # m^(0) = 0: skip W_mm m, as ours does
            m_pp, m_ps, m_sp = act(source_pp), act(source_ps), act(source_sp)
        else:
            m_pp = act(m_pp @ w_m[0].T + source_pp)
            m_ps = act(m_ps @ w_m[1].T + source_ps)
            m_sp = act(m_sp @ w_m[2].T + source_sp)
        if it.gate is not None:
            w_g, b_g = it.gate.weight[:, 0, :model.message_channels], it.gate.weight[:, 0, model.message_channels:]
            bias = it.gate.bias[:, 0]
            score_pp, score_sp = m_pp @ w_g[0], m_sp @ w_g[2]
            if per_source:  # [B, K(i)] -> [B, K(i), 1] and [B] -> [B, 1], broadcast over the targets j
                score_pp, score_sp = score_pp[:, :, None], score_sp[:, None]
            g_pp = torch.sigmoid(score_pp + (c_person @ b_g[0])[:, None, :] + bias[0])
            g_ps = torch.sigmoid(m_ps @ w_g[1] + (c_scene @ b_g[1])[:, None] + bias[1])
            g_sp = torch.sigmoid(score_sp + c_person @ b_g[2] + bias[2])
        else:
            g_pp, g_ps, g_sp = pair_weight.new_ones(()), person_weight.new_ones(()), person_weight.new_ones(())
        agg_pp = torch.einsum("bij,bim->bjm" if per_source else "bij,bijm->bjm", pair_weight * g_pp, m_pp)
        agg_sp = g_sp[..., None] * (m_sp[:, None] if per_source else m_sp)
        agg_ps = torch.einsum("bi,bim->bm", person_weight * g_ps, m_ps)
        messages = 2 * model.message_channels
        actions = torch.cat([agg_pp, agg_sp.expand_as(agg_pp)], dim=-1) @ it.person_out.weight[:, :messages].T
        actions = actions + x_actions
        activities = agg_ps @ it.scene_out.weight[:, :messages // 2].T + x_activities
        if model.output_activation:  # c^(t) = f(W_mc m + W_xc x + b_c)
            actions, activities = act(actions), act(activities)
        c_person = torch.nn.functional.pad(actions, (0, pad - model.num_actions))
        c_scene = torch.nn.functional.pad(activities, (0, pad - model.num_activities))
        outputs.append((actions, activities))
    return outputs


def input_terms(iteration, x_person: Tensor, x_scene: Tensor, message: int) -> Tuple[Tensor, ...]:
    """W_xm x + b_m of the three edge types and W_xc x + b_c of persons and scenes, for one weight set."""
    w_x, b_x = iteration.input_message.weight, iteration.input_message.bias
    return (x_person @ w_x[0].T + b_x[0], x_person @ w_x[1].T + b_x[1], x_scene @ w_x[2].T + b_x[2],
            x_person @ iteration.person_out.weight[:, 2 * message:].T + iteration.person_out.bias,
            x_scene @ iteration.scene_out.weight[:, message:].T + iteration.scene_out.bias)


def _loss(outputs) -> Tensor:
    return sum(a.sum() + c.sum() for a, c in outputs)


def compare(sizes: Sequence[int], args, generator: torch.Generator) -> list:
    graphs, person_x, mask, scene_x = padded_scenes(sizes, args.person, args.scene, generator)
    person_x, mask, scene_x = person_x.to(args.device), mask.to(args.device), scene_x.to(args.device)
    torch.manual_seed(args.seed)
    model = StructureInferenceMachine(args.person, args.scene, args.hidden, args.actions, args.activities,
                                      num_iterations=args.iterations,
                                      output_activation=not args.no_output_activation).to(args.device)
    batches = {"ours": loader_batch(graphs, args.device),
               "ours, plans": loader_batch(graphs, args.device, plans=model.planners())}
    dense_kinds = {"dense per edge": False, "dense per source": True}
    with torch.no_grad():
        error = max(max((a - d[mask]).abs().max().item(), (c - e).abs().max().item())
                    for per_source in dense_kinds.values() for batch in batches.values()
                    for (a, c), (d, e) in zip(model(batch), dense_sim(model, person_x, mask, scene_x, per_source)))

    def step(batch):
        def run():
            model.zero_grad()
            _loss(model(batch)).backward()
        return run

    def dense_step(per_source: bool):
        def run():
            model.zero_grad()
            outputs = dense_sim(model, person_x, mask, scene_x, per_source)
            _loss([(a[mask], c) for a, c in outputs]).backward()
        return run

    times = interleaved_medians({**{name: dense_step(kind) for name, kind in dense_kinds.items()},
                                 **{name: step(b) for name, b in batches.items()}},
                                repeats=args.repeats, sync=synchronizer(args.device))
    ours = times["ours"]  # plans built inside the forward, the slower of the two
    return [f"{len(sizes)} scenes, {min(sizes)}-{max(sizes)} persons",
            *(f"{times[name] * 1e3:.1f}" for name in (*dense_kinds, *batches)),
            *(format_ratio(ours, times[name]) for name in dense_kinds), f"{error:.1e}"]


def main(args):
    generator = torch.Generator().manual_seed(args.seed)
    mixed = torch.randint(2, args.persons + 1, (args.scenes,), generator=generator).tolist()
    rows = [compare([args.persons] * args.scenes, args, generator), compare(mixed, args, generator)]
    print(f"SIM forward+backward, T={args.iterations}, H=M={args.hidden}, "
          f"f on c: {not args.no_output_activation}, median of {args.repeats} "
          f"(dense pads every scene to the largest); {describe_environment(args.device)}")
    header = ["batch", "dense per edge ms", "dense per source ms", "ours (sparse) ms", "ours, plans built once ms",
              "ratio to dense per edge", "ratio to dense per source", "max abs diff"]
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
