"""MIXER's translation and summarization tasks on your own corpus (no training: what load_task builds)."""
import re

import pytest

from graphrnn.experiments import mixer


def own(tmp_path, lines, **extra):
    path = tmp_path / "pairs.tsv"
    path.write_text("".join(f"{s}\t{t}\n" for s, t in lines), encoding="utf-8")
    settings = mixer.settings_for("translation", quick=True)
    settings.extra = {**settings.extra, **extra}
    return path, settings


def test_tsv_task_keeps_every_pair_and_records_how_text_was_read(tmp_path):
    lines = [(f"Hello, World {i}!", f"HALLO {i} WELT") for i in range(40)]
    path, settings = own(tmp_path, lines, source="en", target="xx", lowercase=True)
    task = mixer.load_task("translation", settings, seed=0, data=path)
    assert (len(task.train), len(task.val), len(task.test)) == (32, 4, 4)  # nothing dropped, 4 + 4 cut
    assert "hello" in task.source_vocab.stoi and "Hello" not in task.source_vocab.stoi  # --lowercase
    assert "no test split" in task.details and "lower-cased" in task.details and "en -> xx" in task.details
    assert task.max_len == 4 and task.max_source is None and not task.builtin  # longest target + <eos>
    state = mixer.inference_state(task, settings)
    assert state["text"] == {"tokenizer": "13a", "lowercase": True} and state["kind"] == "mixer"
    assert state["source_vocab"] == task.source_vocab.to_list() and state["model_settings"]["source"] == "tokens"
    assert quick_presets_unchanged()


def quick_presets_unchanged():
    return all(key not in mixer.QUICK[name].extra for name in mixer.QUICK for key in mixer.OWN_DATA_KEYS)


def test_copy_the_source_baseline_is_100_on_an_identity_language_and_0_on_a_disjoint_one(tmp_path):
    same = [(f"a b c{i % 3} d", f"a b c{i % 3} d") for i in range(30)]
    path, settings = own(tmp_path, same, source="xx", target="yy", tokenizer="whitespace")
    task = mixer.load_task("translation", settings, data=path)
    assert mixer.baseline_scores(task, "test")["trivial"] == pytest.approx(100.0)
    upper = [(f"a b c{i % 3} d", f"A B C{i % 3} D") for i in range(30)]
    path, settings = own(tmp_path, upper, source="xx", target="yy", tokenizer="whitespace")
    task = mixer.load_task("translation", settings, data=path)
    assert mixer.baseline_scores(task, "test")["trivial"] == 0.0  # cased BLEU
    path, settings = own(tmp_path, upper, source="xx", target="yy", tokenizer="whitespace", lowercase=True)
    task = mixer.load_task("translation", settings, data=path)
    assert mixer.baseline_scores(task, "test")["trivial"] == pytest.approx(100.0)  # --lowercase: sacrebleu -lc


def test_summarization_lead_baseline_takes_the_median_training_subject_length(tmp_path):
    lines = [(f"w{i} x{i} y{i} z{i}", " ".join(["s"] * (1 + i % 3))) for i in range(40)]  # subjects of 1-3 words
    path, settings = own(tmp_path, lines, source="body", target="subject", tokenizer="whitespace")
    task = mixer.load_task("summarization", settings, data=path)
    assert task.baseline[0].startswith("lead-2")
    outputs = task.baseline[1]("test")
    assert len(outputs) == len(task.test) and all(re.fullmatch(r"w(\d+) x\1", text) for text in outputs)


def test_summarization_from_a_folder_cuts_sources_and_names_the_missing_split(tmp_path):
    (tmp_path / "train.body").write_text("".join(" ".join(["word"] * 40) + f" {i}\n" for i in range(20)))
    (tmp_path / "train.subject").write_text("".join(f"subject {i}\n" for i in range(20)))
    settings = mixer.settings_for("summarization", quick=True)
    settings.extra = {**settings.extra, "source": "body", "target": "subject"}
    task = mixer.load_task("summarization", settings, data=tmp_path)
    assert task.max_source == 25 and all(pair.src.numel() == 25 for pair in task.train)
    assert "no val split" in task.details and "no test split" in task.details


def test_without_languages_a_folder_is_the_builtin_corpus(tmp_path):
    settings = mixer.settings_for("translation", quick=True)
    with pytest.raises(FileNotFoundError, match="train.de"):
        mixer.load_task("translation", settings, data=tmp_path)  # Multi30k's layout: train.de / train.en
    settings.extra = {**settings.extra, "source": "xx"}
    with pytest.raises(ValueError, match="--source XX --target YY"):
        mixer.load_task("translation", settings, data=tmp_path)
    with pytest.raises(FileNotFoundError, match="give its folder or .tsv file with --data PATH"):
        mixer.load_task("translation", settings)


def test_short_outputs_clamp_T_and_delta_so_every_method_runs(tmp_path):
    from test_mixer import toy_settings, toy_task  # tests/experiments is on the path (pytest rootdir-less import)

    result = mixer.run(toy_task(), toy_settings(T=9, delta=5, methods=("dad", "mixer")), seed=0, out=tmp_path)
    assert result["schedule"] == [(2, 3), (1, 1)]  # T = 3 (the longest output), delta = 2
    assert [r["method"] for r in result["rows"]] == ["dad", "mixer"]
    assert (tmp_path / "best.pt").is_file() and result["best_method"] in ("dad", "mixer")


def test_captioning_refuses_a_corpus_instead_of_ignoring_it(tmp_path):
    """graphrnn train mixer --data X kept the default --task captioning, trained on the digits and exited 0."""
    with pytest.raises(ValueError, match="captioning reads built-in digit images and takes no --data"):
        mixer.load_task("captioning", mixer.settings_for("captioning", quick=True), data=tmp_path)


def test_references_the_metric_refuses_stop_the_task_before_training(tmp_path):
    # rouge_score's tokenisation drops Cyrillic; sacrebleu reads it
    lines = [(f"текст письма {i} о встрече", f"встреча {i} завтра в офисе") for i in range(40)]
    path, settings = own(tmp_path, lines, source="body", target="subject", tokenizer="whitespace")
    refused = r"summarization: the val references cannot be scored: .*not a-z or 0-9"
    with pytest.raises(ValueError, match=refused):
        mixer.load_task("summarization", settings, data=path)
    task = mixer.load_task("translation", settings, data=path)  # sacrebleu reads any script
    references = task.references["test"]
    assert task.metric(references, references) == pytest.approx(100.0)
