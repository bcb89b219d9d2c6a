"""is_terminal: progress bars only for a person at a terminal."""
import io

from graphrnn.terminal import is_terminal


def test_is_terminal_is_false_for_logs_pipes_and_closed_streams(tmp_path):
    assert not is_terminal(io.StringIO())
    log = open(tmp_path / "log.txt", "w")
    assert not is_terminal(log)
    log.close()
    assert not is_terminal(log)  # a closed stream raises ValueError in isatty
    assert not is_terminal(object())

    class Tty:
        def isatty(self):
            return True

    assert is_terminal(Tty())
