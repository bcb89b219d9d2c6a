"""DRNN: the two-pass forward against a node-by-node recursion, batching, gradients, generation, bad graphs."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from nn_testing import init_params

from graphrnn.data import PARENT, SIBLING, DataLoader, tree_graph
from graphrnn.nn import DRNN, tree_links


@st.composite
def trees(draw, max_nodes=14, num_labels=6):
    """(labels, parents) of a random tree whose nodes are listed in a random order."""
    n = draw(st.integers(1, max_nodes))
    order = draw(st.permutations(range(n)))
    parents = [-1] * n
    for position in range(1, n):
        parents[order[position]] = order[draw(st.integers(0, position - 1))]
    labels = draw(st.lists(st.integers(0, num_labels - 1), min_size=n, max_size=n))
    return labels, parents


def recursion(layer: DRNN, labels, parents, root, output=None):
    """Node by node, in order of depth: h^a from the parent, h^f from the previous sibling;
    ``output`` maps h^pred to what the output layers read (default: h^pred itself)."""
    n = len(labels)
    x = layer.embedding(torch.tensor(labels))
    depth = [0] * n
    for _ in range(n):
        depth = [0 if p < 0 else depth[p] + 1 for p in parents]
    lstm = layer.cell_type == "lstm"
    zero = root[0].new_zeros(1, layer.hidden_channels)
    anc, fra = [None] * n, [None] * n

    def step(cell, xv, state):
        return tuple(cell(xv, state)) if lstm else (cell(xv, state[0]),)

    for v in sorted(range(n), key=lambda v: (depth[v], v)):
        p = parents[v]
        anc[v] = tuple(s.unsqueeze(0) for s in root) if p < 0 else step(layer.ancestral.cell, x[p:p + 1], anc[p])
        older = [u for u in range(v) if parents[u] == p and p >= 0]
        fra[v] = (zero,) * len(root) if not older else step(layer.fraternal.cell, x[older[-1]:older[-1] + 1],
                                                             fra[older[-1]])
    h_a = torch.cat([a[0] for a in anc])
    h_f = torch.cat([f[0] for f in fra])
    pred = torch.tanh(h_a @ layer.predict_ancestral.weight.t() + layer.predict_ancestral.bias
                      + h_f @ layer.predict_fraternal.weight.t())
    pred = pred if output is None else output(pred)
    alpha = torch.tensor([float(v in parents) for v in range(n)]).unsqueeze(-1)
    phi = torch.tensor([float(any(parents[u] == parents[v] >= 0 for u in range(v + 1, n)))
                        for v in range(n)]).unsqueeze(-1)
    logits = layer.label(pred) + alpha * layer.offset_ancestral + phi * layer.offset_fraternal
    return logits, layer.has_children(pred).squeeze(-1), layer.has_next_sibling(pred).squeeze(-1)


def make_layer(cell="lstm", seed=0, num_labels=6, hidden=5, **kwargs):
    layer = DRNN(num_labels, hidden, cell=cell, embedding_dim=4, **kwargs)
    init_params(layer, torch.Generator().manual_seed(seed))
    return layer


@settings(max_examples=20, deadline=None)
@given(tree=trees(), cell=st.sampled_from(["lstm", "gru"]))
def test_wavefront_equals_recursion_outputs_and_gradients(tree, cell):
    labels, parents = tree
    layer = make_layer(cell)
    root = (torch.randn(1, 5, generator=torch.Generator().manual_seed(1)).requires_grad_(),
            torch.randn(1, 5, generator=torch.Generator().manual_seed(2)).requires_grad_())
    root = root if cell == "lstm" else root[:1]
    ours = layer(tree_graph(labels, parents), root)
    ref = recursion(layer, labels, parents, tuple(r[0] for r in root))
    for a, b in zip(ours, ref):
        torch.testing.assert_close(a, b)
    weight = [torch.randn(t.shape, generator=torch.Generator().manual_seed(3)) for t in ours]
    inputs = list(layer.parameters()) + list(root)
    ga = torch.autograd.grad(sum((o * w).sum() for o, w in zip(ours, weight)), inputs, allow_unused=True)
    gb = torch.autograd.grad(sum((o * w).sum() for o, w in zip(ref, weight)), inputs, allow_unused=True)
    for a, b in zip(ga, gb):
        if a is None or b is None:
            assert (a is None or not a.any()) and (b is None or not b.any())
        else:
            torch.testing.assert_close(a, b)


def test_batched_equals_alone():
    generator = torch.Generator().manual_seed(0)
    layer = make_layer()
    shapes = [([1, 2, 3, 4, 5], [-1, 0, 0, 1, 1]), ([3], [-1]), ([0, 1, 2, 3], [-1, 0, 1, 2]),
              ([5, 4, 3, 2, 1, 0], [-1, 0, 0, 0, 2, 2])]
    graphs = [tree_graph(*s) for s in shapes]
    roots = torch.randn(len(graphs), 5, generator=generator)
    batch = next(iter(DataLoader(graphs, batch_size=len(graphs))))
    together = layer(batch, roots)
    alone = [layer(g, roots[i:i + 1]) for i, g in enumerate(graphs)]
    for k in range(3):
        torch.testing.assert_close(together[k], torch.cat([a[k] for a in alone]))


def test_gradcheck_float64():
    layer = make_layer().double()
    data = tree_graph([1, 2, 3, 4], [-1, 0, 0, 2])
    root_h = torch.randn(1, 5, dtype=torch.float64, requires_grad=True)
    root_c = torch.randn(1, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda h, c: layer(data, (h, c)).label_logits, (root_h, root_c))


def test_loss_matches_hand_formula():
    layer = make_layer()
    data = tree_graph([1, 2, 3], [-1, 0, 0])
    out = layer(data, torch.zeros(1, 5))
    expected = (torch.nn.functional.cross_entropy(out.label_logits, data.y)
                + 0.5 * torch.nn.functional.binary_cross_entropy_with_logits(out.has_children_logits,
                                                                              torch.tensor([1.0, 0, 0]))
                + 0.5 * torch.nn.functional.binary_cross_entropy_with_logits(out.has_next_sibling_logits,
                                                                              torch.tensor([0.0, 1, 0])))
    torch.testing.assert_close(DRNN.loss(out, data, topology_weight=0.5), expected)


def _depths(parents):
    depth = []
    for p in parents:
        depth.append(0 if p < 0 else depth[p] + 1)
    return depth


@pytest.mark.parametrize("sample", [False, True])
@pytest.mark.parametrize("max_depth, max_children, max_nodes", [(0, 3, None), (2, 1, None), (3, 2, None),
                                                                 (4, 4, 9)])
def test_generate_obeys_caps_and_returns_valid_trees(sample, max_depth, max_children, max_nodes):
    layer = make_layer(seed=1)
    with torch.no_grad():  # push the topology towards growing, so the caps are what stops it
        layer.has_children.bias.fill_(5.0)
        layer.has_next_sibling.bias.fill_(5.0)
    roots = torch.randn(6, 5, generator=torch.Generator().manual_seed(0))
    out = layer.generate(roots, max_depth, max_children, max_nodes=max_nodes, sample=sample,
                         generator=torch.Generator().manual_seed(0))
    assert len(out) == 6
    for labels, parents in out:
        tree_graph(labels, parents, num_labels=6, ordered=True)  # raises on an invalid tree
        assert max(_depths(parents)) <= max_depth
        assert max(parents.count(v) for v in range(len(parents))) <= max_children
        if max_nodes is not None:
            assert len(labels) <= max_nodes
    if max_nodes is None and not sample:  # greedy, always growing: the full tree up to the caps
        expected = sum(max_children ** d for d in range(max_depth + 1))
        assert all(len(labels) == expected for labels, _ in out)


def test_generate_batched_equals_one_at_a_time_and_matches_teacher_forcing():
    layer = make_layer(seed=2)
    roots = torch.randn(8, 5, generator=torch.Generator().manual_seed(4)) * 2
    together = layer.generate(roots, max_depth=3, max_children=3)
    alone = [layer.generate(roots[i:i + 1], max_depth=3, max_children=3)[0] for i in range(8)]
    assert together == alone
    for i, (labels, parents) in enumerate(together):  # greedy decisions are the argmax of teacher forcing
        data = tree_graph(labels, parents)
        out = layer(data, roots[i:i + 1])
        assert out.label_logits.argmax(-1).tolist() == labels
        depth = torch.tensor(_depths(parents))
        free = depth < 3
        assert ((out.has_children_logits > 0) == data.has_children.bool())[free].all()


def test_generate_sampling_is_seeded_and_root_label_fixed():
    layer = make_layer(seed=3)
    roots = torch.randn(4, 5, generator=torch.Generator().manual_seed(0))
    first = layer.generate(roots, 3, 3, sample=True, generator=torch.Generator().manual_seed(7), root_label=2)
    again = layer.generate(roots, 3, 3, sample=True, generator=torch.Generator().manual_seed(7), root_label=2)
    assert first == again
    assert all(labels[0] == 2 for labels, _ in first)


def test_bad_input_messages():
    layer = make_layer()
    with pytest.raises(ValueError, match="outside the vocabulary of num_labels=6"):
        layer(tree_graph([1, 9], [-1, 0]), torch.zeros(1, 5))
    with pytest.raises(ValueError, match="root_state has 2 rows but the batch holds 1 trees"):
        layer(tree_graph([1, 2], [-1, 0]), torch.zeros(2, 5))
    with pytest.raises(ValueError, match=r"hidden_channels=5"):
        layer(tree_graph([1, 2], [-1, 0]), torch.zeros(1, 4))
    with pytest.raises(ValueError, match="max_depth >= 0"):
        layer.generate(torch.zeros(1, 5), max_depth=-1, max_children=2)
    with pytest.raises(ValueError, match="root_label 7 is outside"):
        layer.generate(torch.zeros(1, 5), 2, 2, root_label=7)
    with pytest.raises(ValueError, match="num_labels must be >= 1"):
        DRNN(0, 4)


def test_repr_and_reset_parameters():
    layer = make_layer()
    assert "6, 5, cell='lstm'" in repr(layer)
    layer.offset_ancestral.data.fill_(1.0)
    layer.reset_parameters()
    assert not layer.offset_ancestral.any()


def test_dropout_only_acts_in_training_and_is_checked():
    torch.manual_seed(0)
    plain, dropped = DRNN(5, 8), DRNN(5, 8, dropout=0.5)
    dropped.load_state_dict(plain.state_dict())
    assert "dropout=0.5" in repr(dropped)
    data = tree_graph([1, 2, 3, 4], [-1, 0, 0, 1])
    root = torch.randn(1, 8)
    plain.eval()
    dropped.eval()
    assert torch.equal(plain(data, root).label_logits, dropped(data, root).label_logits)
    dropped.train()
    assert not torch.equal(plain(data, root).label_logits, dropped(data, root).label_logits)
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\)"):
        DRNN(5, 8, dropout=1.0)


def test_tree_links_reads_parents_and_previous_siblings():
    data = tree_graph([1, 2, 3, 4, 5], [-1, 0, 0, 1, 0])
    parent, previous = tree_links(data.edge_index, data.edge_type, 5)
    assert parent.tolist() == [-1, 0, 0, 1, 0]
    assert previous.tolist() == [-1, -1, 1, -1, 2]


def _with_extra_edge(data, source, target, kind):
    bad = data.clone()
    bad.edge_index = torch.cat([data.edge_index, torch.tensor([[source], [target]])], 1)
    bad.edge_type = torch.cat([data.edge_type, torch.tensor([kind])])
    return bad


def test_forward_rejects_graphs_that_are_not_trees():
    layer = make_layer()
    data = tree_graph([1, 2, 3, 4], [-1, 0, 0, 1])
    root = torch.zeros(1, 5)
    with pytest.raises(ValueError, match="node 3 has 2 incoming PARENT edges"):
        layer(_with_extra_edge(data, 2, 3, PARENT), root)
    with pytest.raises(ValueError, match="node 2 has 2 incoming SIBLING edges"):
        layer(_with_extra_edge(tree_graph([1, 2, 3, 4], [-1, 0, 0, 0]), 3, 2, SIBLING), root)
    with pytest.raises(ValueError, match="cycle through nodes"):
        layer(_with_extra_edge(data, 2, 1, SIBLING), root)
    untyped = data.clone()
    del untyped.edge_type
    with pytest.raises(ValueError, match="pass edge_type"):
        layer(untyped, root)


def dot_attention_by_hand(layer: DRNN, memory, mask):
    """h~ = tanh(W_c [h; sum_s softmax_s(h . m_s) m_s] + b_c) over the real slots, written out."""
    def output(pred):
        slots = memory[mask]
        weights = torch.softmax(pred @ slots.t(), dim=-1)
        return torch.tanh(torch.cat([pred, weights @ slots], -1) @ layer.attend.weight.t() + layer.attend.bias)
    return output


@settings(max_examples=10, deadline=None)
@given(tree=trees(), slots=st.integers(1, 4))
def test_attention_equals_the_recursion_with_a_hand_written_context(tree, slots):
    labels, parents = tree
    layer = make_layer(attention="dot")
    generator = torch.Generator().manual_seed(5)
    root = torch.randn(1, 5, generator=generator)
    memory = torch.randn(1, 4, 5, generator=generator)
    mask = torch.arange(4).unsqueeze(0) < slots
    ours = layer(tree_graph(labels, parents), root, memory=memory, memory_mask=mask)
    ref = recursion(layer, labels, parents, (root[0], torch.zeros(5)), dot_attention_by_hand(layer, memory[0], mask[0]))
    for a, b in zip(ours, ref):
        torch.testing.assert_close(a, b)


def test_attention_batched_equals_alone_and_generation_matches_teacher_forcing():
    layer = make_layer(seed=4, attention="mlp", memory_channels=3)
    generator = torch.Generator().manual_seed(0)
    shapes = [([1, 2, 3, 4, 5], [-1, 0, 0, 1, 1]), ([3], [-1]), ([0, 1, 2, 3], [-1, 0, 1, 2])]
    graphs = [tree_graph(*s) for s in shapes]
    roots = torch.randn(3, 5, generator=generator) * 2
    memory = torch.randn(3, 4, 3, generator=generator)
    mask = torch.tensor([[True, True, False, False], [True, True, True, True], [True, False, False, False]])
    together = layer(next(iter(DataLoader(graphs, batch_size=3))), roots, memory=memory, memory_mask=mask)
    alone = [layer(g, roots[i:i + 1], memory=memory[i:i + 1, :int(mask[i].sum())],
                   memory_mask=mask[i:i + 1, :int(mask[i].sum())]) for i, g in enumerate(graphs)]
    for k in range(3):
        torch.testing.assert_close(together[k], torch.cat([a[k] for a in alone]))
    trees_ = layer.generate(roots, max_depth=3, max_children=3, memory=memory, memory_mask=mask)
    for i, (labels, parents) in enumerate(trees_):
        out = layer(tree_graph(labels, parents), roots[i:i + 1], memory=memory[i:i + 1], memory_mask=mask[i:i + 1])
        assert out.label_logits.argmax(-1).tolist() == labels
    other = layer.generate(roots, max_depth=3, max_children=3, memory=-memory, memory_mask=mask)
    assert other != trees_  # the memory steers the decoder


def test_attention_bad_memory_messages():
    plain, attending = make_layer(), make_layer(attention="dot")
    data = tree_graph([1, 2], [-1, 0])
    root, memory, mask = torch.zeros(1, 5), torch.zeros(1, 3, 5), torch.ones(1, 3, dtype=torch.bool)
    with pytest.raises(ValueError, match="has no attention, so it takes no memory"):
        plain(data, root, memory=memory, memory_mask=mask)
    with pytest.raises(ValueError, match="pass memory"):
        attending(data, root)
    with pytest.raises(ValueError, match="memory must have shape \\[num_trees=1, S, memory_channels=5\\]"):
        attending(data, root, memory=torch.zeros(1, 3, 4), memory_mask=mask)
    with pytest.raises(ValueError, match="memory_mask must be a bool tensor"):
        attending(data, root, memory=memory, memory_mask=mask.float())
    with pytest.raises(ValueError, match="at least one real memory slot"):
        attending.generate(root, 2, 2, memory=memory, memory_mask=~mask)
    with pytest.raises(ValueError, match="attention must be one of"):
        make_layer(attention="general")
    assert "attention='dot'" in repr(attending)


def test_loads_checkpoints_from_before_the_cells_moved_into_chain_passes():
    layer = make_layer(seed=7)
    old_style = {key.replace(".cell.", "."): value.clone() for key, value in layer.state_dict().items()}
    assert "ancestral.weight_ih" in old_style and "ancestral.cell.weight_ih" not in old_style
    fresh = make_layer(seed=8)
    fresh.load_state_dict(old_style)
    for key, value in layer.state_dict().items():
        assert torch.equal(fresh.state_dict()[key], value)


def test_non_finite_root_state_and_memory_raise():
    data = tree_graph([1, 2], [-1, 0])
    with pytest.raises(ValueError, match="root_state has a NaN or inf value"):
        make_layer()(data, torch.full((1, 5), float("nan")))
    with pytest.raises(ValueError, match="root_state has a NaN or inf value"):
        make_layer().generate(torch.full((1, 5), float("inf")), 2, 2)
    memory = torch.zeros(1, 3, 5)
    memory[0, 1, 2] = float("nan")
    with pytest.raises(ValueError, match="memory has a NaN or inf value"):
        make_layer(attention="dot")(data, torch.zeros(1, 5), memory=memory,
                                    memory_mask=torch.ones(1, 3, dtype=torch.bool))


def test_root_state_on_another_device_is_named():
    with pytest.raises(ValueError, match="root_state is on meta but DRNN's parameters are on cpu"):
        make_layer()(tree_graph([1, 2], [-1, 0]), torch.zeros(1, 5, device="meta"))


@pytest.mark.parametrize("with_plan", [False, True])
def test_topology_targets_must_be_0_1_and_match_the_tree(with_plan):
    layer = make_layer()
    data = tree_graph([1, 2, 3, 4], [-1, 0, 0, 1])
    plan = next(iter(DataLoader([data], plans=layer.planners()))).drnn_plan if with_plan else None
    args = (data.y, data.edge_index, data.edge_type, torch.zeros(1, 5))
    with pytest.raises(ValueError, match="has_children must be 0/1 and match the tree"):
        layer(*args, data.has_children * 2, data.has_next_sibling, plan=plan)
    with pytest.raises(ValueError, match="has_children must be 0/1 and match the tree"):
        layer(*args, 1 - data.has_children, data.has_next_sibling, plan=plan)  # stale targets of another tree
    with pytest.raises(ValueError, match="has_next_sibling must be 0/1 and match the tree"):
        layer(*args, data.has_children, torch.zeros_like(data.has_next_sibling), plan=plan)
    out = layer(*args, data.has_children.bool(), data.has_next_sibling.bool(), plan=plan)  # bool targets are fine
    torch.testing.assert_close(out.label_logits, layer(*args, data.has_children, data.has_next_sibling,
                                                       plan=plan).label_logits)
