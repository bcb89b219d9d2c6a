"""Group activity recognition with Structure Inference Machines (Deng et al., CVPR 2016).

A per-person/scene MLP on unary features against SIM without and with gates, for
T = 1-4 iterations, tied and untied weights, all trained by
:class:`graphrnn.training.Trainer` on the synthetic collective-activity scenes
(:mod:`graphrnn.datasets.collective`) or on Volleyball annotations
(:mod:`graphrnn.datasets.volleyball`). Also ``graphrnn train sim`` (:func:`add_arguments`,
:func:`run_task`) and the ``graphrnn reproduce`` section (:func:`section`).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence

import torch
from torch import nn

from graphrnn.bench import markdown_table
from graphrnn.datasets.collective import ACTIONS, ACTIVITIES, split_collective_activity
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
    "gate_summary",
    "inference_state",
    "plot_gates",
    "results_table",
    "run",
    "run_task",
    "section",
    "synthetic_data",
    "train_one",
    "volleyball_data",
]

#: Scene accuracy (%) on the Collective Activity Dataset, Deng et al. 2016 (iterations 1-3; final).
PAPER = {"iterations": {1: 80.1, 2: 80.3, 3: 81.2}, "final": 81.2}


class Variant(NamedTuple):
    """One model of the comparison: ``kind`` is ``"mlp"`` or ``"sim"``."""

    kind: str
    iterations: int = 0
    gated: bool = False
    tied: bool = True

    @property
    def name(self) -> str:
        if self.kind == "mlp":
            return "MLP (unary only)"
        return (f"SIM {'gated' if self.gated else 'ungated'}, T={self.iterations}"
                + ("" if self.tied or self.iterations == 1 else ", untied"))


def _grid() -> List[Variant]:
    variants = [Variant("mlp")]
    for gated in (False, True):
        variants += [Variant("sim", t, gated, True) for t in (1, 2, 3, 4)]
        variants += [Variant("sim", t, gated, False) for t in (2, 3, 4)]
    return variants


#: MLP, then SIM ungated/gated for T = 1-4 tied and T = 2-4 untied (T = 1 has one weight set either way).
GRID = _grid()


class SceneData(NamedTuple):
    """Scenes of one data set, their feature and class counts, and (for prediction) the label names."""

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


def synthetic_data(train_size: int, test_size: int, seed: int) -> SceneData:
    """Seeded synthetic collective-activity scenes (:mod:`graphrnn.datasets.collective`)."""
    train, test = split_collective_activity(train_size, test_size, seed)
    return SceneData(train, test, train[0].person_x.size(1), train[0].scene_x.size(1), len(ACTIONS),
                     len(ACTIVITIES), f"synthetic collective activity, {train_size} train / {test_size} test scenes",
                     ACTIONS, ACTIVITIES, "synthetic collective-activity")


def volleyball_data(directory: Optional[Path] = None, train_videos: Sequence[str] = ("7",),
                    test_videos: Sequence[str] = ("10",)) -> SceneData:
    """Volleyball annotations of ``directory`` (default ``$GRAPHRNN_DATA/volleyball``), split by video."""
    from graphrnn.datasets.volleyball import ACTIONS as V_ACTIONS
    from graphrnn.datasets.volleyball import ACTIVITIES as V_ACTIVITIES
    from graphrnn.datasets.volleyball import volleyball_scenes

    train = volleyball_scenes(directory, videos=train_videos)
    test = volleyball_scenes(directory, videos=test_videos)
    return SceneData(train, test, train[0].person_x.size(1), train[0].scene_x.size(1), len(V_ACTIONS),
                     len(V_ACTIVITIES), f"Volleyball videos {list(train_videos)} (train, {len(train)} frames) / "
                                        f"{list(test_videos)} (test, {len(test)} frames)",
                     V_ACTIONS, V_ACTIVITIES, "Volleyball box")


def build_model(variant: Variant, data: SceneData, hidden: int) -> nn.Module:
    if variant.kind == "mlp":
        return UnaryMLP(data.person_channels, data.scene_channels, hidden, data.num_actions, data.num_activities)
    if variant.kind == "sim":
        return StructureInferenceMachine(data.person_channels, data.scene_channels, hidden, data.num_actions,
                                         data.num_activities, num_iterations=variant.iterations,
                                         gated=variant.gated, tie_weights=variant.tied)
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


def train_one(variant: Variant, data: SceneData, epochs: int, hidden: int = 32, seed: int = 0,
              out: Optional[Path] = None, progress: bool = False, device: str = "auto", resume: bool = False,
              lr: float = 3e-3, batch_size: int = 32, lr_schedule: Optional[str] = "cosine") -> Dict[str, object]:
    """Trains one variant with :class:`~graphrnn.training.Trainer`; returns its result row (and the model)."""
    torch.manual_seed(seed)
    model = build_model(variant, data, hidden)
    config = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, optimizer="adam", lr_schedule=lr_schedule,
                         grad_clip=5.0, monitor="scene_accuracy", mode="max", seed=seed, device=device,
                         out=out, progress=progress, resume=resume)
    trainer = Trainer(model, loss_fn, data.train, config, metrics_fn=metrics_fn, eval_data=data.test,
                      extra_state={"task": "sim", "variant": list(variant), "hidden": hidden,
                                   "inference": inference_state(variant, data, hidden)})
    start = time.perf_counter()
    history = trainer.fit()
    last = history[-1]
    return {"model": variant.name, "kind": variant.kind, "iterations": variant.iterations, "gated": variant.gated,
            "tied": variant.tied, "scene_accuracy": 100.0 * last["scene_accuracy"],
            "action_accuracy": 100.0 * last["action_hits"] / last["persons"], "epochs": len(history),
            "seconds": time.perf_counter() - start, "parameters": sum(p.numel() for p in model.parameters()),
            "trained": model}


def run(data: SceneData, epochs: int, variants: Sequence[Variant] = GRID, hidden: int = 32, seed: int = 0,
        progress: bool = False, device: str = "auto") -> List[Dict[str, object]]:
    """Trains every variant on the same data; returns one row per variant (``trained`` holds the model)."""
    return [train_one(v, data, epochs, hidden, seed, progress=progress, device=device) for v in variants]


def results_table(rows: Sequence[Dict[str, object]], paper_column: bool = True) -> str:
    """Markdown table of :func:`run`'s rows, with the paper's Collective Activity scene accuracy beside the
    gated, tied SIM rows (``paper_column=False`` for other data sets leaves that column out)."""
    body = []
    for r in rows:
        paper = ""
        if r["kind"] == "sim" and r["gated"] and r["tied"] and r["iterations"] in PAPER["iterations"]:
            paper = f"{PAPER['iterations'][r['iterations']]:.1f}"
        body.append([r["model"], f"{r['scene_accuracy']:.1f}", f"{r['action_accuracy']:.1f}"]
                    + ([paper] if paper_column else []) + [r["parameters"], f"{r['seconds']:.1f}"])
    header = ["model", "scene acc. %", "action acc. %"] + (["paper scene acc. % (CAD)"] if paper_column else [])
    return markdown_table(header + ["parameters", "train s"], body)


def gate_summary(model: StructureInferenceMachine, scenes: Sequence) -> Dict[str, float]:
    """Mean last-iteration gate of person->person and person->scene edges by who sends: a member of the
    scene's main group, of a second group, or a passer-by (``second_group`` / ``passer_by`` of the
    synthetic scenes)."""
    from graphrnn.data import PERSON_TO_PERSON, PERSON_TO_SCENE

    sums: Dict[str, List[float]] = {}
    model.eval()
    with torch.no_grad():
        for scene in scenes:
            gates = model(scene, return_gates=True)[1][-1]
            role = {"main group": ~(scene.passer_by | scene.second_group), "second group": scene.second_group,
                    "passer-by": scene.passer_by}
            for kind, label in ((PERSON_TO_PERSON, "person->person"), (PERSON_TO_SCENE, "person->scene")):
                edges = (scene.edge_type == kind).nonzero().view(-1)
                source = scene.edge_index[0, edges]  # persons
                for who, mask in role.items():
                    sums.setdefault(f"{label} from {who}", []).extend(gates[edges[mask[source]]].tolist())
    return {key: sum(v) / len(v) for key, v in sums.items() if v}


def plot_gates(model: StructureInferenceMachine, scene, path: Path,
               activities: Sequence[str] = ACTIVITIES) -> Optional[Path]:
    """Draws one synthetic scene (persons at their ``x, y``) with the last iteration's gates on its edges.

    Person->person edges are lines whose width and opacity grow with the gate, from the scene's
    smallest to its largest gate (each direction drawn as half a line, from its source; the range
    is printed in the title); the number next to a person is the gate of its
    person->scene edge. Colours are the persons' true actions; passers-by are squares, the
    second group's members triangles. Returns ``None`` without matplotlib.
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
        marker = "s" if bool(scene.passer_by[k]) else "^" if bool(scene.second_group[k]) else "o"
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
    parser.add_argument("--mlp", action="store_true", help="train the unary MLP baseline instead")
    parser.add_argument("--hidden", type=int, default=32, help="hidden and message size (default: 32)")
    parser.add_argument("--train-size", type=int, default=None,
                        help="synthetic training scenes (default: 2000, 300 with --quick)")


def run_task(args: argparse.Namespace) -> str:
    """``graphrnn train sim``: SIM (or the MLP) on synthetic scenes, or on Volleyball with ``--data DIR``."""
    variant = (Variant("mlp") if args.mlp else
               Variant("sim", args.iterations, gated=not args.no_gates, tied=not args.untied))
    if args.data is not None:
        data = _checked_volleyball_data(Path(args.data))
    else:
        train_size = args.train_size or (300 if args.quick else 2000)
        data = synthetic_data(train_size, max(100, train_size // 4), args.seed)
    epochs = args.epochs if args.epochs is not None else (2 if args.quick else 20)
    # a constant learning rate, so that --resume with more --epochs keeps learning (a cosine schedule
    # restored from the checkpoint would already have decayed to 0 at the first run's last epoch)
    row = train_one(variant, data, epochs, args.hidden, args.seed, out=None if args.out is None else Path(args.out),
                    progress=True, device=args.device, resume=args.resume, lr_schedule=None)
    return (f"{row['model']} on {data.description}: scene accuracy {row['scene_accuracy']:.1f}%, "
            f"action accuracy {row['action_accuracy']:.1f}% after {row['epochs']} epochs")


def _checked_volleyball_data(directory: Path) -> SceneData:
    """:func:`volleyball_data`, with every problem of a file as one :class:`DataFormatError` naming its line."""
    from graphrnn.datasets.text import DataFormatError, read_lines
    from graphrnn.datasets.volleyball import annotation_files

    for video in ("7", "10"):
        for _, path in annotation_files(directory, [video]):
            read_lines(path, "one annotated frame")  # UTF-8, or an error naming the line
    try:
        return volleyball_data(directory)
    except ValueError as error:  # read_annotations names the file and line
        raise DataFormatError(str(error)) from None


def section(quick: bool, seed: int):
    """The ``graphrnn reproduce`` section: the whole grid on synthetic scenes (and Volleyball, if present)."""
    from graphrnn.reproduce import Section

    train_size, test_size, epochs = (500, 300, 8) if quick else (1200, 500, 10)
    data = synthetic_data(train_size, test_size, seed)
    rows = run(data, epochs, seed=seed)
    text = (f"{data.description}, {epochs} epochs, hidden 32, Adam 3e-3 with cosine decay, loss on every "
            f"iteration. Paper (Collective Activity Dataset, real video features): "
            f"{PAPER['iterations'][1]} -> {PAPER['iterations'][2]} -> {PAPER['iterations'][3]}% scene accuracy "
            f"over iterations 1-3.\n\n{results_table(rows)}")
    payload = {"synthetic": [_plain(r) for r in rows]}
    try:
        volley = volleyball_data()
    except FileNotFoundError as error:
        text += f"\n\nVolleyball: skipped ({error})."
    else:
        pair = [Variant("mlp"), Variant("sim", 3, gated=True)]
        volley_rows = run(volley, 10 if quick else 30, pair, seed=seed)
        text += (f"\n\n{volley.description}, geometric player features only (boxes, no images):\n\n"
                 f"{results_table(volley_rows, paper_column=False)}")
        payload["volleyball"] = [_plain(r) for r in volley_rows]
    return Section("Group activity: Structure Inference Machines", text, payload)


def _plain(row: Dict[str, object]) -> Dict[str, object]:
    return {k: v for k, v in row.items() if k != "trained"}
