"""Seq2Tree: pairs batch correctly, the encoder feeds the root state, training lowers the loss."""
import pytest
import torch

from graphrnn.data import DataLoader
from graphrnn.models.seq2tree import Seq2Tree, tree_pair

PAIRS = [([4, 5, 6], [0, 1, 2], [-1, 0, 0]), ([7], [0, 3], [-1, 0]), ([5, 5], [0, 2, 2, 1], [-1, 0, 1, 0])]


def make_model(seed=0, attention=None):
    torch.manual_seed(seed)
    return Seq2Tree(num_tokens=8, num_labels=4, hidden_channels=6, embedding_dim=5, attention=attention)


@pytest.mark.parametrize("attention", [None, "mlp"])
def test_batched_equals_alone(attention):
    model = make_model(attention=attention)
    pairs = [tree_pair(*p) for p in PAIRS]
    batch = next(iter(DataLoader(pairs, batch_size=3)))
    assert batch.src_edge_index.tolist() == [[0, 1, 4], [1, 2, 5]]  # shifted by source lengths (3, 1), not tree sizes
    together = model(batch)
    alone = [model(next(iter(DataLoader([p], batch_size=1)))) for p in pairs]
    for k in range(3):
        torch.testing.assert_close(together[k], torch.cat([a[k] for a in alone]))
    assert model.generate(batch, 2, 2) == [model.generate(next(iter(DataLoader([p], batch_size=1))), 2, 2)[0]
                                           for p in pairs]


def test_attention_memory_has_one_slot_per_source_token_and_steers_the_decoder():
    model = make_model(attention="mlp")
    source = torch.tensor([4, 5, 6, 7, 5])
    pair = tree_pair(source.tolist(), [0, 1, 2], [-1, 0, 0])
    batch = next(iter(DataLoader([pair], batch_size=1)))
    logits = model(batch).label_logits
    root, memory = model._encode(batch)
    assert memory["memory"].shape == (1, 5, model.encoder.out_channels) and memory["memory_mask"].all()
    zeroed = model.decoder(batch, root, memory=torch.zeros_like(memory["memory"]),
                                memory_mask=memory["memory_mask"]).label_logits
    assert not torch.allclose(logits, zeroed)


def test_root_state_comes_from_the_encoder():
    model = make_model()
    one = next(iter(DataLoader([tree_pair([4, 5, 6], [0, 1], [-1, 0])], batch_size=1)))
    other = next(iter(DataLoader([tree_pair([7, 7, 7], [0, 1], [-1, 0])], batch_size=1)))
    assert not torch.allclose(model(one).label_logits, model(other).label_logits)
    h, c = model.encode(one)
    assert h.shape == c.shape == (1, 6) and h.abs().max() <= 1


@pytest.mark.slow  # 150 optimizer steps (~5-10 s on 2 busy cores)
def test_training_lowers_the_loss_and_generation_copies_a_memorised_tree():
    model = make_model(1)
    batch = next(iter(DataLoader([tree_pair(*p) for p in PAIRS], batch_size=3)))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    first = float(model.loss(batch).detach())
    for _ in range(150):
        optimizer.zero_grad()
        loss = model.loss(batch)
        loss.backward()
        optimizer.step()
    assert float(loss.detach()) < first / 10
    trees = model.generate(batch, max_depth=3, max_children=3)
    assert trees == [(labels, parents) for _, labels, parents in PAIRS]


def test_bad_pairs():
    with pytest.raises(ValueError, match="non-empty list of token ids"):
        tree_pair([], [0], [-1])
    with pytest.raises(ValueError, match="not an earlier node"):
        tree_pair([1], [0, 1], [1, -1])
    with pytest.raises(ValueError, match="outside the vocabulary of 4 labels"):
        tree_pair([1], [0, 9], [-1, 0], num_labels=4)


def test_a_batch_carrying_its_plans_gives_the_same_loss():
    pairs = [tree_pair([1, 2, 3], [0, 1, 2], [-1, 0, 0]), tree_pair([2, 3], [0, 2], [-1, 0])]
    torch.manual_seed(0)
    model = Seq2Tree(5, 4, hidden_channels=8, attention="mlp")
    plain = next(iter(DataLoader(pairs, batch_size=2)))
    planned = next(iter(DataLoader(pairs, batch_size=2, plans=model.planners())))
    assert {"src_plan", "src_reverse_plan", "drnn_plan"} <= set(planned.keys())
    torch.testing.assert_close(model.loss(planned), model.loss(plain))


def test_tree_pair_refuses_float_source_ids():
    # before: torch.as_tensor(dtype=long) truncated 1.7 to 1 silently
    with pytest.raises(ValueError, match="src must hold integer ids"):
        tree_pair([1.7, 2.2], [0, 1], [-1, 0])
