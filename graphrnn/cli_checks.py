"""Checks and error handling of the ``graphrnn`` command line, applied before any work.

:func:`run_guarded` wraps a command:

1. **Before any work** (:func:`check_arguments`): counts such as ``--epochs`` are >= 1 (``--seed``
   >= 0, ``--distractors LO HI`` with ``0 <= LO <= HI``), ``--device`` names a usable device, the
   output directory (``--out``) can be created and written and is not a file, input paths
   (``--checkpoint``, ``--input``) exist, ``--resume`` finds a checkpoint, and a fresh training run
   does not start over a previous run's files (``--out`` holding ``checkpoint.pt`` or ``best.pt``)
   unless ``--overwrite`` says so.
2. **Resumed runs** (:func:`reconcile_resumed`): a fresh training run records its options in
   ``OUT/command.json``. On ``--resume``, an option left at its default takes the recorded
   value (so resuming without ``--quick`` a run started with ``--quick`` keeps the small data,
   and says so); an option set to another value is warned about, except the data options
   (:data:`DATA_OPTIONS`) and the model options (:data:`MODEL_OPTIONS`), whose change would switch the
   data or the model mid-run and is refused.
3. **Warnings** (a resumed run's changed settings, ...) are one line each, ``PREFIX: warning: ...``,
   without Python's file name and source line.
4. **Failures become one line on stderr**: an ``OSError`` (disk full, read-only, missing file)
   or a checked error exits with status 2, a diverged run (NaN) with 1, and Ctrl-C with 130
   after naming the checkpoint to continue from and the ``--resume`` command. Any other exception
   (a reader's own, e.g. ``tarfile.ReadError``, or a bug) is one line too, with exit status 1;
   ``GRAPHRNN_TRACEBACK=1`` shows its traceback instead. No traceback otherwise. Output piped
   into a reader that stops early (``graphrnn predict ... | head``) ends silently with status 141.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any, Callable, Collection, Dict, List, Optional, Sequence, Set

from graphrnn.counts import is_int
from graphrnn.files import write_atomic

__all__ = ["CommandLineError", "DATA_OPTIONS", "MODEL_OPTIONS", "COMMAND_FILE", "TRACEBACK_VARIABLE", "check_arguments",
           "check_empty_paths", "check_unused_options",
           "check_output_directory", "reconcile_resumed", "record_command", "run_guarded"]

#: The options of a training run recorded in ``OUT/command.json``.
COMMAND_FILE = "command.json"
#: Options that choose the data: changing one on ``--resume`` is refused. ``--seed`` is one: it draws the
#: splits cut from the training data (digits, ``--data`` files) and the synthetic trees and scenes, so a
#: resumed run with another seed would train on what the earlier epochs validated and tested on.
DATA_OPTIONS = ("quick", "data", "train_size", "task", "grammar", "source", "target", "splits", "tokenizer",
                "lowercase", "min_count", "seed", "distractors")
#: The environment variable the built-in corpora are read under when ``--data`` is not given.
DATA_VARIABLE = "GRAPHRNN_DATA"
#: Where ``OUT/command.json`` records :data:`DATA_VARIABLE` of a run that read it.
_DATA_VARIABLE_KEY = "environment_" + DATA_VARIABLE
#: ``(train task, --task)`` of the runs that read a built-in corpus under :data:`DATA_VARIABLE` when ``--data``
#: is not given (Multi30k, AESLC); the others generate their data or read ``--data`` only.
_READS_DATA_VARIABLE = {("mixer", "translation"), ("mixer", "summarization")}
#: Options that choose the model: changing one on ``--resume`` is refused too. Some change no parameter
#: (``--iterations`` of a tied SIM, ``--no-output-activation``), so the checkpoint would load and the run
#: would go on training the earlier epochs' weights in another model.
MODEL_OPTIONS = ("model", "mlp", "hidden", "iterations", "no_gates", "untied", "no_output_activation", "attention")
#: Options that must be integers >= 1 when given.
POSITIVE_COUNTS = ("epochs", "hidden", "train_size", "batch_size", "iterations", "beam", "min_count")
#: Options that must be integers >= 0 when given.
NON_NEGATIVE_COUNTS = ("seed",)
#: Options that must be finite numbers > 0 when given.
POSITIVE_NUMBERS = ("lr",)
#: Input paths that must exist when given (``--data`` is checked by each task, whose message says
#: which layout it expects; the tasks read it first, before any work).
INPUT_PATHS = ("checkpoint", "input")
#: An input path that means stdin (``--input -``).
STDIN_NAME = "-"
#: The exit status when stdout is a pipe closed by its reader (128 + SIGPIPE, as the shell reports a process
#: that SIGPIPE ended): silent, like other command-line tools after ``| head``.
BROKEN_PIPE_STATUS = 141
#: Set to 1 to get the traceback of an unexpected error instead of its one line.
TRACEBACK_VARIABLE = "GRAPHRNN_TRACEBACK"
#: Path options recorded as absolute paths in ``command.json`` and compared as files.
_DATA_PATHS = ("data", "checkpoint", "input")
_DATA_REASON = {"seed": " (the seed draws the validation and test splits and the synthetic data)"}
_NOT_COMPARED = ("command", "resume", "overwrite", "out", "train_task")
#: The files that make ``--out`` hold a previous training run.
RUN_FILES = ("checkpoint.pt", "best.pt")


#: Options a task reads only with ``--data`` (``True``) or only without it (``False``), and what they do: given
#: in the other case they would be ignored, which a user would not see.
DATA_DEPENDENT_OPTIONS = {
    "rnn": {False: (), True: ("tokenizer", "lowercase", "min_count")},
    "sim": {False: ("train_size",), True: ()},  # --distractors with --data: refused by the task itself
    "drnn": {False: ("grammar",), True: ()},
}
_OPTION_PURPOSE = {
    "tokenizer": "reads your own text (--data FILE)", "lowercase": "reads your own text (--data FILE)",
    "min_count": "builds a language model's vocabulary from your text file (--data FILE)",
    "train_size": "sizes the synthetic scenes",
    "grammar": "chooses the grammar of the synthetic trees",
}


class CommandLineError(ValueError):
    """A command-line option that cannot work; the message is one line saying what to change."""


# ------------------------------------------------------------------ checks
def check_output_directory(path: Path, option: str = "--out") -> None:
    """Creates ``path`` if needed and checks that a file can be written in it.

    Raises:
        CommandLineError: if ``path`` or one of its parents is a file, or the directory cannot
            be created or written (read-only file system, no permission, disk full).
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise CommandLineError(f"{option} {path} is a file, not a directory; give a directory (it is created "
                               "if missing)")
    parent = path
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if parent.exists() and not parent.is_dir():
        raise CommandLineError(f"{option} {path} cannot be created: {parent} is a file")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path, prefix=".graphrnn-write-test-"):
            pass
    except OSError as error:
        raise CommandLineError(f"{option} {path} cannot be written ({error.strerror or error}); choose a "
                               "writable directory") from None


def _check_count(name: str, value: Any) -> None:
    if value is not None and (not is_int(value) or value < 1):
        raise CommandLineError(f"--{name.replace('_', '-')} must be an integer >= 1, got {value!r}")


def _check_non_negative(name: str, value: Any) -> None:
    if value is not None and (not is_int(value) or value < 0):
        raise CommandLineError(f"--{name.replace('_', '-')} must be an integer >= 0, got {value!r}")


def _check_range_pair(name: str, value: Any) -> None:
    """``--distractors LO HI``: two integers with ``0 <= LO <= HI``."""
    if value is not None and not (len(value) == 2 and 0 <= value[0] <= value[1]):
        raise CommandLineError(f"--{name} LO HI needs 0 <= LO <= HI, got {' '.join(map(str, value))}")


def _check_device(value: Any) -> None:
    from graphrnn.training.device import resolve_device

    if value is not None:
        try:
            resolve_device(value)
        except ValueError as error:
            raise CommandLineError(f"--device: {error}") from None


def _check_positive(name: str, value: Any) -> None:
    if value is not None and not (isinstance(value, (int, float)) and 0 < value < math.inf):
        raise CommandLineError(f"--{name.replace('_', '-')} must be a finite number > 0, got {value!r}")


def _check_input(name: str, value: Any) -> None:
    if value is not None and str(value) != STDIN_NAME and not Path(value).exists():
        raise CommandLineError(f"--{name} {value} does not exist; {_nearby_checkpoint(name, Path(value))}")


def _nearby_checkpoint(name: str, path: Path) -> str:
    """``OUT/best.pt`` of a task that keeps its checkpoints one folder down (``drnn``: ``OUT/model/best.pt``)."""
    if name == "checkpoint":
        from graphrnn.inference import checkpoints_in

        found = [p for p in checkpoints_in(path.parent) if p.name == path.name and p.parent != path.parent]
        if found:
            return f"did you mean {found[0]}?"
    return "check the path"


def _has_checkpoint(out: Path) -> bool:
    return out.is_dir() and any(out.rglob("checkpoint.pt"))


def _previous_run(out: Path) -> List[str]:
    """The files of a previous training run in ``out`` (:data:`RUN_FILES`, there or one folder down, where the
    tasks with several models keep theirs: ``OUT/xent/checkpoint.pt``); deeper folders are not searched."""
    if not out.is_dir():
        return []
    folders = [out] + sorted(child for child in out.iterdir() if child.is_dir())
    return [str((folder / name).relative_to(out)) for folder in folders for name in RUN_FILES
            if (folder / name).exists()]


def _check_fresh_run(out: Path, values: Dict[str, Any]) -> None:
    """A fresh ``train`` run would replace a previous run's checkpoint and best epoch: only with ``--overwrite``."""
    if values.get("resume") and values.get("overwrite"):
        raise CommandLineError("--resume continues the run in --out, --overwrite replaces it; give one of them")
    found = [] if values.get("resume") or values.get("overwrite") else _previous_run(out)
    if found:
        shown = ", ".join(found[:3]) + (", ..." if len(found) > 3 else "")
        raise CommandLineError(f"--out {out} holds a previous run ({shown}), which a fresh run would replace; "
                               "continue it with --resume, replace it with --overwrite, or choose another --out")


def check_arguments(args: argparse.Namespace) -> None:
    """Checks every option before any work (see the module docstring).

    Raises:
        CommandLineError: naming the option, what came and what to do.
    """
    _expand_home(args)
    values = vars(args)
    for name in POSITIVE_COUNTS:
        _check_count(name, values.get(name))
    for name in NON_NEGATIVE_COUNTS:
        _check_non_negative(name, values.get(name))
    for name in POSITIVE_NUMBERS:
        _check_positive(name, values.get(name))
    _check_range_pair("distractors", values.get("distractors"))
    _check_device(values.get("device"))
    for name in INPUT_PATHS:
        _check_input(name, values.get(name))
    out = values.get("out")
    if values.get("resume"):
        if out is None:
            raise CommandLineError("--resume needs --out DIR, the directory of the run to continue")
        if not _has_checkpoint(Path(out)):
            raise CommandLineError(f"--resume: there is no checkpoint.pt in {out}; give the --out of the run to "
                                   "continue, or start a fresh run without --resume")
    if out is not None and values.get("command") == "train":
        _check_fresh_run(Path(out), values)
    if out is not None and values.get("command") in ("train", "reproduce"):
        check_output_directory(Path(out))


#: Options that take a path: an empty one is read as '.', the current directory.
PATH_OPTIONS = ("--out", "--data", "--checkpoint", "--input")


def _expand_home(args: argparse.Namespace) -> None:
    """``~`` at the start of a path option means the home directory, as in a shell (a quoted ``'~/data'``, or
    ``--data=~/data``, reaches us unexpanded and would name a folder called ``~``)."""
    for option in PATH_OPTIONS:
        name = option[2:]
        value = getattr(args, name, None)
        if isinstance(value, Path) and str(value).startswith("~"):
            try:
                setattr(args, name, value.expanduser())
            except RuntimeError:  # ~user that does not exist: a file named so, as the shell leaves it
                pass


def check_empty_paths(argv: Sequence[str]) -> None:
    """Refuses an empty path (``--out ""``, ``--data=$UNSET``), which ``pathlib`` reads as the current directory:
    a run would write its checkpoints there, or read it as data.

    Raises:
        CommandLineError: naming the option.
    """
    argv = [str(a) for a in argv]
    for index, word in enumerate(argv):
        option, equals, value = word.partition("=")
        if option not in PATH_OPTIONS:
            continue
        empty = (equals and not value.strip()) or (not equals and index + 1 < len(argv) and not argv[index + 1].strip())
        if empty:
            raise CommandLineError(f"{option} is empty (an unset shell variable?); give a path, or '.' for the "
                                   "current directory")


def check_unused_options(args: argparse.Namespace, defaults: Dict[str, Any]) -> None:
    """Refuses an option set (away from its default) where its task would ignore it
    (:data:`DATA_DEPENDENT_OPTIONS`): ``train sim --data DIR --train-size 5`` trained on all the frames.

    Raises:
        CommandLineError: naming the option, what it is for and what to do.
    """
    values = vars(args)
    if values.get("command") != "train" or values.get("resume"):  # a resumed run's --data comes from command.json
        return
    with_data = values.get("data") is not None
    needs_data = DATA_DEPENDENT_OPTIONS.get(values.get("train_task"), {})
    for name in needs_data.get(not with_data, ()):
        if name in values and values[name] != defaults.get(name):
            option = "--" + name.replace("_", "-")
            where = "without --data" if with_data else "with --data"
            raise CommandLineError(f"{option} {_OPTION_PURPOSE[name]}, so it only works {where}; drop {option}, or "
                                   f"{'drop --data' if with_data else 'give --data'}")


# -------------------------------------------------------------- resumed runs
def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def record_command(args: argparse.Namespace, argv: Sequence[str]) -> None:
    """Writes the options of a fresh training run to ``OUT/command.json`` (atomically)."""
    settings = {key: _plain(value) for key, value in vars(args).items() if key not in ("resume", "overwrite")}
    for name in _DATA_PATHS:  # absolute: a --resume from another directory restores the same file
        if settings.get(name) is not None:
            settings[name] = str(Path(settings[name]).resolve())
    if _reads_data_variable(settings):
        settings[_DATA_VARIABLE_KEY] = _data_variable()
    payload = json.dumps({"argv": _argv_text(argv), "settings": settings}, indent=1, default=str)
    write_atomic(Path(args.out) / COMMAND_FILE, lambda stream: stream.write(payload))


def _reads_data_variable(settings: Dict[str, Any]) -> bool:
    return settings.get("data") is None and (settings.get("train_task"), settings.get("task")) in _READS_DATA_VARIABLE


def _data_variable() -> Optional[str]:
    """:data:`DATA_VARIABLE` as an absolute path (``None`` when unset)."""
    value = os.environ.get(DATA_VARIABLE)
    return str(Path(value).resolve()) if value else None


def _check_same_data_variable(out: Path, saved: Dict[str, Any], args: argparse.Namespace) -> None:
    """Refuses to resume a run that read a built-in corpus under :data:`DATA_VARIABLE` while it points elsewhere
    (the corpus would switch mid-run, and only the vocabulary check would notice, with a warning)."""
    if _DATA_VARIABLE_KEY not in saved or not _reads_data_variable(vars(args)):
        return
    before, now = saved[_DATA_VARIABLE_KEY], _data_variable()
    if before != now:
        raise CommandLineError(
            f"{out} was trained on the corpus under {DATA_VARIABLE}={before}, and {DATA_VARIABLE} is now "
            f"{now if now is not None else 'unset'}: resuming would switch the data mid-run; resume with "
            f"{DATA_VARIABLE}={before}, or start a fresh run in another --out")


def _show(value: Any) -> str:
    if value is None:
        return "(default)"
    if value is True or value is False:
        return "on" if value else "off"
    if isinstance(value, (list, tuple)):  # nargs options: --splits train val test, --distractors 2 4
        return " ".join(map(str, value))
    return str(value)


def _same_setting(name: str, current: Any, before: Any) -> bool:
    """Whether an option has its recorded value; a path is the same file however it is written (``x.csv``,
    ``./x.csv``, ``/abs/x.csv``)."""
    if _plain(current) == before:
        return True
    if name in _DATA_PATHS and current is not None and before is not None:
        return Path(current).resolve() == Path(before).resolve()
    return False


def _with(option: str, value: Any) -> str:
    """``with --x V`` (``with --flag`` for a flag that was on), or ``without --x`` for a default or a flag off."""
    if value is None or value is False:
        return f"without {option}"
    return f"with {option}" if value is True else f"with {option} {_show(value)}"


def reconcile_resumed(args: argparse.Namespace, defaults: Dict[str, Any], log: Callable[[str], None],
                      typed: Collection[str] = ()) -> None:
    """Compares a resumed run's options with ``OUT/command.json`` (see the module docstring).

    Options left out (at their default and not in ``typed``, the options given on the command line) take
    the recorded value; others that differ are reported with ``log``, and a changed data or model option
    raises, also one typed at its default value.

    Raises:
        CommandLineError: if a data or model option (:data:`DATA_OPTIONS`, :data:`MODEL_OPTIONS`) differs from the
            recorded run.
    """
    path = Path(args.out) / COMMAND_FILE
    if not path.is_file():
        return
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))["settings"]
    except (ValueError, KeyError, TypeError):
        log(f"warning: {path} is unreadable; resuming without comparing the options")
        return
    current = vars(args)
    _check_same_task(path.parent, saved.get("train_task"), current.get("train_task"))
    kept, changed = [], []
    for name, before in saved.items():
        if name in _NOT_COMPARED or name not in current or _same_setting(name, current[name], before):
            continue
        option = "--" + name.replace("_", "-")
        if _plain(current[name]) == _plain(defaults.get(name)) and name not in typed:
            is_path = isinstance(defaults.get(name), Path) or name in INPUT_PATHS + ("data",)
            setattr(args, name, Path(before) if is_path and before is not None else before)
            kept.append(f"{option} {_show(before)}" if before is not True else option)
        elif name in DATA_OPTIONS or name in MODEL_OPTIONS:
            change = (f"switch the data mid-run{_DATA_REASON.get(name, '')}" if name in DATA_OPTIONS else
                      "go on training the run's weights in another model")
            raise CommandLineError(
                f"{path.parent} was trained with {option} {_show(before)}, this command has {_show(current[name])}: "
                f"resuming would {change}; resume {_with(option, before)}, or start a fresh run in another --out")
        else:
            changed.append(f"{option} {_show(before)} -> {_show(current[name])}")
    _check_same_data_variable(path.parent, saved, args)
    if kept:
        log(f"resuming with the run's own options: {' '.join(kept)}")
    if changed:
        log(f"warning: resuming with changed options: {', '.join(changed)}; the run will not repeat an "
            "uninterrupted one")


def _check_same_task(out: Path, recorded: Any, task: Any) -> None:
    """A run of one task resumed as another would load its checkpoint into the wrong model."""
    if recorded is not None and task is not None and recorded != task:
        raise CommandLineError(f"{out} holds a run of `graphrnn train {recorded}`, not {task}: continue it with "
                               f"`graphrnn train {recorded} --resume --out {out}`, or give {task} another --out")


# ------------------------------------------------------------ running a command
def _argv_text(argv: Sequence[str]) -> str:
    return " ".join(shlex.quote(str(a)) for a in argv)


def _newest_checkpoint(out: Optional[Path]) -> Optional[Path]:
    if out is None or not Path(out).is_dir():
        return None
    found = sorted(Path(out).rglob("checkpoint.pt"), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def interrupted_message(args: argparse.Namespace, argv: Sequence[str], interrupt: BaseException) -> str:
    """The one line printed on Ctrl-C: the checkpoint to continue from and the command that does."""
    prefix = _prefix(args)
    if args.command == "reproduce" and (Path(args.out) / "results.json").is_file():
        return (f"{prefix}: interrupted; {Path(args.out) / 'results.md'} is rewritten after every finished "
                "section, so it holds what finished; run the rest with --only NAME ... (the finished sections are "
                "kept)")
    if args.command != "train":
        return f"{prefix}: interrupted; nothing was written, run the command again"
    checkpoint = getattr(interrupt, "checkpoint", None) or _newest_checkpoint(getattr(args, "out", None))
    if checkpoint is None:
        return f"{prefix}: interrupted before the first epoch ended; no checkpoint was written, run the command again"
    epoch = getattr(interrupt, "epoch", None)
    holds = f" (epoch {epoch})" if epoch else ""
    command = [a for a in argv if a != "--overwrite"] + ([] if "--resume" in argv else ["--resume"])
    return f"{prefix}: interrupted; {checkpoint}{holds} is kept, continue with: graphrnn {_argv_text(command)}"


def _prefix(args: argparse.Namespace) -> str:
    # train TASK keeps its task in train_task (a mixer run's --task is its data); predict TASK in task
    task = {"train": getattr(args, "train_task", None), "predict": getattr(args, "task", None)}.get(args.command)
    return f"graphrnn {args.command}" + (f" {task}" if task else "")


def _describe_os_error(error: OSError) -> str:
    where = f" {error.filename}" if error.filename else ""
    return f"{error.strerror or error}{':' if where else ''}{where}"


def _subcommand_parsers(parser: argparse.ArgumentParser, args: argparse.Namespace) -> List[argparse.ArgumentParser]:
    """The parsers of the subcommand ``args`` was parsed with (``train TASK`` walks two levels)."""
    parsers: List[argparse.ArgumentParser] = []
    current: Optional[argparse.ArgumentParser] = parser
    for name in (args.command, getattr(args, "train_task", None)):
        actions = [a for a in current._actions if isinstance(a, argparse._SubParsersAction)] if current else []
        current = actions[0].choices.get(name) if actions and name else None
        if current is None:
            break
        parsers.append(current)
    return parsers


def _parser_defaults(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Dict[str, Any]:
    """The defaults of the subcommand ``args`` was parsed with."""
    return {a.dest: a.default for sub in _subcommand_parsers(parser, args) for a in sub._actions if a.dest != "help"}


def _typed_options(parser: argparse.ArgumentParser, args: argparse.Namespace, argv: Sequence[str]) -> Set[str]:
    """The options given in ``argv`` (as their ``dest``), also ones given at their default value; an option
    may be abbreviated to a unique prefix, as argparse allows."""
    strings = {string: action.dest for sub in _subcommand_parsers(parser, args) for action in sub._actions
               for string in action.option_strings}
    typed = set()
    for token in argv:
        if not token.startswith("--") or token == "--":
            continue
        name = token.split("=", 1)[0]
        matches = {strings[name]} if name in strings else {dest for string, dest in strings.items()
                                                           if string.startswith(name)}
        if len(matches) == 1:
            typed |= matches
    return typed


def run_guarded(parser: argparse.ArgumentParser, args: argparse.Namespace, argv: Optional[List[str]],
                run: Callable[[argparse.Namespace], int]) -> int:
    """Checks ``args`` before any work, then runs the command; failures become one line on stderr.

    Returns:
        The command's exit status; 2 for a bad option or an ``OSError``, 1 when training
        diverged (NaN) or on an unexpected exception, 130 on Ctrl-C.
    """
    from graphrnn.training import NonFiniteError, is_main_process

    argv = list(sys.argv[1:] if argv is None else argv)
    prefix = _prefix(args)

    def log(message: str) -> None:
        if is_main_process():
            print(f"{prefix}: {message}", file=sys.stderr, flush=True)

    try:
        with warnings.catch_warnings():
            warnings.showwarning = lambda message, *rest, **named: log(f"warning: {message}")
            check_empty_paths(argv)
            check_arguments(args)
            check_unused_options(args, _parser_defaults(parser, args))
            if args.command == "train" and args.out is not None and is_main_process():
                if args.resume:
                    reconcile_resumed(args, _parser_defaults(parser, args), log, _typed_options(parser, args, argv))
                else:
                    record_command(args, argv)
            return run(args)
    except KeyboardInterrupt as interrupt:
        if is_main_process():
            print(interrupted_message(args, argv, interrupt), file=sys.stderr, flush=True)
        return 130
    except CommandLineError as error:
        print(f"{prefix}: error: {error}", file=sys.stderr, flush=True)
        return 2
    except BrokenPipeError:  # `graphrnn predict ... | head`: the reader has all it wants, which is no error
        _silence_stdout()
        return BROKEN_PIPE_STATUS
    except OSError as error:
        print(f"{prefix}: error: {_describe_os_error(error)}", file=sys.stderr, flush=True)
        return 2
    except NonFiniteError as error:
        print(f"{prefix}: error: {error}", file=sys.stderr, flush=True)
        return 1
    except Exception as error:  # unforeseen (a reader's own exception, or a bug): one line, the traceback on request
        if os.environ.get(TRACEBACK_VARIABLE):
            raise
        print(f"{prefix}: error: {_one_line(error)} (unexpected {type(error).__name__}; run again with "
              f"{TRACEBACK_VARIABLE}=1 to see where it came from, and report it)", file=sys.stderr, flush=True)
        return 1


def _silence_stdout() -> None:
    """Points stdout at /dev/null, so that flushing it at exit does not fail a second time on the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout replaced by an object without a file descriptor
        pass


def _one_line(error: BaseException, width: int = 400) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= width else text[:width] + "..."
