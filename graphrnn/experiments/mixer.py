"""Sequence-level training (Ranzato et al., ICLR 2016): XENT vs DAD vs E2E vs MIXER.

Three tasks, each a :class:`TaskData` of :class:`~graphrnn.models.seq2seq.Seq2SeqPair`:
captioning (strips of 4-6 scikit-learn digits -> number words, BLEU-4), translation
(Multi30k de -> en, BLEU-4) and summarization (AESLC email body -> subject, ROUGE-2 F1).
Translation and summarization also read your own parallel corpus (``data`` plus
``settings.extra["source"]``/``["target"]``, or a ``.tsv`` file; see
:mod:`graphrnn.datasets.parallel` and :func:`load_task`).

Splits and scores: train, validation and test are disjoint (captioning: three pools of digit
images); vocabularies, the decoding length cap and the target-length filter come from the
training pairs only; validation and test pairs are never filtered (long sources are cut for the
encoder, but every pair is scored). Validation and test go through one pipeline
(:func:`score_outputs`): predicted ids -> detokenised text with ``<unk>`` as a mark no reference
contains -> sacrebleu's corpus BLEU-4 (or ROUGE-2 F1) against the raw reference strings
(:mod:`graphrnn.metrics.standard`). Each table also scores a trivial rule (a constant caption,
copying the source, the first words of the body) and an oracle (the references written in the
model's vocabulary within its length cap) the same way.

Protocol (every method gets the same number of epochs and the same start):
one XENT run of ``xent_epochs`` epochs is shared; each method then continues it
(``Trainer`` resume from a copy of its checkpoint) for ``stages x mixed_epochs`` more
epochs with its own objective: XENT; DAD and E2E with the probability of feeding
the model's own output rising linearly from 0 to ``feed_probability``; MIXER by its
schedule. After every epoch the validation score (greedy decoding) is computed and
the best validation epoch's model (``best.pt``, possibly the shared XENT start) is the one
tested, once, with greedy decoding and, for XENT and MIXER, beam search k = 1, 5, 10.
The method with the best validation score (among this run's methods and, when it resumes, those an
earlier run left in ``<out>``: :func:`best_method`) has its ``best.pt`` copied to ``<out>/best.pt``:
the checkpoint ``graphrnn predict mixer`` and :func:`graphrnn.load` read (it carries the
vocabularies, the tokenisation and the model's settings, :func:`inference_state`).
"""
from __future__ import annotations

import argparse
import functools
import json
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch_geometric.loader import DataLoader

from graphrnn.bench import markdown_table
from graphrnn.data.vocab import UNK, Vocab
from graphrnn.datasets.text import TOKENIZERS, TextOptions
from graphrnn.experiments.common import run_directory
from graphrnn.files import write_atomic
from graphrnn.models.seq2seq import Seq2Seq, seq2seq_pair, text_pair
from graphrnn.training import BEST_NAME, METRICS_NAME, TrainConfig, Trainer, resolve_device
from graphrnn.training.sequence_level import (
    AnnealedProbability,
    EndToEnd,
    Mixer,
    MixerSchedule,
    ScheduledSampling,
    SequenceObjective,
    Xent,
)

__all__ = ["TASKS", "METHODS", "BEAMS", "PAPER", "TaskData", "Settings", "load_task", "run", "results_table",
           "evaluate", "score_outputs", "baseline_scores", "hypothesis_texts", "copy_source", "lead_words",
           "add_arguments", "run_task", "section", "example_parser", "run_example", "inference_state",
           "OWN_DATA_KEYS"]

TASKS = ("captioning", "translation", "summarization")
METHODS = ("xent", "dad", "e2e", "mixer")
BEAMS = (1, 5, 10)
#: Ranzato et al. (2016), Table 1: test scores with greedy decoding.
PAPER = {
    "summarization": {"metric": "ROUGE-2", "xent": 13.01, "dad": 12.18, "e2e": 12.78, "mixer": 16.22},
    "translation": {"metric": "BLEU-4", "xent": 17.74, "dad": 20.12, "e2e": 20.73, "mixer": 20.73},
    "captioning": {"metric": "BLEU-4", "xent": 27.8, "dad": 28.16, "e2e": 26.42, "mixer": 29.16},
}


@dataclass
class TaskData:
    """Pairs of one task and how to score them.

    ``reward(hyps, refs)`` (training, token ids, per pair in [0, 1]) and ``metric(hyps, refs)``
    (reports, on *text*: hypothesis strings against the raw ``references[split]`` strings, 0-100,
    higher is better; see :func:`score_outputs`). ``baseline`` is a trivial rule: its name and a
    function ``split -> hypothesis strings``, scored by the same ``metric``. ``max_len`` (decoding
    length with ``<eos>``), the vocabularies and every filter come from the training split only.
    ``rules`` are further fixed (non-sequence) predictors, named, scored the same way.
    """

    name: str
    train: List
    val: List
    test: List
    vocab: Vocab
    in_channels: int
    source: str
    attention: Optional[str]
    reward: Callable[[List[List[int]], List[List[int]]], torch.Tensor]
    metric: Callable[[List[str], List[str]], float]
    max_len: int
    references: Dict[str, List[str]]
    details: str = ""
    baseline: Optional[Tuple[str, Callable[[str], List[str]]]] = None
    source_vocab: Optional[Vocab] = None
    text: Optional[TextOptions] = None
    max_source: Optional[int] = None
    builtin: bool = True
    rules: List[Tuple[str, Callable[[str], List[str]]]] = field(default_factory=list)

    def pairs(self, split: str) -> List:
        """The pairs of ``"val"`` or ``"test"``."""
        if split not in SCORED_SPLITS:
            raise ValueError(f"split must be one of {SCORED_SPLITS} (the scored splits), got {split!r}")
        return self.val if split == "val" else self.test


@dataclass
class Settings:
    """Sizes and schedule of one run (see the module docstring for the protocol)."""

    train_size: Optional[int] = None
    val_size: int = 300
    test_size: Optional[int] = None
    hidden: int = 128
    dropout: float = 0.3
    xent_epochs: int = 10
    mixed_epochs: int = 2
    T: Optional[int] = None
    delta: int = 1
    feed_probability: float = 0.25
    e2e_k: int = 10
    batch_size: int = 32
    lr: float = 2e-3
    beams: Sequence[int] = BEAMS
    methods: Sequence[str] = METHODS
    extra: Dict = field(default_factory=dict)


# ------------------------------------------------------------------ rewards
#: Stand-ins for ``<unk>`` in a training reward: a predicted one and a reference's one differ, so
#: neither ever matches, as in the test metric (:data:`graphrnn.metrics.UNK_MARK`).
UNKNOWN_PREDICTED, UNKNOWN_REFERENCE = -1, -2
#: Ids a hypothesis text never shows (:func:`graphrnn.metrics.standard.hypothesis_text` drops them).
_UNSHOWN = (Vocab.pad, Vocab.bos, Vocab.eos)


def read_as_metric(hyps: Sequence, refs: Sequence, predicted: Callable[[int], Sequence],
                   reference: Callable[[int], Sequence]) -> Tuple[List[list], list]:
    """Token-id pairs rewritten token by token as a metric reads the texts they become:
    ``predicted(id)`` / ``reference(id)`` give each id's tokens (none, one or several). Each pair
    may have several references (a list of id lists); tensors are read as lists."""
    from graphrnn.metrics.ngrams import as_references, as_tokens, check_pairs

    hyps, refs = check_pairs(hyps, refs)
    hyps = [[t for i in as_tokens(h) for t in predicted(i)] for h in hyps]
    refs = [[[t for i in r for t in reference(i)] for r in as_references(pair)] for pair in refs]
    return hyps, [several[0] if len(several) == 1 else several for several in refs]


def unk_never_matches(hyps: Sequence, refs: Sequence) -> Tuple[List[list], list]:
    """Token ids as sacrebleu reads the texts they become: a reference's ``<unk>`` (a word the
    vocabulary lacks) is a word of its own that no prediction matches, a predicted ``<unk>`` (the
    mark U+2047) is a token that matches nothing, and ``<pad>``/``<bos>``/``<eos>`` are not shown."""
    return read_as_metric(hyps, refs,
                          lambda i: () if i in _UNSHOWN else (UNKNOWN_PREDICTED,) if i == Vocab.unk else (i,),
                          lambda i: () if i in _UNSHOWN else (UNKNOWN_REFERENCE,) if i == Vocab.unk else (i,))


def bleu_reward(hyps: Sequence, refs: Sequence) -> torch.Tensor:
    """Sentence BLEU-4 with add-one smoothing, in [0, 1], per pair (token ids; training only), on the
    test metric's footing: ``<unk>`` never matches (:func:`unk_never_matches`)."""
    from graphrnn.metrics import sentence_bleu_batch

    return sentence_bleu_batch(*unk_never_matches(hyps, refs)).float()


def bleu_reward_for(vocab: Vocab) -> Callable:
    """The BLEU reward of a target vocabulary: :func:`bleu_reward` (sacrebleu is cased and splits
    like the 13a tokens the ids stand for, so the ids themselves are what it matches)."""
    return bleu_reward


class Rouge2Reward:
    """ROUGE-2 F1 in [0, 1] per pair of token ids (training only), read as :func:`rouge2_metric` reads
    the texts they become: every word of ``vocab`` as ``rouge_score`` tokenises it (lower-cased,
    split at every run of characters other than a-z, 0-9: punctuation gives no token, "don't" two),
    ``<pad>``/``<bos>``/``<eos>`` not shown, a predicted ``<unk>`` dropped (the tokeniser drops its
    mark, so its neighbours become a bigram) and a reference's ``<unk>`` a word no prediction matches.

    Args:
        vocab (Vocab): the target vocabulary the ids come from.
    """

    def __init__(self, vocab: Vocab) -> None:
        from graphrnn.metrics.standard import rouge_tokens

        self.words = [() if i in _UNSHOWN or i == Vocab.unk else tuple(rouge_tokens(word))
                      for i, word in enumerate(vocab.itos)]

    def _word(self, i: int) -> tuple:
        if not 0 <= i < len(self.words):
            raise ValueError(f"token id {i} is outside the reward's vocabulary of {len(self.words)} tokens")
        return self.words[i]

    def __call__(self, hyps: Sequence, refs: Sequence) -> torch.Tensor:
        from graphrnn.metrics import rouge_n_batch

        pairs = read_as_metric(hyps, refs, self._word,
                               lambda i: (UNKNOWN_REFERENCE,) if i == Vocab.unk else self._word(i))
        return rouge_n_batch(*pairs, n=2)["f1"].float()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.words)} tokens)"


def bleu_metric(lowercase: bool = False) -> Callable[[List[str], List[str]], float]:
    """sacrebleu's corpus BLEU-4 (``13a``; cased unless ``lowercase``, sacrebleu's ``-lc``) on text."""
    from graphrnn.metrics.standard import sacrebleu_corpus

    return functools.partial(sacrebleu_corpus, lowercase=lowercase)


def rouge2_metric() -> Callable[[List[str], List[str]], float]:
    """Mean ROUGE-2 F1 (0-100) on text, ``rouge_score``'s tokenisation (:func:`graphrnn.metrics.rouge2_text`)."""
    from graphrnn.metrics.standard import rouge2_text

    return rouge2_text


# --------------------------------------------------------------------- data
#: ``settings.extra`` keys of your own corpus (see :func:`load_task`).
OWN_DATA_KEYS = ("source", "target", "splits", "tokenizer", "lowercase")
SCORED_SPLITS = ("val", "test")
#: Digits per captioning strip: every caption has >= 4 words, so BLEU-4 has 4-grams to count
#: (with 2-4 digits a model that never says a 4th word scores BLEU-4 = 0; see docs/mixer.md).
CAPTION_DIGITS = (4, 6)


def load_task(name: str, settings: Settings, seed: int = 0, data: Optional[Path] = None) -> TaskData:
    """The pairs of task ``name`` (``captioning`` / ``translation`` / ``summarization``).

    Translation and summarization read the built-in corpus (Multi30k de->en; AESLC, ``data`` its
    archive or folder) unless ``data`` is a ``.tsv[.gz]`` file or ``settings.extra`` names the
    languages (``source``, ``target``): then ``data`` is your own corpus
    (:func:`graphrnn.datasets.parallel.load_parallel`), with ``extra["splits"]`` (default
    ``("train", "val", "test")``), ``extra["tokenizer"]`` (default ``"13a"``) and
    ``extra["lowercase"]`` (default ``False``), and missing splits cut at random with ``seed``.
    """
    loaders = {"captioning": _captioning, "translation": _translation, "summarization": _summarization}
    if name not in loaders:
        raise ValueError(f"task must be one of {TASKS}, got {name!r}")
    return loaders[name](settings, seed, data)


def _constant_caption(captions: List[List[str]]) -> str:
    """The most frequent word at each position, for the most frequent length (ties: first seen)."""
    length = Counter(len(words) for words in captions).most_common(1)[0][0]
    return " ".join(Counter(words[i] for words in captions if len(words) > i).most_common(1)[0][0]
                    for i in range(length))


def _captioning(settings: Settings, seed: int, data: Optional[Path]) -> TaskData:
    from graphrnn.datasets.digit_captions import digit_caption_dataset

    if data is not None:  # it was ignored: the run trained on the digits and looked like one on the given corpus
        raise ValueError(f"captioning reads built-in digit images and takes no --data (got {str(data)!r}); "
                         "for your own corpus use --task translation or --task summarization")
    low, high = settings.extra.get("digits", CAPTION_DIGITS)
    sizes = {"train": settings.train_size or 3000, "val": settings.val_size, "test": settings.test_size or 500}
    raw = {split: digit_caption_dataset(n, min_digits=low, max_digits=high, seed=seed + offset, split=split,
                                        pad=True)
           for offset, (split, n) in enumerate(sizes.items())}
    vocab = Vocab.build([words for _, words in raw["train"]])
    width = raw["train"][0][0].shape[1]

    def pair(image, words):
        return seq2seq_pair(None, vocab.encode(list(words), eos=True), context=image.flatten())

    pairs = {split: [pair(*item) for item in part] for split, part in raw.items()}
    longest = max(len(words) for _, words in raw["train"]) + 1  # training captions only
    references = {split: [" ".join(words) for _, words in raw[split]] for split in SCORED_SPLITS}
    constant = _constant_caption([words for _, words in raw["train"]])
    baseline = (f"one constant caption ('{constant}': most frequent training word per position)",
                lambda split: [constant] * len(references[split]))
    nearest = ("1-NN digit classifier on each 8x8 block of the strip (not a sequence model: it is told where "
               "each digit is)", lambda split: nearest_digit_captions(raw["train"], raw[split]))
    return TaskData("captioning", pairs["train"], pairs["val"], pairs["test"], vocab, 8 * width, "vector", None,
                    bleu_reward, bleu_metric(), longest, references,
                    f"{sizes['train']} train / {sizes['val']} val / {sizes['test']} test strips of {low}-{high} "
                    "digits (train, val and test strips from three disjoint pools of digit images); "
                    f"image 8x{width} (zero-padded) flattened as the context vector", baseline, rules=[nearest])


def _digit_blocks(strips: List[Tuple[torch.Tensor, List[str]]]) -> Tuple[torch.Tensor, List[int]]:
    """Every non-empty 8x8 block of the strips, flattened ``[N, 64]``, and the number of blocks of each strip."""
    blocks, counts = [], []
    for image, _ in strips:
        found = [block.reshape(-1) for block in image.split(8, dim=1) if block.any()]
        blocks += found
        counts.append(len(found))
    return torch.stack(blocks), counts


def nearest_digit_captions(train: List[Tuple[torch.Tensor, List[str]]],
                           strips: List[Tuple[torch.Tensor, List[str]]]) -> List[str]:
    """Captions by a 1-nearest-neighbour digit classifier: each non-empty 8x8 block of a strip gets the word of
    the closest (Euclidean) digit image of the training strips."""
    train_blocks, _ = _digit_blocks(train)
    train_words = [word for _, words in train for word in words]
    blocks, counts = _digit_blocks(strips)
    nearest = torch.cdist(blocks, train_blocks).argmin(dim=1).tolist()
    words = iter(train_words[i] for i in nearest)
    return [" ".join(next(words) for _ in range(count)) for count in counts]


def _eval_pair(source: List[str], target: List[str], source_vocab: Vocab, target_vocab: Vocab):
    """A validation/test pair that is never dropped: an empty source reads one ``<unk>``, an empty target is
    ``<eos>`` alone (its raw reference is what is scored)."""
    return seq2seq_pair(source_vocab.encode(source or [UNK]), target_vocab.encode(target, eos=True))


def _text_task(name: str, raw: Dict[str, List[Tuple[str, str]]], settings: Settings, max_source: Optional[int],
               max_target: Optional[int], min_count: int, attention: Optional[str], reward_for, metric, details: str,
               text: TextOptions, baseline: Tuple[str, Callable[[List[Tuple[str, str]]], List[str]]],
               builtin: bool = True) -> TaskData:
    """Raw ``(source, target)`` strings -> a :class:`TaskData`.

    Training pairs with an empty side or a target over ``max_target`` tokens are dropped (``None``:
    none is dropped); validation and test pairs are all kept and scored against their raw target
    strings. Sources are cut at ``max_source`` tokens (``None``: never) for the encoder. The
    vocabularies and the decoding length (``max_target``, or the longest training target, + ``<eos>``)
    come from the kept training pairs only. ``baseline`` is a rule's name and its ``pairs -> strings``;
    ``reward_for(target_vocab)`` is the training reward.
    """
    tokens = {split: [(text(s)[:max_source], text(t)) for s, t in part] for split, part in raw.items()}
    train = [(s, t) for s, t in tokens["train"] if s and t and (max_target is None or len(t) <= max_target)]
    if not train:
        raise ValueError(f"{name}: no training pair left (each needs a source and a target of 1 to {max_target} "
                         "tokens)")
    source_vocab = Vocab.build([s for s, _ in train], min_count=min_count)
    target_vocab = Vocab.build([t for _, t in train], min_count=min_count)
    pairs = {"train": [text_pair(s, t, source_vocab, target_vocab) for s, t in train]}
    pairs.update({split: [_eval_pair(s, t, source_vocab, target_vocab) for s, t in tokens[split]]
                  for split in SCORED_SPLITS})
    raw_references = {split: [t.strip() for _, t in raw[split]] for split in SCORED_SPLITS}
    _check_scorable(name, metric, raw_references)
    rule, hypotheses = baseline
    kept = ("" if max_target is None else
            f"; train: the {len(train)} of {len(tokens['train'])} pairs with targets <= {max_target} tokens")
    details = (f"{len(train)} train / {len(pairs['val'])} val / {len(pairs['test'])} test pairs{kept}; val and test "
               f"unfiltered (every pair scored against its raw reference); {details}; vocabularies "
               f"{len(source_vocab)} / {len(target_vocab)} tokens of the training pairs (min count {min_count}); "
               f"{_unknown_share(references(pairs['train']))}")
    longest = max_target if max_target is not None else max(len(t) for _, t in train)
    return TaskData(name, pairs["train"], pairs["val"], pairs["test"], target_vocab, len(source_vocab), "tokens",
                    attention, reward_for(target_vocab), metric, longest + 1, raw_references, details,
                    (rule, lambda split: hypotheses(raw[split])), source_vocab=source_vocab, text=text,
                    max_source=max_source, builtin=builtin)


def _check_scorable(name: str, metric, raw_references: Dict[str, List[str]]) -> None:
    """Runs the metric's own checks of the references (each split scored against itself) before any
    training, so that text the metric refuses (e.g. a script ``rouge_score`` drops) stops the run now, not
    at the first validation after an epoch."""
    for split, texts in raw_references.items():
        try:
            metric(texts, texts)
        except ValueError as error:
            raise ValueError(f"{name}: the {split} references cannot be scored: {error}") from error


def _unknown_share(targets: List[List[int]]) -> str:
    """How much of the encoded training targets is ``<unk>`` (never matched in a score)."""
    first = sum(ids[0] == Vocab.unk for ids in targets if ids)
    return (f"<unk> is {100 * unk_share(targets):.1f}% of the training targets' words and begins "
            f"{100 * first / max(len(targets), 1):.1f}% of them")


def copy_source(pairs: List[Tuple[str, str]]) -> List[str]:
    """The trivial rule of translation: the raw source sentence as the output."""
    return [source.strip() for source, _ in pairs]


def lead_words(count: int) -> Callable[[List[Tuple[str, str]]], List[str]]:
    """The trivial rule of summarization: the first ``count`` whitespace-separated words of the source."""
    return lambda pairs: [" ".join(source.split()[:count]) for source, _ in pairs]


def _median_words(texts: List[str]) -> int:
    lengths = sorted(len(text.split()) for text in texts)
    return max(lengths[len(lengths) // 2], 1)


def _is_own_data(settings: Settings, data: Optional[Path]) -> bool:
    from graphrnn.datasets.text import has_suffix

    own_file = data is not None and Path(data).is_file() and has_suffix(data, ".tsv")
    return own_file or any(settings.extra.get(key) for key in ("source", "target"))


def _own_data(name: str, settings: Settings, seed: int, data: Optional[Path], max_source: Optional[int],
              reward_for) -> TaskData:
    """Your own corpus (see :func:`load_task`); the notes on what was read or cut open ``details``."""
    from graphrnn.datasets.parallel import DEFAULT_SPLITS, load_parallel

    if data is None:
        raise FileNotFoundError(f"--source/--target name your own {name} corpus: give its folder or .tsv file "
                                "with --data PATH")
    extra = settings.extra
    source, target = extra.get("source"), extra.get("target")
    corpus = load_parallel(data, source, target, extra.get("splits") or DEFAULT_SPLITS, seed)
    text = TextOptions(extra.get("tokenizer") or "13a", bool(extra.get("lowercase")))
    limits = {"train": settings.train_size, "val": settings.val_size, "test": settings.test_size}
    raw = {split: pairs[:limits[split]] for split, pairs in corpus.splits.items()}
    direction = f"{source or 'source'} -> {target or 'target'}"
    cut = "" if max_source is None else f", sources cut at {max_source} tokens for the encoder"
    if name == "translation":
        metric, baseline = bleu_metric(text.lowercase), ("copy the source", copy_source)
    else:
        words = _median_words([t for _, t in raw["train"]])
        metric, baseline = rouge2_metric(), (f"lead-{words} (first {words} source words)", lead_words(words))
    return _text_task(name, raw, settings, max_source=max_source, max_target=None,
                      min_count=extra.get("min_count", 2), attention="dot", reward_for=reward_for, metric=metric,
                      details="; ".join(corpus.notes) + f"; {direction}, tokenizer {text.tokenizer}, "
                      f"{'lower-cased' if text.lowercase else 'case kept'}{cut}", text=text, baseline=baseline,
                      builtin=False)


def _translation(settings: Settings, seed: int, data: Optional[Path]) -> TaskData:
    from graphrnn.datasets.multi30k import data_directory
    from graphrnn.datasets.translation import read_parallel

    if _is_own_data(settings, data):
        return _own_data("translation", settings, seed, data, settings.extra.get("max_source"), bleu_reward_for)
    root = data_directory("multi30k", data)
    limits = {"train": settings.train_size, "val": settings.val_size, "test_2016_flickr": settings.test_size}
    raw = {"test" if split.startswith("test") else split: read_parallel(root, split, "de", "en", limit=limit)
           for split, limit in limits.items()}
    max_len = settings.extra.get("max_target", 15)
    return _text_task("translation", raw, settings, max_source=max_len + 5, max_target=max_len,
                      min_count=settings.extra.get("min_count", 2), attention="dot", reward_for=bleu_reward_for,
                      metric=bleu_metric(), details=f"Multi30k de->en, cased, 13a tokens; sources cut at "
                      f"{max_len + 5} tokens for the encoder; test = test_2016_flickr; sacrebleu BLEU-4 on "
                      "detokenised outputs against the raw English", text=TextOptions("13a", lowercase=False),
                      baseline=("copy the source (German sentence)", copy_source))


def _summarization(settings: Settings, seed: int, data: Optional[Path]) -> TaskData:
    from graphrnn.datasets.aeslc import read_aeslc

    body = settings.extra.get("max_source", 40)
    if _is_own_data(settings, data):
        return _own_data("summarization", settings, seed, data, body, Rouge2Reward)
    limits = {"train": settings.train_size, "val": settings.val_size, "test": settings.test_size}
    raw = {split: [(e.body, e.subject) for e in read_aeslc(data, "dev" if split == "val" else split, limit=limit)]
           for split, limit in limits.items()}
    words = _median_words([subject for _, subject in raw["train"]])
    return _text_task("summarization", raw, settings, max_source=body, max_target=10,
                      min_count=settings.extra.get("min_count", 2), attention="dot", reward_for=Rouge2Reward,
                      metric=rouge2_metric(), details=f"AESLC email body (first {body} tokens for the encoder) -> "
                      "subject, cased, 13a tokens; ROUGE-2 F1 against the raw original subject (rouge_score's "
                      "tokenisation); val = dev", text=TextOptions("13a", lowercase=False),
                      baseline=(f"lead-{words} (first {words} words of the body)", lead_words(words)))


# ----------------------------------------------------------------- decoding
def decode(model: Seq2Seq, pairs: List, max_len: int, beam: Optional[int] = None, batch_size: int = 100,
           device: Optional[torch.device] = None) -> List[List[int]]:
    """Greedy (``beam=None``) or beam-search outputs, ``<eos>`` stripped."""
    from graphrnn.decoding import beam_search, greedy

    device = device or next(model.parameters()).device
    model.eval()
    outputs = []
    with torch.no_grad():
        for batch in DataLoader(pairs, batch_size=batch_size):
            state = model.encode(batch.to(device))
            if beam is None:
                found = [tokens for tokens, _ in greedy(model.step, state, Vocab.bos, Vocab.eos, max_len)]
            else:
                found = [hyps[0][0] for hyps in beam_search(model.step, state, Vocab.bos, Vocab.eos, beam, max_len)]
            outputs += [[int(t) for t in tokens if int(t) != Vocab.eos] for tokens in found]
    return outputs


def references(pairs: List) -> List[List[int]]:
    """The target ids of ``pairs`` without ``<eos>`` (words the vocabulary lacks are ``<unk>``)."""
    return [[int(t) for t in pair.tgt.tolist() if int(t) != Vocab.eos] for pair in pairs]


def hypothesis_texts(task: TaskData, outputs: List[List[int]]) -> List[str]:
    """Predicted ids -> detokenised strings, ``<unk>`` -> :data:`graphrnn.metrics.UNK_MARK`."""
    from graphrnn.metrics.standard import hypothesis_text

    return [hypothesis_text(ids, task.vocab) for ids in outputs]


def score_outputs(task: TaskData, outputs: List[List[int]], split: str) -> float:
    """The one scoring pipeline of validation and test: ids -> text -> ``task.metric`` against the raw
    references of ``split``."""
    task.pairs(split)  # checks the name
    return task.metric(hypothesis_texts(task, outputs), task.references[split])


def evaluate(task: TaskData, model: Seq2Seq, split: str, beam: Optional[int] = None) -> float:
    """``model``'s score on ``split`` (``"val"`` or ``"test"``), greedy or with a beam."""
    return score_outputs(task, decode(model, task.pairs(split), task.max_len, beam), split)


def baseline_scores(task: TaskData, split: str) -> Dict[str, Optional[float]]:
    """``{"trivial": the task's rule, "oracle": the references' own ids}`` on ``split``, by ``task.metric``.

    The oracle outputs each reference through the model's vocabulary (``<unk>`` for unknown words)
    and length cap (``max_len - 1`` tokens): the best any model of this vocabulary could write.
    """
    trivial = None if task.baseline is None else task.metric(task.baseline[1](split), task.references[split])
    capped = [ids[:task.max_len - 1] for ids in references(task.pairs(split))]
    return {"trivial": trivial, "oracle": score_outputs(task, capped, split)}


def mean_length(outputs: List[List[int]]) -> float:
    return sum(len(ids) for ids in outputs) / max(len(outputs), 1)


def unk_share(outputs: List[List[int]]) -> float:
    """The fraction of predicted tokens that are ``<unk>`` (words that can never match)."""
    return sum(ids.count(Vocab.unk) for ids in outputs) / max(sum(len(ids) for ids in outputs), 1)


# ----------------------------------------------------------------- training
def _objective(method: str, task: TaskData, settings: Settings, schedule: MixerSchedule) -> SequenceObjective:
    feed = AnnealedProbability(0.0, settings.feed_probability, schedule.xent_epochs,
                               max(schedule.total_epochs - 1, schedule.xent_epochs))
    if method == "xent":
        return Xent()
    if method == "dad":
        return ScheduledSampling(feed)
    if method == "e2e":
        return EndToEnd(feed, k=settings.e2e_k)
    if method == "mixer":
        return Mixer(schedule, task.reward, max_len=task.max_len)
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def _model_settings(task: TaskData, settings: Settings) -> Dict:
    return dict(in_channels=task.in_channels, num_tokens=len(task.vocab), hidden_channels=settings.hidden,
                source=task.source, attention=task.attention, dropout=settings.dropout)


def build_model(task: TaskData, settings: Settings, seed: int) -> Seq2Seq:
    torch.manual_seed(seed)
    return Seq2Seq(**_model_settings(task, settings))


def inference_state(task: TaskData, settings: Settings) -> Dict:
    """What :func:`graphrnn.load` needs besides the weights: the model's class and settings, both
    vocabularies, the tokenisation and the decoding length (plain values, stored in every checkpoint)."""
    return {"kind": "mixer", "task": task.name, "model_class": "Seq2Seq",
            "model_settings": _model_settings(task, settings),
            "source_vocab": None if task.source_vocab is None else task.source_vocab.to_list(),
            "target_vocab": task.vocab.to_list(), "text": None if task.text is None else task.text.to_dict(),
            "max_source": task.max_source, "max_len": task.max_len}


def _train(task: TaskData, settings: Settings, objective: SequenceObjective, epochs: int, out: Path, seed: int,
           device: str, progress: bool, resume: bool) -> Seq2Seq:
    model = build_model(task, settings, seed)
    config = TrainConfig(epochs=epochs, batch_size=settings.batch_size, lr=settings.lr, grad_clip=1.0,
                         monitor="val_score", mode="max", seed=seed, device=device, out=out, resume=resume,
                         progress=progress)
    trainer = Trainer(model, objective, task.train, config,
                      evaluate_fn=lambda m: {"val_score": evaluate(task, m, "val")},
                      extra_state={"task": task.name, "vocab": task.vocab.to_list(),
                                   "inference": inference_state(task, settings)})
    objective.attach(trainer)
    trainer.fit()
    return trainer


def run(task: TaskData, settings: Settings, seed: int = 0, out: Optional[Path] = None, device: str = "cpu",
        progress: bool = False, resume: bool = False, log: Callable[[str], None] = lambda message: None) -> Dict:
    """Trains every method of ``settings.methods`` on ``task``; returns the result rows."""
    resume = resume and out is not None
    with run_directory(out) as out:
        device = str(resolve_device(device))
        T = min(settings.T or task.max_len, task.max_len)  # no more steps than the longest output
        delta = min(settings.delta, max(T - 1, 1))  # short outputs still get one mixed stage
        schedule = MixerSchedule(T=T, delta=delta, xent_epochs=settings.xent_epochs,
                                 mixed_epochs=settings.mixed_epochs)
        start = time.perf_counter()
        pretrain = out / "xent_start"
        _train(task, settings, Xent(), schedule.xent_epochs, pretrain, seed, device, progress,
               resume and (pretrain / "checkpoint.pt").exists())
        log(f"[mixer] {task.name}: shared XENT start, {schedule.xent_epochs} epochs, "
            f"{time.perf_counter() - start:.0f} s")
        rows = []
        for method in settings.methods:
            directory = out / method
            continues_start = not (resume and (directory / "checkpoint.pt").exists())
            if continues_start:
                directory.mkdir(parents=True, exist_ok=True)
                for name in ("best.pt", "checkpoint.pt"):  # checkpoint.pt last: it marks the method as started
                    _copy_atomic(pretrain / name, directory / name)
            with warnings.catch_warnings():
                if continues_start:  # extending the shared start's epochs is the plan here, not a user's change
                    warnings.filterwarnings("ignore", message=r"resuming .* with epochs", category=UserWarning)
                trainer = _train(task, settings, _objective(method, task, settings, schedule), schedule.total_epochs,
                                 directory, seed, device, progress, True)
            rows.append(_test_row(task, settings, method, trainer.history, schedule, trainer.load_best()))
            log(f"[mixer] {task.name} {method}: {rows[-1]}")
        best = best_method(out, rows, earlier=resume)  # chosen on validation only
        _copy_atomic(out / best / "best.pt", out / "best.pt")  # a kill mid-copy keeps the previous best.pt whole
        result = {"task": task.name, "details": task.details, "rows": rows, "schedule": schedule.stages(),
                  "seconds": time.perf_counter() - start, "best_method": best, "builtin": task.builtin,
                  "baselines": _baseline_rows(task), "reference_length": mean_length(references(task.test))}
        _write_result(out / "result.json", result, resume)
        return result


def _write_result(path: Path, result: Dict, resume: bool) -> None:
    """Writes ``result`` as JSON (atomically). A resumed run of some methods keeps the earlier rows of
    the others under ``"earlier_rows"`` (as that run recorded them), so nothing measured is lost."""
    from graphrnn.files import write_atomic

    if resume and path.exists():
        try:
            earlier = json.loads(path.read_text())
        except (ValueError, UnicodeDecodeError):
            earlier = {}
        ran = {row["method"] for row in result["rows"]}
        kept = {}
        for row in earlier.get("rows", []) + earlier.get("earlier_rows", []):
            if isinstance(row, dict) and row.get("method") not in ran:
                kept.setdefault(row.get("method"), row)  # the newest record of each method
        if kept:
            result["earlier_rows"] = list(kept.values())
    write_atomic(path, lambda handle: handle.write(json.dumps(result, indent=1)))


def best_method(out: Path, rows: List[Dict], earlier: bool = True) -> str:
    """The method with the best validation score: among the rows of this run and (``earlier``, a resumed
    run) the methods an earlier run left in ``out`` (their best ``val_score`` in ``metrics.jsonl``), so a
    run of some methods (``--methods mixer --resume``) never copies a worse ``best.pt`` over a better one.
    A fresh run (``earlier=False``) chooses among its own rows only: the folders an older run left may
    hold another seed's, data's or setting's models, scored on another validation set.
    Ties go to this run's rows, in order."""
    scores = {row["method"]: row["val_score"] for row in rows}
    for method in METHODS if earlier else ():
        recorded = None if method in scores else _recorded_best(out / method)
        if recorded is not None:
            scores[method] = recorded
    return max(scores, key=scores.get)


def _recorded_best(directory: Path) -> Optional[float]:
    """The best ``val_score`` in ``directory/metrics.jsonl`` if ``directory/best.pt`` exists, else ``None``
    (also for a log that is not JSON lines: that method is then left out of the choice)."""
    log = directory / METRICS_NAME
    if not (directory / BEST_NAME).exists() or not log.exists():
        return None
    try:
        entries = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    except (ValueError, UnicodeDecodeError):
        return None
    scores = [entry["val_score"] for entry in entries
              if isinstance(entry, dict) and isinstance(entry.get("val_score"), (int, float))]
    return max(scores, default=None)


def _baseline_rows(task: TaskData) -> List[Dict]:
    """The trivial rule and the oracle, on validation and test, scored like the models."""
    val, test = baseline_scores(task, "val"), baseline_scores(task, "test")
    rows = []
    if task.baseline is not None:
        rows.append({"name": f"trivial: {task.baseline[0]}", "val": val["trivial"], "test": test["trivial"]})
    for name, outputs in task.rules:
        rows.append({"name": f"rule: {name}", "val": task.metric(outputs("val"), task.references["val"]),
                     "test": task.metric(outputs("test"), task.references["test"])})
    rows.append({"name": f"oracle: the references in the model's vocabulary, cut at {task.max_len - 1} tokens",
                 "val": val["oracle"], "test": test["oracle"]})
    return rows


def _test_row(task: TaskData, settings: Settings, method: str, history: List[Dict], schedule: MixerSchedule,
              model: Seq2Seq) -> Dict:
    """The model of the best validation epoch (``model``), read on test once: greedy, then the beams."""
    own = [h for h in history if h["epoch"] > schedule.xent_epochs]
    best = max(history, key=lambda h: h["val_score"])
    outputs = decode(model, task.test, task.max_len)
    row = {"method": method, "greedy": score_outputs(task, outputs, "test"), "test_length": mean_length(outputs),
           "test_unk_share": unk_share(outputs), "test_distinct": len({tuple(ids) for ids in outputs}),
           "best_epoch": best["epoch"], "val_score": best["val_score"], "epochs": len(history),
           "seconds_per_epoch": sum(h["seconds"] for h in own) / max(len(own), 1),
           "xent_seconds_per_epoch": sum(h["seconds"] for h in history[:schedule.xent_epochs]) /
           max(schedule.xent_epochs, 1)}
    if method in ("xent", "mixer"):
        for k in settings.beams:
            row[f"beam{k}"] = evaluate(task, model, "test", beam=k)
    return row


# ------------------------------------------------------------------- tables
def results_table(result: Dict) -> str:
    """The paper's Table 1 shape (greedy), plus beams for XENT/MIXER, with the paper's numbers beside (built-in
    corpora only); the trivial rule first and the oracle last, scored the same way. The epoch of every
    method is the one with the best validation score; test is read once, with that epoch's model."""
    paper = PAPER[result["task"]]
    builtin = result.get("builtin", True)
    beams = sorted({int(k[4:]) for r in result["rows"] for k in r if k.startswith("beam")})
    header = (["method", f"test {paper['metric']} greedy"] + [f"beam k={k}" for k in beams]
              + (["paper greedy"] if builtin else [])
              + ["best epoch (on val)", "val", "test tokens / ref tokens", "s / epoch"])
    blank = ["-"] * (len(beams) + (1 if builtin else 0))
    rows = result.get("baselines", [])
    body = [[row["name"], _number(row["test"])] + blank + ["-", _number(row["val"]), "-", "-"]
            for row in rows if row["name"].startswith("trivial")]
    for r in result["rows"]:
        method = r["method"]
        body.append([method.upper(), f"{r['greedy']:.2f}"] + [f"{r[f'beam{k}']:.2f}" if f"beam{k}" in r else "-"
                                                             for k in beams]
                    + ([f"{paper[method]:.2f}"] if builtin else [])
                    + [r["best_epoch"], f"{r['val_score']:.2f}",
                       f"{r.get('test_length', float('nan')):.2f} / {result.get('reference_length', float('nan')):.2f}",
                       f"{r['seconds_per_epoch']:.2f}"])
    body += [[row["name"], _number(row["test"])] + blank + ["-", _number(row["val"]), "-", "-"]
             for prefix in ("rule", "oracle") for row in rows if row["name"].startswith(prefix)]
    return markdown_table(header, body)


def _number(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.2f}"


# ---------------------------------------------------------------- CLI hooks
QUICK = {"captioning": Settings(train_size=1500, val_size=300, test_size=300, hidden=96, xent_epochs=10,
                                mixed_epochs=1, delta=2, beams=(1, 5)),
         "translation": Settings(train_size=1000, val_size=100, test_size=100, hidden=64, xent_epochs=2,
                                 mixed_epochs=1, T=13, delta=6, beams=(1, 5), extra={"max_target": 12}),
         "summarization": Settings(train_size=600, val_size=60, test_size=100, hidden=64, xent_epochs=2,
                                   mixed_epochs=1, T=11, delta=5, beams=(1, 5), extra={"max_source": 25})}
FULL = {"captioning": Settings(train_size=3000, val_size=500, test_size=500, hidden=128, xent_epochs=40,
                               mixed_epochs=3, delta=2),
        "translation": Settings(train_size=None, val_size=500, test_size=None, hidden=256, xent_epochs=10,
                                mixed_epochs=1, T=16, delta=3, batch_size=64),
        "summarization": Settings(train_size=None, val_size=500, test_size=None, hidden=256, xent_epochs=10,
                                  mixed_epochs=1, T=11, delta=2, batch_size=64)}


def settings_for(task: str, quick: bool, epochs: Optional[int] = None) -> Settings:
    base = (QUICK if quick else FULL)[task]
    settings = Settings(**{**base.__dict__})
    if epochs is not None:
        settings.xent_epochs = epochs
    return settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``graphrnn train mixer``."""
    parser.add_argument("--task", choices=TASKS, default="captioning", help="which experiment (default: captioning)")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--hidden", type=int, default=None, help="state size (default: the preset's)")
    own = parser.add_argument_group(
        "your own corpus (translation, summarization)",
        "--data PATH: a folder of line-aligned <split>.<lang>[.gz] files, or one source<TAB>target .tsv[.gz] "
        "file (extra columns ignored). Missing validation/test splits are cut from train at random (seeded). "
        "Without --source/--target a folder is read as the built-in corpus (Multi30k, AESLC).")
    own.add_argument("--source", default=None, metavar="XX", help="source language suffix (<split>.XX)")
    own.add_argument("--target", default=None, metavar="YY", help="target language suffix (<split>.YY)")
    own.add_argument("--splits", nargs=3, default=None, metavar=("TRAIN", "VAL", "TEST"),
                     help="file stems of the three splits (default: train val test)")
    own.add_argument("--tokenizer", choices=TOKENIZERS, default=None,
                     help="13a: sacrebleu's default (punctuation split off); whitespace: pre-tokenised text; "
                          "words: the built-in presets' (default: 13a)")
    own.add_argument("--lowercase", action="store_true", help="lower-case the text first (sacrebleu's -lc)")


def run_task(args: argparse.Namespace) -> str:
    """``graphrnn train mixer``: ``--epochs`` sets the shared XENT epochs; ``--quick`` the small sizes."""
    settings = settings_for(args.task, args.quick, args.epochs)
    settings.methods = tuple(getattr(args, "methods", METHODS))
    if getattr(args, "hidden", None):
        settings.hidden = args.hidden
    own = {key: getattr(args, key, None) for key in OWN_DATA_KEYS}
    if any(own.values()) and args.task == "captioning":
        raise ValueError("--source/--target/--splits/--tokenizer/--lowercase are for your own translation or "
                         "summarization corpus; captioning reads built-in digit images")
    settings.extra = {**settings.extra, **{key: value for key, value in own.items() if value}}
    task = load_task(args.task, settings, args.seed, getattr(args, "data", None))
    print(task.details)
    out = Path(args.out) if getattr(args, "out", None) else None
    result = run(task, settings, args.seed, out, getattr(args, "device", "cpu"), progress=True,
                 resume=bool(getattr(args, "resume", False)), log=print)
    where = f"{out / 'best.pt'}" if out is not None else "a temporary folder (give --out to keep it)"
    return (f"{task.details}\n\n{results_table(result)}\n\nbest on validation: {result['best_method'].upper()}, "
            f"saved as {where}")


def _copy_atomic(source: Path, target: Path) -> None:
    """Copies a checkpoint whole or not at all (``shutil.copy`` left a truncated file when killed mid-copy)."""
    data = source.read_bytes()
    write_atomic(target, lambda handle: handle.write(data), binary=True, durable=True)


def example_parser(description: str) -> argparse.ArgumentParser:
    """The options of the three ``examples/mixer_*.py`` scripts (one task each)."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=None, help="data location (default: under $GRAPHRNN_DATA)")
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs of the shared XENT stage")
    parser.add_argument("--train-size", type=int, default=None, help="training pairs (default: the preset's)")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, or auto (CUDA when present)")
    parser.add_argument("--out", type=Path, default=None, help="run directory (checkpoints; --resume continues)")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--no-progress", action="store_true")
    return parser


def run_example(name: str, args: argparse.Namespace) -> Dict:
    """Runs the example of task ``name`` with :func:`example_parser`'s options; prints and returns the result."""
    settings = settings_for(name, args.quick, args.epochs)
    settings.methods = tuple(args.methods)
    if args.train_size:
        settings.train_size = args.train_size
    task = load_task(name, settings, args.seed, args.data)
    print(task.details)
    result = run(task, settings, args.seed, args.out, args.device, progress=not args.no_progress,
                 resume=args.resume, log=print)
    print(results_table(result))
    print(f"total {result['seconds']:.0f} s; MIXER stages (epochs, s): {result['schedule']}")
    return result


def section(quick: bool, seed: int):
    """``graphrnn reproduce``: the three tables (captioning always; the corpora when present)."""
    from graphrnn.reproduce import Section

    parts, data = [], {}
    for name in TASKS:
        settings = settings_for(name, quick)
        try:
            task = load_task(name, settings, seed)
        except FileNotFoundError as error:
            parts.append(f"### {name}\n\nSkipped: {error}")
            data[name] = {"skipped": str(error)}
            continue
        result = run(task, settings, seed, device="auto")
        schedule = ", ".join(f"{e}x s={s}" for e, s in result["schedule"])
        parts.append(f"### {name} ({PAPER[name]['metric']})\n\n{task.details}. Hidden {settings.hidden}; "
                     f"epochs: {schedule} (all methods share the first stage); each method's epoch chosen on "
                     f"validation, test read once; seed {seed}.\n\n"
                     + results_table(result))
        data[name] = result
    return Section("Sequence-level training: XENT vs DAD vs E2E vs MIXER (Ranzato et al. 2016)",
                   "\n\n".join(parts), data)
