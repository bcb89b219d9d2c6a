"""Atomic writes: whole or not at all, with the permissions of any new file."""
import os
import stat

import pytest

from graphrnn.files import new_file_mode, write_atomic


def test_a_write_replaces_the_file_with_the_umasks_permissions(tmp_path):
    target = tmp_path / "sub" / "results.md"
    assert write_atomic(target, lambda stream: stream.write("héllo")) == target
    assert target.read_text(encoding="utf-8") == "héllo"
    assert stat.S_IMODE(target.stat().st_mode) == new_file_mode()  # not mkstemp's private 0600
    write_atomic(target, lambda stream: stream.write(b"\x00\x01"), binary=True, durable=True)
    assert target.read_bytes() == b"\x00\x01"


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "best.pt"
    target.write_text("old")

    def half_then_fail(stream):
        stream.write("half of the new")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, half_then_fail)
    assert target.read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["best.pt"]


def test_new_file_mode_follows_the_umask():
    old = os.umask(0o027)
    try:
        assert new_file_mode() == 0o640
    finally:
        os.umask(old)

