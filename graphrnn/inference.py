r"""From a checkpoint to predictions: :func:`load` and the :class:`TrainedModel` of every task.

Every task's training writes, into the checkpoint's ``extra_state["inference"]``, what
prediction needs besides the weights: the kind of model and its constructor settings, the
vocabularies and label names, and how raw input is read (tokenisation, decoding lengths).
:func:`load` rebuilds the model from it, loads the weights and returns a
:class:`TrainedModel` whose :meth:`~TrainedModel.predict` maps raw input lines to output
lines, in batches, on the GPU when there is one. ``graphrnn predict TASK`` is this function
over the lines of a file or of stdin, so the two give the same output.

Kinds of checkpoint, with their ``graphrnn predict`` task, one input and one prediction:

- ``mixer`` (task ``mixer``): a sentence -> its translation or summary, detokenised as it is scored
  (:func:`graphrnn.metrics.hypothesis_text`: no space before punctuation, ``<unk>`` shown as ``\u2047``).
- ``drnn`` (``drnn``): a sentence, tokens separated by spaces -> the tree, bracketed
  (``ROOT ( a ( b c ) d )``).
- ``sequence_classifier`` (``rnn``): a sequence -> its label.
- ``language_model`` (``rnn``): a prefix -> its continuation.
- ``digits`` (``rnn``): 64 pixel values (0-16, row by row) -> the digit.
- ``sim`` (``sim``): a scene (a Volleyball annotation line or a JSON object) ->
  ``activity<TAB>action action ...``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Type

import torch
from torch import Tensor, nn

from graphrnn.counts import is_int
from graphrnn.data import DataLoader
from graphrnn.data.vocab import Vocab
from graphrnn.datasets.text import DataFormatError, TextOptions, where
from graphrnn.training import CheckpointError, resolve_device
from graphrnn.training.checkpoint import load_checkpoint, load_model_state, require_entries

__all__ = ["TrainedModel", "load", "check_task", "checkpoints_in", "KINDS", "TASK_OF_KIND", "seq2tree_inference_state"]

#: The ``graphrnn predict`` task of every kind of checkpoint.
TASK_OF_KIND = {"mixer": "mixer", "drnn": "drnn", "sequence_classifier": "rnn", "language_model": "rnn",
                "digits": "rnn", "sim": "sim"}
KINDS: Dict[str, Type["TrainedModel"]] = {}


def _register(kind: str) -> Callable[[Type["TrainedModel"]], Type["TrainedModel"]]:
    def add(cls: Type["TrainedModel"]) -> Type["TrainedModel"]:
        cls.kind, cls.task = kind, TASK_OF_KIND[kind]
        KINDS[kind] = cls
        return cls

    return add


class TrainedModel(nn.Module):
    """A trained model and what it needs to read raw inputs and write predictions.

    ``forward`` is the wrapped model's; :meth:`predict` maps raw inputs (strings, one per
    example) to predictions (strings), in input order.

    Args:
        model: the trained network (``self.model``).
        state: the checkpoint's inference settings (``extra_state["inference"]``).
    """

    kind = ""
    task = ""
    #: the entries of the inference settings that :meth:`build`, ``__init__`` and :meth:`predict` read
    needs: Tuple[str, ...] = ()

    def __init__(self, model: nn.Module, state: Dict[str, Any]) -> None:
        super().__init__()
        self.model = model
        self.state = state

    @classmethod
    def build(cls, state: Dict[str, Any]) -> nn.Module:
        """The untrained network described by ``state``."""
        raise NotImplementedError

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def forward(self, *args, **kwargs):
        return self.model(*args, **kwargs)

    def parse(self, line: str, at: str) -> Any:
        """One input, ready for :meth:`predict_batch`; ``at`` names it in errors (``file:line``)."""
        raise NotImplementedError

    def predict_batch(self, items: List[Any], beam: Optional[int]) -> List[str]:
        raise NotImplementedError

    @torch.no_grad()
    def predict(self, inputs: Sequence[str], beam: Optional[int] = None, batch_size: int = 64,
                source: str = "input") -> List[str]:
        """One prediction per input, in order.

        Args:
            inputs: raw inputs, one example each (see the module docstring for their form).
            beam: beam size (``mixer``, and ``rnn`` language models); ``None`` decodes greedily.
            batch_size: examples per batch.
            source: name of where the inputs come from, for errors (``source:line``).

        Raises:
            DataFormatError: naming the input, for one this model cannot read.
            ValueError: for a beam size that is not a positive integer, or a beam on a model without search.
        """
        if isinstance(inputs, str):
            raise TypeError("inputs must be a list of inputs (one string per example), got one string; "
                            "wrap it in a list")
        self._check_beam(beam)
        if not is_int(batch_size) or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        items = [self._parse_located(line, where(source, number)) for number, line in enumerate(inputs, start=1)]
        self.model.eval()
        out: List[str] = []
        for start in range(0, len(items), batch_size):
            out += self.predict_batch(items[start:start + batch_size], beam)
        return out

    def _parse_located(self, line: Any, at: str) -> Any:
        """:meth:`parse`, with an error of the graph builders it calls (a NaN feature, ...) named by ``at``."""
        line = _as_line(line, at)
        try:
            return self.parse(line, at)
        except DataFormatError:
            raise
        except ValueError as error:
            raise DataFormatError(f"{at}: {error}") from None

    searches = False  #: whether ``beam`` applies

    def _check_beam(self, beam: Optional[int]) -> None:
        if beam is None:
            return
        if not is_int(beam) or beam < 1:
            raise ValueError(f"beam must be a positive integer (or None for greedy decoding), got {beam!r}")
        if not self.searches:
            raise ValueError(f"a {self.kind} model has no beam search (it decodes greedily); drop --beam / beam=")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(task={self.task!r}, kind={self.kind!r}, model={type(self.model).__name__})"


def _as_line(value: Any, at: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{at}: an input must be a string (one line), got {type(value).__name__}")
    return value


def _tokens(text: TextOptions, line: str, at: str, what: str) -> List[str]:
    tokens = text(line)
    if not tokens:
        raise DataFormatError(f"{at}: empty input; expected {what} (one per line)")
    return tokens


# ------------------------------------------------------------------ mixer
@_register("mixer")
class Seq2SeqModel(TrainedModel):
    """Translation or summarization (:class:`~graphrnn.models.Seq2Seq`): a sentence in, its output tokens out."""

    searches = True
    needs = ("model_settings", "source_vocab", "target_vocab", "text", "max_source", "max_len")

    def __init__(self, model: nn.Module, state: Dict[str, Any]) -> None:
        super().__init__(model, state)
        if state.get("source_vocab") is None or state.get("text") is None:
            raise CheckpointError(f"this mixer checkpoint is a {state.get('task')} model, whose inputs are not text "
                                  "(captioning reads digit images); predict reads translation and summarization "
                                  "models")
        self.source_vocab = Vocab.from_list(state["source_vocab"])
        self.target_vocab = Vocab.from_list(state["target_vocab"])
        self.text = TextOptions.from_dict(state["text"])

    @classmethod
    def build(cls, state: Dict[str, Any]) -> nn.Module:
        from graphrnn.models.seq2seq import Seq2Seq

        return Seq2Seq(**state["model_settings"])

    def parse(self, line: str, at: str):
        from graphrnn.models.seq2seq import seq2seq_pair

        tokens = _tokens(self.text, line, at, "a sentence")[:self.state["max_source"]]
        return seq2seq_pair(self.source_vocab.encode(tokens), torch.tensor([Vocab.eos]))

    def predict_batch(self, items: List[Any], beam: Optional[int]) -> List[str]:
        from graphrnn.experiments.mixer import decode
        from graphrnn.metrics import hypothesis_text

        outputs = decode(self.model, items, self.state["max_len"], beam, batch_size=len(items), device=self.device)
        return [hypothesis_text(ids, self.target_vocab) for ids in outputs]


# ------------------------------------------------------------------ drnn
def seq2tree_inference_state(source_vocab: Vocab, label_vocab: Vocab, caps: Sequence[int], root: Optional[str],
                             hidden: int, dropout: float = 0.0, attention: Optional[str] = None,
                             cell: str = "lstm") -> Dict[str, Any]:
    """The ``extra_state["inference"]`` of a :class:`~graphrnn.models.Seq2Tree` run (see :func:`load`)."""
    return {"kind": "drnn", "model_class": "Seq2Tree",
            "model_settings": {"num_tokens": len(source_vocab), "num_labels": len(label_vocab),
                               "hidden_channels": hidden, "cell": cell, "dropout": dropout, "attention": attention},
            "source_vocab": source_vocab.to_list(), "label_vocab": label_vocab.to_list(), "caps": list(caps),
            "root": root}


@_register("drnn")
class TreeModel(TrainedModel):
    """Sequence to tree (:class:`~graphrnn.models.Seq2Tree`): tokens separated by spaces in, a bracketed tree out."""

    needs = ("model_settings", "source_vocab", "label_vocab", "caps", "root")

    def __init__(self, model: nn.Module, state: Dict[str, Any]) -> None:
        super().__init__(model, state)
        self.source_vocab = Vocab.from_list(state["source_vocab"])
        self.label_vocab = Vocab.from_list(state["label_vocab"])

    @classmethod
    def build(cls, state: Dict[str, Any]) -> nn.Module:
        from graphrnn.models.seq2tree import Seq2Tree

        return Seq2Tree(**state["model_settings"])

    def parse(self, line: str, at: str):
        from graphrnn.models.seq2tree import tree_pair

        tokens = _tokens(TextOptions("whitespace"), line, at, "a sentence, tokens separated by spaces")
        return tree_pair(self.source_vocab.encode(tokens), [Vocab.unk], [-1], num_labels=len(self.label_vocab))

    def predict_batch(self, items: List[Any], beam: Optional[int]) -> List[str]:
        from graphrnn.datasets.tree_tsv import format_bracketed
        from graphrnn.experiments.drnn import Caps, decode_trees

        trees = decode_trees(self.model, items, self.label_vocab, Caps(*self.state["caps"]), self.state["root"],
                             batch_size=len(items))
        return [format_bracketed(labels, parents) for labels, parents in trees]


# ------------------------------------------------------------------ rnn
def _chain_batch(graphs: List[Any], device: torch.device):
    return next(iter(DataLoader(graphs, batch_size=len(graphs)))).to(device)


@_register("sequence_classifier")
class ClassifierModel(TrainedModel):
    """A :class:`~graphrnn.models.SequenceClassifier` over tokens: a sequence in, its label out."""

    needs = ("model_settings", "vocab", "text", "labels")

    def __init__(self, model: nn.Module, state: Dict[str, Any]) -> None:
        super().__init__(model, state)
        self.vocab = Vocab.from_list(state["vocab"])
        self.text = TextOptions.from_dict(state["text"])

    @classmethod
    def build(cls, state: Dict[str, Any]) -> nn.Module:
        from graphrnn.models import SequenceClassifier

        return SequenceClassifier(**state["model_settings"])

    def parse(self, line: str, at: str):
        from graphrnn.data import chain_graph

        return chain_graph(self.vocab.encode(_tokens(self.text, line, at, "a sequence")))

    def predict_batch(self, items: List[Any], beam: Optional[int]) -> List[str]:
        batch = _chain_batch(items, self.device)
        labels = self.model(batch.x, batch.edge_index, batch.batch, num_graphs=batch.num_graphs).argmax(-1)
        return [self.state["labels"][int(i)] for i in labels]


@_register("digits")
class DigitsModel(TrainedModel):
    """The digits classifiers of ``graphrnn train rnn``: 64 pixel values (0-16, row by row) in, the digit out."""

    needs = ("model", "hidden")

    @classmethod
    def build(cls, state: Dict[str, Any]) -> nn.Module:
        from graphrnn.experiments.digits import build_model

        return build_model(state["model"], state["hidden"])

    def parse(self, line: str, at: str):
        from graphrnn.data import chain_graph

        fields = line.replace(",", " ").split()
        try:
            values = [float(v) for v in fields]
        except ValueError:
            values = []
        if len(values) != 64 or not all(0.0 <= v <= 16.0 for v in values):
            raise DataFormatError(f"{at}: expected 64 pixel values in [0, 16] (an 8x8 digit, row by row, separated "
                                  f"by spaces or commas), got {_short(line)}")
        return chain_graph(torch.tensor(values).view(8, 8) / 16.0)

    def predict_batch(self, items: List[Any], beam: Optional[int]) -> List[str]:
        from graphrnn.experiments.digits import logits

        return [str(int(i)) for i in logits(self.model, _chain_batch(items, self.device)).argmax(-1)]


@_register("language_model")
class LanguageModel(TrainedModel):
    """A :class:`~graphrnn.models.NextStepPredictor` over tokens: a prefix in, its continuation out (greedy
    or beam search, until ``<eos>`` or ``max_len`` tokens)."""

    searches = True
    needs = ("model_settings", "vocab", "text", "max_len")

    def __init__(self, model: nn.Module, state: Dict[str, Any]) -> None:
        super().__init__(model, state)
        self.vocab = Vocab.from_list(state["vocab"])
        self.text = TextOptions.from_dict(state["text"])

    @classmethod
    def build(cls, state: Dict[str, Any]) -> nn.Module:
        from graphrnn.models import NextStepPredictor

        return NextStepPredictor(**state["model_settings"])

    def parse(self, line: str, at: str) -> Tensor:
        return self.vocab.encode(_tokens(self.text, line, at, "the start of a sentence"), bos=True)

    def predict_batch(self, items: List[Tensor], beam: Optional[int]) -> List[str]:
        from graphrnn.decoding import beam_search, greedy

        state, step = self._read_prefixes(items), _continuation_step(self.model)
        max_len = self.state["max_len"]
        if beam is None:
            found = [tokens for tokens, _ in greedy(step, state, Vocab.bos, Vocab.eos, max_len)]
        else:
            found = [hyps[0][0] for hyps in beam_search(step, state, Vocab.bos, Vocab.eos, beam, max_len)]
        return [" ".join(self.vocab.decode(tokens)) for tokens in found]

    def _read_prefixes(self, items: List[Tensor]) -> tuple:
        """Runs every prefix (``<bos>`` + tokens, of different lengths) through the model at once; returns
        the state of :func:`_continuation_step`: the recurrent state after each prefix, the log-probabilities
        of the token that follows it, and a flag saying that those are still to be returned."""
        lengths = torch.tensor([len(t) for t in items], device=self.device)
        padded = torch.nn.utils.rnn.pad_sequence(items, batch_first=True).to(self.device)
        state, log_probs = None, None
        for t in range(padded.size(1)):
            step_log_probs, step_state = self.model.step(padded[:, t], state)
            inside = (t < lengths).view(-1, 1)  # rows whose prefix is still running keep the new values
            log_probs = step_log_probs if log_probs is None else torch.where(inside, step_log_probs, log_probs)
            state = step_state if state is None else tuple(
                torch.where(inside.unsqueeze(-1), new, old) for new, old in zip(step_state, state))
        return tuple(state) + (log_probs, torch.ones(len(items), dtype=torch.bool, device=self.device))


def _continuation_step(model: nn.Module) -> Callable:
    """``step_fn`` of :mod:`graphrnn.decoding` for continuing prefixes: the first call returns the
    log-probabilities after the prefix (the ``<bos>`` the decoder feeds is not read), later calls step the model."""

    def step(tokens: Tensor, state: tuple):
        *recurrent, pending, fresh = state
        if bool(fresh.all()):
            return pending, (*recurrent, pending, torch.zeros_like(fresh))
        log_probs, recurrent = model.step(tokens, tuple(recurrent))
        return log_probs, (*recurrent, pending, fresh)

    return step


# ------------------------------------------------------------------ sim
@_register("sim")
class SceneModel(TrainedModel):
    """Group activity (:class:`~graphrnn.nn.StructureInferenceMachine` or the MLP): a scene in, its activity and
    every person's action out, as ``activity<TAB>action action ...``.

    A scene is a Volleyball annotation line (``<frame>.jpg [activity] x y w h [action] ...``: the labels are
    optional and ignored; the features are computed from the boxes) or a JSON object, either
    ``{"boxes": [[x, y, w, h], ...]}`` (Volleyball features) or ``{"person_x": [[...], ...], "scene_x": [...]}``
    (the features themselves, as the model was trained on).
    """

    needs = ("actions", "activities", "person_channels", "scene_channels", "variant", "hidden", "features")

    def __init__(self, model: nn.Module, state: Dict[str, Any]) -> None:
        super().__init__(model, state)
        self.actions, self.activities = list(state["actions"]), list(state["activities"])

    @classmethod
    def build(cls, state: Dict[str, Any]) -> nn.Module:
        from graphrnn.experiments.sim import SceneData, Variant, build_model

        sizes = SceneData([], [], state["person_channels"], state["scene_channels"], len(state["actions"]),
                          len(state["activities"]), "")
        return build_model(Variant.from_saved(state["variant"]), sizes, state["hidden"])

    def parse(self, line: str, at: str):
        from graphrnn.data import scene_graph

        text = line.strip()
        if not text:
            raise DataFormatError(f"{at}: empty input; expected a scene (a Volleyball annotation line or a JSON "
                                  "object)")
        person_x, scene_x = self._json_scene(text, at) if text.startswith("{") else self._volleyball_scene(text, at)
        widths = (person_x.size(1), scene_x.numel())
        if widths != (self.state["person_channels"], self.state["scene_channels"]):
            raise DataFormatError(f"{at}: the scene has {widths[0]} person and {widths[1]} scene features, the model "
                                  f"reads {self.state['person_channels']} and {self.state['scene_channels']} "
                                  f"({self.state['features']} features)")
        for name, values in (("person_x", person_x), ("scene_x", scene_x)):
            if not bool(torch.isfinite(values).all()):  # the model would refuse the whole batch, naming no line
                raise DataFormatError(f"{at}: {name} has a NaN or infinite value (from the boxes or the features "
                                      "given); give finite numbers")
        return scene_graph(person_x, scene_x)

    def _json_scene(self, text: str, at: str):
        try:
            scene = json.loads(text)
        except json.JSONDecodeError as error:
            raise DataFormatError(f"{at}: not valid JSON ({error.msg} at column {error.colno})") from None
        if not isinstance(scene, dict):
            raise DataFormatError(f"{at}: expected a JSON object with 'boxes' or 'person_x' and 'scene_x'")
        if "boxes" in scene:
            return _volleyball_features(scene["boxes"], at)
        if "person_x" in scene and "scene_x" in scene:
            try:
                person_x = torch.tensor(scene["person_x"], dtype=torch.float32)
                scene_x = torch.tensor(scene["scene_x"], dtype=torch.float32).view(-1)
            except (TypeError, ValueError) as error:
                raise DataFormatError(f"{at}: person_x and scene_x must be lists of numbers ({error})") from None
            if person_x.dim() != 2 or person_x.size(0) == 0:
                raise DataFormatError(f"{at}: person_x must be a non-empty list of feature lists, one per person")
            return person_x, scene_x
        raise DataFormatError(f"{at}: expected a JSON object with 'boxes' ([[x, y, w, h], ...]) or 'person_x' and "
                              f"'scene_x', got keys {sorted(scene)}")

    def _volleyball_scene(self, text: str, at: str):
        tokens = text.split()[1:]  # the frame's file name comes first
        if len(tokens) % 5 == 1 and not _is_number(tokens[0]):
            tokens = tokens[1:]  # the group activity label
        width = 5 if tokens and len(tokens) % 5 == 0 and not _is_number(tokens[4]) else 4
        boxes = [tokens[i:i + 4] for i in range(0, len(tokens), width)]
        if not tokens or len(tokens) % width:
            raise DataFormatError(f"{at}: expected '<frame>.jpg [activity]' then groups of 'x y w h [action]', got "
                                  f"{len(tokens) + 1} fields")
        try:
            values = [[float(v) for v in box] for box in boxes]
        except ValueError as error:
            raise DataFormatError(f"{at}: box coordinates must be numbers ({error})") from None
        return _volleyball_features(values, at)

    def predict_batch(self, items: List[Any], beam: Optional[int]) -> List[str]:
        from graphrnn.data import PERSON

        batch = next(iter(DataLoader(items, batch_size=len(items)))).to(self.device)
        actions, activities = self.model(batch)[-1]
        person_scene = batch.batch[batch.node_type == PERSON]
        person_labels = actions.argmax(-1)
        lines = []
        for scene, activity in enumerate(activities.argmax(-1).tolist()):
            persons = person_labels[person_scene == scene].tolist()
            lines.append(f"{self.activities[activity]}\t" + " ".join(self.actions[a] for a in persons))
        return lines


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _volleyball_features(boxes: Any, at: str):
    from graphrnn.datasets.volleyball import player_features

    try:
        tensor = torch.tensor(boxes, dtype=torch.float32)
    except (TypeError, ValueError) as error:
        raise DataFormatError(f"{at}: boxes must be a list of [x, y, w, h] lists ({error})") from None
    if tensor.dim() != 2 or tensor.size(1) != 4 or tensor.size(0) == 0:
        raise DataFormatError(f"{at}: expected one or more boxes [x, y, w, h], got shape {list(tensor.shape)}")
    bad = ~torch.isfinite(tensor).all(1) | (tensor[:, 2:] < 0).any(1)  # as the training files are read
    if bool(bad.any()):
        player = int(bad.nonzero()[0, 0])
        raise DataFormatError(f"{at}: player {player + 1} has the box {tensor[player].tolist()}; x y w h must be "
                              "finite numbers with w, h >= 0, as in the training annotations")
    return player_features(tensor)


def _short(line: str, width: int = 40) -> str:
    return repr(line if len(line) <= width else line[:width] + "...")


# ------------------------------------------------------------------ load
def load(path: os.PathLike | str, device: str = "auto") -> TrainedModel:
    """The trained model of a checkpoint written by ``graphrnn train`` (``best.pt`` or ``checkpoint.pt``).

    Args:
        path: the checkpoint file.
        device: ``"auto"`` (CUDA when present, else CPU), ``"cpu"``, ``"cuda"``, ``"cuda:1"``.

    Returns:
        A :class:`TrainedModel` in eval mode, with ``predict(list_of_inputs)``.

    Raises:
        CheckpointError: if the file is missing, unreadable, not graphrnn's, or carries no inference
            settings (written before they were saved: train again), or the weights do not fit.
    """
    path = Path(path)
    if path.is_dir():
        inside = checkpoints_in(path)
        hint = f"pass {inside[0]}" if inside else "pass the best.pt that graphrnn train wrote into its --out"
        raise CheckpointError(f"{path} is a directory, not a checkpoint file; {hint}")
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}; pass the best.pt (or checkpoint.pt) that "
                              "graphrnn train wrote into its --out folder")
    checkpoint = load_checkpoint(path)
    require_entries(checkpoint, {"model": Mapping}, path, "prediction")
    require_entries({"extra_state": checkpoint.get("extra_state")}, {"extra_state": (Mapping, type(None))}, path,
                    "prediction")
    extra_state = checkpoint.get("extra_state") or {}
    state = extra_state.get("inference")
    if isinstance(state, Mapping) and isinstance(state.get("kind"), str) and state["kind"] not in KINDS:
        raise CheckpointError(f"{path} holds a model of kind {state['kind']!r}, which this graphrnn cannot read (it "
                              f"reads {', '.join(sorted(KINDS))}); it was written by another graphrnn version or "
                              "edited: predict with that version, or train it again with graphrnn train")
    if not isinstance(state, Mapping) or not isinstance(state.get("kind"), str):
        written = extra_state.get("task")
        raise CheckpointError(f"{path} carries no inference settings (vocabularies, model settings){_by(written)}; "
                              "it was written before graphrnn saved them or by your own Trainer: train it again "
                              "with graphrnn train")
    kind = KINDS[state["kind"]]
    require_entries(state, dict.fromkeys(kind.needs, object), f"{path}'s inference settings", f"a {kind.kind} model")
    model = _from_settings(lambda: kind.build(dict(state)), kind, path)
    load_model_state(model, checkpoint["model"], source=str(path))
    trained = _from_settings(lambda: kind(model, dict(state)), kind, path)
    return trained.to(resolve_device(device)).eval()


def checkpoints_in(folder: Path) -> List[Path]:
    """The checkpoints of a ``graphrnn train`` run in ``folder``, best first: ``best.pt`` and ``checkpoint.pt``
    there, then one folder down (``drnn`` keeps them in ``OUT/model/``, ``mixer`` one run per method)."""
    folders = [folder] + (sorted(child for child in folder.iterdir() if child.is_dir()) if folder.is_dir() else [])
    return [place / name for name in ("best.pt", "checkpoint.pt") for place in folders if (place / name).is_file()]


def _from_settings(make: Callable[[], Any], kind: Type[TrainedModel], path: Path) -> Any:
    """``make()``, which reads the inference settings: settings that do not build a model (edited, or from
    another version) are a :class:`CheckpointError` naming the file, not an error from deep inside a constructor."""
    try:
        return make()
    except CheckpointError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as error:
        raise CheckpointError(f"{path}'s inference settings do not build a {kind.kind} model ({type(error).__name__}: "
                              f"{error}); the file was edited or written by another graphrnn version: train it "
                              "again with graphrnn train") from None


def _by(task: Optional[str]) -> str:
    return f" (task {task!r})" if task else ""


def check_task(model: TrainedModel, task: str, path: os.PathLike | str) -> None:
    """Raises :class:`CheckpointError` when ``model`` (from ``path``) is not a ``task`` model."""
    if model.task != task:
        raise CheckpointError(f"{path} holds a {model.kind} model written by `graphrnn train {model.task}`, not "
                              f"{task}: run `graphrnn predict {model.task} --checkpoint {path}`")

