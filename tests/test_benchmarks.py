"""benchmarks/ and graphrnn.bench: every script runs end to end at a tiny size (so none can rot), its
tables are well formed and its correctness columns hold; the timing and device helpers; the
list of tests that need CUDA. On a machine with a GPU the same scripts also run with --device cuda."""
import argparse
import contextlib
import functools
import io
import re
import runpy
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from graphrnn import bench
from graphrnn.nn import DRNN, ChainRNN, StructureInferenceMachine

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
CPU_AND_CUDA = ["cpu", pytest.param("cuda", marks=needs_cuda)]

#: script -> tiny arguments (seconds in all on one CPU thread)
TINY_ARGS = {
    "bench_chain.py": ["--batch", "3", "--length", "4", "--min-length", "2", "--input", "5", "--hidden", "6",
                       "--repeats", "1", "--cells", "lstm", "gru"],
    # 2 trees have <= 10 nodes (recursion timed), 8 trees >= 16 (recursion skipped)
    "bench_tree.py": ["--trees", "2", "8", "--min-nodes", "2", "--max-nodes", "5", "--input", "4", "--hidden", "5",
                      "--repeats", "1", "--recursion-max-nodes", "12"],
    "bench_levels.py": ["--sizes", "300", "--repeats", "1"],
    "bench_sim.py": ["--scenes", "3", "--persons", "3", "--hidden", "8", "--repeats", "1"],
    "bench_drnn.py": ["--trees", "2", "--generate", "3", "--hidden", "6", "--repeats", "1"],
    "bench_hmm.py": ["--sequences", "4", "--length", "5", "--repeats", "1", "--threads", "0"],
    "bench_beam.py": ["--batch", "2", "--vocab", "12", "--embed", "6", "--hidden", "6", "--max-len", "5",
                      "--beams", "1", "2", "--repeats", "1", "--eos-after", "2"],
    "bench_ops.py": ["--trees", "3"],
    "bench_dagnn.py": ["--graphs", "2", "--min-nodes", "3", "--max-nodes", "5", "--input", "4", "--hidden", "5",
                       "--repeats", "1"],
}


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread (tiny ops on a shared machine), restored afterwards (bench_hmm sets its own)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def run_script(name: str, args) -> str:
    """Runs ``benchmarks/<name>`` as ``python benchmarks/<name> <args>`` would, in this process; returns stdout."""
    argv, threads = sys.argv, torch.get_num_threads()
    sys.argv = [name, *args]
    try:
        with contextlib.redirect_stdout(io.StringIO()) as out:
            runpy.run_path(str(BENCHMARKS / name), run_name="__main__")
    finally:
        sys.argv = argv
        torch.set_num_threads(threads)
    return out.getvalue()


def tiny_output(name: str, device: str = "cpu") -> str:
    """The output of one tiny run of a script (once per test session)."""
    if not (BENCHMARKS / name).exists():
        pytest.skip(f"{name} is not in this checkout")
    return _tiny_output(name, device)


@functools.lru_cache(maxsize=None)
def _tiny_output(name: str, device: str) -> str:
    torch.set_num_threads(1)
    return run_script(name, TINY_ARGS[name] + ["--device", device])


def markdown_tables(text: str) -> list:
    """Every markdown table of ``text`` as a list of ``{header: cell}`` rows."""
    tables, lines = [], text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("|---") and i > 0:
            header = [c.strip() for c in lines[i - 1].strip().strip("|").split(" | ")]
            rows = []
            for row in lines[i + 1:]:
                if not row.startswith("| "):
                    break
                cells = [c.strip() for c in row.strip().strip("|").split(" | ")]
                assert len(cells) == len(header), f"ragged row {row!r} under {header}"
                rows.append(dict(zip(header, cells)))
            tables.append(rows)
    return tables


def ratios(rows) -> list:
    return [cell for row in rows for key, cell in row.items() if ("ratio" in key or "speed-up" in key) and cell != "-"]


# ------------------------------------------------------------------ the scripts
def test_every_script_is_covered():
    scripts = {path.name for path in BENCHMARKS.glob("bench_*.py")}
    assert scripts <= set(TINY_ARGS), f"add tiny arguments for {sorted(scripts - set(TINY_ARGS))}"


@pytest.mark.parametrize("device", CPU_AND_CUDA)
@pytest.mark.parametrize("name", sorted(TINY_ARGS))
def test_script_runs_at_a_tiny_size(name, device):
    out = tiny_output(name, device)
    tables = markdown_tables(out)
    assert tables and all(tables), f"no table in the output of {name}:\n{out}"
    if name != "bench_dagnn.py":  # another's script: it prints its own header line
        expected = torch.cuda.get_device_name() if device == "cuda" else "device cpu"
        assert expected in out and f"torch {torch.__version__}" in out
    for cell in ratios([row for table in tables for row in table]):
        assert re.fullmatch(r"\d+(\.\d+)?x", cell), f"{name}: ratio cell {cell!r}"
    for row in (row for table in tables for row in table):
        if "max abs diff" in row:
            assert float(row["max abs diff"]) < 1e-4, f"{name}: {row}"


def test_chain_rows_match_torch_with_and_without_plans():
    (rows,) = markdown_tables(tiny_output("bench_chain.py"))
    assert [row["cell"] for row in rows] == ["lstm", "gru"]
    assert all(len(ratios([row])) == 4 for row in rows)  # fused, fused + plan, generic, generic + plan
    assert all(float(row["max abs diff"]) < 1e-5 for row in rows)


def test_tree_table_skips_the_recursion_only_on_large_batches():
    small, large = markdown_tables(tiny_output("bench_tree.py"))
    assert len(small) == len(large) == 3
    assert all(row["recursion fwd ms"] != "-" for row in small)
    assert all(row["recursion fwd ms"] == "-" and row["speed-up fwd"] == "-" for row in large)
    assert all(float(row["max abs diff"]) < 1e-5 for row in small + large)


def test_drnn_and_beam_agree_with_their_anchors():
    (drnn,) = markdown_tables(tiny_output("bench_drnn.py"))
    assert all(float(row["check"].split()[-1]) < 1e-5 for row in drnn[:2])
    assert drnn[2]["check"] == "identical trees: True"
    beams, _ = markdown_tables(tiny_output("bench_beam.py"))
    assert all(row["same best hypothesis"] == "2/2" for row in beams)


def test_ops_reports_no_host_sync_given_a_plan():
    out = tiny_output("bench_ops.py")
    (rows,) = markdown_tables(out)
    assert all(row["host syncs"] == "0" for row in rows if "plan given" in row["step"])
    assert "the aten events of torch.nn.LSTM" in out and "ops per level" in out


def test_levels_of_one_chain_are_its_length():
    (rows,) = markdown_tables(tiny_output("bench_levels.py"))
    assert next(row for row in rows if row["graph"] == "one chain")["levels"] == "300"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_cuda_is_refused_where_there_is_none(capsys):
    with pytest.raises(SystemExit):
        run_script("bench_chain.py", ["--device", "cuda"])
    assert "sees no CUDA GPU" in capsys.readouterr().err


def test_anchors_build_nothing_on_the_cpu():
    """The anchors' own tensors follow their inputs' device. On ``meta`` (shapes only), a tensor built on the
    CPU and mixed in raises, as it would on CUDA (bench_sim's ``torch.eye`` did)."""
    meta = torch.device("meta")
    sim = runpy.run_path(str(BENCHMARKS / "bench_sim.py"))
    graphs, person_x, mask, scene_x = sim["padded_scenes"]([2, 3], 4, 4, torch.Generator().manual_seed(0))
    model = StructureInferenceMachine(4, 4, 8, 3, 3, num_iterations=2).to(meta)
    actions, activities = sim["dense_sim"](model, person_x.to(meta), mask.to(meta), scene_x.to(meta))[-1]
    assert actions.device == activities.device == meta
    drnn = runpy.run_path(str(BENCHMARKS / "bench_drnn.py"))
    trees = [([1, 2, 3], [-1, 0, 0]), ([4, 5], [-1, 0])]
    assert drnn["recursive_step"](DRNN(28, 6).to(meta), trees, torch.zeros(2, 6, device=meta)).device == meta
    hmm = runpy.run_path(str(BENCHMARKS / "bench_hmm.py"))
    params = torch.zeros(3, device=meta), torch.zeros(3, 3, device=meta), torch.zeros(3, 4, device=meta)
    assert hmm["loop_log_likelihood"](*params, [torch.tensor([0, 1, 2], device=meta)]).device == meta
    layer, x = ChainRNN(3, 4).to(meta), torch.zeros(3, 3, device=meta)
    assert bench.node_by_node(layer, x, [0, 1, 2], [[], [0], [0, 1]]).device == meta
    with pytest.raises(RuntimeError, match="device"):  # the check itself: a CPU tensor mixed in is caught
        mask.to(meta)[:, :, None] & ~torch.eye(mask.size(1), dtype=torch.bool)[None]


# ------------------------------------------------------------------ graphrnn.bench helpers
def test_interleaved_medians_syncs_around_every_timed_call():
    events = []
    medians = bench.interleaved_medians({"a": lambda: events.append("a"), "b": lambda: events.append("b")},
                                        repeats=3, warmup=1, sync=lambda: events.append("sync"))
    assert set(medians) == {"a", "b"} and all(t >= 0 for t in medians.values())
    assert events[:2] == ["a", "b"]  # warm-up, not timed
    assert events[2:] == ["sync", "a", "sync", "sync", "b", "sync"] * 3


@pytest.mark.parametrize("repeats, warmup", [(0, 1), (2, -1)])
def test_interleaved_medians_rejects_bad_counts(repeats, warmup):
    with pytest.raises(ValueError, match="repeats >= 1 and warmup >= 0"):
        bench.interleaved_medians({"a": lambda: None}, repeats=repeats, warmup=warmup)


def test_bench_device_and_synchronizer():
    assert bench.bench_device("cpu") == torch.device("cpu")
    assert bench.synchronizer("cpu")() is None
    with pytest.raises(ValueError, match=r"one of \('cpu', 'cuda'\), got device 'tpu'"):
        bench.bench_device("tpu")
    with pytest.raises(ValueError, match="one of"):
        bench.bench_device("meta")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="sees no CUDA GPU.*--device cpu"):
            bench.bench_device("cuda")
        with pytest.raises(ValueError, match="CUDA graphs need --device cuda|sees no CUDA GPU"):
            bench.tree_cuda_graphs(trees=2, device="cpu")


def test_device_option_parses_and_refuses():
    parser = argparse.ArgumentParser()
    bench.add_device_argument(parser)
    assert parser.parse_args([]).device == "cpu"
    with pytest.raises(SystemExit):
        parser.parse_args(["--device", "tpu"])


def test_planners_of_reads_the_models_planners():
    class WithPlanners(torch.nn.Module):
        def planners(self):
            return {"plan": "planner"}

    assert bench.planners_of(WithPlanners()) == {"plan": "planner"}
    assert bench.planners_of(torch.nn.Linear(2, 2)) is None


def test_variable_length_chains_match_packed_torch():
    header, rows = bench.chain_vs_torch(cells=("gru",), batch=4, length=6, input_size=3, hidden=5, repeats=1,
                                        min_length=1)
    assert header[-1] == "max abs diff" and float(rows[0][-1]) < 1e-5
    with pytest.raises(ValueError, match="min_length must be >= 1"):
        bench.chain_vs_torch(cells=("gru",), batch=2, length=3, input_size=2, hidden=2, repeats=1, min_length=0)


def test_unknown_tree_setting_is_named():
    with pytest.raises(ValueError, match=r"unknown tree settings \['sideways'\]"):
        bench.tree_vs_recursion(trees=2, settings=["sideways"])


@needs_cuda
def test_tree_forward_is_captured_in_a_cuda_graph():
    header, rows = bench.tree_cuda_graphs(trees=4, min_nodes=2, max_nodes=5, input_size=4, hidden=5, repeats=2)
    forward, training = (dict(zip(header, row)) for row in rows)
    assert "capture failed" not in forward["CUDA graph ms"], forward
    assert float(forward["max abs diff"]) < 1e-5
    assert training["ratio"] == "-" or float(training["max abs diff"]) < 1e-5


# ------------------------------------------------------------------ cuda_tests.py
def test_cuda_tests_lists_the_tests_that_skip_without_cuda(tmp_path):
    listing = runpy.run_path(str(BENCHMARKS / "cuda_tests.py"))
    (tmp_path / "test_a.py").write_text(textwrap.dedent('''
        import pytest, torch
        needs_gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="GPU")

        @pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
        def test_marked(): pass

        @needs_gpu
        def test_by_name(): pass

        @pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=needs_gpu)])
        def test_param(device): pass

        @pytest.mark.skipif(torch.cuda.is_available(), reason="without CUDA only")
        def test_without_cuda(): pass

        def test_skips_inside():
            if not torch.cuda.is_available():
                pytest.skip("needs CUDA")

        def test_plain(): assert torch.cuda.is_available() in (True, False)

        class TestGroup:
            @needs_gpu
            def test_method(self): pass

            def test_other(self): pass
    '''))
    (tmp_path / "test_b.py").write_text("import pytest\npytestmark = pytest.mark.skipif(True, reason='no cuda')\n"
                                        "def test_one(): pass\n")
    (tmp_path / "helper.py").write_text("@needs_cuda\ndef test_not_a_test_file(): pass\n")
    found = listing["cuda_tests"](tmp_path)
    a, b = tmp_path / "test_a.py", tmp_path / "test_b.py"
    assert found == [f"{a}::test_marked", f"{a}::test_by_name", f"{a}::test_param", f"{a}::test_skips_inside",
                     f"{a}::TestGroup::test_method", str(b)]


def test_gpu_check_script_names_every_benchmark():
    script = (BENCHMARKS / "gpu_check.sh").read_text()
    for name in TINY_ARGS:
        assert f"$B/{name}" in script, f"gpu_check.sh does not run {name}"
    assert script.count("--device \"$DEVICE\"") >= len(TINY_ARGS)
