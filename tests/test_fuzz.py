"""Fuzzing the entry points outside the nn layers: decoding callbacks, metrics, graph builders,
networkx conversion, the Trainer and the command-line checks.

Every generated input must end in one of two ways:

* a result equal to a reference computed independently (a Python loop, sacrebleu, a
  parent-following tree check, ...), or
* a ``ValueError``/``TypeError`` raised by graphrnn's own code (the innermost frame is in the
  ``graphrnn`` package) with a message, never a torch/PyG internal error.

Runs derandomized (the same examples every time) in about half a minute; ``FUZZ_COUNTS`` holds
the outcomes, printed at the end with ``pytest -s`` (the README's Reliability figures).
"""
from __future__ import annotations

import argparse
import collections
import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import sacrebleu
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch_geometric.data import Data

from graphrnn.cli_checks import CommandLineError, check_arguments
from graphrnn.data import (
    chain_edge_index,
    from_networkx,
    scene_graph,
    to_networkx,
    tree_graph,
    tree_parents,
)
from graphrnn.decoding import beam_search, greedy, sample
from graphrnn.metrics import corpus_bleu, rouge_n, sentence_bleu
from graphrnn.training import NonFiniteError, TrainConfig, Trainer


def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))
FUZZ_COUNTS: collections.Counter = collections.Counter()
PACKAGE = str(Path(__file__).resolve().parents[1] / "graphrnn")


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    yield
    total = sum(FUZZ_COUNTS.values())
    print(f"\nfuzz: {total} inputs, " + ", ".join(f"{k}: {v}" for k, v in sorted(FUZZ_COUNTS.items())))


def raised_by_graphrnn(error: BaseException) -> bool:
    frame = error.__traceback__
    while frame.tb_next is not None:
        frame = frame.tb_next
    return frame.tb_frame.f_code.co_filename.startswith(PACKAGE)


def outcome(entry: str, call, valid: bool | None = None, errors=(ValueError, TypeError)):
    """Runs ``call``; a graphrnn ValueError/TypeError counts as a clear error (``None`` is returned),
    anything else fails the test. ``valid`` (when known) says which of the two was due."""
    try:
        result = call()
    except errors as error:
        assert raised_by_graphrnn(error), f"{entry}: {type(error).__name__} from outside graphrnn: {error}"
        assert len(str(error)) > 20, f"{entry}: terse message {error!r}"
        assert valid is not True, f"{entry}: a valid input was refused: {error}"
        FUZZ_COUNTS["clear error"] += 1
        return None
    assert valid is not False, f"{entry}: an invalid input was accepted silently"
    FUZZ_COUNTS["result checked against a reference"] += 1
    return result


# ---------------------------------------------------------------------------------- decoding
V = 5
CORRUPTIONS = ["none", "probabilities", "logits", "nan", "+inf", "all -inf", "zeros", "int", "3-tuple", "bare",
               "dropped row", "empty state", "None state", "wrong rows", "1-d"]


def make_step(kind: str, at: int, seed: int):
    """A valid decoder step (seeded log-softmax) that goes wrong at step ``at``; ``fired`` records
    whether the corruption was returned."""
    fired = {"corruption returned": False}

    def step(tokens, state):
        count = state[0]
        rows = tokens.size(0)
        generator = torch.Generator().manual_seed(seed + int(count[0]) * 7919)
        logits = 2 * torch.randn(V, generator=generator).expand(rows, V).clone() + tokens[:, None].float()
        logits[:, 0] = float("-inf")  # bos is never generated
        log_probs = logits.log_softmax(1)
        new_state = (count + 1, state[1])
        if int(count[0]) != at or kind == "none":
            return log_probs, new_state
        fired["corruption returned"] = True
        return {
            "probabilities": lambda: (log_probs.exp(), new_state),
            "logits": lambda: (logits.nan_to_num(neginf=-3.0) + 1.0, new_state),
            "nan": lambda: (log_probs.index_fill(1, torch.tensor([2]), float("nan")), new_state),
            "+inf": lambda: (log_probs.index_fill(1, torch.tensor([3]), float("inf")), new_state),
            "all -inf": lambda: (torch.full_like(log_probs, float("-inf")), new_state),
            "zeros": lambda: (torch.zeros_like(log_probs), new_state),
            "int": lambda: (log_probs.long(), new_state),
            "3-tuple": lambda: (log_probs, new_state, None),
            "bare": lambda: log_probs,
            "dropped row": lambda: (log_probs, (new_state[0][1:], new_state[1][1:])),
            "empty state": lambda: (log_probs, ()),
            "None state": lambda: (log_probs, None),
            "wrong rows": lambda: (torch.cat([log_probs, log_probs[:1]]), new_state),
            "1-d": lambda: (log_probs[0], new_state),
        }[kind]()
    return step, fired


def reference_greedy(step, state, bos, eos, max_len):
    """One input at a time, a plain loop."""
    results = []
    for b in range(state[0].size(0)):
        row_state = (state[0][b:b + 1], state[1][b:b + 1])
        token, tokens, score = bos, [], 0.0
        for _ in range(max_len):
            log_probs, row_state = step(torch.tensor([token]), row_state)
            token = int(log_probs[0].argmax())
            tokens.append(token)
            score += float(log_probs[0, token])
            if token == eos:
                break
        results.append((tokens, score))
    return results


@fuzz(150)
@given(kind=st.sampled_from(CORRUPTIONS), at=st.integers(0, 3), seed=st.integers(0, 100), batch=st.integers(1, 3),
       decoder=st.sampled_from(["greedy", "sample", "beam"]),
       beam_size=st.one_of(st.integers(-1, 4), st.sampled_from([1.5, True, None])),
       max_len=st.one_of(st.integers(-1, 5), st.sampled_from([2.0, None])),
       length_penalty=st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32), st.sampled_from([0, "x"])),
       eos=st.one_of(st.integers(-1, V + 1), st.sampled_from([1.0, None])))
def test_fuzz_decoders(kind, at, seed, batch, decoder, beam_size, max_len, length_penalty, eos):
    state = (torch.zeros(batch, dtype=torch.long), torch.arange(batch))
    step, fired = make_step(kind, at, seed)
    valid_args = isinstance(max_len, int) and max_len >= 1 and isinstance(eos, int) and 0 <= eos < V \
        and not isinstance(eos, bool)
    if decoder == "greedy":
        result = outcome("greedy", lambda: greedy(step, state, 0, eos, max_len),
                         valid=None if not valid_args else (kind == "none" or None))
        if result is not None and kind == "none":
            want = reference_greedy(step, state, 0, eos, max_len)
            assert [t for t, _ in result] == [t for t, _ in want]
            assert all(math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-6) for (_, a), (_, b) in zip(result, want))
    elif decoder == "sample":
        draws = torch.Generator().manual_seed(1)
        result = outcome("sample", lambda: sample(step, state, 0, eos, max_len, generator=draws))
        if result is not None:
            assert all(all(0 < t < V for t in tokens) and score <= 1e-6 for tokens, score in result)
    else:
        valid_beam = isinstance(beam_size, int) and not isinstance(beam_size, bool) and beam_size >= 1
        valid_penalty = isinstance(length_penalty, (int, float)) and not isinstance(length_penalty, str) \
            and math.isfinite(length_penalty)
        result = outcome("beam", lambda: beam_search(step, state, 0, eos, beam_size, max_len, length_penalty),
                         valid=False if not (valid_beam and valid_penalty) else None)
        if result is not None and kind == "none" and beam_size == 1 and length_penalty == 0:
            want = reference_greedy(step, state, 0, eos, max_len)
            assert [hyps[0][0] for hyps in result] == [t for t, _ in want]
    if result is not None:  # a corruption that reached the decoder never passes silently
        assert not fired["corruption returned"], f"{decoder} accepted a step_fn returning {kind}"


# ----------------------------------------------------------------------------------- metrics
WORDS = ["a", "b", "cat", "dog", "é", "e\u0301"]
sentence = st.lists(st.sampled_from(WORDS), max_size=8)


def sacre_bleu(hyps, refs, order):
    return sacrebleu.metrics.BLEU(tokenize="none", max_ngram_order=order).corpus_score(
        [" ".join(h) for h in hyps], [[" ".join(r) for r in refs]]).score


def wrap(kind, sentences):
    """The same sentences as a list, a generator, tuples, or something wrong."""
    if kind == "list":
        return sentences
    if kind == "generator":
        return (s for s in sentences)
    if kind == "tuples":
        return tuple(tuple(s) for s in sentences)
    if kind == "sets":
        return [set(s) for s in sentences]
    if kind == "strings":
        return [" ".join(s) for s in sentences]
    if kind == "nested":
        return [[s] for s in sentences]
    return " ".join(" ".join(s) for s in sentences)  # "string"


@fuzz(100)
@given(pairs=st.lists(st.tuples(sentence, sentence), max_size=5),
       hyp_kind=st.sampled_from(["list", "generator", "tuples", "sets", "strings", "nested", "string"]),
       order=st.one_of(st.integers(-1, 5), st.sampled_from([2.0, None, True])))
def test_fuzz_corpus_bleu(pairs, hyp_kind, order):
    hyps, refs = [h for h, _ in pairs], [r for _, r in pairs]
    valid = bool(pairs) and hyp_kind in ("list", "generator", "tuples") and isinstance(order, int) \
        and not isinstance(order, bool) and order >= 1
    if hyp_kind == "sets" and all(not h for h in hyps):
        valid = None  # empty sets: refused or not, both fine... but they are refused
    score = outcome("corpus_bleu", lambda: corpus_bleu(wrap(hyp_kind, hyps), refs, max_order=order),
                    valid=valid if valid else (None if valid is None else False))
    if score is not None:
        assert math.isclose(score, sacre_bleu(hyps, refs, order), rel_tol=1e-9, abs_tol=1e-9)


@fuzz(80)
@given(hyp=sentence, ref=st.one_of(sentence, st.lists(sentence, min_size=1, max_size=3)), n=st.integers(-1, 4))
def test_fuzz_sentence_metrics(hyp, ref, n):
    several = bool(ref) and isinstance(ref[0], list)
    value = outcome("rouge_n", lambda: rouge_n(hyp, ref, n=n), valid=n >= 1)
    if value is not None:
        references = ref if several else [ref]
        def f1(r):
            overlap = sum((collections.Counter(zip(*[hyp[i:] for i in range(n)]))
                           & collections.Counter(zip(*[r[i:] for i in range(n)]))).values())
            p = overlap / max(len(hyp) - n + 1, 1) if len(hyp) >= n else 0.0
            q = overlap / max(len(r) - n + 1, 1) if len(r) >= n else 0.0
            return 2 * p * q / (p + q) if p + q else 0.0
        assert math.isclose(value["f1"], max(f1(r) for r in references), abs_tol=1e-12)
    score = outcome("sentence_bleu", lambda: sentence_bleu(hyp, ref, max_order=n), valid=n >= 1)
    if score is not None and not several:
        want = sacrebleu.metrics.BLEU(tokenize="none", max_ngram_order=n, smooth_method="add-k", smooth_value=1,
                                      effective_order=False).sentence_score(" ".join(hyp), [" ".join(ref)]).score
        assert math.isclose(score, want / 100, abs_tol=1e-9)


# ------------------------------------------------------------------------------ graph builders
sizes = st.one_of(st.integers(-3, 6), st.floats(-2, 6), st.just(float("nan")), st.booleans(), st.none(),
                  st.text(max_size=2), st.integers(0, 6).map(np.int64), st.integers(0, 6).map(torch.tensor),
                  st.floats(0, 6).map(torch.tensor))


@fuzz(60)
@given(n=sizes)
def test_fuzz_chain_edge_index(n):
    integral = isinstance(n, (int, np.integer)) and not isinstance(n, bool) or \
        isinstance(n, torch.Tensor) and not n.is_floating_point()
    edge_index = outcome("chain_edge_index", lambda: chain_edge_index(n), valid=integral and int(n) >= 0)
    if edge_index is not None:
        count = int(n)
        assert edge_index.dtype == torch.long
        assert edge_index.tolist() == [list(range(count - 1)), list(range(1, count))]


def reference_tree_problem(parents):
    """Why ``parents`` is not a tree (a string), or None: one root, indices in range, no cycle."""
    n = len(parents)
    if any(p < -1 or p >= n for p in parents) or any(p == i for i, p in enumerate(parents)):
        return "range"
    if sum(p == -1 for p in parents) != 1:
        return "roots"
    for start in range(n):
        seen, node = set(), start
        while node != -1:
            if node in seen:
                return "cycle"
            seen.add(node)
            node = parents[node]
    return None


@fuzz(150)
@given(parents=st.lists(st.integers(-2, 6), max_size=7), labels=st.one_of(st.none(), st.just("same")),
       extra=st.sampled_from([0, 0, 1]), as_float=st.sampled_from([False, False, True]))
def test_fuzz_tree_graph(parents, labels, extra, as_float):
    labels = list(range(len(parents) + extra))
    raw = [float(p) for p in parents] if as_float else parents
    valid = reference_tree_problem(parents) is None and not extra and not (as_float and parents)
    data = outcome("tree_graph", lambda: tree_graph(labels, raw), valid=valid)
    if data is not None:
        assert tree_parents(data).tolist() == parents
        siblings = sum(1 for i in range(len(parents)) for j in range(i + 1, len(parents))
                       if parents[i] == parents[j] != -1 and not any(parents[k] == parents[i] for k in range(i + 1, j)))
        assert data.edge_index.size(1) == len(parents) - 1 + siblings


@fuzz(60)
@given(persons=st.integers(-1, 4), features=st.integers(0, 3), scene_rows=st.integers(0, 3),
       person_dims=st.integers(1, 3), poison=st.sampled_from(["none", "strings", "labels", "float labels"]))
def test_fuzz_scene_graph(persons, features, scene_rows, person_dims, poison):
    shape = (max(persons, 0),) + (features,) * (person_dims - 1)
    person_x = torch.zeros(shape) if poison != "strings" else [["a"] * features] * max(persons, 0)
    scene_x = torch.zeros(scene_rows, 2) if scene_rows != 1 else torch.zeros(2)
    person_y = None
    if poison == "labels":
        person_y = list(range(max(persons, 0) + 1))
    elif poison == "float labels":
        person_y = [0.5] * max(persons, 0)
    valid = persons >= 1 and person_dims == 2 and scene_rows in (1,) and poison == "none"
    data = outcome("scene_graph", lambda: scene_graph(person_x, scene_x, person_y=person_y), valid=valid or None)
    if data is not None:
        k = data.person_x.size(0)
        pairs = {tuple(e) for e in data.edge_index.t().tolist()}
        assert pairs == {(i, j) for i in range(k + 1) for j in range(k + 1) if i != j}


# ------------------------------------------------------------------------------ conversion
@st.composite
def pyg_graphs(draw):
    n = draw(st.integers(0, 5))
    e = draw(st.sampled_from([0, n, n + 1, 3]))  # E == N is the case that fooled size matching
    edge_index = torch.tensor([[draw(st.integers(-1, max(n, 1))) for _ in range(e)] for _ in range(2)],
                              dtype=draw(st.sampled_from([torch.long, torch.long, torch.float]))).view(2, e)
    data = Data(edge_index=edge_index, num_nodes=n)
    data.x = torch.arange(n, dtype=torch.float)[:, None]
    data.edge_attr = torch.arange(e, dtype=torch.float) + 100  # per edge, values >= 100
    data.weight = torch.arange(draw(st.sampled_from([e, n])))
    return data


@fuzz(100)
@given(data=pyg_graphs(), node_attrs=st.sampled_from([None, ["x"], ["weight"], "x", ["nope"], [3]]))
def test_fuzz_to_networkx(data, node_attrs):
    n, ei = data.num_nodes, data.edge_index
    ok_edges = not ei.is_floating_point() and (ei.numel() == 0 or (int(ei.min()) >= 0 and int(ei.max()) < n))
    ok_attrs = node_attrs in (None, ["x"], "x") or (node_attrs == ["weight"] and data.weight.numel() == n)
    G = outcome("to_networkx", lambda: to_networkx(data, node_attrs=node_attrs), valid=ok_edges and ok_attrs)
    if G is not None:
        assert G.number_of_nodes() == n and G.number_of_edges() == ei.size(1)
        assert all(set(attrs) <= {"x", "weight"} for _, attrs in G.nodes(data=True))  # nothing of the edges
        assert sorted(a for _, _, a in G.edges(data="edge_attr")) == sorted(data.edge_attr.tolist())


@fuzz(40)
@given(keys=st.lists(st.one_of(st.integers(-5, 5), st.text(max_size=2), st.tuples(st.integers(0, 2))),
                     unique=True, max_size=6), data=st.data())
def test_fuzz_networkx_round_trip(keys, data):
    G = nx.DiGraph()
    G.add_nodes_from(keys)
    if keys:
        G.add_edges_from(data.draw(st.lists(st.tuples(st.sampled_from(keys), st.sampled_from(keys)), max_size=8)))
    first = from_networkx(G)
    back = outcome("from_networkx(to_networkx(.))", lambda: from_networkx(to_networkx(first)), valid=True)
    assert back.node_keys == list(G.nodes) and torch.equal(back.edge_index, first.edge_index)
    for thing in (G, nx.Graph(), {"edge_index": first.edge_index}, None, first.edge_index):
        outcome("to_networkx(non-Data)", lambda: to_networkx(thing), valid=False)  # noqa: B023


# ------------------------------------------------------------------------------- Trainer / CLI
@fuzz(100)
@given(epochs=st.one_of(st.integers(-2, 3), st.sampled_from([1.5, None])),
       lr=st.one_of(st.floats(-1, 1), st.sampled_from([float("inf"), float("nan"), 0])),
       batch_size=st.integers(-1, 3), grad_clip=st.one_of(st.none(), st.floats(-1, 2), st.just(float("nan"))),
       optimizer=st.sampled_from(["adam", "sgd", "lbfgs", None]))
def test_fuzz_train_config(epochs, lr, batch_size, grad_clip, optimizer):
    valid = (isinstance(epochs, int) and epochs >= 0 and 0 < lr < math.inf and batch_size >= 1
             and (grad_clip is None or grad_clip > 0) and optimizer in ("adam", "sgd"))
    outcome("TrainConfig", lambda: TrainConfig(epochs=epochs, lr=lr, batch_size=batch_size, grad_clip=grad_clip,
                                               optimizer=optimizer), valid=valid)


@fuzz(25)
@given(poison=st.sampled_from(["none", "nan", "inf", "-inf", "vector", "float", "detached", "huge grad"]),
       at=st.integers(1, 6))
def test_fuzz_trainer_losses(tmp_path_factory, poison, at):
    calls = {"n": 0}
    model = torch.nn.Linear(2, 1)
    items = [torch.randn(2, generator=torch.Generator().manual_seed(i)) for i in range(12)]

    def loss_fn(model, batch):
        calls["n"] += 1
        loss = model(batch).pow(2).mean()
        if calls["n"] != at or poison == "none":
            return loss
        return {"nan": lambda: loss * float("nan"), "inf": lambda: loss + float("inf"),
                "-inf": lambda: loss - float("inf"), "vector": lambda: model(batch).squeeze(1),
                "float": lambda: float(loss.detach()), "detached": lambda: loss.detach(),
                "huge grad": lambda: loss * 1e39}[poison]()

    out = tmp_path_factory.mktemp("fuzz")
    trainer = Trainer(model, loss_fn, items, TrainConfig(epochs=2, batch_size=4, device="cpu", progress=False,
                                                         out=str(out)),
                      loader_fn=lambda data, size, sampler, shuffle, generator:
                      [torch.stack(data[i:i + size]) for i in range(0, len(data), size)])
    history = outcome("Trainer.fit", trainer.fit, valid=poison == "none",
                      errors=(ValueError, TypeError, NonFiniteError))
    if history is not None:
        assert len(history) == 2 and all(math.isfinite(r["train_loss"]) for r in history)
    assert all(torch.isfinite(p).all() for p in model.parameters())


@fuzz(40)
@given(epochs=st.one_of(st.none(), st.integers(-2, 3)), hidden=st.one_of(st.none(), st.integers(-1, 3)),
       out=st.sampled_from(["fresh", "nested", "a file", "under a file", "none"]),
       resume=st.booleans(), lr=st.one_of(st.none(), st.floats(allow_nan=True)))
def test_fuzz_cli_checks(tmp_path_factory, epochs, hidden, out, resume, lr):
    root = tmp_path_factory.mktemp("cli")
    (root / "file").write_text("x")
    path = {"fresh": root / "run", "nested": root / "a" / "b", "a file": root / "file",
            "under a file": root / "file" / "run", "none": None}[out]
    args = argparse.Namespace(command="train", train_task="rnn", epochs=epochs, hidden=hidden, out=path,
                              resume=resume, lr=lr, data=None)
    valid = (epochs is None or epochs >= 1) and (hidden is None or hidden >= 1) and not resume \
        and out in ("fresh", "nested", "none") and (lr is None or 0 < lr < math.inf)
    outcome("check_arguments", lambda: check_arguments(args), valid=valid, errors=(CommandLineError,))
    if valid and path is not None:
        assert path.is_dir()
