"""run_directory: the given folder, or a temporary one that is gone afterwards."""
from graphrnn.experiments.common import run_directory


def test_run_directory_keeps_a_given_folder(tmp_path):
    with run_directory(str(tmp_path / "out")) as out:
        assert out == tmp_path / "out"
    with run_directory(tmp_path) as out:
        (out / "kept.txt").write_text("x")
    assert (tmp_path / "kept.txt").is_file()


def test_run_directory_without_a_folder_removes_its_temporary_one():
    with run_directory(None) as out:
        assert out.is_dir()
        (out / "checkpoint.pt").write_text("x")
    assert not out.exists()
