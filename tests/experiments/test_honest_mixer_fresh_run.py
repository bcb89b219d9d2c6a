"""A fresh MIXER run chooses <out>/best.pt among its own methods, never among an older run's leftovers."""
import json

import torch

from graphrnn.data.vocab import Vocab
from graphrnn.experiments import mixer
from graphrnn.models.seq2seq import seq2seq_pair


def _task(seed):
    """Copy a one-hot class into a 2-word caption (train / val / test drawn from ``seed``)."""
    vocab = Vocab(["a", "b", "c"])
    g = torch.Generator().manual_seed(seed)
    pairs = []
    for _ in range(64):
        k = int(torch.randint(0, 3, (1,), generator=g))
        pairs.append(seq2seq_pair(None, torch.tensor([4 + k, 4 + (k + 1) % 3, Vocab.eos]), context=torch.eye(3)[k]))
    texts = [" ".join(vocab.decode(p.tgt.tolist())) for p in pairs]

    def metric(hyps, refs):
        return 100.0 * sum(h == r for h, r in zip(hyps, refs)) / len(refs)

    def reward(hyps, refs):
        return torch.tensor([float(h == r) for h, r in zip(hyps, refs)])

    return mixer.TaskData("captioning", pairs[:48], pairs[48:56], pairs[56:], vocab, 3, "vector", None, reward,
                          metric, 3, {"val": texts[48:56], "test": texts[56:]}, "copy")


def _settings(methods):
    return mixer.Settings(hidden=8, xent_epochs=1, mixed_epochs=1, delta=1, batch_size=8, beams=(1,), lr=2e-2,
                          methods=methods)


def _claim_a_high_score(folder):
    """The older run's DAD folder, as if it had scored 1000 on its (other) validation set."""
    log = folder / "metrics.jsonl"
    entries = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    entries[-1]["val_score"] = 1000.0
    log.write_text("".join(json.dumps(entry) + "\n" for entry in entries))


def test_a_fresh_run_ignores_the_methods_an_older_run_left_in_the_folder(tmp_path):
    mixer.run(_task(seed=1), _settings(("xent", "dad")), seed=1, out=tmp_path)  # another seed's run
    _claim_a_high_score(tmp_path / "dad")
    fresh = mixer.run(_task(seed=0), _settings(("mixer",)), seed=0, out=tmp_path)  # not resumed
    assert fresh["best_method"] == "mixer"
    assert (tmp_path / "best.pt").read_bytes() == (tmp_path / "mixer" / "best.pt").read_bytes()


def test_a_resumed_run_still_weighs_the_earlier_methods(tmp_path):
    mixer.run(_task(seed=0), _settings(("xent", "dad")), seed=0, out=tmp_path)
    _claim_a_high_score(tmp_path / "dad")
    resumed = mixer.run(_task(seed=0), _settings(("mixer",)), seed=0, out=tmp_path, resume=True)
    assert resumed["best_method"] == "dad"
    assert (tmp_path / "best.pt").read_bytes() == (tmp_path / "dad" / "best.pt").read_bytes()
