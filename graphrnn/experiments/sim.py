"""Group activity recognition with Structure Inference Machines (Deng et al., CVPR 2016).

A per-person/scene MLP on unary features against SIM without and with gates, for
T = 1-4 iterations, tied and untied weights, all trained by
:class:`graphrnn.training.Trainer` on the synthetic collective-activity scenes
(:mod:`graphrnn.datasets.collective`) or on Volleyball annotations
(:mod:`graphrnn.datasets.volleyball`). Every run chooses its epoch (and ``best.pt``) on a
validation split cut from the training scenes (or training video frames) and reads test
once, with that epoch's weights; a majority-class row stands beside every table.
:func:`gating_comparison` runs gated against ungated SIM over several seeds, on the
default scenes and on scenes with distractors, with the learned gates by sender kind.
Also ``graphrnn train sim`` (:func:`add_arguments`, :func:`run_task`) and the
``graphrnn reproduce`` section (:func:`section`).
"""
from __future__ import annotations

import argparse
import statistics
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import torch
from torch import nn

from graphrnn.bench import markdown_table
from graphrnn.data import DataLoader, scene_graph
from graphrnn.datasets.collective import ACTIONS, ACTIVITIES, DISTRACTORS, split_collective_activity_with_validation
from graphrnn.experiments.common import run_directory
from graphrnn.models.group_activity import UnaryMLP, group_activity_loss, group_activity_metrics
from graphrnn.nn import StructureInferenceMachine
from graphrnn.training import TrainConfig, Trainer

__all__ = [
    "GRID",
    "PAPER",
    "SceneData",
    "Variant",
    "add_arguments",
    "build_model",
    "comparison_table",
    "evaluate",
    "gate_summary",
    "gating_comparison",
    "inference_state",
    "majority_row",
    "plot_gates",
    "results_table",
    "run",
    "run_task",
    "section",
    "synthetic_data",
    "train_one",
    "volleyball_data",
    "without_distractors",
]

#: Scene accuracy (%) on the Collective Activity Dataset, Deng et al. 2016 (iterations 1-3; final).
PAPER = {"iterations": {1: 80.1, 2: 80.3, 3: 81.2}, "final": 81.2}
#: Held out of the training scenes (or training video frames) to choose the epoch.
VALIDATION_FRACTION = 0.15


class Variant(NamedTuple):
    r"""One model of the comparison: ``kind`` is ``"mlp"`` or ``"sim"``; ``output_activation`` is the SIM's
    :math:`f` on :math:`\mathbf{c}^{(t)}` (see :class:`~graphrnn.nn.StructureInferenceMachine`)."""

    kind: str
    iterations: int = 0
    gated: bool = False
    tied: bool = True
    output_activation: bool = True

    @property
    def name(self) -> str:
        if self.kind == "mlp":
            return "MLP (unary only)"
        return (f"SIM {'gated' if self.gated else 'ungated'}, T={self.iterations}"
                + ("" if self.tied or self.iterations == 1 else ", untied")
                + ("" if self.output_activation else ", no f on c"))

    @classmethod
    def from_saved(cls, values: Sequence) -> "Variant":
        r"""The variant a checkpoint saved. Checkpoints written before ``output_activation`` existed saved four
        fields and were trained without :math:`f` on :math:`\mathbf{c}^{(t)}`: they are rebuilt that way."""
        values = list(values)
        if len(values) == 4:
            values.append(False)
        if len(values) != len(cls._fields):
            raise ValueError(f"a saved SIM variant has {len(cls._fields)} fields {cls._fields} (or 4, before "
                             f"output_activation), got {values!r}")
        return cls(*values)


def _grid() -> List[Variant]:
    variants = [Variant("mlp")]
    for gated in (False, True):
        variants += [Variant("sim", t, gated, True) for t in (1, 2, 3, 4)]
        variants += [Variant("sim", t, gated, False) for t in (2, 3, 4)]
    return variants


#: MLP, then SIM ungated/gated for T = 1-4 tied and T = 2-4 untied (T = 1 has one weight set either way).
GRID = _grid()


class SceneData(NamedTuple):
    """Scenes of one data set (``validation`` held out of the training scenes), their feature and class counts,
    and (for prediction) the label names."""

    train: list
    test: list
    person_channels: int
    scene_channels: int
    num_actions: int
    num_activities: int
    description: str
    actions: Sequence[str] = ()
    activities: Sequence[str] = ()
    features: str = ""
    validation: Sequence = ()


def synthetic_data(train_size: int, test_size: int, seed: int, distractors: Optional[Tuple[int, int]] = None,
                   validation_fraction: float = VALIDATION_FRACTION) -> SceneData:
    """Seeded synthetic collective-activity scenes (:mod:`graphrnn.datasets.collective`): ``train_size``
    scenes of which ``validation_fraction`` are held out for validation, and ``test_size`` test scenes from
    their own generator; ``distractors=(lo, hi)`` adds lo..hi distractors per scene."""
    train, validation, test = split_collective_activity_with_validation(
        train_size, test_size, seed, validation_fraction, distractors=distractors)
    extra = "" if distractors is None else f", {distractors[0]}-{distractors[1]} distractors per scene"
    return SceneData(train, test, train[0].person_x.size(1), train[0].scene_x.size(1), len(ACTIONS),
                     len(ACTIVITIES), f"synthetic collective activity{extra}, {len(train)} train / "
                                      f"{len(validation)} validation / {len(test)} test scenes",
                     ACTIONS, ACTIVITIES, "synthetic collective-activity", validation)


def volleyball_data(directory: Optional[Path] = None, train_videos: Sequence[str] = ("7",),
                    test_videos: Sequence[str] = ("10",), seed: int = 0,
                    validation_fraction: float = VALIDATION_FRACTION) -> SceneData:
    """Volleyball annotations of ``directory`` (default ``$GRAPHRNN_DATA/volleyball``), split by video; a
    seeded ``validation_fraction`` of the training videos' frames is held out for validation."""
    from graphrnn.datasets.volleyball import ACTIONS as V_ACTIONS
    from graphrnn.datasets.volleyball import ACTIVITIES as V_ACTIVITIES
    from graphrnn.datasets.volleyball import volleyball_scenes

    frames = volleyball_scenes(directory, videos=train_videos)
    test = volleyball_scenes(directory, videos=test_videos)
    train, validation = _hold_out(frames, validation_fraction, seed)
    return SceneData(train, test, train[0].person_x.size(1), train[0].scene_x.size(1), len(V_ACTIONS),
                     len(V_ACTIVITIES), f"Volleyball videos {list(train_videos)} (train {len(train)} / validation "
                                        f"{len(validation)} frames) / {list(test_videos)} (test, {len(test)} "
                                        "frames)",
                     V_ACTIONS, V_ACTIVITIES, "Volleyball box", validation)


def _hold_out(scenes: list, fraction: float, seed: int) -> Tuple[list, list]:
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation_fraction must lie in (0, 1), got {fraction}")
    cut = int(round(len(scenes) * fraction))
    if not 1 <= cut < len(scenes):
        raise ValueError(f"validation_fraction={fraction} of {len(scenes)} training frames leaves {cut} for "
                         "validation; both splits need at least one frame")
    order = torch.randperm(len(scenes), generator=torch.Generator().manual_seed(1_000_003 + seed)).tolist()
    return [scenes[i] for i in order[cut:]], [scenes[i] for i in order[:cut]]


def without_distractors(scenes: Sequence) -> list:
    """The scenes with their distractors removed (the other persons and the labels unchanged): what an oracle
    that knows who the distractors are would see."""
    kept = []
    for scene in scenes:
        keep = ~scene.distractor
        graph = scene_graph(scene.person_x[keep], scene.scene_x.view(-1), person_y=scene.person_y[keep],
                            scene_y=scene.scene_y)
        graph.passer_by, graph.second_group = scene.passer_by[keep], scene.second_group[keep]
        graph.distractor = scene.distractor[keep]
        kept.append(graph)
    return kept


def build_model(variant: Variant, data: SceneData, hidden: int) -> nn.Module:
    if variant.kind == "mlp":
        return UnaryMLP(data.person_channels, data.scene_channels, hidden, data.num_actions, data.num_activities)
    if variant.kind == "sim":
        return StructureInferenceMachine(data.person_channels, data.scene_channels, hidden, data.num_actions,
                                         data.num_activities, num_iterations=variant.iterations,
                                         gated=variant.gated, tie_weights=variant.tied,
                                         output_activation=variant.output_activation)
    raise ValueError(f"variant kind must be 'mlp' or 'sim', got {variant.kind!r}")


def inference_state(variant: Variant, data: SceneData, hidden: int) -> Dict[str, object]:
    """What :func:`graphrnn.load` needs besides the weights: the variant, the sizes and the label names."""
    return {"kind": "sim", "variant": list(variant), "hidden": hidden, "person_channels": data.person_channels,
            "scene_channels": data.scene_channels,
            "actions": list(data.actions) or [str(i) for i in range(data.num_actions)],
            "activities": list(data.activities) or [str(i) for i in range(data.num_activities)],
            "features": data.features or "given"}


def loss_fn(model: nn.Module, batch) -> torch.Tensor:
    return group_activity_loss(model(batch), batch)


def metrics_fn(model: nn.Module, batch) -> Dict[str, torch.Tensor]:
    return group_activity_metrics(model(batch), batch)


@torch.no_grad()
def evaluate(model: nn.Module, scenes: Sequence, device="cpu", batch_size: int = 256) -> Dict[str, float]:
    """Scene and per-person action accuracy (%) of ``model`` on ``scenes`` (last iteration's predictions)."""
    model.eval()
    totals: Dict[str, float] = {}
    for batch in DataLoader(list(scenes), batch_size=batch_size):
        for key, value in metrics_fn(model, batch.to(device)).items():
            totals[key] = totals.get(key, 0.0) + float(value)
    return {"scene_accuracy": 100.0 * totals["scene_accuracy"] / totals["count"],
            "action_accuracy": 100.0 * totals["action_hits"] / totals["persons"]}


def train_one(variant: Variant, data: SceneData, epochs: int, hidden: int = 32, seed: int = 0,
              out: Optional[Path] = None, progress: bool = False, device: str = "auto", resume: bool = False,
              lr: float = 3e-3, batch_size: int = 32, lr_schedule: Optional[str] = "cosine") -> Dict[str, object]:
    """Trains one variant with :class:`~graphrnn.training.Trainer`; returns its result row (and the model).

    The epoch (and ``best.pt``) is chosen on ``data.validation`` scene accuracy; ``data.test`` is read
    once, with the chosen epoch's weights. Files go into ``out`` (a temporary folder when ``None``).
    """
    if not data.validation:
        raise ValueError("data.validation is empty: the epoch is chosen on validation scenes held out of the "
                         "training scenes; build the data with synthetic_data or volleyball_data")
    with run_directory(out) as folder:
        torch.manual_seed(seed)
        model = build_model(variant, data, hidden)
        config = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, optimizer="adam", lr_schedule=lr_schedule,
                             grad_clip=5.0, monitor="scene_accuracy", mode="max", seed=seed, device=device,
                             out=folder, progress=progress, resume=resume)
        trainer = Trainer(model, loss_fn, data.train, config, metrics_fn=metrics_fn, eval_data=data.validation,
                          extra_state={"task": "sim", "variant": list(variant), "hidden": hidden,
                                       "inference": inference_state(variant, data, hidden)})
        history = trainer.fit()
        seconds = sum(record["seconds"] for record in history)  # a resumed run's history holds the earlier epochs
        trainer.load_best()
        test = evaluate(trainer.model, data.test, trainer.device)
    chosen = trainer.early_stopping  # the epoch whose weights best.pt holds
    return {"model": variant.name, "kind": variant.kind, "iterations": variant.iterations, "gated": variant.gated,
            "tied": variant.tied, "output_activation": variant.output_activation,
            "scene_accuracy": test["scene_accuracy"], "action_accuracy": test["action_accuracy"],
            "validation_scene_accuracy": 100.0 * chosen.best, "best_epoch": chosen.best_epoch,
            "epochs": len(history), "seconds": seconds, "parameters": sum(p.numel() for p in model.parameters()),
            "trained": trainer.model}


def majority_row(data: SceneData) -> Dict[str, object]:
    """The trivial baseline: the most frequent training activity for every scene, the most frequent training
    action for every person."""
    scene = int(torch.bincount(torch.cat([s.scene_y.view(-1) for s in data.train])).argmax())
    action = int(torch.bincount(torch.cat([s.person_y.view(-1) for s in data.train])).argmax())
    scenes = torch.cat([s.scene_y.view(-1) for s in data.test])
    persons = torch.cat([s.person_y.view(-1) for s in data.test])
    names = data.activities or [str(i) for i in range(data.num_activities)]
    return {"model": f"majority class ({names[scene]})", "kind": "rule",
            "scene_accuracy": 100.0 * float((scenes == scene).float().mean()),
            "action_accuracy": 100.0 * float((persons == action).float().mean())}


def run(data: SceneData, epochs: int, variants: Sequence[Variant] = GRID, hidden: int = 32, seed: int = 0,
        progress: bool = False, device: str = "auto") -> List[Dict[str, object]]:
    """The majority-class row, then every variant trained on the same data (``trained`` holds the model)."""
    return [majority_row(data)] + [train_one(v, data, epochs, hidden, seed, progress=progress, device=device)
                                   for v in variants]


def results_table(rows: Sequence[Dict[str, object]], paper_column: bool = True) -> str:
    """Markdown table of :func:`run`'s rows, with the paper's Collective Activity scene accuracy beside the
    gated, tied SIM rows (``paper_column=False`` for other data sets leaves that column out)."""
    body = []
    for r in rows:
        trained = "validation_scene_accuracy" in r
        paper = ""
        if r["kind"] == "sim" and r["gated"] and r["tied"] and r["iterations"] in PAPER["iterations"]:
            paper = f"{PAPER['iterations'][r['iterations']]:.1f}"
        body.append([r["model"], f"{r['scene_accuracy']:.1f}", f"{r['action_accuracy']:.1f}",
                     f"{r['validation_scene_accuracy']:.1f}" if trained else "-",
                     f"{r['best_epoch']}/{r['epochs']}" if trained else "-"]
                    + ([paper] if paper_column else [])
                    + [r.get("parameters", "-"), f"{r['seconds']:.1f}" if trained else "-"])
    header = ["model", "test scene acc. %", "test action acc. %", "validation scene acc. %",
              "epoch (chosen on validation)"] + (["paper scene acc. % (CAD)"] if paper_column else [])
    return markdown_table(header + ["parameters", "train s"], body)


#: Sender kinds of :func:`gate_summary`, by the scene's masks.
SENDERS = ("main group", "second group", "passer-by", "distractor")


def _sender_kinds(scene) -> Dict[str, torch.Tensor]:
    distractor = getattr(scene, "distractor", None)
    distractor = torch.zeros_like(scene.passer_by) if distractor is None else distractor
    return {"main group": ~(scene.passer_by | scene.second_group | distractor), "second group": scene.second_group,
            "passer-by": scene.passer_by, "distractor": distractor}


def gate_summary(model: StructureInferenceMachine, scenes: Sequence) -> Dict[str, float]:
    """Mean last-iteration gate by edge type and sender kind: person->person and person->scene edges from a
    member of the scene's main group, of a second group, a passer-by or a distractor (the masks of the
    synthetic scenes), and scene->person edges (from the scene). Kinds absent from ``scenes`` are left out."""
    from graphrnn.data import PERSON_TO_PERSON, PERSON_TO_SCENE, SCENE_TO_PERSON

    sums: Dict[str, List[float]] = {}
    model.eval()
    with torch.no_grad():
        for scene in scenes:
            gates = model(scene, return_gates=True)[1][-1]
            for kind, label in ((PERSON_TO_PERSON, "person->person"), (PERSON_TO_SCENE, "person->scene")):
                edges = (scene.edge_type == kind).nonzero().view(-1)
                source = scene.edge_index[0, edges]  # persons
                for who, mask in _sender_kinds(scene).items():
                    sums.setdefault(f"{label} from {who}", []).extend(gates[edges[mask[source]]].tolist())
            sums.setdefault("scene->person from scene", []).extend(gates[scene.edge_type == SCENE_TO_PERSON].tolist())
    return {key: sum(v) / len(v) for key, v in sums.items() if v}


# -------------------------------------------------------------- gated vs ungated
def _mean_sd(values: Sequence[float], digits: int = 1) -> str:
    """``"mean ± sd"`` (the sample standard deviation; 0 for one value)."""
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.{digits}f} ± {spread:.{digits}f}"


def gating_comparison(seeds: Sequence[int], train_size: int, test_size: int, epochs: int,
                      distractors: Optional[Tuple[int, int]] = None, iterations: int = 3, hidden: int = 32,
                      device: str = "auto", linear_variant: bool = True) -> Dict[str, object]:
    r"""Gated against ungated SIM (and the MLP, the majority class, and with ``distractors`` an oracle that
    knows who the distractors are) over ``seeds``, each seed its own data and initialisation.

    Returns ``{"rows": {model: [per-seed rows]}, "gates": {gated model: [gate_summary per seed]},
    "description": ...}`` for :func:`comparison_table`. ``linear_variant`` adds the ungated and gated SIM
    without :math:`f` on :math:`\mathbf{c}^{(t)}`.
    """
    variants = [Variant("mlp"), Variant("sim", iterations, gated=False), Variant("sim", iterations, gated=True)]
    if linear_variant:
        variants += [Variant("sim", iterations, gated=gated, output_activation=False) for gated in (False, True)]
    rows: Dict[str, List[Dict[str, object]]] = {}
    gates: Dict[str, List[Dict[str, float]]] = {}
    description = ""
    for seed in seeds:
        data = synthetic_data(train_size, test_size, seed, distractors)
        description = data.description
        for row in run(data, epochs, variants, hidden=hidden, seed=seed, device=device):
            rows.setdefault(_row_name(row), []).append(row)
            if row["kind"] == "sim" and row["gated"]:
                gates.setdefault(row["model"], []).append(gate_summary(row["trained"].cpu(), data.test))
        if distractors is not None:
            clean = data._replace(train=without_distractors(data.train), test=without_distractors(data.test),
                                  validation=without_distractors(data.validation))
            oracle = train_one(Variant("sim", iterations, gated=True), clean, epochs, hidden, seed, device=device)
            oracle["model"] = f"oracle: {oracle['model']} with the distractors removed"
            rows.setdefault(oracle["model"], []).append(oracle)
    for seed_rows in rows.values():
        for row in seed_rows:
            row.pop("trained", None)
    return {"rows": rows, "gates": gates, "description": description, "seeds": list(seeds), "epochs": epochs}


def _row_name(row: Dict[str, object]) -> str:
    return "majority class" if row["kind"] == "rule" else str(row["model"])


def comparison_table(result: Dict[str, object]) -> str:
    """:func:`gating_comparison`'s rows as mean ± sd over the seeds, then the gated SIMs' mean last-iteration
    gates on the test scenes by edge type and sender kind (mean ± sd over the seeds)."""
    body = []
    for name, seed_rows in result["rows"].items():
        trained = "validation_scene_accuracy" in seed_rows[0]
        body.append([name] + [_mean_sd([r[key] for r in seed_rows]) for key in ("scene_accuracy", "action_accuracy")]
                    + [_mean_sd([r["validation_scene_accuracy"] for r in seed_rows]) if trained else "-",
                       ", ".join(str(r["best_epoch"]) for r in seed_rows) if trained else "-"])
    seeds = result["seeds"]
    table = markdown_table([f"model (seeds {', '.join(map(str, seeds))})", "test scene acc. %",
                            "test action acc. %", "validation scene acc. %",
                            f"epoch of {result['epochs']} (chosen on validation), per seed"], body)
    if not result["gates"]:
        return table
    models = list(result["gates"])
    summaries = [g for name in models for g in result["gates"][name]]
    keys = [k for k in summaries[0] if all(k in g for g in summaries)]
    gates = markdown_table(["mean last-iteration gate (test scenes), edge from sender"] + models,
                           [[k] + [_mean_sd([g[k] for g in result["gates"][name]], 3) for name in models]
                            for k in keys])
    return f"{table}\n\n{gates}"



def plot_gates(model: StructureInferenceMachine, scene, path: Path,
               activities: Sequence[str] = ACTIVITIES) -> Optional[Path]:
    """Draws one synthetic scene (persons at their ``x, y``) with the last iteration's gates on its edges.

    Person->person edges are lines whose width and opacity grow with the gate, from the scene's
    smallest to its largest gate (each direction drawn as half a line, from its source; the range
    is printed in the title); the number next to a person is the gate of its
    person->scene edge. Colours are the persons' true actions; passers-by are squares, the
    second group's members triangles, distractors crosses. Returns ``None`` without matplotlib.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    from graphrnn.data import PERSON_TO_PERSON, PERSON_TO_SCENE

    model.eval()
    with torch.no_grad():
        outputs, gates = model(scene, return_gates=True)
    gates = gates[-1]
    position = scene.person_x[:, :2]
    figure, axes = plt.subplots(figsize=(6, 6))
    pairs = (scene.edge_type == PERSON_TO_PERSON).nonzero().view(-1)
    low, high = (float(gates[pairs].min()), float(gates[pairs].max())) if pairs.numel() else (0.0, 1.0)
    for e in pairs.tolist():
        i, j = scene.edge_index[:, e].tolist()
        middle = (position[i] + position[j]) / 2
        strength = (float(gates[e]) - low) / max(high - low, 1e-6)  # 0 at the scene's smallest gate, 1 at its largest
        axes.plot([position[i, 0], middle[0]], [position[i, 1], middle[1]], color="tab:blue",
                  linewidth=0.5 + 4 * strength, alpha=0.15 + 0.85 * strength)
    colors = plt.get_cmap("tab10")
    for k in range(position.size(0)):
        kind = next(who for who, mask in _sender_kinds(scene).items() if bool(mask[k]))
        marker = {"main group": "o", "second group": "^", "passer-by": "s", "distractor": "X"}[kind]
        axes.scatter(*position[k].tolist(), s=160, marker=marker, color=colors(int(scene.person_y[k])),
                     edgecolor="black", zorder=3)
        to_scene = ((scene.edge_type == PERSON_TO_SCENE) & (scene.edge_index[0] == k)).nonzero().view(-1)
        axes.annotate(f"{float(gates[to_scene[0]]):.2f}", position[k].tolist(), textcoords="offset points",
                      xytext=(8, 8), fontsize=8)
    predicted = int(outputs[-1][1].argmax())
    handles = [plt.Line2D([], [], marker="o", linestyle="", color=colors(a), label=name)
               for a, name in enumerate(activities)]
    handles.append(plt.Line2D([], [], marker="^", linestyle="", color="gray", label="second group"))
    handles.append(plt.Line2D([], [], marker="s", linestyle="", color="gray", label="passer-by"))
    if bool(_sender_kinds(scene)["distractor"].any()):
        handles.append(plt.Line2D([], [], marker="X", linestyle="", color="gray", label="distractor"))
    axes.legend(handles=handles, loc="best", fontsize=8)
    axes.set_title(f"scene: {activities[int(scene.scene_y)]} (predicted {activities[predicted]}); last iteration\n"
                   f"line width = person->person gate, from {low:.3f} (thin) to {high:.3f} (thick);\n"
                   "number = person->scene gate", fontsize=9)
    axes.set_aspect("equal")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(figure)
    return path


# ------------------------------------------------------------------- command line
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``graphrnn train sim`` (besides the shared ``--quick --epochs --data --out --resume
    --device --seed``)."""
    parser.add_argument("--iterations", type=int, default=3, help="message-passing iterations T (default: 3)")
    parser.add_argument("--no-gates", action="store_true", help="SIM without gates (g = 1)")
    parser.add_argument("--untied", action="store_true", help="one weight set per iteration")
    parser.add_argument("--no-output-activation", action="store_true",
                        help="SIM without f on c(t) (linear predictions; the paper applies f)")
    parser.add_argument("--mlp", action="store_true", help="train the unary MLP baseline instead")
    parser.add_argument("--hidden", type=int, default=32, help="hidden and message size (default: 32)")
    parser.add_argument("--train-size", type=int, default=None,
                        help="synthetic training scenes, 15%% of them held out for validation "
                             "(default: 2000, 300 with --quick)")
    parser.add_argument("--distractors", type=int, nargs=2, default=None, metavar=("LO", "HI"),
                        help=f"synthetic scenes with LO..HI distractors each (the README's table: "
                             f"{DISTRACTORS[0]} {DISTRACTORS[1]})")


def run_task(args: argparse.Namespace) -> str:
    """``graphrnn train sim``: SIM (or the MLP) on synthetic scenes, or on Volleyball with ``--data DIR``; the
    epoch (and ``best.pt``) is chosen on validation, test is read once."""
    variant = (Variant("mlp") if args.mlp else
               Variant("sim", args.iterations, gated=not args.no_gates, tied=not args.untied,
                       output_activation=not getattr(args, "no_output_activation", False)))
    distractors = getattr(args, "distractors", None)
    if args.data is not None:
        if distractors is not None:
            raise ValueError("--distractors makes synthetic scenes; it cannot be combined with --data")
        data = _checked_volleyball_data(Path(args.data), args.seed)
    else:
        train_size = args.train_size or (300 if args.quick else 2000)
        data = synthetic_data(train_size, max(100, train_size // 4), args.seed,
                              None if distractors is None else tuple(distractors))
    epochs = args.epochs if args.epochs is not None else (2 if args.quick else 20)
    # a constant learning rate, so that --resume with more --epochs keeps learning (a cosine schedule
    # restored from the checkpoint would already have decayed to 0 at the first run's last epoch)
    row = train_one(variant, data, epochs, args.hidden, args.seed, out=None if args.out is None else Path(args.out),
                    progress=True, device=args.device, resume=args.resume, lr_schedule=None)
    majority = majority_row(data)
    return (f"{row['model']} on {data.description}: test scene accuracy {row['scene_accuracy']:.1f}%, "
            f"action accuracy {row['action_accuracy']:.1f}% with epoch {row['best_epoch']} (chosen on validation "
            f"scene accuracy {row['validation_scene_accuracy']:.1f}%) after {row['epochs']} epochs; "
            f"{majority['model']}: {majority['scene_accuracy']:.1f}% / {majority['action_accuracy']:.1f}%")


def _checked_volleyball_data(directory: Path, seed: int = 0) -> SceneData:
    """:func:`volleyball_data`, with every problem of a file as one :class:`DataFormatError` naming its line."""
    from graphrnn.datasets.text import DataFormatError, read_lines
    from graphrnn.datasets.volleyball import annotation_files

    for video in ("7", "10"):
        for _, path in annotation_files(directory, [video]):
            read_lines(path, "one annotated frame")  # UTF-8, or an error naming the line
    try:
        return volleyball_data(directory, seed=seed)
    except ValueError as error:  # read_annotations names the file and line
        raise DataFormatError(str(error)) from None


def section(quick: bool, seed: int):
    """The ``graphrnn reproduce`` section: the whole grid on synthetic scenes, gated against ungated SIM over
    three seeds without and with distractors, and Volleyball, if present. Every epoch is chosen on validation."""
    from graphrnn.reproduce import Section

    train_size, test_size, epochs = (500, 300, 8) if quick else (1200, 500, 10)
    data = synthetic_data(train_size, test_size, seed)
    rows = run(data, epochs, seed=seed)
    text = (f"{data.description}, {epochs} epochs, hidden 32, Adam 3e-3 with cosine decay, loss on every "
            f"iteration; the epoch is chosen on validation scene accuracy, test read once. Paper (Collective "
            f"Activity Dataset, real video features): "
            f"{PAPER['iterations'][1]} -> {PAPER['iterations'][2]} -> {PAPER['iterations'][3]}% scene accuracy "
            f"over iterations 1-3.\n\n{results_table(rows)}")
    payload = {"synthetic": [_plain(r) for r in rows], "gating": {}}
    seeds = [seed, seed + 1, seed + 2]
    for name, distractors in (("default scenes", None), (f"distractors {DISTRACTORS}", DISTRACTORS)):
        result = gating_comparison(seeds, train_size, test_size, epochs, distractors)
        text += (f"\n\nGated against ungated SIM, {name}: {result['description']} per seed, {epochs} epochs, "
                 f"mean ± sd over seeds {seeds}:\n\n{comparison_table(result)}")
        payload["gating"][name] = {"rows": result["rows"], "gates": result["gates"]}
    try:
        volley = volleyball_data(seed=seed)
    except FileNotFoundError as error:
        text += f"\n\nVolleyball: skipped ({error})."
    else:
        pair = [Variant("mlp"), Variant("sim", 3, gated=True)]
        volley_rows = run(volley, 10 if quick else 30, pair, seed=seed)
        text += (f"\n\n{volley.description}, geometric player features only (boxes, no images), epoch chosen on "
                 f"validation frames:\n\n{results_table(volley_rows, paper_column=False)}")
        payload["volleyball"] = [_plain(r) for r in volley_rows]
    return Section("Group activity: Structure Inference Machines", text, payload)


def _plain(row: Dict[str, object]) -> Dict[str, object]:
    return {k: v for k, v in row.items() if k != "trained"}
