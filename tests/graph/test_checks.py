"""device_assert: the CPU reads the flag, the explain callable runs only on a failure."""
import pytest
import torch

from graphrnn.graph.checks import device_assert


def test_a_true_condition_passes_without_calling_explain():
    def explain():
        raise AssertionError("explain must not run when the check passes (it may read values)")

    device_assert(torch.tensor(True), "never shown", explain)
    device_assert(torch.ones(3, dtype=torch.bool).all(), "never shown")


def test_a_false_condition_raises_the_message_or_what_explain_says():
    with pytest.raises(ValueError, match="^the generic message$"):
        device_assert(torch.tensor(False), "the generic message")
    with pytest.raises(ValueError, match="^node 7 is bad$"):
        device_assert(torch.tensor([1, -1]).ge(0).all(), "a node is bad", lambda: "node 7 is bad")


def test_the_cpu_check_runs_no_host_sync_op():
    from graphrnn.bench import host_sync_ops

    assert host_sync_ops(lambda: device_assert(torch.arange(4).ge(0).all(), "negative")) == []
