"""Integer arguments: Python's and numpy's ints are sizes, bools and floats are not (graphrnn.counts)."""
import numpy as np
import pytest
import torch

from graphrnn.counts import is_int, is_positive_int
from graphrnn.decoding import beam_search, greedy
from graphrnn.models import SequenceClassifier, SequenceTagger
from graphrnn.models.seq2tree import Seq2Tree
from graphrnn.nn import DAGNN, ChainRNN, ChildSumTreeLSTM, DAGNNConv, NaryTreeLSTM, TypedLinear


def test_numpy_integers_count_and_bools_do_not():
    assert is_int(3) and is_int(np.int64(3)) and is_int(np.int32(0)) and is_positive_int(np.uint8(2))
    assert not is_int(True) and not is_int(np.bool_(True)) and not is_int(3.0) and not is_int("3")
    assert not is_positive_int(np.int64(0)) and not is_positive_int(-1)


BUILDERS = {
    "SequenceClassifier": lambda n: SequenceClassifier(8, 16, n),
    "SequenceTagger": lambda n: SequenceTagger(n, 16, 3),
    "Seq2Tree": lambda n: Seq2Tree(n, n, hidden_channels=8),
    "ChainRNN": lambda n: ChainRNN(n, n),
    "ChildSumTreeLSTM": lambda n: ChildSumTreeLSTM(n, 4),
    "NaryTreeLSTM": lambda n: NaryTreeLSTM(n, 4, n),
    "DAGNNConv": lambda n: DAGNNConv(n, 8),
    "DAGNN": lambda n: DAGNN(n, 8),
    "TypedLinear": lambda n: TypedLinear(n, 3, n),
}


@pytest.mark.parametrize("name", BUILDERS)
def test_sizes_may_be_numpy_integers_as_torch_nn_takes_them(name):
    # before: labels.max() + 1 from a numpy array (np.int64) was refused as 'must be a positive int'
    layer = BUILDERS[name](np.int64(4))
    torch.manual_seed(0)
    same = BUILDERS[name](4)
    assert repr(layer) == repr(same)
    with pytest.raises(ValueError):
        BUILDERS[name](True)


def test_decoders_take_numpy_token_ids_and_lengths():
    def step(tokens, state):
        return torch.log_softmax(torch.ones(tokens.size(0), 5), 1), state

    state = torch.zeros(2, 1)
    assert greedy(step, state, np.int64(1), np.int64(2), np.int64(3)) == greedy(step, state, 1, 2, 3)
    assert beam_search(step, state, np.int64(1), np.int64(2), np.int64(2), np.int64(3)) == \
        beam_search(step, state, 1, 2, 2, 3)


def test_numpy_sizes_become_python_ints_so_narrow_ones_cannot_overflow():
    # before: ChainRNN(np.uint8(100), np.uint8(100)) built weight_ih of 144 rows (4 * 100 wrapped in uint8) and kept
    # numpy scalars as attributes (json.dumps(model.hidden_channels) failed)
    import json

    from graphrnn.nn.attention import Attention
    from graphrnn.training import seed_everything

    layer = ChainRNN(np.uint8(100), np.uint8(100))
    assert layer.cell.weight_ih.shape == (400, 100) and type(layer.hidden_channels) is int
    model = SequenceClassifier(np.uint8(8), np.uint8(200), np.uint8(3), bidirectional=True)
    assert model.head.in_features == 400 and json.dumps([model.encoder.hidden_channels, model.head.out_features])
    assert DAGNN(np.int8(100), np.int8(100)).hidden_channels == 100
    assert Attention("mlp", np.int64(8), np.int64(16)).memory == 16
    seed_everything(np.int64(3))
    first = torch.rand(1)
    seed_everything(3)
    assert torch.equal(first, torch.rand(1))
