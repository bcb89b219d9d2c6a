r"""Sequences sampled from a hidden Markov model: labelled chains where the truth is known.

The sequence-labelling experiment samples symbol sequences with their hidden states
from a known HMM (:func:`sequence_labelling_hmm`), so the Bayes-optimal tagger (the
true model's posterior :math:`\arg\max_i P(z_t = i \mid x)`) gives the best accuracy
any model can reach, and learned models (an HMM fitted by EM, RNNs, LSTMs) are
compared against it.

Everything is seeded by a :class:`torch.Generator` only; the global RNG is never used.
"""
from __future__ import annotations

from typing import List, Sequence, Tuple, Union

import torch
from torch import Tensor
from torch_geometric.data import Data

from graphrnn.counts import is_int
from graphrnn.data import chain_graph
from graphrnn.nn.hmm import HMM

__all__ = ["sequence_labelling_hmm", "sample_hmm_dataset"]

#: Probability of staying in the same state in :func:`sequence_labelling_hmm`.
STAY_PROB = 0.85
#: Emission profile of state 0 over the 8 symbols; state ``s`` uses it rolled by ``2 s``.
EMISSION_PROFILE = (0.30, 0.30, 0.13, 0.04, 0.03, 0.03, 0.04, 0.13)

Probs = Tuple[Union[Tensor, Sequence], Union[Tensor, Sequence], Union[Tensor, Sequence]]


def sequence_labelling_hmm(dtype: torch.dtype = torch.float64) -> HMM:
    r"""The "true" HMM of the sequence-labelling experiment: 4 states, 8 symbols.

    * start: uniform, :math:`\pi_i = 1/4`;
    * transitions: sticky, :math:`A_{ii} = 0.85` and :math:`A_{ij} = 0.05` for
      :math:`j \ne i`, so a state lasts :math:`1 / 0.15 \approx 6.7` steps on average;
    * emissions: state :math:`s` mostly emits its own two symbols :math:`2s, 2s+1`
      (0.30 each), the nearest symbol of each neighbouring state 0.13, and the rest
      0.03–0.04 (:data:`EMISSION_PROFILE` rolled by :math:`2s`, symbols on a circle):

      .. code-block:: text

          state 0: 0.30 0.30 0.13 0.04 0.03 0.03 0.04 0.13
          state 1: 0.04 0.13 0.30 0.30 0.13 0.04 0.03 0.03
          state 2: 0.03 0.03 0.04 0.13 0.30 0.30 0.13 0.04
          state 3: 0.13 0.04 0.03 0.03 0.04 0.13 0.30 0.30

    Emissions overlap, so a symbol alone identifies its state only 60% of the time,
    and the Bayes-optimal tagger (posterior decoding with this model) reaches about
    78% accuracy on sequences of length 100 (76–77% for Viterbi paths): context
    helps, but 100% is out of reach.

    Args:
        dtype: of the model's parameters. (default: ``torch.float64``)
    """
    num_states = 4
    off = (1.0 - STAY_PROB) / (num_states - 1)
    transition = torch.full((num_states, num_states), off, dtype=torch.float64)
    transition.fill_diagonal_(STAY_PROB)
    profile = torch.tensor(EMISSION_PROFILE, dtype=torch.float64)
    emission = torch.stack([profile.roll(2 * s) for s in range(num_states)])
    start = torch.full((num_states,), 1.0 / num_states, dtype=torch.float64)
    return HMM.from_probs(start.to(dtype), transition.to(dtype), emission.to(dtype))


def sample_hmm_dataset(hmm_or_probs: Union[HMM, Probs], num_sequences: int, min_length: int, max_length: int,
                       generator: torch.Generator) -> List[Data]:
    r"""Samples labelled sequences from an HMM.

    Lengths are uniform in ``[min_length, max_length]``; all sequences are sampled in
    parallel by :meth:`graphrnn.nn.HMM.sample`. The same generator state gives the
    same dataset.

    Args:
        hmm_or_probs: an :class:`~graphrnn.nn.HMM`, or ``(start, transition,
            emission)`` probabilities for :meth:`~graphrnn.nn.HMM.from_probs`.
        num_sequences (int): number of sequences (>= 0).
        min_length (int): shortest length (>= 1).
        max_length (int): longest length (>= ``min_length``).
        generator (torch.Generator): the only random source.

    Returns:
        list of ``chain_graph(x=symbols, y=states)``: ``x`` and ``y`` are
        ``LongTensor [T]``; batch them with :class:`graphrnn.data.DataLoader`.

    Raises:
        ValueError: on a negative count, ``min_length < 1`` or ``max_length <
            min_length``, or bad probabilities (see :meth:`~graphrnn.nn.HMM.from_probs`).
        TypeError: if ``generator`` is not a :class:`torch.Generator`.
    """
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    counts = []
    for name, value in (("num_sequences", num_sequences), ("min_length", min_length), ("max_length", max_length)):
        if not is_int(value):  # numpy integers pass, 2.0 does not
            raise ValueError(f"{name} must be an int, got {value!r}")
        counts.append(int(value))
    num_sequences, min_length, max_length = counts
    if num_sequences < 0:
        raise ValueError(f"num_sequences must be >= 0, got {num_sequences}")
    if min_length < 1:
        raise ValueError(f"min_length must be >= 1, got {min_length}")
    if max_length < min_length:
        raise ValueError(f"max_length must be >= min_length, got min_length={min_length}, max_length={max_length}")
    if isinstance(hmm_or_probs, HMM):
        hmm = hmm_or_probs
    elif isinstance(hmm_or_probs, (tuple, list)) and len(hmm_or_probs) == 3:
        hmm = HMM.from_probs(*hmm_or_probs)
    else:
        raise ValueError(
            "hmm_or_probs must be a graphrnn.nn.HMM or a (start, transition, emission) tuple of probabilities, "
            f"got {type(hmm_or_probs).__name__}"
        )
    lengths = torch.randint(min_length, max_length + 1, (num_sequences,), generator=generator,
                            device=generator.device)
    states, symbols = hmm.sample(lengths, generator)
    return [chain_graph(x, y=y) for x, y in zip(symbols, states)]
