"""The main job: run every registered experiment and write ``results.md`` / ``results.json``.

Each experiment is a function ``(quick: bool, seed: int) -> Section``; later parts of the
library (the paper reproductions) add theirs to :data:`EXPERIMENTS`.
"""
from __future__ import annotations

import importlib
import json
import os
import platform
import time
from pathlib import Path
from typing import Callable, Dict, List, NamedTuple

import torch

from graphrnn import bench, files

__all__ = ["Section", "EXPERIMENTS", "run_all", "write_atomic"]


class Section(NamedTuple):
    title: str
    markdown: str
    data: dict


def core_speed(quick: bool, seed: int) -> Section:
    """The core layer against its anchors (torch.nn.LSTM, a node-by-node recursion)."""
    chain = bench.chain_vs_torch(repeats=5 if quick else 20, seed=seed)
    trees = bench.tree_vs_recursion(trees=64 if quick else 256, repeats=2 if quick else 5, seed=seed)
    sizes = (125_000, 250_000) if quick else (125_000, 250_000, 500_000, 1_000_000, 2_000_000)
    levels = bench.levels_scaling(sizes, repeats=1 if quick else 3, seed=seed)
    text = "\n\n".join([
        "ChainRNN vs torch.nn (B=64, T=50, D=64, H=128, forward+backward; goal for LSTM <= 1.25x):",
        bench.markdown_table(*chain),
        f"Topological pass over {64 if quick else 256} random trees of 10-30 nodes vs a node-by-node "
        "recursion (goal >= 30x):",
        bench.markdown_table(*trees),
        "topological_levels (goal <= 2 s at 1M nodes, linear):",
        bench.markdown_table(*levels),
    ])
    data = {name: [dict(zip(table[0], row)) for row in table[1]]
            for name, table in (("chain", chain), ("trees", trees), ("levels", levels))}
    return Section("Core: recurrent message passing vs its anchors", text, data)


def sequence_digits(quick: bool, seed: int) -> Section:
    """FeedForward vs Elman RNN vs GRU vs LSTM on digits read row by row."""
    from graphrnn.experiments.digits import results_table, run

    epochs = 15 if quick else 30
    rows = run(epochs=epochs, seed=seed)
    text = (f"scikit-learn digits, 8 rows of 8 pixels per image as a chain graph; 1,146 train / 202 validation / "
            f"449 test; {epochs} epochs, hidden 64, Adam 5e-3 with cosine decay; the epoch is chosen on validation "
            f"and test is read once.\n\n{results_table(rows)}")
    return Section("Sequence classification: digits read row by row", text, {"rows": rows})


def sequence_memory(quick: bool, seed: int) -> Section:
    """Remember the first symbol across growing delays: Elman RNN vs GRU vs LSTM."""
    from graphrnn.experiments.memory import accuracy_table, gradient_table, gradient_vs_lag, run

    delays = (5, 20) if quick else (5, 20, 50, 100)
    rows = run(delays=delays, train_size=1000 if quick else 2000, test_size=300 if quick else 500,
               epochs=10 if quick else 20, seed=seed)
    longest = max(delays)
    norms = gradient_vs_lag({r["cell"]: r["model"] for r in rows if r["delay"] == longest and "model" in r},
                            length=longest + 1, seed=seed)
    text = (f"Test accuracy at each delay, every model at its last epoch (no selection), beside the majority "
            f"class and the Bayes-optimal rule:\n\n{accuracy_table(rows)}\n\n"
            f"Gradient norm ||dL_T/dx_t|| against the lag, models trained at delay {longest}:\n\n"
            f"{gradient_table(norms)}")
    data = {"rows": [{k: v for k, v in r.items() if k != "model"} for r in rows],
            "gradient_norms": {n: v.tolist() for n, v in norms.items()}}
    return Section("Long-range memory: remember the first symbol", text, data)


def sequence_hmm_tagging(quick: bool, seed: int) -> Section:
    """Labelling HMM-sampled sequences: Bayes-optimal vs EM-learned HMM vs RNN vs LSTM taggers."""
    from graphrnn.experiments.hmm_tagging import results_table, run

    settings = dict(train_size=600, test_size=300, em_iterations=300, epochs=6) if quick else {}
    rows = run(seed=seed, **settings)
    text = ("Data sampled from a known 4-state, 8-symbol sticky HMM with overlapping emissions; lengths 20-60. "
            "Goal: the learned HMM within 2 points of Bayes-optimal.\n\n" + results_table(rows))
    return Section("Sequence labelling on HMM data", text, {"rows": rows})


def sequence_language_model(quick: bool, seed: int) -> Section:
    """Perplexity of a 4-gram window model, an Elman RNN and an LSTM on Multi30k English."""
    from graphrnn.experiments.language_model import results_table, run

    try:
        result = run(train_limit=8000 if quick else None, test_limit=500 if quick else None,
                     validation_limit=500 if quick else None,
                     epochs=3 if quick else 5, hidden=128 if quick else 256, seed=seed)
    except FileNotFoundError as error:
        return Section("Language model: Multi30k English", f"Skipped: {error}", {"skipped": str(error)})
    text = (f"Vocabulary {result['vocab_size']} tokens (training words seen twice or more); "
            f"{result['train_sentences']} train / {result['validation_sentences']} validation / "
            f"{result['test_sentences']} test sentences. Each model's epoch is chosen on validation perplexity; "
            "test is read once.\n\n"
            + results_table(result))
    return Section("Language model: Multi30k English", text, result)


def paper_section(module: str) -> Callable[[bool, int], Section]:
    """The ``section(quick, seed)`` of ``graphrnn.experiments.<module>`` (imported when run)."""

    def section(quick: bool, seed: int) -> Section:
        return importlib.import_module(f"graphrnn.experiments.{module}").section(quick, seed)

    section.__name__ = f"{module}_section"
    return section


EXPERIMENTS: Dict[str, Callable[[bool, int], Section]] = {
    "core": core_speed,
    "digits": sequence_digits,
    "memory": sequence_memory,
    "hmm": sequence_hmm_tagging,
    "lm": sequence_language_model,
    "mixer": paper_section("mixer"),
    "drnn": paper_section("drnn"),
    "sim": paper_section("sim"),
    "method_names": paper_section("method_names"),
}


def write_atomic(path: Path, text: str) -> None:
    """Writes ``text`` to ``path`` whole or not at all (:func:`graphrnn.files.write_atomic`)."""
    files.write_atomic(path, lambda stream: stream.write(text))


def run_all(out: Path, quick: bool, seed: int, only: List[str] = None, log=print) -> Dict[str, Section]:
    """Runs the experiments (all, or those named in ``only``) and writes the results files.

    ``out`` is checked first (created, and a file written in it), so that an unwritable
    directory fails before minutes of experiments rather than after them. ``results.md`` and
    ``results.json`` are rewritten (atomically) after every section, so a run that stops (Ctrl-C,
    a failing section) keeps the sections it finished; until the last one the files say which
    are still to come. The sections of an earlier run in ``out`` with the same ``quick`` and
    ``seed`` stay (marked as such) until this run replaces them, so rerunning one section with
    ``only`` does not drop the rest, and a rerun that stops early loses none of them.

    Raises:
        ValueError: for an unknown experiment name, or an ``out`` that is a file or cannot be
            written (:class:`graphrnn.cli_checks.CommandLineError`).
    """
    from graphrnn.cli_checks import check_output_directory

    names = only or list(EXPERIMENTS)
    unknown = [n for n in names if n not in EXPERIMENTS]
    if unknown:
        raise ValueError(f"unknown experiment(s) {unknown}; choose from {sorted(EXPERIMENTS)}")
    check_output_directory(Path(out))
    earlier = _earlier_sections(Path(out), quick, seed)
    kept = [name for name in earlier if name not in names]
    if kept:
        log(f"[reproduce] keeping the earlier run's {', '.join(kept)} from {Path(out) / 'results.json'}")
    sections, timings = {}, {}
    for name in names:
        log(f"[reproduce] {name} ({'quick' if quick else 'full'}) ...")
        start = time.perf_counter()
        sections[name] = EXPERIMENTS[name](quick, seed)
        timings[name] = time.perf_counter() - start
        log(f"[reproduce] {name} done in {timings[name]:.1f} s")
        _write_results(Path(out), quick, seed, sections, timings,
                       {name: entry for name, entry in earlier.items() if name not in sections},
                       still_to_run=names[len(sections):])
    return sections


def _write_results(out: Path, quick: bool, seed: int, sections: Dict[str, Section], timings: Dict[str, float],
                   kept: Dict[str, dict], still_to_run: List[str]) -> None:
    """``results.md`` and ``results.json`` of the sections done so far, in :data:`EXPERIMENTS` order."""
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}"
    lines = [f"# graphrnn results ({'quick' if quick else 'full'} run, seed {seed})", "", f"Machine: {machine}", ""]
    if still_to_run:
        lines += [f"**Partial: this run has still to do {', '.join(still_to_run)}.**", ""]
    entries = {}
    for name in EXPERIMENTS:
        if name in sections:
            section, seconds, earlier = sections[name], timings[name], False
            entries[name] = {"title": section.title, "seconds": seconds, "data": section.data,
                             "markdown": section.markdown}
        elif name in kept:
            entries[name] = dict(kept[name], earlier_run=True)
            seconds, earlier = kept[name]["seconds"], True
            section = Section(kept[name]["title"], kept[name]["markdown"], kept[name]["data"])
        else:
            continue
        note = f"_({seconds:.1f} s{'; from an earlier run with the same --quick and --seed' if earlier else ''})_"
        lines += [f"## {section.title}", "", section.markdown, "", note, ""]
    write_atomic(out / "results.md", "\n".join(lines))
    payload = {"quick": quick, "seed": seed, "machine": machine, "experiments": entries}
    if still_to_run:
        payload["still_to_run"] = list(still_to_run)
    write_atomic(out / "results.json", json.dumps(payload, indent=2))


def _earlier_sections(out: Path, quick: bool, seed: int) -> Dict[str, dict]:
    """The sections of ``out/results.json`` written with the same ``quick`` and ``seed`` (and their text); empty
    when there is no such file or it is unreadable."""
    try:
        payload = json.loads((out / "results.json").read_text(encoding="utf-8"))
        if payload.get("quick") != quick or payload.get("seed") != seed:
            return {}
        return {name: entry for name, entry in payload["experiments"].items()
                if name in EXPERIMENTS and isinstance(entry, dict)
                and {"title", "markdown", "seconds", "data"} <= set(entry)}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
