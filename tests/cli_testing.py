"""Shared helpers of the command-line tests: run ``graphrnn`` in-process and read its one error line."""
from graphrnn import cli


def run_cli(capsys, *argv):
    """``(exit status, stdout, stderr)`` of ``graphrnn *argv`` run in this process."""
    status = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def one_error_line(err):
    """The single line of ``err``, asserting there is exactly one and no traceback."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]
