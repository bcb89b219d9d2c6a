"""StructureInferenceMachine: against a per-edge hand-unrolled reference, batching, gates, iterations, errors."""
import importlib.util
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from nn_testing import init_params

from graphrnn.data import PERSON_TO_PERSON, PERSON_TO_SCENE, SCENE_TO_PERSON, DataLoader, scene_graph
from graphrnn.nn import SceneUnary, StructureInferenceMachine

F_P, F_S, H, M, A, C = 3, 2, 4, 5, 3, 4


def make_scene(num_persons, generator, dtype=torch.float64):
    return scene_graph(torch.randn(num_persons, F_P, generator=generator, dtype=dtype),
                       torch.randn(F_S, generator=generator, dtype=dtype))


def make_model(generator, iterations=2, gated=True, tied=True, activation="relu", output_activation=True):
    model = StructureInferenceMachine(F_P, F_S, H, A, C, num_iterations=iterations, message_channels=M,
                                      gated=gated, tie_weights=tied, activation=activation,
                                      output_activation=output_activation).double()
    init_params(model, generator)
    return model


def batch_of(scenes):
    return next(iter(DataLoader(scenes, batch_size=len(scenes))))


def reference(model, data):
    """The SIM equations edge by edge and node by node, for one scene (K persons, scene node K); f is applied
    to c^(t) (t >= 1) when the model has output_activation, as in the paper's c^(t) = f(W_mc m + W_xc x + b_c)."""
    act = {"relu": torch.relu, "tanh": torch.tanh}[model.unary.activation_name]
    out = act if model.output_activation else (lambda v: v)
    K, D = data.person_x.size(0), max(A, C)

    def pad(v):
        return torch.nn.functional.pad(v, (0, D - v.numel()))

    u = model.unary
    x = [act(u.person_proj(data.person_x[i])) for i in range(K)] + [act(u.scene_proj(data.scene_x[0]))]
    c = [pad(u.person_head(x[i])) for i in range(K)] + [pad(u.scene_head(x[K]))]
    edges = list(zip(data.edge_index[0].tolist(), data.edge_index[1].tolist(), data.edge_type.tolist()))
    m = [torch.zeros(M, dtype=torch.float64) for _ in edges]
    outputs, gates = [], []
    for t in range(model.num_steps):
        it = model.iterations[0 if model.tie_weights else t]
        w_c, w_m = it.recurrent_message.weight[:, :, :D], it.recurrent_message.weight[:, :, D:]
        m = [act(w_m[r] @ m[e] + w_c[r] @ c[i] + it.input_message.weight[r] @ x[i] + it.input_message.bias[r])
             for e, (i, j, r) in enumerate(edges)]
        g = [torch.sigmoid(it.gate.weight[r, 0] @ torch.cat([m[e], c[j]]) + it.gate.bias[r, 0])
             if model.gated else torch.tensor(1.0, dtype=torch.float64) for e, (i, j, r) in enumerate(edges)]

        def mean_in(j, r, g=g, m=m):
            incoming = [g[e] * m[e] for e, (_, jj, rr) in enumerate(edges) if jj == j and rr == r]
            return torch.stack(incoming).mean(0) if incoming else torch.zeros(M, dtype=torch.float64)

        c = [pad(out(it.person_out(torch.cat([mean_in(j, PERSON_TO_PERSON), mean_in(j, SCENE_TO_PERSON), x[j]]))))
             for j in range(K)] + [pad(out(it.scene_out(torch.cat([mean_in(K, PERSON_TO_SCENE), x[K]]))))]
        outputs.append((torch.stack(c[:K])[:, :A], c[K][:C].unsqueeze(0)))
        gates.append(torch.stack([torch.as_tensor(v) for v in g]))
    return outputs, torch.stack(gates)


@pytest.mark.parametrize("gated", [True, False])
@pytest.mark.parametrize("tied", [True, False])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("output_activation", [True, False])
def test_equals_hand_unrolled_reference(gated, tied, activation, output_activation):
    generator = torch.Generator().manual_seed(0)
    model = make_model(generator, iterations=3, gated=gated, tied=tied, activation=activation,
                       output_activation=output_activation)
    scene = make_scene(3, generator)
    outputs, gates = model(scene, return_gates=True)
    expected, expected_gates = reference(model, scene)
    assert len(outputs) == 3
    for (a, c), (ea, ec) in zip(outputs, expected):
        torch.testing.assert_close(a, ea, rtol=0, atol=1e-12)
        torch.testing.assert_close(c, ec, rtol=0, atol=1e-12)
    torch.testing.assert_close(gates, expected_gates, rtol=0, atol=1e-12)


def test_output_activation_is_f_of_the_linear_scores():
    """Same weights with and without f on c^(t): iteration 1 (same inputs) differs by exactly f; relu outputs
    are non-negative, the linear ones are not."""
    generator = torch.Generator().manual_seed(11)
    with_f = make_model(generator, iterations=2)
    without = make_model(generator, iterations=2, output_activation=False)
    without.load_state_dict(with_f.state_dict())
    scene = make_scene(4, generator)
    (a, c), (la, lc) = with_f(scene)[0], without(scene)[0]
    torch.testing.assert_close(a, torch.relu(la), rtol=0, atol=0)
    torch.testing.assert_close(c, torch.relu(lc), rtol=0, atol=0)
    assert bool((la < 0).any()) and bool((a >= 0).all())
    assert "output_activation=True" in repr(with_f) and "output_activation=False" in repr(without)


def test_output_biases_start_at_one_only_under_a_relu_on_c():
    def biases(model):
        return torch.cat([torch.cat([it.person_out.bias, it.scene_out.bias]) for it in model.iterations])

    relu = StructureInferenceMachine(F_P, F_S, H, A, C, num_iterations=2, tie_weights=False)
    assert torch.equal(biases(relu), torch.ones(2 * (A + C)))
    with torch.no_grad():
        relu.iterations[0].scene_out.bias.zero_()
    relu.reset_parameters()
    assert torch.equal(biases(relu), torch.ones(2 * (A + C)))
    for other in (StructureInferenceMachine(F_P, F_S, H, A, C, output_activation=False),
                  StructureInferenceMachine(F_P, F_S, H, A, C, activation="tanh")):
        assert (biases(other) != 1).all()


def test_single_person_scene():
    generator = torch.Generator().manual_seed(1)
    model = make_model(generator)
    scene = make_scene(1, generator)
    outputs, expected = model(scene), reference(model, scene)[0]
    for (a, c), (ea, ec) in zip(outputs, expected):
        torch.testing.assert_close(a, ea, rtol=0, atol=1e-12)
        torch.testing.assert_close(c, ec, rtol=0, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 5), st.booleans(), st.integers(0, 2**31 - 1))
def test_any_typed_edge_set_equals_the_per_edge_reference(num_persons, gated, seed):
    """Scenes built by hand, not by scene_graph: a random subset of the edges, some duplicated, in a random
    order (persons without incoming edges of a type read a zero mean), against the per-edge reference."""
    generator = torch.Generator().manual_seed(seed)
    model = make_model(generator, iterations=3, gated=gated, tied=bool(seed % 2))
    scene = make_scene(num_persons, generator)
    edges = scene.edge_index.size(1)
    keep = torch.rand(edges, generator=generator) < 0.7
    picked = torch.cat([keep.nonzero().view(-1), torch.randint(edges, (3,), generator=generator)])
    picked = picked[torch.randperm(picked.numel(), generator=generator)]
    scene.edge_index, scene.edge_type = scene.edge_index[:, picked], scene.edge_type[picked]
    (outputs, gates), (expected, expected_gates) = model(scene, return_gates=True), reference(model, scene)
    for (a, c), (ea, ec) in zip(outputs, expected):
        torch.testing.assert_close(a, ea, rtol=0, atol=1e-12)
        torch.testing.assert_close(c, ec, rtol=0, atol=1e-12)
    torch.testing.assert_close(gates, expected_gates.to(gates.dtype).expand_as(gates), rtol=0, atol=1e-12)


@settings(max_examples=8, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=1, max_size=5), st.booleans(), st.integers(0, 1000))
def test_batched_equals_alone(sizes, gated, seed):
    generator = torch.Generator().manual_seed(seed)
    model = make_model(generator, iterations=2, gated=gated)
    scenes = [make_scene(k, generator) for k in sizes]
    outputs, gates = model(batch_of(scenes), return_gates=True)
    alone = [model(s, return_gates=True) for s in scenes]
    for t in range(2):
        torch.testing.assert_close(outputs[t][0], torch.cat([a[0][t][0] for a in alone]), rtol=0, atol=1e-12)
        torch.testing.assert_close(outputs[t][1], torch.cat([a[0][t][1] for a in alone]), rtol=0, atol=1e-12)
    torch.testing.assert_close(gates, torch.cat([a[1] for a in alone], dim=1), rtol=0, atol=1e-12)


def test_gates_in_unit_interval_and_exactly_one_when_ungated():
    generator = torch.Generator().manual_seed(2)
    scenes = batch_of([make_scene(k, generator) for k in (2, 5)])
    _, gates = make_model(generator, iterations=3)(scenes, return_gates=True)
    assert gates.shape == (3, scenes.edge_index.size(1))
    assert bool(((gates > 0) & (gates < 1)).all())
    assert gates.std() > 0
    _, ones = make_model(generator, iterations=3, gated=False)(scenes, return_gates=True)
    assert torch.equal(ones, torch.ones_like(ones))


def test_iterations_are_prefixes_with_tied_weights():
    generator = torch.Generator().manual_seed(3)
    long = make_model(generator, iterations=4)
    short = StructureInferenceMachine(F_P, F_S, H, A, C, num_iterations=2, message_channels=M).double()
    short.load_state_dict(long.state_dict())
    scenes = batch_of([make_scene(k, generator) for k in (3, 4)])
    for (a, c), (ea, ec) in zip(short(scenes), long(scenes)[:2]):
        torch.testing.assert_close(a, ea, rtol=0, atol=0)
        torch.testing.assert_close(c, ec, rtol=0, atol=0)
    outputs = long(scenes)
    assert not torch.allclose(outputs[0][1], outputs[1][1])


def test_untied_weights_differ_and_each_iteration_uses_its_own():
    generator = torch.Generator().manual_seed(4)
    model = make_model(generator, iterations=3, tied=False)
    assert len(model.iterations) == 3
    assert not torch.equal(model.iterations[0].recurrent_message.weight, model.iterations[1].recurrent_message.weight)
    scenes = batch_of([make_scene(3, generator)])
    before = model(scenes)
    with torch.no_grad():
        model.iterations[1].person_out.weight.add_(1.0)
    after = model(scenes)
    torch.testing.assert_close(after[0][0], before[0][0], rtol=0, atol=0)
    assert not torch.allclose(after[1][0], before[1][0])
    assert len(make_model(generator, iterations=3, tied=True).iterations) == 1


def test_matches_dense_padded_benchmark_implementation():
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_sim.py"
    spec = importlib.util.spec_from_file_location("bench_sim", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    generator = torch.Generator().manual_seed(5)
    for gated in (True, False):
        model = make_model(generator, iterations=3, gated=gated, tied=False).float()
        graphs, person_x, mask, scene_x = bench.padded_scenes([1, 4, 2, 5], F_P, F_S, generator)
        ours = model(batch_of(graphs))
        for per_source in (False, True):  # one message per edge, or per source as ours keeps them
            dense = bench.dense_sim(model, person_x, mask, scene_x, per_source)
            for (a, c), (da, dc) in zip(ours, dense):
                torch.testing.assert_close(a, da[mask], rtol=1e-5, atol=1e-5)
                torch.testing.assert_close(c, dc, rtol=1e-5, atol=1e-5)


def test_no_per_edge_message_tensor_is_built():
    """The message state is kept per (source, type): no operator of a training step sees an [E, M] tensor."""
    generator = torch.Generator().manual_seed(9)
    model = StructureInferenceMachine(F_P, F_S, H, A, C, num_iterations=3, message_channels=11).double()
    scenes = batch_of([make_scene(k, generator) for k in (6, 7, 5)])
    num_edges = scenes.edge_index.size(1)  # 30 + 42 + 20 + 2 * 18 = 128
    with torch.profiler.profile(record_shapes=True) as profile:
        sum(a.sum() + c.sum() for a, c in model(scenes)).backward()
    shapes = [shape for event in profile.events() for shape in event.input_shapes if isinstance(shape, list)]
    assert [num_edges] in shapes  # the gates are per edge
    assert [num_edges, 11] not in shapes


def test_gradcheck():
    generator = torch.Generator().manual_seed(6)
    model = make_model(generator, iterations=2, activation="tanh")
    scenes = batch_of([make_scene(k, generator) for k in (1, 3)])
    person_x = scenes.person_x.clone().requires_grad_(True)

    def run(person_x, weight):
        scenes.person_x = person_x
        outputs = torch.func.functional_call(model, {"iterations.0.gate.weight": weight}, (scenes,))
        return outputs[-1][0], outputs[-1][1]

    assert torch.autograd.gradcheck(run, (person_x, model.iterations[0].gate.weight))


def test_second_derivatives_for_a_gradient_penalty():
    generator = torch.Generator().manual_seed(8)
    model = make_model(generator, iterations=2, activation="tanh", output_activation=False)
    scenes = batch_of([make_scene(k, generator) for k in (1, 3)])

    def run(person_x):
        scenes.person_x = person_x
        return model(scenes)[-1][1]

    person_x = scenes.person_x.clone().requires_grad_(True)
    assert torch.autograd.gradgradcheck(run, (person_x,))


def test_runs_under_cpu_autocast():
    """bfloat16 messages with float32 gate weights (the gate's dot products used to refuse the mix)."""
    generator = torch.Generator().manual_seed(10)
    model = make_model(generator).float()
    scene = make_scene(4, generator, dtype=torch.float32)
    expected = model(scene)[-1]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = model(scene)[-1]
    assert got[0].dtype == torch.bfloat16
    for a, b in zip(got, expected):
        torch.testing.assert_close(a.float(), b, atol=0.1, rtol=0.05)


def test_float32_and_dtype_follow_inputs():
    generator = torch.Generator().manual_seed(7)
    model = make_model(generator).float()
    outputs = model(make_scene(3, generator, dtype=torch.float32))
    assert outputs[0][0].dtype == torch.float32 and outputs[0][0].shape == (3, A)
    assert outputs[0][1].shape == (1, C)


def test_scene_unary_shapes_and_repr_and_reset():
    unary = SceneUnary(F_P, F_S, H, A, C)
    outputs = unary(torch.randn(5, F_P), torch.randn(2, F_S))
    assert [tuple(o.shape) for o in outputs] == [(5, H), (2, H), (5, A), (2, C)]
    model = StructureInferenceMachine(F_P, F_S, H, A, C, num_iterations=2)
    text = repr(model)
    assert "gated=True" in text and "num_steps=2" in text and "num_actions=3" in text
    before = model.iterations[0].gate.weight.detach().clone()
    model.reset_parameters()
    assert not torch.equal(before, model.iterations[0].gate.weight)


def test_bad_input():
    generator = torch.Generator().manual_seed(8)
    model = make_model(generator)
    scene = make_scene(3, generator)
    wide = scene_graph(torch.randn(3, F_P + 1, dtype=torch.float64), torch.randn(F_S, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"person_x must have shape \[rows, 3\].*person_channels=3"):
        model(wide)
    narrow = scene_graph(torch.randn(3, F_P, dtype=torch.float64), torch.randn(F_S + 2, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"scene_x must have shape \[rows, 2\].*scene_channels=2"):
        model(narrow)
    broken = scene.clone()
    del broken.node_type
    with pytest.raises(ValueError, match=r"lacks \['node_type'\].*scene_graph"):
        model(broken)
    mismatched = scene.clone()
    mismatched.person_x = mismatched.person_x[:2]
    with pytest.raises(ValueError, match="node_type marks 3 persons and 1 scenes but person_x has 2 rows"):
        model(mismatched)
    with pytest.raises(ValueError, match="at least one person"):
        scene_graph(torch.zeros(0, F_P), torch.zeros(F_S))
    with pytest.raises(ValueError, match="activation must be one of"):
        StructureInferenceMachine(F_P, F_S, H, A, C, activation="gelu")
    with pytest.raises(TypeError, match="output_activation must be True or False, got 'yes'"):
        StructureInferenceMachine(F_P, F_S, H, A, C, output_activation="yes")
    with pytest.raises(ValueError, match="num_iterations must be a positive integer"):
        StructureInferenceMachine(F_P, F_S, H, A, C, num_iterations=0)
    with pytest.raises(ValueError, match="num_actions must be a positive integer"):
        StructureInferenceMachine(F_P, F_S, H, 0, C)
