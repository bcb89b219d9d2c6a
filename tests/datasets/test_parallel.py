"""Own parallel corpora: TSV (Tatoeba-style) and folders of aligned files; one-line errors naming the line."""
import gzip

import pytest

from graphrnn.datasets.parallel import load_parallel, read_aligned_split, read_tsv_pairs
from graphrnn.datasets.text import DataFormatError


def write(path, text, compress=False):
    if compress:
        with gzip.open(path, "wt", encoding="utf-8") as stream:
            stream.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_tsv_extra_columns_are_ignored(tmp_path):
    path = write(tmp_path / "pairs.tsv", "Go.\tVa !\tCC-BY 2.0 (France) Attribution: tatoeba.org #2877272\n"
                                         "Hi.\tSalut !\tCC-BY 2.0\n")
    assert read_tsv_pairs(path) == [("Go.", "Va !"), ("Hi.", "Salut !")]


@pytest.mark.parametrize("text, line, message", [
    ("a\tb\nno tab here\n", 2, "expected 'source<TAB>target', found no tab"),
    ("a\tb\n\nc\td\n", 2, "empty line"),
    ("a\tb\n\tonly target\n", 2, r"the source \(column 1\) is empty"),
    ("a\t  \n", 1, r"the target \(column 2\) is empty"),
])
def test_tsv_errors_name_the_line(tmp_path, text, line, message):
    path = write(tmp_path / "pairs.tsv", text)
    with pytest.raises(DataFormatError, match=f"pairs.tsv:{line}: {message}") as error:
        read_tsv_pairs(path)
    assert "\n" not in str(error.value)


def test_tsv_wrong_encoding_names_the_line(tmp_path):
    (tmp_path / "pairs.tsv").write_bytes("a\tb\nc\td\xe9\n".encode("latin-1"))
    with pytest.raises(DataFormatError, match=r"pairs.tsv:2: byte 0xe9 is not UTF-8"):
        read_tsv_pairs(tmp_path / "pairs.tsv")


def test_folder_of_aligned_files_plain_and_gzip(tmp_path):
    write(tmp_path / "train.xx.gz", "a b\nc\n", compress=True)
    write(tmp_path / "train.yy", "B A\nC\n")
    assert read_aligned_split(tmp_path, "train", "xx", "yy") == [("a b", "B A"), ("c", "C")]


def test_mismatched_line_counts_name_the_first_missing_line(tmp_path):
    write(tmp_path / "train.xx", "a\nb\nc\n")
    write(tmp_path / "train.yy", "A\nB\n")
    with pytest.raises(DataFormatError, match=r"train.yy:3: the file ends here but train.xx has 3 lines"):
        read_aligned_split(tmp_path, "train", "xx", "yy")


def test_empty_line_in_an_aligned_file(tmp_path):
    write(tmp_path / "train.xx", "a\n\nc\n")
    write(tmp_path / "train.yy", "A\nB\nC\n")
    with pytest.raises(DataFormatError, match=r"train.xx:2: empty line"):
        read_aligned_split(tmp_path, "train", "xx", "yy")


def test_missing_splits_are_cut_from_train_with_a_seed_and_stated(tmp_path):
    path = write(tmp_path / "pairs.tsv", "".join(f"s{i}\tt{i}\n" for i in range(50)))
    corpus = load_parallel(path, seed=3)
    sizes = {name: len(pairs) for name, pairs in corpus.splits.items()}
    assert sizes == {"train": 41, "val": 4, "test": 5}  # a tenth of 50, then round(4.5) = 4 of the other 45
    every = corpus.splits["train"] + corpus.splits["val"] + corpus.splits["test"]
    assert sorted(every) == sorted((f"s{i}", f"t{i}") for i in range(50))
    assert any("no test split" in note and "seed 3" in note for note in corpus.notes)
    assert any("no val split" in note for note in corpus.notes)
    assert load_parallel(path, seed=3).splits == corpus.splits
    assert load_parallel(path, seed=4).splits != corpus.splits


def test_folder_with_named_splits_reads_them_and_cuts_only_the_missing_one(tmp_path):
    for split, count in (("learn", 20), ("dev", 3)):
        write(tmp_path / f"{split}.de", "".join(f"d{i}\n" for i in range(count)))
        write(tmp_path / f"{split}.en", "".join(f"e{i}\n" for i in range(count)))
    corpus = load_parallel(tmp_path, "de", "en", splits=("learn", "dev", "exam"))
    assert len(corpus.splits["val"]) == 3 and corpus.splits["val"][0] == ("d0", "e0")
    assert len(corpus.splits["test"]) == 2 and len(corpus.splits["train"]) == 18
    assert any("no exam split" in note for note in corpus.notes)


def test_bad_arguments(tmp_path):
    write(tmp_path / "train.de", "a\n")
    with pytest.raises(ValueError, match="--source XX --target YY"):
        load_parallel(tmp_path)
    with pytest.raises(ValueError, match="different languages"):
        load_parallel(tmp_path, "de", "de")
    with pytest.raises(FileNotFoundError, match="train.en"):
        load_parallel(tmp_path, "de", "en")
    with pytest.raises(ValueError, match="three different split names"):
        load_parallel(tmp_path, "de", "en", splits=("train", "train", "test"))
    with pytest.raises(ValueError, match="not .tsv"):
        load_parallel(tmp_path / "train.de")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_parallel(tmp_path / "nothing.tsv")


def test_harmless_variants_give_the_plain_pairs(tmp_path):
    pairs = [(f"Go {i} 中文.", f"Va {i} ! 😀") for i in range(12)]
    plain = load_parallel(write(tmp_path / "pairs.tsv", "".join(f"{s}\t{t}\tCC-BY\n" for s, t in pairs)), seed=0)
    variant = tmp_path / "Export Tatoeba.TSV.GZ"  # a space, upper case, Windows line ends, a mark, trailing blanks
    text = "\ufeff" + "".join(f"{s} \t{t}\t\r\n" for s, t in pairs) + "\r\n \r\n"
    variant.write_bytes(gzip.compress(text.encode("utf-8")))
    assert load_parallel(variant, seed=0).splits == plain.splits
    assert sorted(sum(plain.splits.values(), [])) == sorted(pairs)


def test_aligned_files_with_crlf_on_one_side_and_trailing_blank_lines_stay_aligned(tmp_path):
    write(tmp_path / "train.xx", "a b\nc\n")
    write(tmp_path / "train.yy", "B A\nC\n")
    plain = read_aligned_split(tmp_path, "train", "xx", "yy")
    (tmp_path / "train.xx").write_bytes(b"\xef\xbb\xbfa b\r\nc\r\n")
    (tmp_path / "train.yy").write_bytes(b"B A\nC\n\n\n")
    (tmp_path / "README.md").write_text("unrelated file")
    assert read_aligned_split(tmp_path, "train", "xx", "yy") == plain == [("a b", "B A"), ("c", "C")]
