"""The AESLC reader on a tiny archive written in the published enron_subject_line format."""
import io
import os
import tarfile

import pytest

from graphrnn.datasets import Email, read_aeslc
from graphrnn.datasets.aeslc import parse_subject_file

TRAIN = {
    "b-person_inbox_2.subject": "Hi John,\nThe report is attached.\n@ 5:00pm works for me.\n\n@subject\nQ3 report\n",
    "a-person_sent_10.subject": "Please call me.\nThanks,\n\n@subject\nCall me\n",
}
DEV = {
    "c-person_inbox_7.subject": ("Meeting moved to Tuesday, room EB 3267.\n\n@subject\nMeeting\n\n"
                                 "@ann0\nmeeting moved\n\n@ann1\nnew meeting date\n\n@ann2\nmeeting on tuesday\n"),
}


def build_tree():
    files = {f"enron_subject_line/train/{name}": text for name, text in TRAIN.items()}
    files.update({f"enron_subject_line/dev/{name}": text for name, text in DEV.items()})
    files["README.md"] = "not an email\n"
    files["enron_subject_line/train/notes.txt"] = "ignored: not a .subject file\n"
    return files


def write_archive(path, prefix=""):
    with tarfile.open(path, "w:gz") as archive:
        for name, text in build_tree().items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(prefix + name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def write_folder(root):
    for name, text in build_tree().items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_archive_train_split_sorted_by_name(tmp_path):
    emails = read_aeslc(write_archive(tmp_path / "aeslc.tar.gz"), "train")
    assert [e.name for e in emails] == ["a-person_sent_10.subject", "b-person_inbox_2.subject"]
    assert emails[0] == Email(body="Please call me.\nThanks,", subject="Call me", references=[],
                              name="a-person_sent_10.subject")
    # a body line that merely starts with "@" is not a section marker
    assert emails[1].body == "Hi John,\nThe report is attached.\n@ 5:00pm works for me."
    assert emails[1].subject == "Q3 report"


def test_dev_split_has_three_references(tmp_path):
    (email,) = read_aeslc(write_archive(tmp_path / "aeslc.tar.gz", prefix="./"), "dev")
    assert email.subject == "Meeting" and email.body == "Meeting moved to Tuesday, room EB 3267."
    assert email.references == ["meeting moved", "new meeting date", "meeting on tuesday"]


def test_extracted_folder_and_limit_and_default_path(tmp_path, monkeypatch):
    root = write_folder(tmp_path / "extracted")
    from_archive = read_aeslc(write_archive(tmp_path / "aeslc.tar.gz"), "train")
    assert read_aeslc(root, "train") == from_archive
    assert read_aeslc(root / "enron_subject_line", "train") == from_archive
    assert read_aeslc(root, "train", limit=1) == from_archive[:1]
    monkeypatch.setenv("GRAPHRNN_DATA", str(tmp_path))
    assert read_aeslc(None, "dev") == read_aeslc(root, "dev")


def test_errors(tmp_path, monkeypatch):
    archive = write_archive(tmp_path / "aeslc.tar.gz")
    with pytest.raises(ValueError, match=r"split must be one of .* \(the validation split is 'dev'\)"):
        read_aeslc(archive, "val")
    with pytest.raises(FileNotFoundError, match="no enron_subject_line/test/\\*.subject files"):
        read_aeslc(archive, "test")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_aeslc(tmp_path / "missing.tar.gz", "train")
    with pytest.raises(FileNotFoundError, match="holds neither enron_subject_line/dev/ nor dev/"):
        read_aeslc(tmp_path, "dev")
    with pytest.raises(ValueError, match="limit must be None or a non-negative integer"):
        read_aeslc(archive, "train", limit=-1)
    with pytest.raises(ValueError, match="expected the email body, then a line '@subject'"):
        parse_subject_file("just a body\n@ann0\nx\n", "broken.subject")
    monkeypatch.delenv("GRAPHRNN_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="set GRAPHRNN_DATA"):
        read_aeslc(None, "train")


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isfile(os.path.join(os.environ.get("GRAPHRNN_DATA", "/nonexistent"), "aeslc.tar.gz")),
                    reason="the real AESLC archive is not under $GRAPHRNN_DATA")
def test_real_archive_dev_split():
    emails = read_aeslc(None, "dev")
    assert len(emails) == 1960  # the published count
    assert all(e.body and e.subject and len(e.references) == 3 for e in emails)


@pytest.mark.parametrize("variant", ["crlf", "bom", "old Mac cr"])
def test_windows_and_other_editors_files_parse_as_the_plain_file(variant):
    for text in [*TRAIN.values(), *DEV.values()]:
        changed = {"crlf": text.replace("\n", "\r\n"), "bom": "\ufeff" + text, "old Mac cr": text.replace("\n", "\r")}
        assert parse_subject_file(changed[variant]) == parse_subject_file(text)


@pytest.mark.parametrize("content", [b"body,subject\nhello,hi\n", b"\x1f\x8b\x08\x00 truncated gzip"])
def test_a_file_that_is_not_a_tar_archive_is_named_clearly(tmp_path, content):
    """It was tarfile's own ReadError ('file could not be opened successfully') from deep inside."""
    path = tmp_path / "aeslc.tar.gz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"aeslc.tar.gz is not a readable tar archive .*pass AESLC's tar"):
        read_aeslc(path, "train")
